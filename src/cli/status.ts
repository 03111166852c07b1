/** `townhall status`: queue depths, handled count, dead letters. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { inboundBacklog } from '../queue/inbound.js';
import { allQueues, INBOUND_QUEUE } from '../queue/names.js';
import { DeadLetterStore } from '../queue/dead-letter.js';
import type { Keys } from '../redis/keys.js';

/** The JSON `townhall status --json` prints (contract §2). */
export interface StatusReport {
  queues: Record<string, { waiting: number; active: number; completed: number; failed: number; delayed: number; prioritized: number }>;
  handled: number;
  deadLetter: number;
  deferred: Record<string, number>;
  recentDeadLetters: { source: string; reason: string; at: string }[];
  budgets?: Record<string, unknown>;
  /** Messages waiting in the inbound queue (a job may carry a batch of them; see `inboundBacklog`). */
  inboundBacklogMessages?: number;
}

/** Reads the status of every queue and counter under the prefix. */
export async function readStatus(redis: Redis, keys: Keys): Promise<StatusReport> {
  const queues: StatusReport['queues'] = {};
  let backlog = 0;
  for (const { display, name } of allQueues()) {
    const q = new Queue(name, { connection: redis, prefix: keys.prefix });
    const c = await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    queues[display] = {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      delayed: c.delayed ?? 0,
      prioritized: c.prioritized ?? 0,
    };
    if (name === INBOUND_QUEUE) backlog = (await inboundBacklog(q)).messages;
    await q.close();
  }
  const dl = new DeadLetterStore(redis, keys);
  const [handled, deadLetter, latest, deferred, budgets] = await Promise.all([
    redis.get(keys.k('stats', 'handled')),
    dl.count(),
    dl.latest(5),
    redis.hgetall(keys.k('stats', 'deferred')),
    redis.hgetall(keys.k('stats', 'budgets')),
  ]);
  const report: StatusReport = {
    queues,
    handled: Number(handled ?? 0),
    deadLetter,
    inboundBacklogMessages: backlog,
    deferred: Object.fromEntries(Object.entries(deferred).map(([k, v]) => [k, Number(v)])),
    recentDeadLetters: latest.map((d) => ({ source: d.source, reason: d.reason, at: new Date(d.at).toISOString() })),
  };
  if (Object.keys(budgets).length) report.budgets = Object.fromEntries(Object.entries(budgets).map(([k, v]) => [k, safeJson(v)]));
  return report;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** A readable table of the report. */
export function formatStatus(s: StatusReport): string {
  const rows = Object.entries(s.queues).map(([name, c]) => `${name.padEnd(18)} ${String(c.waiting).padStart(8)} ${String(c.active).padStart(7)} ${String(c.delayed).padStart(8)} ${String(c.failed).padStart(7)}`);
  return [
    `${'queue'.padEnd(18)} ${'waiting'.padStart(8)} ${'active'.padStart(7)} ${'delayed'.padStart(8)} ${'failed'.padStart(7)}`,
    ...rows,
    '',
    `handled: ${s.handled}   dead letters: ${s.deadLetter}   inbound backlog: ~${s.inboundBacklogMessages ?? 0} messages (jobs carry batches)`,
    ...s.recentDeadLetters.map((d) => `  ${d.at} ${d.source}: ${d.reason}`),
  ].join('\n');
}
