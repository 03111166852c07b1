/**
 * Benchmark of AMA question intake with merging: mean µs per incoming question through the whole intake path
 * (idempotency check, duplicate lookup, merge or new question in one script) while the AMA
 * already holds 1k, 10k and 100k open questions. Flat figures mean the cost per question does not grow with the queue.
 */
import { randomUUID } from 'node:crypto';
import type { CoreDeps } from '../../pipeline/context.js';
import { unlinkUnder } from '../../redis/scan.js';
import { questionGenerator } from '../questions/bench.js';
import { loadSimilarityResources } from '../questions/resources.js';
import { amaIndex } from './dedup.js';
import { offlineEmbeddings, similarityResourceOptions } from './embeddings.js';
import { amaToHash, type Ama } from './model.js';
import { ingestQuestion } from './questions.js';
import { amaEnv } from './store.js';

/** Median µs per question by queue size, e.g. `{"1000": 410.3, "10000": 415.9, "100000": 431.0}`. */
export type AmaIntakeBench = Record<string, number>;

/** The intake benchmark's figures: median µs and p99 ms per question by size, and what loading the language resources and the sentence model cost. */
export interface AmaIntakeReport {
  median_us: AmaIntakeBench;
  p99_ms: Record<string, number>;
  load: { resources_ms: number; resources_heap_mb: number; model_ms: number | null; rss_mb_before: number; rss_mb_after: number };
}

const FILL_BATCH = 2000;

/** Runs the intake benchmark on a throwaway AMA (its keys are deleted afterwards). */
export async function benchAmaIntake(
  deps: CoreDeps,
  opts: { sizes?: number[]; samples?: number; seed?: number; onProgress?: (msg: string) => void } = {},
): Promise<AmaIntakeReport> {
  const env = amaEnv(deps);
  const { redis } = deps;
  const sizes = [...new Set(opts.sizes ?? [1000, 10_000, 100_000])].sort((a, b) => a - b);
  const samples = opts.samples ?? 500;
  const now = deps.now();
  const id = `bench${randomUUID().slice(0, 8)}`;
  const ama: Ama = {
    id, title: 'intake benchmark', status: 'live', startsAt: now, durationMs: 3_600_000, tz: 'UTC', hosts: [], chats: ['telegram:-1'], hashtag: id,
    lang: 'en', reminders: [], premoderation: false, detectQuestions: false, rewards: 0, createdBy: 'bench', createdAt: now,
  };
  await redis.hset(env.k.ama(id), amaToHash(ama));
  const next = questionGenerator(opts.seed ?? 7, '');
  const index = amaIndex(env, id);
  const out: AmaIntakeBench = {};
  const p99: Record<string, number> = {};
  // Loading the language resources and the sentence model is paid once per process: measured apart from intake.
  const rssBefore = Math.round(process.memoryUsage().rss / 1e6);
  const resources = await loadSimilarityResources(similarityResourceOptions(env));
  const modelMs = deps.config.ama.offlineEmbeddings ? await offlineEmbeddings().load() : null;
  if (modelMs !== null) await offlineEmbeddings().embed('warm up');
  const load = { resources_ms: resources.ms, resources_heap_mb: resources.heapMb, model_ms: modelMs, rss_mb_before: rssBefore, rss_mb_after: Math.round(process.memoryUsage().rss / 1e6) };
  opts.onProgress?.(`ama intake: language resources ${load.resources_ms} ms (${load.resources_heap_mb} MB heap), sentence model ${modelMs ?? 'off'} ms; RSS ${rssBefore} -> ${load.rss_mb_after} MB`);
  let size = 0;
  let asked = 0;
  try {
    for (const target of sizes) {
      const t0 = performance.now();
      // Fill fast with the same writes intake makes, in pipelines (filling is not what is measured).
      while (size < target) {
        const batch = Array.from({ length: Math.min(FILL_BATCH, target - size) }, next);
        const p = redis.pipeline();
        for (const [i, q] of batch.entries()) {
          const n = size + i + 1;
          const user = `telegram:user:f${n}`;
          p.hset(env.k.q(id, n), 'n', n, 'text', q.text, 'status', 'open', 'votes', 1, 'askCount', 1, 'createdAt', now, 'lastAt', now);
          p.rpush(env.k.asks(id, n), JSON.stringify({ platform: 'telegram', chat: 'telegram:-1', user, userName: 'f', text: q.text, at: now, via: 'ask' }));
          p.sadd(env.k.askers(id, n), user).sadd(env.k.sup(id, n), user);
          p.zadd(env.k.qs(id), n, String(n)).zadd(env.k.rank(id), 1, String(n));
        }
        p.set(env.k.qseq(id), String(size + batch.length));
        await p.exec();
        await index.addMany(batch.map((q, i) => ({ n: size + i + 1, text: q.text })));
        size += batch.length;
      }
      opts.onProgress?.(`ama intake: filled ${target} open questions in ${Math.round(performance.now() - t0)} ms`);
      const qs = Array.from({ length: samples }, next);
      let merged = 0;
      const times: number[] = [];
      // Load-independent figures alongside the wall time: Redis commands sent and this process's CPU per question.
      let commands = 0;
      const original = redis.sendCommand.bind(redis);
      redis.sendCommand = ((...a: Parameters<typeof original>) => {
        commands++;
        return original(...a);
      }) as typeof redis.sendCommand;
      const cpu0 = process.cpuUsage();
      for (const q of qs) {
        const t1 = performance.now();
        const r = await ingestQuestion(env, ama, { platform: 'discord', chat: 'discord:1', user: `discord:user:b${asked}`, userName: 'b', text: q.text, at: now, via: 'ask', opId: `bench/${asked++}` });
        times.push(performance.now() - t1);
        if (r.merged) merged++;
        else size++;
      }
      const cpu = process.cpuUsage(cpu0);
      redis.sendCommand = original;
      // The median, not the mean: on a shared machine a few stalls would otherwise decide the figure.
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)] ?? 0;
      const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
      out[String(target)] = Math.round(median * 10_000) / 10;
      p99[String(target)] = Math.round((times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? 0) * 100) / 100;
      opts.onProgress?.(
        `ama intake at ${target}: median ${out[String(target)]} µs/question, p99 ${p99[String(target)]} ms, mean ${Math.round(mean * 1000)} µs, ` +
          `${(commands / samples).toFixed(1)} Redis commands and ${Math.round((cpu.user + cpu.system) / samples)} µs CPU per question (${merged}/${samples} merged)`,
      );
    }
  } finally {
    await unlinkUnder(deps.redis, `${env.k.ama(id)}:`);
    await deps.redis.unlink(env.k.ama(id));
  }
  return { median_us: out, p99_ms: p99, load };
}
