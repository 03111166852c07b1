/**
 * The fake Socket Mode server. apps.connections.open hands out a one-time `ws://…/link/?ticket=…` URL; on connect the
 * server sends `hello`, then envelopes (`events_api`, `slash_commands`, `interactive`) with an `envelope_id` the app
 * must echo back within the ack window. An unacknowledged `events_api` envelope is sent again with `retry_attempt`
 * and `retry_reason: "timeout"`; `disconnect` messages (`warning`, `refresh_requested`, `link_disabled`) ask the app to
 * reconnect. Shapes follow Slack's Socket Mode guide and the envelopes in slackapi/java-slack-sdk's mock server.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/** The kinds of envelope Socket Mode carries. */
export type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

/** An envelope the fake sent, and what became of it. */
export interface Envelope {
  envelopeId: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  /** 0 on first delivery. */
  retryAttempt: number;
  sentAt: number[];
  ackedAt?: number;
  /** The payload the app put in its ack (a slash command's response), when any. */
  ackPayload?: Record<string, unknown>;
  /** Set when the app never acknowledged it and no retry is left (or the kind is never retried). */
  timedOut?: boolean;
}

/** Timing of the fake's Socket Mode. */
export interface SocketModeOptions {
  /** How long the app has to acknowledge (Slack: 3 s). */
  ackTimeoutMs?: number;
  /** Delays before the retries of an unacknowledged events_api envelope (Slack retries it 3 times). */
  retryDelaysMs?: number[];
  /** How often the server pings (the client drops a link that is silent for 30 s). */
  pingIntervalMs?: number;
}

interface Conn {
  ws: WebSocket;
  id: number;
}

/** The Socket Mode side of the fake. */
export class FakeSocketMode {
  readonly envelopes: Envelope[] = [];
  /** Connections ever opened. */
  connectionsOpened = 0;
  /** Whether delivering over the socket is allowed (Slack's app settings toggle). */
  enabled = true;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Map<string, number>();
  private readonly conns: Conn[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<(e: Envelope) => void>();
  private next = 0;
  private seq = 0;
  private readonly ackTimeoutMs: number;
  private readonly retryDelaysMs: number[];
  private readonly pingTimer: NodeJS.Timeout;

  constructor(
    private readonly appId: string,
    opts: SocketModeOptions = {},
  ) {
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 3000;
    this.retryDelaysMs = opts.retryDelaysMs ?? [0, 60_000, 300_000];
    this.pingTimer = setInterval(() => {
      for (const c of this.conns) c.ws.ping(Buffer.from(`ping-${Date.now()}`));
    }, opts.pingIntervalMs ?? 10_000);
    this.pingTimer.unref();
  }

  /** A fresh one-time URL for apps.connections.open. */
  openUrl(base: string): string {
    const ticket = randomUUID();
    this.tickets.set(ticket, Date.now());
    return `${base}/link/?ticket=${ticket}&app_id=${this.appId}`;
  }

  /** Open connections. */
  get connections(): number {
    return this.conns.length;
  }

  /** Takes an HTTP upgrade for `/link/`; a missing or used ticket is refused. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/link/' || !this.tickets.delete(ticket) || !this.enabled) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const conn: Conn = { ws, id: ++this.connectionsOpened };
    this.conns.push(conn);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onAck(data.toString());
    });
    ws.on('close', () => {
      const i = this.conns.indexOf(conn);
      if (i >= 0) this.conns.splice(i, 1);
    });
    ws.on('error', () => ws.terminate());
    ws.send(JSON.stringify({ type: 'hello', num_connections: this.conns.length, debug_info: { host: `applink-fake-${conn.id}`, build_number: 1, approximate_connection_time: 18060 }, connection_info: { app_id: this.appId } }));
  }

  private onAck(text: string): void {
    let msg: { envelope_id?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    const e = this.envelopes.find((x) => x.envelopeId === msg.envelope_id);
    if (!e || e.ackedAt || e.timedOut) return;
    e.ackedAt = Date.now();
    if (msg.payload && typeof msg.payload === 'object' && Object.keys(msg.payload).length) e.ackPayload = msg.payload as Record<string, unknown>;
    for (const l of this.listeners) l(e);
  }

  /** Calls `fn` with every envelope the app acknowledges. */
  onAcknowledged(fn: (e: Envelope) => void): void {
    this.listeners.add(fn);
  }

  /**
   * Sends an envelope. With no connection open it is a failed attempt, as on Slack: an events_api envelope is tried
   * again after the retry delays (and dropped after the last), a slash command or a click is lost (the person sees an
   * error in their client).
   */
  deliver(type: EnvelopeType, payload: Record<string, unknown>): Envelope {
    const e: Envelope = { envelopeId: randomUUID(), type, payload, retryAttempt: 0, sentAt: [] };
    this.envelopes.push(e);
    this.attempt(e);
    return e;
  }

  private attempt(e: Envelope): void {
    // Slack spreads envelopes over the app's open connections.
    const conn = this.conns[this.next++ % Math.max(1, this.conns.length)];
    if (!conn) return this.failed(e);
    const frame: Record<string, unknown> = { envelope_id: e.envelopeId, payload: e.payload, type: e.type, accepts_response_payload: e.type === 'slash_commands' };
    if (e.type === 'events_api') {
      frame.retry_attempt = e.retryAttempt;
      frame.retry_reason = e.retryAttempt ? 'timeout' : '';
    }
    e.sentAt.push(Date.now());
    conn.ws.send(JSON.stringify(frame));
    this.later(this.ackTimeoutMs, () => this.failed(e));
  }

  /** An attempt went unacknowledged: retry an event after its delay, or give up. */
  private failed(e: Envelope): void {
    if (e.ackedAt || e.timedOut) return;
    const delay = this.retryDelaysMs[e.retryAttempt];
    if (e.type !== 'events_api' || delay === undefined) {
      e.timedOut = true;
      return;
    }
    this.later(delay, () => {
      if (e.ackedAt) return;
      e.retryAttempt++;
      this.attempt(e);
    });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Sends `disconnect` with a reason; the link is closed after `closeAfterMs` unless the app closed it first. */
  disconnect(reason: 'warning' | 'refresh_requested' | 'link_disabled', closeAfterMs = 1000): void {
    for (const c of [...this.conns]) {
      c.ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: `applink-fake-${c.id}` } }));
      this.later(closeAfterMs, () => c.ws.close(1000));
    }
  }

  /** Cuts every connection without a close frame. */
  drop(): void {
    for (const c of [...this.conns]) c.ws.terminate();
  }

  /** A new sequence number for ids the envelopes carry (trigger ids). */
  triggerId(): string {
    return `${++this.seq}.${Date.now()}.${randomBytes(16).toString('hex')}`;
  }

  /** Stops timers and closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.pingTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of [...this.conns]) c.ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
