/**
 * `npm run bench` (contract §8): on one Redis, in one run —
 *   baseline  a no-op BullMQ worker process draining N inbound jobs;
 *   ingest    the same N chat messages drained by one real core worker process (every feature `buildCore` wires);
 *   latency   enqueue-to-handled p50/p99/max at an offered rate, for the core and (for scale) the no-op worker;
 *   memory    peak RSS of every process, Redis growth per retained message (history has a per-chat cap);
 *   scale-out the same ingest with 1, 2 and 4 core worker processes;
 *   merging   duplicate-index and AMA-intake µs per question, threading µs per message, at 1k/10k/100k.
 * Prints a table on stderr and the JSON line last on stdout. Knobs (environment): TOWNHALL_BENCH_RATE (2000),
 * TOWNHALL_BENCH_SECONDS (30), TOWNHALL_BENCH_PROCS ("1,2,4"), TOWNHALL_BENCH_ONLY (comma list of sections),
 * TOWNHALL_BENCH_CPU_PROF (a directory: core workers run under --cpu-prof and the hottest functions are printed).
 */
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ConfigSchema, type Config } from '../config/schema.js';
import { buildCore } from '../src/app/core.js';
import { ChatEventSchema, type ChatEventInput } from '../src/core/events.js';
import { quietLogger } from '../src/log.js';
import { chatWorkload, workloadChats, type ChatLine } from '../src/perf/workload.js';
import type { CoreDeps } from '../src/pipeline/context.js';
import { InboundQueue } from '../src/queue/inbound.js';
import { allQueues } from '../src/queue/names.js';
import { OutboundQueue } from '../src/queue/outbound.js';
import { discoverRedis, redisAnswers, spawnRedis, type SpawnedRedis } from '../src/redis/connect.js';
import { Keys } from '../src/redis/keys.js';
import { unlinkUnder } from '../src/redis/scan.js';
import { historyKeys } from '../src/features/history/store.js';
import { loadChatLines } from './corpus.js';
import { forkProducer, forkWorker, type BenchProducer, type BenchWorker } from './procs.js';
import { summarizeProfile } from './profile.js';
import { benchThreading } from './threading.js';
import { digestBuildMs, questionPagesMs, regexBoundMs, TARGETS_MS } from './targets.js';
import type { WorkerReport } from './worker-proc.js';
import { platformOf } from '../src/core/ids.js';

/** The JSON line of contract §8 (extra keys after the contract's). */
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
const CHATS = 20;
const say = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));

interface Bench {
  url: string;
  redis: Redis;
  prefix: string;
  keys: Keys;
  overrides: Partial<Config>;
  profDir: string | undefined;
}

/**
 * Gives the bench's own Redis a higher scheduling priority where allowed (root, as on the build machines). In a
 * deployment Redis has cores of its own; here it shares two with the producer and the workers, and when three busy
 * processes time-slice two cores the single-threaded server everyone waits on is descheduled for whole slices.
 * Says whether it could; without the privilege Redis stays as it is, and the table says so.
 */
function prioritize(spawned: SpawnedRedis): boolean {
  try {
    if (!spawned.child.pid) return false;
    os.setPriority(spawned.child.pid, -10);
    return true;
  } catch {
    return false;
  }
}

/** Redis server CPU time so far (user + system), µs. */
async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const f = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return Math.round((f('used_cpu_user') + f('used_cpu_sys')) * 1e6);
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
}

/** Waits until the queue has nothing waiting, active, delayed or paused. */
async function drained(q: Queue, timeoutMs = 30 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastSay = Date.now();
  for (;;) {
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    const left = Object.values(c).reduce((a, b) => a + b, 0);
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`queue not drained after ${timeoutMs / 1000} s (${JSON.stringify(c)})`);
    if (Date.now() - lastSay > 10_000) {
      say(`    … ${left} jobs left`);
      lastSay = Date.now();
    }
    await sleep(50);
  }
}

/**
 * Enqueues as the adapters do (`publish`: what arrives together travels as one job of up to 50 events), or, with
 * `oneJobPerMessage`, one job per message — how the no-op baseline is fed, and the pipeline too for comparison.
 */
