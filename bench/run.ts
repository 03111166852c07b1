/** `npm run bench`: ingest throughput beside a no-op BullMQ baseline, latency at an offered rate, memory, dedup cost. */
import { Queue, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigSchema } from '../config/schema.js';
import { buildCore } from '../src/app/core.js';
import type { ChatEventInput } from '../src/core/events.js';
import { quietLogger } from '../src/log.js';
import type { CoreDeps } from '../src/pipeline/context.js';
import { InboundQueue } from '../src/queue/inbound.js';
import { startInboundWorker } from '../src/queue/inbound-worker.js';
import { OutboundQueue } from '../src/queue/outbound.js';
import { discoverRedis } from '../src/redis/connect.js';
import { Keys } from '../src/redis/keys.js';
import { loadChatLines } from './corpus.js';

/** The JSON line of contract §8. */
export interface BenchResult {
  messages: number;
  ingest_msgs_per_s: number;
  baseline_noop_jobs_per_s: number;
  ratio: number;
  p50_ms: number;
  p99_ms: number;
  max_rss_mb: number;
  redis_bytes_per_message: number;
  dedup_us_per_question: Record<string, number>;
  [extra: string]: unknown;
}

const CONCURRENCY = 50;

async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (found.length) await redis.unlink(...found);
  } while (cursor !== '0');
}

function events(n: number, lines: { nick: string; text: string }[], tag: string, chats = 20): ChatEventInput[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const l = lines[i % lines.length]!;
    const chat = `-100${i % chats}`;
    return {
      v: 1 as const,
      id: `telegram/msg/${tag}/${chat}/${i}`,
      kind: 'message' as const,
      platform: 'telegram' as const,
      chat: `telegram:${chat}`,
      chatType: 'group' as const,
      messageId: String(i),
      user: { id: `telegram:user:${l.nick.replace(/[^A-Za-z0-9_]/g, '_') || 'u'}`, name: l.nick },
      text: l.text,
      at: now,
      source: 'live' as const,
    };
  });
}

/** Drains `n` pre-added jobs with a no-op worker; jobs per second. */
async function baseline(url: string, prefix: string, n: number): Promise<number> {
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  const q = new Queue('noop', { connection: conn, prefix });
  for (let i = 0; i < n; i += 1000) {
    await q.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ name: 'noop', data: { i: i + j }, opts: { removeOnComplete: true } })));
  }
  let done = 0;
  const started = performance.now();
  const finished = new Promise<void>((resolve) => {
    const w = new Worker('noop', async () => undefined, { connection: new Redis(url, { maxRetriesPerRequest: null }), prefix, concurrency: CONCURRENCY, removeOnComplete: { count: 0 } });
    w.on('completed', () => {
      if (++done === n) void w.close().then(resolve);
    });
  });
  await finished;
  const secs = (performance.now() - started) / 1000;
  await q.close();
  conn.disconnect();
  return n / secs;
}

/** Full ingest: pre-added events drained by the real core worker; messages per second. */
async function ingest(url: string, deps: CoreDeps, inbound: InboundQueue, n: number, lines: { nick: string; text: string }[]): Promise<number> {
  const evs = events(n, lines, 'ingest');
  for (let i = 0; i < n; i += 1000) await inbound.publish(evs.slice(i, i + 1000));
  let done = 0;
  const core = buildCore(deps);
  let resolveDone!: () => void;
  const all = new Promise<void>((r) => (resolveDone = r));
  const started = performance.now();
  const w = startInboundWorker({
    url,
    keys: deps.keys,
    log: deps.log,
    concurrency: CONCURRENCY,
    handle: async (e) => {
      await core.handleEvent(e);
      if (++done === n) resolveDone();
    },
  });
  await all;
  const secs = (performance.now() - started) / 1000;
  await w.close();
  return n / secs;
}

