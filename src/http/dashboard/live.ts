/**
 * Live updates for the dashboard. Features publish small JSON notes on one Redis pub/sub channel
 * (`keys.k('live')`): `{"type":"ama","amaId":"a3"}` when an AMA's questions or state changed, `{"type":"chat","chat":"telegram:-100"}`
 * when a chat got news. Each HTTP process holds ONE subscriber connection and fans the notes out to its
 * server-sent-event clients; a client gets only a "something changed" nudge and re-fetches through the JSON API,
 * which checks permissions as usual. Nothing here is state that correctness depends on: a lost note only delays a refresh.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { baseChat } from '../../core/ids.js';
import { liveChannel, parseNote, type LiveNote } from '../../pipeline/live-notes.js';
import type { Keys } from '../../redis/keys.js';

export { CHAT_NOTE_MS, liveChannel, liveNotesFeature, parseNote, publishLive, type LiveNote } from '../../pipeline/live-notes.js';

/** Whom a dashboard client wants to hear about. */
export interface LiveInterest {
  /**
   * The AMA on screen, with the groups it spans (chat notes from those groups nudge it too) and the platforms it spans
   * where the bot sees only what is addressed to it (X: a mention anywhere may be a question for it).
   */
  ama?: { id: string; groups: Set<string>; addressed: Set<string> };
  /** Chats on screen (groups); empty set = every chat the principal may see. */
  chats?: Set<string>;
  /** Whether a chat (group) is one this principal may see. */
  maySee(group: string): boolean;
}

/** One connected client: where to write, and what it wants. */
export interface LiveClient {
  interest: LiveInterest;
  /** Writes one SSE event. */
  send(event: string, data: unknown): void;
  /** Ends the stream (server closing). */
  end(): void;
}

/** Coalescing window: a burst of notes becomes one nudge per client and kind. */
export const LIVE_COALESCE_MS = 120;

function groupOf(chat: string): string | null {
  try {
    return baseChat(chat);
  } catch {
    return null;
  }
}

/** What a note means to a client: the nudges it should get. */
export function nudgesFor(interest: LiveInterest, note: LiveNote): { ama: boolean; chat: string | null } {
  if (note.type === 'ama') return { ama: interest.ama?.id === note.amaId, chat: null };
  let ama = false;
  const group = groupOf(note.chat);
  if (interest.ama) {
    // A private ask or an X mention may belong to the AMA without being in one of its chats: nudge (the re-fetch is cheap).
    ama = note.dm === true || (group !== null && interest.ama.groups.has(group)) || interest.ama.addressed.has(note.chat.slice(0, note.chat.indexOf(':')));
  }
  let chat: string | null = null;
  if (interest.chats && group && !note.dm && interest.maySee(group) && (interest.chats.size === 0 || interest.chats.has(group))) chat = note.chat;
  return { ama, chat };
}

/** The per-process fan-out: one subscriber connection, many clients, notes coalesced per client. */
export class LiveHub {
  private sub: Redis | null = null;
  private readonly clients = new Map<LiveClient, { ama: boolean; chats: Set<string>; timer: NodeJS.Timeout | null }>();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly log: Logger,
  ) {}

  /** Connected clients. */
  get size(): number {
    return this.clients.size;
  }

  /** Adds a client (subscribing on first use). */
  async add(client: LiveClient): Promise<void> {
    if (this.closed) throw new Error('live hub is closed');
    this.clients.set(client, { ama: false, chats: new Set(), timer: null });
    if (!this.sub) {
      const sub = this.redis.duplicate({ maxRetriesPerRequest: null });
      this.sub = sub;
      sub.on('error', (err: Error) => this.log.warn({ err: err.message }, 'live channel connection error'));
      sub.on('message', (_channel: string, raw: string) => this.onNote(raw));
      await sub.subscribe(liveChannel(this.keys));
    }
  }

  /** Removes a client. */
  remove(client: LiveClient): void {
    const st = this.clients.get(client);
    if (st?.timer) clearTimeout(st.timer);
    this.clients.delete(client);
  }

  /** Every connected client (for heartbeats). */
  list(): LiveClient[] {
    return [...this.clients.keys()];
  }

  private onNote(raw: string): void {
    const note = parseNote(raw);
    if (!note) return;
    for (const [client, st] of this.clients) {
      const n = nudgesFor(client.interest, note);
      if (!n.ama && !n.chat) continue;
      if (n.ama) st.ama = true;
      if (n.chat && st.chats.size < 100) st.chats.add(n.chat);
      st.timer ??= setTimeout(() => this.flush(client), LIVE_COALESCE_MS);
    }
  }

  private flush(client: LiveClient): void {
    const st = this.clients.get(client);
    if (!st) return;
    st.timer = null;
    try {
      if (st.ama && client.interest.ama) client.send('ama', { amaId: client.interest.ama.id });
      if (st.chats.size) client.send('chat', { chats: [...st.chats] });
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'live client write failed');
    }
    st.ama = false;
    st.chats.clear();
  }

  /** Ends every stream and the subscriber (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const [client, st] of this.clients) {
      if (st.timer) clearTimeout(st.timer);
      try {
        client.end();
      } catch {
        // already gone
      }
    }
    this.clients.clear();
    const sub = this.sub;
    this.sub = null;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}