async function publishAll(inbound: InboundQueue, events: ChatEventInput[], oneJobPerMessage = false): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const part = events.slice(i, i + 1000);
    if (oneJobPerMessage) await inbound.publishRaw(part.map((e) => ({ id: e.id, data: e })));
    else await inbound.publish(part);
  }
}

/**
 * Pre-loads `events` into a paused queue, starts `procs` worker processes, resumes, and times the drain from resume
 * to the last completion any worker saw.
 */
async function drainRun(b: Bench, o: { mode: 'core' | 'noop'; procs: number; prefix: string; events: ChatEventInput[]; profile?: boolean; oneJobPerMessage?: boolean; cpuCap?: number }): Promise<{ perS: number; seconds: number; reports: WorkerReport[]; cpu: { workerUsPerMsg: number; redisUsPerMsg: number } }> {
  const keys = new Keys(o.prefix);
  const inbound = new InboundQueue({ url: b.url, keys });
  let workers: BenchWorker[] = [];
  try {
    await inbound.queue.pause();
    workers = await Promise.all(
      Array.from({ length: o.procs }, () => forkWorker({ mode: o.mode, url: b.url, prefix: o.prefix, concurrency: CONCURRENCY, overrides: b.overrides, latency: false }, o.profile ? b.profDir : undefined, o.cpuCap)),
    );
    await publishAll(inbound, o.events, o.mode === 'noop' || o.oneJobPerMessage);
    const t0 = Date.now();
    const redisCpu0 = await redisCpuUs(b.redis);
    await inbound.queue.resume();
    await drained(inbound.queue);
    const redisCpu = (await redisCpuUs(b.redis)) - redisCpu0;
    const reports = await Promise.all(workers.map((w) => w.stop()));
    workers = [];
    const t1 = Math.max(...reports.map((r) => r.lastAt));
    const handled = reports.reduce((a, r) => a + r.handled, 0);
    const failed = reports.reduce((a, r) => a + r.failed, 0);
    if (handled < o.events.length) say(`    ! ${o.events.length - handled} events not completed (${failed} failures)`);
    const seconds = (t1 - t0) / 1000;
    // CPU per message is steadier than throughput on a machine others are using too.
    const cpu = { workerUsPerMsg: reports.reduce((a, r) => a + r.cpuUs, 0) / o.events.length, redisUsPerMsg: redisCpu / o.events.length };
    return { perS: handled / seconds, seconds, reports, cpu };
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    await inbound.close();
  }
}

/**
 * Offers `rate` events per second from a producer process (bench/producer-proc.ts, as an adapter would) to one
 * worker process; latency from enqueue to handled. Three seconds at the same rate first, not measured.
 */
async function latencyRun(b: Bench, o: { mode: 'core' | 'noop'; prefix: string; count: number; firstMessageId: number; rate: number }): Promise<{ report: WorkerReport; offered: number }> {
  const keys = new Keys(o.prefix);
  const inbound = new InboundQueue({ url: b.url, keys });
  const w = await forkWorker({ mode: o.mode, url: b.url, prefix: o.prefix, concurrency: CONCURRENCY, overrides: b.overrides, latency: true });
  let producer: BenchProducer | undefined;
  try {
    producer = await forkProducer({ url: b.url, prefix: o.prefix, mode: o.mode, rate: o.rate, warm: Math.min(o.count, o.rate * 3), count: o.count, chats: CHATS, firstMessageId: o.firstMessageId });
    await producer.warm();
    await drained(inbound.queue, 120_000);
    await w.reset();
    const offered = await producer.go();
    await drained(inbound.queue, 300_000);
    return { report: await w.stop(), offered };
  } catch (err) {
    w.child.kill('SIGKILL');
    throw err;
  } finally {
    producer?.kill();
    await inbound.close();
  }
}

