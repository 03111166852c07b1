/** The fake gateway: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, sequenced dispatches, RECONNECT/RESUME, INVALID_SESSION. */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { INTENTS } from './model.js';

/** One dispatch as sent on the wire. */
export interface DispatchPayload {
  op: 0;
  t: string;
  s: number;
  d: unknown;
}

/** A gateway session: survives its connection so a RESUME can replay what was missed. */
interface Session {
  id: string;
  seq: number;
  intents: number;
  buffer: DispatchPayload[];
  conn: Connection | null;
}

interface Connection {
  ws: WebSocket;
  session: Session | null;
  /** Set once the fake told the client to go away: nothing more is sent on this socket. */
  retired: boolean;
}

/** What the gateway needs from the rest of the fake. */
export interface GatewayHost {
  checkToken(token: unknown): boolean;
  readyPayload(sessionId: string, resumeUrl: string): unknown;
  guildCreatePayloads(): unknown[];
  membersChunk(guildId: string): unknown;
}

/** Options of the fake gateway. */
export interface GatewayOptions {
  heartbeatIntervalMs: number;
  bufferSize: number;
}

/** Intents a dispatch type needs (those not listed need none). */
const NEEDS: Record<string, number> = {
  MESSAGE_CREATE: INTENTS.GuildMessages,
  MESSAGE_UPDATE: INTENTS.GuildMessages,
  MESSAGE_DELETE: INTENTS.GuildMessages,
  MESSAGE_DELETE_BULK: INTENTS.GuildMessages,
  MESSAGE_REACTION_ADD: INTENTS.GuildMessageReactions,
  MESSAGE_REACTION_REMOVE: INTENTS.GuildMessageReactions,
  GUILD_MEMBER_ADD: INTENTS.GuildMembers,
  GUILD_MEMBER_REMOVE: INTENTS.GuildMembers,
  GUILD_MEMBER_UPDATE: INTENTS.GuildMembers,
  GUILD_BAN_ADD: INTENTS.GuildModeration,
  GUILD_BAN_REMOVE: INTENTS.GuildModeration,
  THREAD_CREATE: INTENTS.Guilds,
  THREAD_UPDATE: INTENTS.Guilds,
  CHANNEL_CREATE: INTENTS.Guilds,
  CHANNEL_UPDATE: INTENTS.Guilds,
  CHANNEL_PINS_UPDATE: INTENTS.Guilds,
};
const DM_NEEDS: Record<string, number> = {
  MESSAGE_CREATE: INTENTS.DirectMessages,
  MESSAGE_UPDATE: INTENTS.DirectMessages,
  MESSAGE_DELETE: INTENTS.DirectMessages,
  MESSAGE_REACTION_ADD: INTENTS.DirectMessageReactions,
  MESSAGE_REACTION_REMOVE: INTENTS.DirectMessageReactions,
};

