/**
 * Messages the gateway never delivered. A RESUME replays what a session missed, but a crashed or restarted adapter
 * starts a new session (IDENTIFY), and Discord does not replay anything to a new one: what people wrote while the
 * adapter was down would be lost. So the adapter keeps, per channel, the newest message it has published (a cursor
 * in Redis), and after every READY reads each recently active channel from its cursor on through REST — the same
 * message objects, normalized and published like gateway dispatches (what was already published is dropped by the
 * inbound pipeline's seen marks).
 */
import type { ChatEventInput } from '../../src/core/index.js';
import { newerId, type CursorStore } from '../kit/index.js';
import { THREAD_TYPES, snowflakeTime } from './normalize.js';

/** A channel to read from: where the cursor is, and the guild its messages belong to (REST messages lack guild_id). */
export interface CatchUpChannel {
  channelId: string;
  after: string;
  guildId: string | null;
}

/** How much catching up one READY may do. */
export interface CatchUpLimits {
  /** Channels whose newest published message is older than this are not read (and their cursor is dropped). */
  maxAgeMs: number;
  /** Pages of 100 messages read per channel at most. */
  maxPages: number;
}

/** The cursor hash in the adapter's store: channel id -> `<newest published message id>|<guild id>`. */
export const CURSOR_KEY = 'cursor';

/**
 * The cursor values for a batch just published: per channel, the newest new message in it (edits and other kinds
 * keep the ids of older messages), for the pipeline that already writes the seen marks.
 */
export function cursorValues(events: readonly ChatEventInput[]): Record<string, string> {
  const newest = new Map<string, { id: string; guild: string }>();
  for (const e of events) {
    if ((e.kind !== 'message' && e.kind !== 'command') || !e.messageId || !e.raw) continue;
    const raw = e.raw as { t?: unknown; channel?: unknown; guild?: unknown };
    if (raw.t !== 'MESSAGE_CREATE' || typeof raw.channel !== 'string') continue;
    const cur = newest.get(raw.channel);
    if (!cur || newerId(e.messageId, cur.id)) newest.set(raw.channel, { id: e.messageId, guild: typeof raw.guild === 'string' ? raw.guild : '' });
  }
  return Object.fromEntries([...newest].map(([channel, v]) => [channel, `${v.id}|${v.guild}`]));
}

/** Channel types that hold messages: text, announcement, and threads (forum posts are threads). */
export const MESSAGE_CHANNEL_TYPES: ReadonlySet<number> = new Set([0, 5, ...THREAD_TYPES]);

/** A channel the gateway told about (READY's guilds): id, type, guild. */
export interface KnownChannel {
  id: string;
  type: number;
  guildId: string | null;
}

/**
 * The channels to read after a READY: those with a recent cursor (dropping the cursors of channels gone quiet), and
 * — once the adapter has published anything at all — message channels created after the newest message it
 * published (a thread or forum post opened, a channel added, while no session listened), read from their start.
 */
export async function channelsToCatchUp(cursors: CursorStore, limits: CatchUpLimits, known: Iterable<KnownChannel> = [], now = Date.now()): Promise<CatchUpChannel[]> {
  const all = await cursors.all();
  const out: CatchUpChannel[] = [];
  const stale: string[] = [];
  let newest = '';
  for (const [channelId, v] of Object.entries(all)) {
    const [after = '', guild = ''] = v.split('|');
    const at = snowflakeTime(after);
    if (at !== null && (!newest || newerId(after, newest))) newest = after;
    if (at === null || now - at > limits.maxAgeMs) stale.push(channelId);
    else out.push({ channelId, after, guildId: guild || null });
  }
  await cursors.forget(stale);
  if (newest) {
    for (const c of known) {
      if (!MESSAGE_CHANNEL_TYPES.has(c.type) || c.id in all || snowflakeTime(c.id) === null || !newerId(c.id, newest)) continue;
      // From just before the channel's own id: a forum post's first message has the thread's id.
      out.push({ channelId: c.id, after: (BigInt(c.id) - 1n).toString(), guildId: c.guildId });
    }
  }
  return out;
}

/** A REST message object as far as catching up needs it. */
export interface RestMessage {
  id: string;
  [field: string]: unknown;
}

/**
 * Reads one channel's messages after its cursor, oldest first, page by page (`fetchPage(after)` returns up to 100
 * messages newer than `after`, in any order), and hands each page to `deliver` as it comes.
 */
export async function readMissed(ch: CatchUpChannel, limits: CatchUpLimits, fetchPage: (after: string) => Promise<RestMessage[]>, deliver: (page: RestMessage[]) => void): Promise<number> {
  let after = ch.after;
  let total = 0;
  for (let page = 0; page < limits.maxPages; page++) {
    const got = (await fetchPage(after)).filter((m) => typeof m.id === 'string' && newerId(m.id, after));
    if (!got.length) break;
    got.sort((a, b) => (a.id === b.id ? 0 : newerId(a.id, b.id) ? 1 : -1));
    deliver(got);
    total += got.length;
    after = got[got.length - 1]!.id;
    if (got.length < 100) break;
  }
  return total;
}
