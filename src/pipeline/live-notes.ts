/**
 * The live channel's notes (`keys.k('live')`): `{"type":"ama","amaId":"a3"}` when an AMA's questions or state
 * changed, `{"type":"chat","chat":"telegram:-100"}` when a chat got news. Features publish them; the dashboard
 * (src/http/dashboard/live.ts) fans them out to its clients, who re-fetch. Nothing here is state that correctness
 * depends on: a lost note only delays a refresh.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import type { Feature } from './handle-event.js';

/** A note on the live channel. */
export type LiveNote = { type: 'ama'; amaId: string } | { type: 'chat'; chat: string; dm?: boolean };

/** The pub/sub channel the notes go to. */
export function liveChannel(keys: Keys): string {
  return keys.k('live');
}

/** Publishes a note, directly or inside a transaction (so it goes out only when the change it announces is committed). */
export function publishLive(target: Redis | ChainableCommander, keys: Keys, note: LiveNote): void {
  const sent = target.publish(liveChannel(keys), JSON.stringify(note)) as unknown;
  if (sent instanceof Promise) sent.catch(() => undefined); // sent directly: a lost note only delays a refresh
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
  const send = (note: LiveNote) => publishLive(deps.redis, deps.keys, note);
  const nudge = (chat: string, dm: boolean) => {
    const id = `${chat}${dm ? '#dm' : ''}`;
    const note: LiveNote = { type: 'chat', chat, ...(dm ? { dm: true } : {}) };
    const now = Date.now();
    const wait = (last.get(id) ?? -Infinity) + CHAT_NOTE_MS - now;
    if (wait <= 0) {
      if (last.size > 10_000) last.clear();
      last.set(id, now);
      return send(note);
    }
    if (trailing.has(id)) return;
    trailing.add(id);
    setTimeout(() => {
      trailing.delete(id);
      last.set(id, Date.now());
      send(note);
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

