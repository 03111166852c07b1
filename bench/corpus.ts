/** Realistic chat text for benchmarks: lines from the irc-disentanglement logs, else a generated fallback. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Where the shared evaluation data lives relative to the project root. */
export const SHARED_DATA = path.resolve(process.cwd(), '../shared/data');

/** Up to `max` message lines `{nick, text}` from the Ubuntu IRC logs. */
export function loadChatLines(max = 50_000): { nick: string; text: string }[] {
  const out: { nick: string; text: string }[] = [];
  for (const f of ['irc-disentanglement/ubuntu.dev.jsonl', 'irc-disentanglement/ubuntu.train.jsonl']) {
    const p = path.join(SHARED_DATA, f);
    if (!existsSync(p)) continue;
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      for (const raw of (JSON.parse(line) as { messages_ascii: string[] }).messages_ascii) {
        const m = /^\[\d{2}:\d{2}\]\s+<([^>]+)>\s?(.*)$/.exec(raw);
        if (m && m[2]) out.push({ nick: m[1]!, text: m[2] });
        if (out.length >= max) return out;
      }
    }
  }
  if (out.length) return out;
  const words = 'how do i install the driver kernel update wifi sound grub boot token launch wallet when listing fees staking'.split(' ');
  for (let i = 0; i < max; i++) out.push({ nick: `user${i % 300}`, text: Array.from({ length: 6 + (i % 9) }, (_, j) => words[(i * 7 + j * 13) % words.length]).join(' ') });
  return out;
}
