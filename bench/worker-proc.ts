/**
 * One benchmark worker process, forked by bench/run.ts: either the real core (`buildCore` behind `startInboundWorker`,
 * as `townhall worker --role core` runs it) or a no-op BullMQ worker on the same queue. It reports over IPC:
 * 'ready' once its worker is up, then, on {cmd: 'stop'}, what it handled, when it finished, its peak RSS and
 * (when asked) the enqueue-to-completion latencies it saw.
 */
import { Worker } from 'bullmq';
import type { Config } from '../config/schema.js';
import { buildCore } from '../src/app/core.js';
import { openRuntime } from '../src/app/runtime.js';
import { quietLogger } from '../src/log.js';
import { percentiles } from '../src/perf/workload.js';
import { startInboundWorker } from '../src/queue/inbound-worker.js';
import { INBOUND_QUEUE } from '../src/queue/names.js';
import { createRedis } from '../src/redis/connect.js';
import { warmUpMerging } from '../src/features/ama/embeddings.js';

/** What the parent passes in BENCH_WORKER (JSON). */
export interface WorkerSpec {
  mode: 'core' | 'noop';
  url: string;
  prefix: string;
  concurrency: number;
  overrides: Partial<Config>;
  /** Record enqueue-to-completion latency per event (from the event's `at`). */
  latency: boolean;
}

/** What a worker reports when stopped. */
export interface WorkerReport {
  type: 'report';
  handled: number;
  failed: number;
  /** Epoch ms of the last completion. */
  lastAt: number;
  firstAt: number;
  maxRssMb: number;
  /** CPU time (user + system) this process used since its worker was ready, µs. */
  cpuUs: number;
  latency?: { p50: number; p99: number; max: number; n: number };
}

const spec = JSON.parse(process.env.BENCH_WORKER ?? '{}') as WorkerSpec;
let handled = 0;
let failed = 0;
let firstAt = 0;
let lastAt = 0;
const lat: number[] = [];
let close: () => Promise<void>;

const done = () => {
  handled++;
  lastAt = Date.now();
  if (!firstAt) firstAt = lastAt;
};

if (spec.mode === 'noop') {
  const worker = new Worker(
    INBOUND_QUEUE,
    async (job) => {
      if (spec.latency) lat.push(Date.now() - (job.data as { at: number }).at);
    },
    { connection: createRedis(spec.url, { forWorker: true }), prefix: spec.prefix, concurrency: spec.concurrency, removeOnComplete: { count: 0 } },
  );
  worker.on('completed', done);
  worker.on('failed', () => failed++);
  close = () => worker.close();
} else {
  const rt = await openRuntime({ spawn: 'never', log: quietLogger(), prefix: spec.prefix, overrides: spec.overrides });
  // What question merging reads is loaded before the worker takes jobs, as `townhall worker` does.
  await warmUpMerging(rt.deps);
  const core = buildCore(rt.deps);
  // Counted per event, not per job: a job may carry a batch of events.
  const handle = async (e: Parameters<typeof core.handleEvent>[0]) => {
    await core.handleEvent(e);
    if (spec.latency) lat.push(Date.now() - e.at);
    done();
  };
  const w = startInboundWorker({ url: rt.url, keys: rt.keys, handle, log: rt.log, concurrency: spec.concurrency });
  w.worker.on('failed', () => failed++);
  close = async () => {
    await w.close();
    await rt.close();
  };
}

process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'reset') {
    // The warm-up is over: what was measured so far (JIT, first connections) does not count.
    lat.length = 0;
    process.send?.({ type: 'reset' });
    return;
  }
  if (m.cmd !== 'stop') return;
  void (async () => {
    const cpu = process.cpuUsage(cpu0);
    await close().catch(() => undefined);
    const report: WorkerReport = { type: 'report', handled, failed, firstAt, lastAt, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), cpuUs: cpu.user + cpu.system };
    if (spec.latency) {
      const [p50, p99, max] = percentiles(lat, [50, 99, 100]);
      report.latency = { p50: p50!, p99: p99!, max: max!, n: lat.length };
    }
    process.send?.(report, () => process.exit(0));
  })();
});
const cpu0 = process.cpuUsage();
process.send?.({ type: 'ready' });