/** Offers `rate` messages per second for `seconds`; latency from enqueue to handled. */
async function latency(url: string, deps: CoreDeps, inbound: InboundQueue, rate: number, seconds: number, lines: { nick: string; text: string }[]): Promise<{ p50: number; p99: number; max: number; handled: number }> {
  const core = buildCore(deps);
  const lat: number[] = [];
  const w = startInboundWorker({
    url,
    keys: deps.keys,
    log: deps.log,
    concurrency: CONCURRENCY,
    handle: async (e) => {
      await core.handleEvent(e);
      lat.push(Date.now() - e.at);
    },
  });
  const total = rate * seconds;
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const evs = events(total, lines, `lat-${randomUUID().slice(0, 6)}`);
  const started = Date.now();
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + perTick);
    if (due > sent) {
      const batch = evs.slice(sent, due).map((e) => ({ ...e, at: Date.now() }));
      await inbound.publish(batch);
      sent = due;
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const deadline = Date.now() + 60_000;
  while (lat.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await w.close();
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0;
  return { p50: pct(50), p99: pct(99), max: lat[lat.length - 1] ?? 0, handled: lat.length };
}

/** Runs the benchmarks and prints a table, then the JSON line last. */
export async function benchCommand(o: { messages: number; json?: boolean; quick?: boolean }): Promise<void> {
  const n = o.quick ? Math.min(o.messages, 5000) : o.messages;
  const found = await discoverRedis({ url: process.env.REDIS_URL });
  const url = found.url;
  const prefix = `{townhall-bench-${randomUUID().slice(0, 8)}}`;
  const keys = new Keys(prefix);
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  const log = quietLogger();
  const outbound = new OutboundQueue({ url, keys });
  const inbound = new InboundQueue({ url, keys });
  const deps: CoreDeps = { redis, keys, config: ConfigSchema.parse({}), outbound, log, now: Date.now };
  const lines = loadChatLines(Math.min(n, 50_000));
  const say = (s: string) => process.stderr.write(`${s}\n`);
  try {
    say(`townhall bench: ${n} messages, concurrency ${CONCURRENCY}, redis ${url}`);
    const base = await baseline(url, prefix, n);
    say(`  baseline no-op BullMQ worker   ${base.toFixed(0).padStart(8)} jobs/s`);
    const memBefore = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
    const rate = await ingest(url, deps, inbound, n, lines);
    const memAfter = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
    say(`  ingest, full pipeline          ${rate.toFixed(0).padStart(8)} msgs/s   ratio ${(rate / base).toFixed(2)}`);
    const lat = await latency(url, deps, inbound, o.quick ? 500 : 2000, o.quick ? 4 : 30, lines);
    say(`  latency at ${o.quick ? 500 : 2000} msg/s             p50 ${lat.p50} ms  p99 ${lat.p99} ms  max ${lat.max} ms  (${lat.handled} handled)`);
    let dedup: Record<string, number> = {};
    try {
      const { benchDedup } = await import('../src/features/questions/bench.js');
      dedup = await benchDedup(redis, keys.k('bench', 'dedup', ''), o.quick ? [1000, 10_000] : [1000, 10_000, 100_000]);
      say(`  dedup µs per question          ${JSON.stringify(dedup)}`);
    } catch (err) {
      say(`  dedup bench unavailable: ${(err as Error).message}`);
    }
    const rss = process.resourceUsage().maxRSS / 1024;
    const result: BenchResult = {
      messages: n,
      ingest_msgs_per_s: Math.round(rate),
      baseline_noop_jobs_per_s: Math.round(base),
      ratio: Number((rate / base).toFixed(3)),
      p50_ms: lat.p50,
      p99_ms: lat.p99,
      max_ms: lat.max,
      max_rss_mb: Math.round(rss),
      redis_bytes_per_message: Math.round(Math.max(0, memAfter - memBefore) / n),
      dedup_us_per_question: dedup,
    };
    console.log(JSON.stringify(result));
  } finally {
    await inbound.close();
    await outbound.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await found.spawned?.stop();
  }
}
