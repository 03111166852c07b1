/**
 * `npx tsx bench/filters.ts`: what moderator patterns cost, and that none can stall the bot (issue #17).
 *
 * 1. Matching alone: a typical chat's patterns on ordinary messages, and the worst case the limits allow — the
 *    largest set (MAX_SET_SIZE instructions) on text built to defeat RE2's DFA cache (a fresh state per character),
 *    which is what the per-message budget bounds.
 * 2. The review's attack on the whole bot (the sandbox in this process, as `townhall start` runs core and HTTP in one):
 *    `/filter add /(\u0100|\u0100)*\u0102/`, then 40-character messages that make a backtracking engine try 2^40
 *    ways, while /healthz is asked every 20 ms and another chat's /help is timed. Targets: /healthz within 100 ms,
 *    the /help answer within 2 s.
 * The last line is one JSON object.
 */
import { randomUUID } from 'node:crypto';
import { ADAPTERS } from '../adapters/index.js';
import { FAKES } from '../fakes/index.js';
import { startSandbox } from '../src/cli/sandbox.js';
import { checkPatternStatic, MAX_SET_SIZE, PatternSet } from '../src/features/moderation/safe-regex.js';
import { matchableText } from '../src/features/moderation/safe-regex.js';
import { unlinkUnder } from '../src/redis/scan.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;
const round = (x: number, d = 3) => +x.toFixed(d);

function timePerCall(fn: () => void, n: number): number {
  for (let i = 0; i < Math.min(n, 50); i++) fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t) / n;
}

// 1. Matching alone.
const typical = ['free\\s+(btc|eth|nitro)', 't\\.me/\\+?\\w+', '\\bairdrop\\b', 'send\\s+me\\s+your\\s+seed', 'https?://\\S+\\.(ru|xyz|top)\\b', '\\$[A-Z]{3,6}\\s+to\\s+the\\s+moon', 'dm\\s+me\\s+for\\s+(support|help)', 'guaranteed\\s+\\d+%', '(whatsapp|telegram)\\s*:\\s*\\+?\\d{7,}', 'wallet\\s+(validation|sync)'];
const typicalSet = new PatternSet(typical.map((p) => (checkPatternStatic(p) as { re2: string }).re2));
const line = 'hey everyone, does anyone know when the token listing goes live on the big exchanges? ';
const short = line.repeat(2);
const long = line.repeat(46);
const typicalShortMs = timePerCall(() => typicalSet.firstMatch(matchableText(short)), 20_000);
const typicalLongMs = timePerCall(() => typicalSet.firstMatch(matchableText(long)), 2_000);

// The largest set: patterns of ~MAX_PATTERN_SIZE instructions whose DFA has a state per position of a random a/b text.
const worstPatterns: string[] = [];
let size = 0;
for (let k = 0; size < MAX_SET_SIZE; k++) {
  const c = checkPatternStatic(`a[ab]{${390 - k}}c`);
  if (!c.ok || size + c.size > MAX_SET_SIZE) break;
  worstPatterns.push(c.re2);
  size += c.size;
}
const worstSet = new PatternSet(worstPatterns);
let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const adversarial = () => Array.from({ length: 16_000 }, () => (rnd() < 0.5 ? 'a' : 'b')).join('');
const worstTimes: number[] = [];
for (let i = 0; i < 30; i++) {
  const text = adversarial();
  const t = performance.now();
  worstSet.firstMatch(text);
  worstTimes.push(performance.now() - t);
}

// 2. The attack on the whole bot.
const prefix = `{th-bench-${randomUUID().slice(0, 6)}}`;
const sb = await startSandbox({ port: 0, quiet: true, prefix, platforms: { adapters: ADAPTERS, fakes: FAKES } });
const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(sb.url + path, { method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
  return (await res.json()) as unknown;
};
type Outbox = { type: string; replyTo?: string }[];
const answered = async (chat: string, id: string, timeoutMs = 30_000) => {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (((await call('GET', `/sandbox/telegram/outbox?chat=${chat}`)) as Outbox).some((o) => o.type === 'send' && o.replyTo === id)) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  return Infinity;
};
const post = async (chat: string, user: { id: string; name: string; admin?: boolean }, text: string) => ((await call('POST', '/sandbox/telegram/messages', { chat, user, text })) as { id: string }).id;

// The same round trip before any pattern: the sandbox's own latency (fake -> adapter -> core -> outbound -> fake).
const baseline: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await answered('-3', await post('-3', { id: '3', name: 'Bo' }, '/help'));
  baseline.push(performance.now() - t);
}
const addId = await post('-1', { id: '1', name: 'Mod', admin: true }, '/filter add /(\\u0100|\\u0100)*\\u0102/');
await answered('-1', addId);
const health: number[] = [];
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const t = performance.now();
    await fetch(`${sb.url}/healthz`);
    health.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
})();
const helpTimes: number[] = [];
for (let round = 0; round < 10; round++) {
  for (let k = 0; k < 5; k++) await post('-1', { id: String(100 + k), name: 'Spammer' }, '\u0100'.repeat(40));
  const t = performance.now();
  const id = await post('-2', { id: '2', name: 'Ann' }, '/help');
  await answered('-2', id);
  helpTimes.push(performance.now() - t);
}
sampling = false;
await sampler;
await sb.close();
await unlinkUnder(sb.runtime.redis, prefix).catch(() => undefined);

const result = {
  typical_set_instructions: typicalSet.size,
  typical_us_per_message_180_chars: round(typicalShortMs * 1000, 1),
  typical_us_per_message_4000_chars: round(typicalLongMs * 1000, 1),
  worst_set_instructions: worstSet.size,
  worst_scan_chars: worstSet.scanChars,
  worst_ms_per_message_p50: round(pct(worstTimes, 50), 2),
  worst_ms_per_message_max: round(Math.max(...worstTimes), 2),
  attack_healthz_ms_p50: round(pct(health, 50), 1),
  attack_healthz_ms_p99: round(pct(health, 99), 1),
  attack_healthz_ms_max: round(Math.max(...health), 1),
  attack_healthz_samples: health.length,
  baseline_help_ms_p50: round(pct(baseline, 50), 0),
  attack_other_chat_help_ms_p50: round(pct(helpTimes, 50), 0),
  attack_other_chat_help_ms_max: round(Math.max(...helpTimes), 0),
};
console.table(result);
console.log(JSON.stringify(result));
process.exit(0);