/** Sets up what makes the pipeline do its full work: moderation filters in every chat and a live AMA with question detection. */
export async function setupFeatures(b: Pick<Bench, "redis" | "prefix" | "keys">, deps: CoreDeps): Promise<string[]> {
  const core = buildCore(deps);
  const on: string[] = ['history'];
  const chats = workloadChats(CHATS);
  if (core.registry.get('filter')) {
    on.push('moderation');
    const now = Date.now();
    let i = 0;
    for (const chat of chats) {
      const platform = platformOf(chat);
      for (const f of ['free crypto', 'airdrop scam', 'send me your seed', 'guaranteed profit', 'dm me for']) {
        await core.handleEvent({ v: 1, id: `${platform}/setup/${i++}`, kind: 'command', platform, chat, chatType: 'group', messageId: `s${i}`, user: { id: `${platform}:user:benchadmin`, name: 'Bench Admin', isAdmin: true }, text: `/filter add ${f}`, at: now, source: 'live' });
      }
    }
  }
  if (core.registry.get('ask') && process.env.TOWNHALL_BENCH_AMA !== '0') {
    try {
      const { amaSchedule, amaStart } = await import('../src/features/ama/index.js');
      // A live AMA in two of the chats (one per platform), as a busy community runs one: questions written there
      // without /ask are detected, merged and queued; the other chats only pay the "is there an AMA here?" lookup.
      const amaChats = chats.slice(0, 2);
      const view = await amaSchedule(deps, { title: 'Benchmark AMA', startsAt: Date.now(), durationMinutes: 24 * 60, chats: amaChats, detectQuestions: true, reminders: [] });
      await amaStart(deps, view.id);
      on.push(`ama (live in ${amaChats.length} of ${chats.length} chats, question detection on)`);
    } catch (err) {
      say(`  (AMA setup failed: ${(err as Error).message})`);
    }
  }
  // Outbound jobs the setup made (announcements, replies) are not part of what is measured.
  await obliterateOutbound(b);
  return on;
}

async function obliterateOutbound(b: Pick<Bench, "redis" | "prefix" | "keys">): Promise<number> {
  let n = 0;
  for (const q of allQueues().filter((q) => q.name !== 'inbound')) {
    const queue = new Queue(q.name, { connection: b.redis, prefix: b.prefix });
    const c = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'completed', 'failed', 'active');
    n += Object.values(c).reduce((a, x) => a + x, 0);
    await queue.obliterate({ force: true });
    await queue.close();
  }
  await unlinkUnder(b.redis, b.keys.k('out', 'order'));
  return n;
}

/** Sums MEMORY USAGE over the bench chats' history keys and counts the messages they hold. */
async function historyFootprint(b: Bench): Promise<{ retained: number; bytes: number }> {
  let retained = 0;
  let bytes = 0;
  for (const chat of workloadChats(CHATS)) {
    const k = historyKeys(b.keys, chat);
    retained += await b.redis.llen(k.list);
    for (const key of Object.values(k)) bytes += Number((await b.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  }
  return { retained, bytes };
}

/** Calls per command from INFO commandstats. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await redis.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** Redis commands per message during a run, busiest first (the bench's own polling is a few hundred calls in all). */
function perMessage(before: Map<string, number>, after: Map<string, number>, n: number): [string, number][] {
  return [...after]
    .map(([c, v]): [string, number] => [c, (v - (before.get(c) ?? 0)) / n])
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1]);
}

/** A key's family: its name with the parts that are ids replaced by '*' (`seen:*`, `hist:telegram:*`). */
export function keyFamily(key: string, prefix: string): string {
  return key
    .slice(prefix.length + 1)
    .split(':')
    .map((part, i) => (i > 0 && (/\d/.test(part) || part.length > 24) ? '*' : part))
    .join(':')
    .replace(/(:\*)+/g, ':*');
}

/** MEMORY USAGE summed per key family under a prefix, biggest first: where Redis's memory goes. */
async function memoryByFamily(redis: Redis, prefix: string): Promise<{ family: string; keys: number; bytes: number }[]> {
  const fam = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
    cursor = next;
    if (!found.length) continue;
    const p = redis.pipeline();
    for (const k of found) p.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
    const res = (await p.exec()) ?? [];
    found.forEach((k, i) => {
      const f = keyFamily(k, prefix);
      const e = fam.get(f) ?? { keys: 0, bytes: 0 };
      e.keys++;
      e.bytes += Number(res[i]?.[1] ?? 0);
      fam.set(f, e);
    });
  } while (cursor !== '0');
  return [...fam].map(([family, v]) => ({ family, ...v })).sort((a, b) => b.bytes - a.bytes);
}

