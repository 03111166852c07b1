/**
 * Messages Slack never delivered. Slack retries an unacknowledged event three times within minutes and then drops it;
 * while no adapter listens (a restart, a crash, a long outage) what people write would be lost. So the adapter keeps,
 * per channel, the `ts` of the newest message it published, and per thread the newest reply (the kit's cursor store:
 * a Slack ts has a fixed width, so the cursors compare it as they compare ids), and after every (re)connection reads
 * what came after: conversations.history from the channel's cursor (and the replies of threads that grew there),
 * conversations.replies from each thread's. A message read back becomes the same event, with the same id, as when
 * delivered live, so overlap with a redelivered envelope is dropped downstream.
 */
import type { ChatEventInput } from '../../src/core/index.js';
import type { CursorStore } from '../kit/index.js';
import { parseSlackChat, tsToMs } from './ids.js';

/** The cursor hash in the adapter's store: `<channel>` or `<channel>/<thread ts>` -> the newest published ts. */
export const CURSOR_KEY = 'cursor';

/** A history message as conversations.history / conversations.replies return it (the fields catching up reads). */
export interface HistoryMessage {
  ts: string;
  thread_ts?: string;
  latest_reply?: string;
  reply_count?: number;
  [field: string]: unknown;
}

/** How much one catch-up may read. */
export interface CatchUpLimits {
  /** Cursors older than this are not read (and are dropped). */
  maxAgeMs: number;
  /** Pages of `pageSize` read per channel or thread at most. */
  maxPages: number;
  pageSize: number;
  /** Threads read per catch-up at most (the most recently active first). */
  maxThreads: number;
}

/** Where one catch-up reads: a channel from its cursor, or a thread (root ts) from its cursor. */
export interface CatchUpSource {
  /** The cursor's name. */
  name: string;
  channel: string;
  thread?: string;
  after: string;
}

/** The cursor name of a channel, or of a thread in it. */
export function cursorName(channel: string, thread?: string): string {
  return thread ? `${channel}/${thread}` : channel;
}

/** True when Slack ts `a` is later than `b` (both `<seconds>.<6 digits>`). */
export function laterTs(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/**
 * The cursor values for a batch just published: per channel its newest top-level message, per thread its newest
 * reply (edits, deletes and reactions name older messages and move nothing; slash commands have no ts).
 */
export function cursorValues(events: readonly ChatEventInput[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events) {
    if (e.kind !== 'message' || !e.messageId) continue;
    const ref = parseSlackChat(e.chat);
    if (!ref) continue;
    const name = cursorName(ref.channel, ref.threadTs);
    const cur = out[name];
    if (!cur || laterTs(e.messageId, cur)) out[name] = e.messageId;
  }
  return out;
}

/** The sources to read after a (re)connection, dropping the cursors that are too old to read back. */
export async function sourcesToCatchUp(cursors: CursorStore, limits: CatchUpLimits, now = Date.now()): Promise<CatchUpSource[]> {
  const all = await cursors.all();
  const channels: CatchUpSource[] = [];
  const threads: CatchUpSource[] = [];
  const stale: string[] = [];
  for (const [name, after] of Object.entries(all)) {
    if (!/^\d{1,12}\.\d{1,6}$/.test(after) || now - tsToMs(after) > limits.maxAgeMs) {
      stale.push(name);
      continue;
    }
    const [channel = '', thread] = name.split('/');
    (thread ? threads : channels).push({ name, channel, after, ...(thread ? { thread } : {}) });
  }
  await cursors.forget(stale);
  threads.sort((a, b) => (laterTs(a.after, b.after) ? -1 : 1));
  return [...channels, ...threads.slice(0, limits.maxThreads)];
}

/** One page of a history call: messages (any order) and the cursor of the next page ('' at the end). */
export type FetchPage = (args: { channel: string; thread?: string; oldest: string; cursor?: string; limit: number }) => Promise<{ messages: HistoryMessage[]; next: string }>;

/**
 * Reads one source after its cursor, oldest first, page by page, handing each message on in order; for a channel
 * also the new replies of threads whose latest reply is past the cursor. Returns how many messages it read.
 */
export async function readMissed(src: CatchUpSource, limits: CatchUpLimits, fetchPage: FetchPage, deliver: (messages: HistoryMessage[]) => void): Promise<number> {
  const got = await readAll(src.channel, src.thread, src.after, limits, fetchPage);
  // conversations.replies always starts with the thread's root; it was read with its channel.
  const own = got.filter((m) => laterTs(m.ts, src.after) && m.ts !== src.thread);
  deliver(own);
  let total = own.length;
  if (!src.thread) {
    for (const root of own) {
      if (!root.reply_count || !root.latest_reply || !laterTs(root.latest_reply, src.after)) continue;
      const replies = (await readAll(src.channel, root.ts, src.after, limits, fetchPage)).filter((m) => m.ts !== root.ts && laterTs(m.ts, src.after));
      deliver(replies);
      total += replies.length;
    }
  }
  return total;
}

async function readAll(channel: string, thread: string | undefined, oldest: string, limits: CatchUpLimits, fetchPage: FetchPage): Promise<HistoryMessage[]> {
  const all: HistoryMessage[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < limits.maxPages; page++) {
    const r = await fetchPage({ channel, ...(thread ? { thread } : {}), oldest, ...(cursor ? { cursor } : {}), limit: limits.pageSize });
    all.push(...r.messages.filter((m) => typeof m.ts === 'string'));
    if (!r.next) break;
    cursor = r.next;
  }
  return all.sort((a, b) => (a.ts === b.ts ? 0 : laterTs(a.ts, b.ts) ? 1 : -1));
}