/** The WebSocket side of the fake. */
export class FakeGateway extends EventEmitter {
  readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 * 1024 });
  private readonly sessions = new Map<string, Session>();
  private readonly conns = new Set<Connection>();
  /** IDENTIFY and RESUME payloads received (tokens removed), heartbeats counted. */
  readonly received: { op: number; at: number; d?: unknown }[] = [];
  identifies = 0;
  resumes = 0;
  heartbeats = 0;
  /** Extra already-delivered events to replay on the next RESUME (Discord may redeliver). */
  resumeOverlap = 0;
  /** When false, heartbeats are not acknowledged (a zombie connection). */
  ackHeartbeats = true;
  url = '';
  /** The query of every connection the client opened (`v=10&encoding=json`, no compression). */
  readonly connectQueries: string[] = [];

  constructor(
    private readonly host: GatewayHost,
    private readonly opts: GatewayOptions,
  ) {
    super();
    this.wss.on('connection', (ws) => this.onConnection(ws));
  }

  /** Takes an HTTP upgrade for `/gateway`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const [rawPath, query = ''] = (req.url ?? '').split('?');
    const path = rawPath!.replace(/\/+$/, '');
    if (path !== '/gateway') {
      socket.destroy();
      return;
    }
    const params = new URLSearchParams(query);
    if (params.get('encoding') && params.get('encoding') !== 'json') {
      // The fake speaks JSON only, uncompressed, like the issue asks; refuse anything else loudly.
      socket.destroy();
      return;
    }
    this.connectQueries.push(query);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  private onConnection(ws: WebSocket): void {
    const conn: Connection = { ws, session: null, retired: false };
    this.conns.add(conn);
    ws.on('message', (data, isBinary) => this.onMessage(conn, data.toString(), isBinary));
    ws.on('close', (code) => this.onClose(conn, code));
    ws.on('error', () => undefined);
    this.send(conn, { op: 10, d: { heartbeat_interval: this.opts.heartbeatIntervalMs } });
  }

  private onClose(conn: Connection, code: number): void {
    this.conns.delete(conn);
    const s = conn.session;
    if (!s) return;
    if (s.conn === conn) s.conn = null;
    // Discord ends a session closed with 1000/1001; any other close can be resumed.
    if (code === 1000 || code === 1001) this.sessions.delete(s.id);
    this.emit('disconnect', code);
  }

  private onMessage(conn: Connection, text: string, isBinary: boolean): void {
    let msg: { op?: unknown; d?: unknown };
    try {
      if (isBinary) throw new Error('binary');
      msg = JSON.parse(text) as { op?: unknown; d?: unknown };
    } catch {
      conn.ws.close(4002, 'Error while decoding payload.');
      return;
    }
    const d = (msg.d ?? {}) as Record<string, unknown>;
    switch (msg.op) {
      case 1:
        this.heartbeats++;
        if (this.ackHeartbeats) this.send(conn, { op: 11 });
        return;
      case 2:
        return this.identify(conn, d);
      case 6:
        return this.resume(conn, d);
      case 3:
      case 4:
        return;
      case 8: {
        const chunk = this.host.membersChunk(String(d.guild_id ?? ''));
        if (conn.session) this.dispatchTo(conn.session, 'GUILD_MEMBERS_CHUNK', chunk);
        return;
      }
      default:
        conn.ws.close(4001, 'Unknown opcode.');
    }
  }

  private identify(conn: Connection, d: Record<string, unknown>): void {
    this.received.push({ op: 2, at: Date.now(), d: { intents: d.intents, shard: d.shard } });
    if (conn.session) return void conn.ws.close(4005, 'Already authenticated.');
    if (!this.host.checkToken(d.token)) return void conn.ws.close(4004, 'Authentication failed.');
    if (typeof d.intents !== 'number') return void conn.ws.close(4013, 'Invalid intent(s).');
    this.identifies++;
    const session: Session = { id: randomBytes(16).toString('hex'), seq: 0, intents: d.intents, buffer: [], conn };
    this.sessions.set(session.id, session);
    conn.session = session;
    this.dispatchTo(session, 'READY', this.host.readyPayload(session.id, this.url));
    for (const g of this.host.guildCreatePayloads()) this.dispatchTo(session, 'GUILD_CREATE', g);
    this.emit('identify', session.id);
  }

  private resume(conn: Connection, d: Record<string, unknown>): void {
    this.received.push({ op: 6, at: Date.now(), d: { session_id: d.session_id, seq: d.seq } });
    const session = typeof d.session_id === 'string' ? this.sessions.get(d.session_id) : undefined;
    if (!session || !this.host.checkToken(d.token)) {
      this.send(conn, { op: 9, d: false });
      return;
    }
    if (session.conn && session.conn !== conn) {
      session.conn.retired = true;
      session.conn.ws.close(4000, 'Session resumed elsewhere.');
    }
    this.resumes++;
    session.conn = conn;
    conn.session = session;
    const from = (typeof d.seq === 'number' ? d.seq : 0) - this.resumeOverlap;
    this.resumeOverlap = 0;
    for (const p of session.buffer) if (p.s > from) this.sendRaw(conn, p);
    this.dispatchTo(session, 'RESUMED', {});
    this.emit('resume', session.id);
  }

  /** Sends a dispatch to every session (buffered for sessions whose client is away). */
  dispatch(t: string, d: unknown): void {
    const inDm = t.startsWith('MESSAGE_') && !(d as { guild_id?: unknown }).guild_id;
    for (const s of this.sessions.values()) {
      const need = (inDm ? DM_NEEDS : NEEDS)[t] ?? 0;
      if (need && (s.intents & need) === 0) continue;
      this.dispatchTo(s, t, this.forIntents(t, d, s.intents));
    }
  }

  /** Without the message content intent a bot sees no content of messages that do not mention it (Discord's rule). */
  private forIntents(t: string, d: unknown, intents: number): unknown {
    if ((t !== 'MESSAGE_CREATE' && t !== 'MESSAGE_UPDATE') || intents & INTENTS.MessageContent) return d;
    const m = d as { guild_id?: string; mentions?: { bot?: boolean }[] };
    if (!m.guild_id || m.mentions?.some((u) => u.bot)) return d;
    return { ...m, content: '', embeds: [], attachments: [], components: [] };
  }

  private dispatchTo(session: Session, t: string, d: unknown): void {
    const p: DispatchPayload = { op: 0, t, s: ++session.seq, d };
    session.buffer.push(p);
    if (session.buffer.length > this.opts.bufferSize) session.buffer.splice(0, session.buffer.length - this.opts.bufferSize);
    if (session.conn && !session.conn.retired) this.sendRaw(session.conn, p);
  }

  private send(conn: Connection, payload: unknown): void {
    this.sendRaw(conn, payload);
  }

  private sendRaw(conn: Connection, payload: unknown): void {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  /** Tells every client to reconnect (op 7); like Discord, nothing more is sent on the old sockets. */
  forceReconnect(): void {
    for (const c of this.conns) {
      if (!c.session || c.retired) continue;
      this.send(c, { op: 7, d: null });
      c.retired = true;
      if (c.session.conn === c) c.session.conn = null;
    }
  }

  /** Sends INVALID_SESSION; a non-resumable one also ends the session. */
  invalidateSessions(resumable: boolean): void {
    for (const c of this.conns) {
      if (!c.session) continue;
      this.send(c, { op: 9, d: resumable });
      if (!resumable) {
        this.sessions.delete(c.session.id);
        c.retired = true;
      }
    }
  }

  /** Cuts every connection without a close frame (network loss); sessions stay resumable. */
  dropConnections(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  /** Sends any frame (hostile input tests): an object is JSON-encoded, a string is sent as is. */
  sendFrame(frame: unknown): void {
    for (const c of this.conns) if (c.session && !c.retired) this.sendRaw(c, frame);
  }

  /** Number of sessions with a live client. */
  connectedSessions(): number {
    return [...this.sessions.values()].filter((s) => s.conn && !s.conn.retired).length;
  }

  /** Closes every socket and the server. */
  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
