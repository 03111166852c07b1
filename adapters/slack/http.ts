/**
 * The Events API over HTTP: the Request URL Slack POSTs events, slash commands and interactions to, when Socket Mode is
 * not used. Every request's signature is checked with Bolt's `isValidSlackRequest` (HMAC of the raw body under the
 * signing secret; older than five minutes is a replay) before anything is read from it. The answer goes out once the
 * delivery is in Redis; an event still waiting at the deadline is answered 503, so Slack sends it again at once
 * (instead of timing out), while the first copy stays queued — the two are one event id.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** The kinds of delivery, as Socket Mode names its envelopes. */
export type DeliveryType = 'events_api' | 'slash_commands' | 'interactive';

/** Handles one delivery; `ack` is called once it is in Redis (with the body of Slack's answer, if any). */
export type DeliveryHandler = (type: DeliveryType, body: Record<string, unknown>, ack: () => void) => void;

/** Where the receiver listens. */
export interface EventsHttpOptions {
  port: number;
  host: string;
  /** The path of the Request URL (`/slack/events`). */
  path: string;
  signingSecret: string;
  /** Answer by then even when the delivery is not yet in Redis (Slack gives 3 s). */
  ackDeadlineMs: number;
  log: Logger;
}

/** Largest body accepted (Slack's payloads are far smaller). */
const MAX_BODY = 1024 * 1024;

/** Counters for status(). */
export interface EventsHttpStats {
  received: number;
  refused: number;
  late: number;
}

/** The Request URL's server. */
export class EventsHttpReceiver {
  private server: Server | null = null;
  readonly stats: EventsHttpStats = { received: 0, refused: 0, late: 0 };

  constructor(
    private readonly o: EventsHttpOptions,
    private readonly handle: DeliveryHandler,
  ) {}

  /** Starts listening; resolves with the port. */
  async listen(): Promise<number> {
    // Bolt is loaded only where the HTTP path runs (its signature check is the one Slack's own SDK uses).
    const { isValidSlackRequest } = await import('@slack/bolt');
    const server = createServer((req, res) => void this.onRequest(req, res, isValidSlackRequest));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Whether it is listening. */
  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse, isValid: (o: { signingSecret: string; body: string; headers: { 'x-slack-signature': string; 'x-slack-request-timestamp': number } }) => boolean): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'POST' || path !== this.o.path) return end(res, 404);
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      return end(res, 413);
    }
    const signature = req.headers['x-slack-signature'];
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    if (typeof signature !== 'string' || !Number.isFinite(timestamp) || !isValid({ signingSecret: this.o.signingSecret, body, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } })) {
      this.stats.refused++;
      return end(res, 401);
    }
    const parsed = parseDelivery(body, String(req.headers['content-type'] ?? ''));
    if (!parsed) return end(res, 400);
    if (parsed.challenge !== undefined) return end(res, 200, JSON.stringify({ challenge: parsed.challenge }), 'application/json');
    if (!parsed.type) return end(res, 200); // ssl_check and anything Townhall does not read
    this.stats.received++;
    let answered = false;
    const timer = setTimeout(() => {
      if (answered) return;
      answered = true;
      this.stats.late++;
      end(res, 503);
    }, this.o.ackDeadlineMs);
    this.handle(parsed.type, parsed.body, () => {
      clearTimeout(timer);
      if (answered) return;
      answered = true;
      end(res, 200);
    });
  }

  /** Stops listening (open requests are cut: what they carried stays with the intake or comes again from Slack). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** A request body: events as JSON; slash commands as form fields; interactions as a form field `payload` of JSON. */
export function parseDelivery(body: string, contentType: string): { type?: DeliveryType; body: Record<string, unknown>; challenge?: string } | undefined {
  try {
    if (contentType.startsWith('application/json')) {
      const json = JSON.parse(body) as Record<string, unknown>;
      if (json.type === 'url_verification') return { body: json, challenge: String(json.challenge ?? '') };
      return json.type === 'event_callback' ? { type: 'events_api', body: json } : { body: json };
    }
    const form = new URLSearchParams(body);
    if (form.has('payload')) return { type: 'interactive', body: JSON.parse(form.get('payload') ?? '{}') as Record<string, unknown> };
    if (form.has('command')) return { type: 'slash_commands', body: Object.fromEntries(form) };
    return { body: Object.fromEntries(form) };
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new Error('too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function end(res: ServerResponse, status: number, body = '', type?: string): void {
  if (res.headersSent) return;
  res.statusCode = status;
  if (type) res.setHeader('content-type', type);
  res.end(body);
}
