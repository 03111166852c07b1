/** Chat-log readers for `replay` and `import`: JSONL, irc-disentanglement logs, Telegram Desktop and Discord exports. */
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { makeEventId } from '../core/adapter.js';
import type { ChatEventInput } from '../core/events.js';
import { chatKey, userKey, type Platform } from '../core/ids.js';

/** Supported log formats. */
export const LOG_FORMATS = ['jsonl', 'irc', 'telegram-export', 'discord-export'] as const;
/** One of LOG_FORMATS. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** How to map a log onto Townhall's ids. */
export interface ReadOptions {
  format: LogFormat;
  platform: Platform;
  /** Native chat id to use when the log has none (or to override it). */
  chat?: string | undefined;
  source: 'replay' | 'import';
  /** Messages get timestamps from here when the log has only clock times (IRC). */
  baseTime?: number;
}

/** Guesses a format from the file name. */
export function guessFormat(file: string): LogFormat {
  if (/\.json$/i.test(file)) return 'telegram-export';
  return 'jsonl';
}

const nickId = (nick: string) => nick.toLowerCase().replace(/[^a-z0-9_.-]/g, '_').slice(0, 64) || 'anon';

function event(o: ReadOptions, chat: string, msgId: string, user: string, name: string, text: string, at: number, replyTo?: string): ChatEventInput {
  const e: ChatEventInput = {
    v: 1,
    id: makeEventId(o.platform, o.source, chat, msgId),
    kind: 'message',
    platform: o.platform,
    chat: chatKey(o.platform, chat),
    messageId: msgId,
    user: { id: userKey(o.platform, nickId(user)), name: name.slice(0, 256) },
    text: text.slice(0, 16_000),
    at: Math.max(0, Math.floor(at)),
    source: o.source,
  };
  if (replyTo) e.replyTo = replyTo;
  return e;
}

/** Reads a log file as ChatEvents, streaming line by line where the format allows. */
export async function* readLog(file: string, o: ReadOptions): AsyncGenerator<ChatEventInput> {
  if (o.format === 'jsonl') yield* readJsonl(file, o);
  else if (o.format === 'irc') yield* readIrc(file, o);
  else if (o.format === 'telegram-export') yield* readTelegramExport(file, o);
  else yield* readDiscordExport(file, o);
}

async function* lines(file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) if (line.trim()) yield line;
}

/** `{platform?, chat, user, text, ts, replyTo?, id?}` per line; ts in ms, seconds or ISO. */
async function* readJsonl(file: string, o: ReadOptions): AsyncGenerator<ChatEventInput> {
  let n = 0;
  for await (const line of lines(file)) {
    n++;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${file}:${n}: not JSON`);
    }
    const platform = (typeof r.platform === 'string' ? r.platform : o.platform) as Platform;
    const chat = o.chat ?? String(r.chat ?? 'replay');
    const user = typeof r.user === 'object' && r.user ? (r.user as { id?: unknown; name?: unknown }) : { id: r.user, name: r.user };
    const ts = r.ts ?? r.at ?? r.date;
    const at = typeof ts === 'number' ? (ts < 1e12 ? ts * 1000 : ts) : typeof ts === 'string' ? Date.parse(ts) : (o.baseTime ?? Date.now()) + n;
    const id = String(r.id ?? n);
    yield event({ ...o, platform }, chat, id, String(user.id ?? 'anon'), String(user.name ?? user.id ?? 'anon'), String(r.text ?? ''), Number.isFinite(at) ? at : Date.now(), r.replyTo === undefined ? undefined : String(r.replyTo));
  }
}

/** irc-disentanglement JSONL: one record per log with `messages_ascii` lines `[hh:mm] <nick> text`. */
async function* readIrc(file: string, o: ReadOptions): AsyncGenerator<ChatEventInput> {
  let rec = 0;
  const base = o.baseTime ?? Date.UTC(2026, 0, 1);
  for await (const line of lines(file)) {
    const r = JSON.parse(line) as { id?: string; messages_ascii?: string[] };
    const chat = o.chat ?? `irc-${rec}`;
    let dayOffset = 0;
    let lastMinute = -1;
    const msgs = r.messages_ascii ?? [];
    for (let i = 0; i < msgs.length; i++) {
      const m = /^\[(\d{2}):(\d{2})\]\s+<([^>]+)>\s?(.*)$/.exec(msgs[i]!);
      if (!m) continue; // system lines (joins, parts) carry no message
      const minute = Number(m[1]) * 60 + Number(m[2]);
      if (minute < lastMinute) dayOffset += 1440;
      lastMinute = minute;
      yield event(o, chat, `${rec}-${i}`, m[3]!, m[3]!, m[4] ?? '', base + (dayOffset + minute) * 60_000 + i);
    }
    rec++;
  }
}

type TgText = string | ({ text: string } | string)[];
const tgText = (t: TgText | undefined): string => (Array.isArray(t) ? t.map((p) => (typeof p === 'string' ? p : p.text)).join('') : (t ?? ''));

/** Telegram Desktop's `result.json`: `{id, messages: [{id, type, date_unixtime, from, from_id, text, reply_to_message_id}]}`. */
async function* readTelegramExport(file: string, o: ReadOptions): AsyncGenerator<ChatEventInput> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as {
    id?: number | string;
    messages?: { id: number; type: string; date?: string; date_unixtime?: string; from?: string; from_id?: string; text?: TgText; caption?: TgText; reply_to_message_id?: number }[];
  };
  const chat = o.chat ?? String(data.id ?? 'export');
  for (const m of data.messages ?? []) {
    if (m.type !== 'message') continue;
    const text = tgText(m.text) || tgText(m.caption);
    if (!text) continue;
    const at = m.date_unixtime ? Number(m.date_unixtime) * 1000 : Date.parse(m.date ?? '') || Date.now();
    const uid = (m.from_id ?? 'anon').replace(/^(user|channel)/, '');
    yield event({ ...o, platform: 'telegram' }, chat, String(m.id), uid, m.from ?? uid, text, at, m.reply_to_message_id === undefined ? undefined : String(m.reply_to_message_id));
  }
}

/** DiscordChatExporter JSON: `{channel: {id}, messages: [{id, timestamp, author: {id, name}, content, reference?: {messageId}}]}`. */
async function* readDiscordExport(file: string, o: ReadOptions): AsyncGenerator<ChatEventInput> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as {
    channel?: { id?: string };
    messages?: { id: string; timestamp: string; author?: { id?: string; name?: string; nickname?: string }; content?: string; reference?: { messageId?: string } }[];
  };
  const chat = o.chat ?? data.channel?.id ?? 'export';
  for (const m of data.messages ?? []) {
    if (!m.content) continue;
    yield event({ ...o, platform: 'discord' }, chat, m.id, m.author?.id ?? 'anon', m.author?.nickname ?? m.author?.name ?? 'anon', m.content, Date.parse(m.timestamp) || Date.now(), m.reference?.messageId);
  }
}
