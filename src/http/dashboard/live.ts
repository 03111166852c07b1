/**
 * Live updates for the dashboard. Features publish small JSON notes on one Redis pub/sub channel
 * (`keys.k('live')`): `{"type":"ama","amaId":"a3"}` when an AMA's questions or state changed, `{"type":"chat","chat":"telegram:-100"}`
 * when a chat got news. Each HTTP process holds ONE subscriber connection and fans the notes out to its
 * server-sent-event clients; a client gets only a "something changed" nudge and re-fetches through the JSON API,
 * which checks permissions as usual. Nothing here is state that correctness depends on: a lost note only delays a refresh.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { baseChat } from '../../core/ids.js';
import type { Feature } from '../../pipeline/handle-event.js';
import type { Keys } from '../../redis/keys.js';

/** A note on the live channel. */
export type LiveNote = { type: 'ama'; amaId: string } | { type: 'chat'; chat: string; dm?: boolean };

/** The pub/sub channel the notes go to. */
export function liveChannel(keys: Keys): string {
  return keys.k('live');
}

/** Publishes a note, directly or inside a transaction (so it goes out only when the change it announces is committed). */
export function publishLive(target: Redis | ChainableCommander, keys: Keys, note: LiveNote): void {
  void target.publish(liveChannel(keys), JSON.stringify(note));
}

/** Parses a note, or null for anything malformed (the channel is shared; nothing on it is trusted blindly). */
export function parseNote(raw: string): LiveNote | null {
  try {
    const n = JSON.parse(raw) as Record<string, unknown>;
    if (n.type === 'ama' && typeof n.amaId === 'string' && n.amaId.length <= 64) return { type: 'ama', amaId: n.amaId };
    if (n.type === 'chat' && typeof n.chat === 'string' && n.chat.length <= 200) return { type: 'chat', chat: n.chat, ...(n.dm === true ? { dm: true } : {}) };
  } catch {
    // not JSON: ignore
  }
  return null;
}

/** Quiet time between two notes about one chat from one process: a busy chat is a steady nudge, not a flood. */
export const CHAT_NOTE_MS = 250;

/**
 * A pipeline step that announces handled chat events as `chat` notes, once the event's state is committed (so a
 * dashboard that re-fetches sees it). At most one note per chat per CHAT_NOTE_MS from a process: the first goes out
 * at once, the rest of a burst as one trailing note. At 10,000 messages a second a note per message was wasted work
 * for the worker and for Redis; the dashboard only needs to know that something changed. The dashboard maps chat
 * notes to the AMAs spanning the chat, so new asks and votes show up live even before the AMA feature publishes
 * `ama` notes itself.
 */
export function liveNotesFeature(deps: { redis: Redis; keys: Keys }): Feature {
  const last = new Map<string, number>();
  const trailing = new Set<string>();
  const send = (note: LiveNote) => {
    void deps.redis.publish(liveChannel(deps.keys), JSON.stringify(note)).catch(() => undefined); // a lost note only delays a refresh
  };
  const nudge = (chat: string, dm: boolean) => {
    const id = `${chat}${dm ? '#dm' : ''}`;
    const now = Date.now();
    const wait = (last.get(id) ?? -Infinity) + CHAT_NOTE_MS - now;
    if (wait <= 0) {
      if (last.size > 10_000) last.clear();
      last.set(id, now);
      return send({ type: 'chat', chat, ...(dm ? { dm: true } : {}) });
    }
    if (trailing.has(id)) return;
    trailing.add(id);
    setTimeout(() => {
      trailing.delete(id);
      last.set(id, Date.now());
      send({ type: 'chat', chat, ...(dm ? { dm: true } : {}) });
    }, wait).unref();
  };
  return {
    name: 'live-notes',
    middleware: async (ctx, next) => {
      await next();
      const e = ctx.event;
      if (e.source === 'import' || e.kind === 'join' || e.kind === 'leave') return;
      ctx.afterCommit(() => nudge(e.chat, e.chatType === 'private'));
    },
  };
}

/** Whom a dashboard client wants to hear about. */
export interface LiveInterest {
  /** The AMA on screen, with the groups it spans (chat notes from those groups nudge it too). */
  ama?: { id: string; groups: Set<string>; spansX: boolean };
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
    ama = note.dm === true || (group !== null && interest.ama.groups.has(group)) || (interest.ama.spansX && note.chat.startsWith('x:'));
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