function fmtRate(x: number): string {
  return `${Math.round(x).toLocaleString('en-US')}`.padStart(8);
}

/** Runs the benchmarks and prints a table, then the JSON line last. */
export async function benchCommand(o: { messages: number; json?: boolean; quick?: boolean }): Promise<void> {
  const quick = Boolean(o.quick);
  const n = quick ? Math.min(o.messages, 5000) : o.messages;
  const rate = Number(process.env.TOWNHALL_BENCH_RATE ?? (quick ? 500 : 2000));
  const seconds = Number(process.env.TOWNHALL_BENCH_SECONDS ?? (quick ? 4 : 30));
  const procsList = (process.env.TOWNHALL_BENCH_PROCS ?? (quick ? '1,2' : '1,2,4')).split(',').map(Number).filter((x) => x > 0);
  const sizes = quick ? [1000, 10_000] : [1000, 10_000, 100_000];
  const only = process.env.TOWNHALL_BENCH_ONLY ? new Set(process.env.TOWNHALL_BENCH_ONLY.split(',')) : undefined;
  const want = (s: string) => !only || only.has(s);
  const profDir = process.env.TOWNHALL_BENCH_CPU_PROF ? path.resolve(process.env.TOWNHALL_BENCH_CPU_PROF) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });

  // A Redis of its own unless REDIS_URL names one: memory figures are meaningless on a Redis others write to.
  let spawned: SpawnedRedis | undefined;
  let prioritized = false;
  let url: string;
  if (process.env.REDIS_URL) {
    if (!(await redisAnswers(process.env.REDIS_URL))) throw new Error(`no Redis answers at REDIS_URL`);
    url = process.env.REDIS_URL;
  } else {
    try {
      spawned = await spawnRedis({});
      url = spawned.url;
      prioritized = prioritize(spawned);
    } catch {
      const found = await discoverRedis({ url: undefined });
      url = found.url;
      spawned = found.spawned;
    }
  }
  // As long as production's `{townhall}`: key names are much of the bytes sent per message, so a longer prefix would cost more than production pays.
  const prefix = `{tb-${randomUUID().slice(0, 6)}}`;
  const keys = new Keys(prefix);
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  // History capped so that the first ingest fills every chat exactly: later runs show memory stays flat.
  const cap = Math.max(100, Math.ceil(n / CHATS));
  const overrides: Partial<Config> = {
    core: ConfigSchema.parse({ core: { concurrency: CONCURRENCY, history: { maxMessages: cap, maxAge: '7d' }, shedBacklog: 10_000_000 } }).core,
    // The bench replays a day of chat in seconds: per-user flood limits would mute everyone, which is not the work measured.
    moderation: ConfigSchema.parse({ moderation: { flood: { messages: 100_000, seconds: 1 } } }).moderation,
  };
  const b: Bench = { url, redis, prefix, keys, overrides, profDir };
  const config = ConfigSchema.parse(overrides);
  const outbound = new OutboundQueue({ url, keys });
  const deps: CoreDeps = { redis, keys, config, outbound, log: quietLogger(), now: Date.now };
  const lines: ChatLine[] = loadChatLines(Math.max(n, 50_000));
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  const loadStart = load();
  const result: BenchResult = {
    messages: n,
    ingest_msgs_per_s: 0,
    baseline_noop_jobs_per_s: 0,
    ratio: 0,
    p50_ms: 0,
    p99_ms: 0,
    max_rss_mb: 0,
    redis_bytes_per_message: 0,
    dedup_us_per_question: {},
  };
  const rss: Record<string, number> = {};
  const errors: Record<string, string> = {};
  /** Runs one section; a failure is reported and recorded, and the other sections still run. */
  const section = async (name: string, fn: () => Promise<void>) => {
    if (!want(name)) return;
    try {
      await fn();
    } catch (err) {
      errors[name] = (err as Error).message;
      say(`  ${name.padEnd(9)} FAILED: ${(err as Error).message}`);
    }
  };
  let nextId = 1;
  /** Message ids for `count` events, unique in this run (the latency producer generates its events itself). */
  const reserveIds = (count: number): number => {
    const first = nextId;
    nextId += count + 1;
    return first;
  };
  const workload = (count: number, extra: { commandEvery?: number } = {}) => chatWorkload(lines, count, { chats: CHATS, firstMessageId: reserveIds(count), ...extra });

  try {
    say(`townhall bench: ${n.toLocaleString('en-US')} messages over ${CHATS} chats, concurrency ${CONCURRENCY} per worker process`);
    say(`  machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, node ${process.version}, redis ${redisVersion}${spawned ? ` (private, started by the bench${prioritized ? ', at a higher scheduling priority' : ''})` : ` at ${url}`}; load average ${loadStart.join(' ')}`);
    const features = await setupFeatures(b, deps);
    say(`  pipeline: ${features.join(', ')}; history cap ${cap} messages per chat\n`);

    // ---- throughput: no-op baseline vs the full pipeline -------------------------------------------------------
    await section('ingest', async () => {
      const baseCalls0 = await commandCalls(redis);
      const base = await drainRun(b, { mode: 'noop', procs: 1, prefix: `{${prefix.slice(1, -1)}-noop}`, events: workload(n) });
      const baseCalls = perMessage(baseCalls0, await commandCalls(redis), n);
      await unlinkUnder(redis, `{${prefix.slice(1, -1)}-noop}`);
      rss.baseline_worker = base.reports[0]!.maxRssMb;
      result.baseline_noop_jobs_per_s = Math.round(base.perS);
      say(`  baseline  no-op BullMQ worker         ${fmtRate(base.perS)} jobs/s   (${base.seconds.toFixed(1)} s; CPU per job: worker ${Math.round(base.cpu.workerUsPerMsg)} µs, Redis ${Math.round(base.cpu.redisUsPerMsg)} µs)`);

      const memBefore = await usedMemory(redis);
      const callsBefore = await commandCalls(redis);
      const ing = await drainRun(b, { mode: 'core', procs: 1, prefix, events: workload(n), profile: true });
      const calls = perMessage(callsBefore, await commandCalls(redis), n);
      const families = await memoryByFamily(redis, prefix);
      const outboundJobs = await obliterateOutbound(b);
      const memAfter = await usedMemory(redis);
      rss.core_worker = ing.reports[0]!.maxRssMb;
      result.ingest_msgs_per_s = Math.round(ing.perS);
      result.ratio = Number((ing.perS / base.perS).toFixed(3));
      say(`  ingest    full pipeline, 1 process    ${fmtRate(ing.perS)} msgs/s   (${ing.seconds.toFixed(1)} s; CPU per message: worker ${Math.round(ing.cpu.workerUsPerMsg)} µs, Redis ${Math.round(ing.cpu.redisUsPerMsg)} µs)   ratio ${result.ratio.toFixed(2)}   ${outboundJobs} outbound actions`);
      result.cpu_us_per_message = {
        baseline_worker: Math.round(base.cpu.workerUsPerMsg),
        baseline_redis: Math.round(base.cpu.redisUsPerMsg),
        ingest_worker: Math.round(ing.cpu.workerUsPerMsg),
        ingest_redis: Math.round(ing.cpu.redisUsPerMsg),
      };
      // The same pipeline fed one job per message, as the baseline is: what batching the queue's jobs is worth.
      const single = await drainRun(b, { mode: 'core', procs: 1, prefix, events: workload(n), oneJobPerMessage: true });
      await obliterateOutbound(b);
      result.ingest_one_job_per_message_msgs_per_s = Math.round(single.perS);
      result.ratio_one_job_per_message = Number((single.perS / base.perS).toFixed(3));
      say(`            one job per message          ${fmtRate(single.perS)} msgs/s   (${single.seconds.toFixed(1)} s; CPU per message: worker ${Math.round(single.cpu.workerUsPerMsg)} µs, Redis ${Math.round(single.cpu.redisUsPerMsg)} µs)   ratio ${(result.ratio_one_job_per_message as number).toFixed(2)}`);
      // What the ratio would be if each run had a core to itself: no-op CPU per job over pipeline CPU per message.
      result.cpu_ratio = Number((base.cpu.workerUsPerMsg / ing.cpu.workerUsPerMsg).toFixed(3));

      // Commands run inside Lua scripts count too, so BullMQ's own work shows: the no-op run's share is subtracted.
      const baseOf = new Map(baseCalls);
      const own = calls.map(([c, v]): [string, number] => [c, v - (baseOf.get(c) ?? 0)]).filter(([, v]) => v >= 0.05).sort((a, b) => b[1] - a[1]);
      const sum = (xs: [string, number][]) => xs.reduce((a, [, v]) => a + v, 0);
      say(`  redis     ${sum(calls).toFixed(1)} commands per message (no-op run: ${sum(baseCalls).toFixed(1)}); the pipeline's own: ${own.slice(0, 14).map(([c, v]) => `${c} ${v.toFixed(2)}`).join(', ')}`);
      result.redis_commands_per_message = { total: Number(sum(calls).toFixed(1)), noop_baseline: Number(sum(baseCalls).toFixed(1)), pipeline: Object.fromEntries(own.map(([c, v]) => [c, Number(v.toFixed(2))])) };
      const hist = await historyFootprint(b);
      const growth = Math.max(0, memAfter - memBefore);
      result.redis_bytes_per_message = Math.round(growth / Math.max(1, hist.retained));
      result.redis = {
        used_memory_growth_bytes: growth,
        retained_messages: hist.retained,
        history_bytes_per_message: Math.round(hist.bytes / Math.max(1, hist.retained)),
        other_bytes_per_message: Math.round((growth - hist.bytes) / Math.max(1, n)),
        history_cap_per_chat: cap,
        by_family: Object.fromEntries(families.slice(0, 15).map((f) => [f.family, { keys: f.keys, bytes_per_message: Math.round(f.bytes / n) }])),
      };
      say(`  memory    Redis +${(growth / 1e6).toFixed(1)} MB for ${hist.retained.toLocaleString('en-US')} retained messages = ${result.redis_bytes_per_message} B each; by key family, bytes per message:`);
      for (const f of families.slice(0, 10)) say(`            ${String(Math.round(f.bytes / n)).padStart(6)}  ${f.family} (${f.keys} keys)`);
      if (profDir) {
        // The main thread's profile (tsx's loader thread writes its own, mostly idle, file too).
        const prof = readdirSync(profDir).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)).map((f) => path.join(profDir, f)).sort().pop();
        if (prof) {
          say(`  profile   ${prof}`);
          for (const line of summarizeProfile(prof, 15)) say(`            ${line}`);
        }
      }
    });

    // ---- scale-out -------------------------------------------------------------------------------------------
    await section('scale', async () => {
      const scale: Record<string, number> = {};
      for (const procs of procsList) {
        if (procs === 1 && result.ingest_msgs_per_s) {
          scale['1'] = result.ingest_msgs_per_s;
          continue;
        }
        const mode = process.env.TOWNHALL_BENCH_SCALE_MODE === 'noop' ? 'noop' : 'core';
        const r = await drainRun(b, { mode, procs, prefix: mode === 'noop' ? `{${prefix.slice(1, -1)}-noop}` : prefix, events: workload(n) });
        await obliterateOutbound(b);
        scale[String(procs)] = Math.round(r.perS);
        say(`            ${procs} processes: ${Math.round(r.perS).toLocaleString('en-US')} msgs/s (CPU per message: workers ${Math.round(r.cpu.workerUsPerMsg)} µs, Redis ${Math.round(r.cpu.redisUsPerMsg)} µs = ${((r.cpu.redisUsPerMsg * r.perS) / 1e4).toFixed(0)}% of a core)`);
        rss[`core_worker_x${procs}`] = Math.max(...r.reports.map((x) => x.maxRssMb));
      }
      result.scale_out_msgs_per_s = scale;
      say(`  scale-out core worker processes       ${Object.entries(scale).map(([p, v]) => `${p}: ${v.toLocaleString('en-US')}/s`).join('   ')}`);
      // On two cores one uncapped worker and Redis already fill the machine, so more processes only time-slice it.
      // Capping each worker's CPU (a cgroup quota, as if each ran on a small machine of its own; Redis uncapped)
      // asks the question scale-out is about: does throughput follow the workers' CPU, or does something shared
      // (a lock, a hot key, Redis) stop it?
      const cpuCap = Number(process.env.TOWNHALL_BENCH_WORKER_CPU ?? 0.4);
      if (cpuCap > 0) {
        const capped: Record<string, number> = {};
        try {
          for (const procs of procsList) {
            const r = await drainRun(b, { mode: 'core', procs, prefix, events: workload(n), cpuCap });
            await obliterateOutbound(b);
            capped[String(procs)] = Math.round(r.perS);
            say(`            ${procs} processes of ${cpuCap} core each: ${Math.round(r.perS).toLocaleString('en-US')} msgs/s (Redis ${((r.cpu.redisUsPerMsg * r.perS) / 1e4).toFixed(0)}% of a core)`);
          }
          result.scale_out_capped_msgs_per_s = { cpu_per_worker: cpuCap, ...capped };
          say(`  scale-out with ${cpuCap} core per worker   ${Object.entries(capped).map(([p, v]) => `${p}: ${v.toLocaleString('en-US')}/s`).join('   ')}`);
        } catch (err) {
          say(`  scale-out with capped workers skipped: ${(err as Error).message.split('\n')[0]} (needs a writable cgroup v1 cpu controller, i.e. root)`);
        }
      }
      const memEnd = await usedMemory(redis);
      const hist = await historyFootprint(b);
      result.redis_after_all_runs = { used_memory_bytes: memEnd, retained_messages: hist.retained };
      say(`  retention after ${((nextId - 1) / 1000).toFixed(0)}k messages: ${hist.retained.toLocaleString('en-US')} retained (cap ${cap} × ${CHATS} chats), Redis used_memory ${(memEnd / 1e6).toFixed(1)} MB (the rest beyond the history is mostly the handled events' seen marks, kept 25 h)`);
    });

    // ---- latency at an offered rate --------------------------------------------------------------------------
    await section('latency', async () => {
      const count = rate * (seconds + 3);
      const lat = await latencyRun(b, { mode: 'core', prefix, count, firstMessageId: reserveIds(count), rate });
      await obliterateOutbound(b);
      const l = lat.report.latency!;
      rss.latency_core_worker = lat.report.maxRssMb;
      result.p50_ms = l.p50;
      result.p99_ms = l.p99;
      result.max_ms = l.max;
      result.offered_msgs_per_s = Math.round(lat.offered);
      result.latency_seconds = seconds;
      say(`  latency   core at ${Math.round(lat.offered)} msg/s for ${seconds} s   p50 ${l.p50} ms   p99 ${l.p99} ms   max ${l.max} ms   (${l.n} handled)`);
      const noopPrefix = `{${prefix.slice(1, -1)}-noop}`;
      const nl = await latencyRun(b, { mode: 'noop', prefix: noopPrefix, count, firstMessageId: reserveIds(count), rate });
      await unlinkUnder(redis, noopPrefix);
      const bl = nl.report.latency!;
      result.baseline_latency_ms = { p50: bl.p50, p99: bl.p99, max: bl.max };
      say(`            no-op at the same rate        p50 ${bl.p50} ms   p99 ${bl.p99} ms   max ${bl.max} ms`);
      // Half the rate as well: where the latency stands when the offered load is below what one process drains.
      const half = Math.round(rate / 2);
      const hl = await latencyRun(b, { mode: 'core', prefix, count: half * (seconds + 3), firstMessageId: reserveIds(half * (seconds + 3)), rate: half });
      await obliterateOutbound(b);
      const h = hl.report.latency!;
      result.latency_at_half_rate_ms = { rate: Math.round(hl.offered), p50: h.p50, p99: h.p99, max: h.max };
      say(`            core at ${Math.round(hl.offered)} msg/s              p50 ${h.p50} ms   p99 ${h.p99} ms   max ${h.max} ms`);
    });

    // ---- merging and threading cost by size ------------------------------------------------------------------
    await section('merging', async () => {
      try {
        const { benchDedup } = await import('../src/features/questions/bench.js');
        result.dedup_us_per_question = await benchDedup(redis, keys.k('bench', 'dedup', ''), sizes);
        say(`  dedup     µs per question at ${sizes.join(' / ')} questions: ${sizes.map((s) => result.dedup_us_per_question[String(s)]).join(' / ')}`);
      } catch (err) {
        say(`  dedup     unavailable: ${(err as Error).message}`);
      }
      try {
        const { benchAmaIntake } = await import('../src/features/ama/index.js');
        const r = await benchAmaIntake(deps, { sizes, onProgress: (msg) => say(`            ${msg}`) });
        const m = r.median_us;
        result.merging_us_per_question = m;
        result.ama_intake_p99_ms = r.p99_ms;
        result.similarity_load = r.load;
        say(`  merging   AMA intake µs per question with ${sizes.join(' / ')} open: ${sizes.map((s) => m[String(s)]).join(' / ')} (p99 ${sizes.map((s) => r.p99_ms[String(s)]).join(' / ')} ms)`);
      } catch (err) {
        say(`  merging   unavailable: ${(err as Error).message}`);
      }
    });
    await section('threading', async () => {
      const t = await benchThreading(redis, keys, lines, sizes);
      result.threading_us_per_message = t.us_per_message;
      result.threading_detail = t;
      say(`  threading µs per new message with ${sizes.join(' / ')} kept: ${sizes.map((s) => t.us_per_message[String(s)]).join(' / ')}   (of which linking ${sizes.map((s) => t.link_us_per_message[String(s)]).join(' / ')}; reading the window ${sizes.map((s) => t.read_ms[String(s)]).join(' / ')} ms)`);
    });
    await section('targets', async () => {
      const ok = (ms: number, target: number) => `${ms.toFixed(0)} ms (target < ${target} ms: ${ms < target ? 'met' : 'MISSED'})`;
      const digest = digestBuildMs();
      const regex = regexBoundMs();
      const core = buildCore(deps);
      const pages = await questionPagesMs(deps, (e) => core.handleEvent(ChatEventSchema.parse(e)));
      result.targets_ms = { digest_10k: Math.round(digest), regex_50k: Math.round(regex), questions_first_page: Math.round(pages.firstMs), questions_next_page: Math.round(pages.nextMs), questions_open: pages.open };
      say(`  targets   digest of 10,000 messages ${ok(digest, TARGETS_MS.digest10k)}; filters over 50,000 characters ${ok(regex, TARGETS_MS.regex50k)}`);
      say(`            AMA queue of ${pages.open} open questions: first page ${ok(pages.firstMs, TARGETS_MS.questionsFirstPage)}, next page ${ok(pages.nextMs, TARGETS_MS.questionsNextPage)}`);
    });

    rss.bench_process = Math.round(process.resourceUsage().maxRSS / 1024);
    const info = await redis.info('memory');
    rss.redis = Math.round(Number(/used_memory_rss:(\d+)/.exec(info)?.[1] ?? 0) / 1e6);
    result.max_rss_mb = Math.max(0, ...Object.entries(rss).filter(([k]) => k.includes('core_worker')).map(([, v]) => v));
    result.rss_mb = rss;
    result.load_average = { start: loadStart, end: load() };
    result.machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model.trim(), node: process.version, redis: redisVersion, redis_prioritized: prioritized };
    result.pipeline = features;
    if (Object.keys(errors).length) result.errors = errors;
    say(`  RSS MB    ${Object.entries(rss).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    say(`  load average at the end ${load().join(' ')}`);
    console.log(JSON.stringify(result));
  } finally {
    await outbound.close();
    await unlinkUnder(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await spawned?.stop();
  }
}
