/** Realistic chat traffic for benchmarks and fault tests: IRC lines spread over Telegram and Discord groups, with replies. */
import type { ChatEventInput } from '../core/events.js';
import { platformOf } from '../core/ids.js';

/** One line of chat: who said what. */
export interface ChatLine {
  nick: string;
  text: string;
}

/** The chats a workload writes to: half Telegram supergroups, half Discord channels (prefixed ids, contract §3). */
export function workloadChats(count: number): string[] {
  return Array.from({ length: count }, (_, c) => (c % 2 === 0 ? `telegram:-100900000${String(c).padStart(4, '0')}` : `discord:9000000000000${String(c).padStart(5, '0')}`));
}

/** Options of chatWorkload. */
export interface WorkloadOptions {
  /** How many chats the messages are spread over (round robin). Default 20. */
  chats?: number;
  /** First native message id; runs that must not collide (the seen marks) use different bases. */
  firstMessageId?: number;
  /** Event time of every message (a latency run overwrites it at enqueue). Default now. */
  at?: number;
  /** Every how many messages one is the `command` text instead of chat (0: none). */
  commandEvery?: number;
  /** The command text used then (default `/help`). */
  command?: string;
}

const safeNick = (nick: string) => nick.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40) || 'u';

/**
 * `n` message events from `lines` (cycled). A line addressed to someone (`nick: ...`, as IRC does) becomes a
 * reply to that person's last message in the same chat, so threading sees real reply structure.
 */
export function chatWorkload(lines: ChatLine[], n: number, opts: WorkloadOptions = {}): ChatEventInput[] {
  const chats = workloadChats(opts.chats ?? 20);
  const at = opts.at ?? Date.now();
  const base = opts.firstMessageId ?? 1;
  const lastByNick = chats.map(() => new Map<string, string>());
  const out: ChatEventInput[] = [];
  for (let i = 0; i < n; i++) {
    const line = lines[i % lines.length]!;
    const c = i % chats.length;
    const chat = chats[c]!;
    const platform = platformOf(chat);
    const messageId = String(base + i);
    const nick = safeNick(line.nick);
    const addressed = /^([^\s:,]{2,40})[:,]\s/.exec(line.text)?.[1];
    const replyTo = addressed ? lastByNick[c]!.get(safeNick(addressed)) : undefined;
    const text = opts.commandEvery && i % opts.commandEvery === opts.commandEvery - 1 ? (opts.command ?? '/help') : line.text;
    out.push({
      v: 1,
      id: `${platform}/msg/${chat.slice(platform.length + 1)}/${messageId}`,
      kind: 'message',
      platform,
      chat,
      chatType: 'group',
      messageId,
      user: { id: `${platform}:user:${nick}`, name: line.nick.slice(0, 64) },
      text: text.slice(0, 4000),
      ...(replyTo ? { replyTo } : {}),
      at,
      source: 'live',
    });
    lastByNick[c]!.set(nick, messageId);
  }
  return out;
}

/** Percentiles of a list of numbers (sorted in place). */
export function percentiles(values: number[], ps: number[]): number[] {
  values.sort((a, b) => a - b);
  return ps.map((p) => values[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))] ?? 0);
}
