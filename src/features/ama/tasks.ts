/**
 * Durable AMA tasks: a sorted set of due times plus payloads in Redis. The scheduler (scheduler.ts) runs what is
 * due by `deps.now()`, so a test clock drives it and a restart loses nothing. A task is leased while it runs and
 * removed only when done; every task's effects are idempotent (stable action ids, compare-and-set transitions),
 * so running one twice after a crash posts nothing twice.
 */
import type { ChainableCommander } from 'ioredis';
import type { AmaEnv } from './store.js';

/** One thing to do at a time. */
export type AmaTask =
  | { type: 'announce'; amaId: string }
  | { type: 'remind'; amaId: string; offsetMs: number }
  | { type: 'open'; amaId: string }
  | { type: 'close'; amaId: string }
  /** Bring one chat's answers place up to date. */
  | { type: 'place'; amaId: string; chat: string }
  /** Create the next AMA of a recurring series. */
  | { type: 'spawn'; series: string }
  /** Tell subscribers about an AMA (in batches). */
  | { type: 'notify'; amaId: string; cursor?: string }
  /** Delete a closed AMA's data once its retention is over. */
  | { type: 'purge'; amaId: string };

/** The stable id of a task: scheduling the same task again moves it instead of adding a second one. */
export function taskId(t: AmaTask): string {
  switch (t.type) {
    case 'remind':
      return `${t.amaId}/remind/${t.offsetMs}`;
    case 'place':
      return `${t.amaId}/place/${t.chat}`;
    case 'spawn':
      return `series/${t.series}/spawn`;
    case 'notify':
      return `${t.amaId}/notify`;
    default:
      return `${t.amaId}/${t.type}`;
  }
}

/** Schedules (or moves) a task to `at`; into `tx` when given, so it commits with other writes. */
export function scheduleTask(env: AmaEnv, task: AmaTask, at: number, tx?: ChainableCommander): Promise<unknown> | void {
  const id = taskId(task);
  const t = tx ?? env.deps.redis.multi();
  t.hset(env.k.tasks(), id, JSON.stringify(task)).zadd(env.k.due(), Math.round(at), id);
  if (!tx) return t.exec();
}

/** Removes a task that has not run yet. */
export function cancelTask(env: AmaEnv, id: string, tx?: ChainableCommander): Promise<unknown> | void {
  const t = tx ?? env.deps.redis.multi();
  t.zrem(env.k.due(), id).hdel(env.k.tasks(), id);
  if (!tx) return t.exec();
}

/** What a task handler may ask for: run again at `retryAt` instead of being done. */
export type TaskOutcome = void | { retryAt: number };

/** Runs one task. */
export type TaskHandler = (task: AmaTask, now: number) => Promise<TaskOutcome>;

/** How long a running task is leased before another worker may take it over. */
export const TASK_LEASE_MS = 60_000;

/** Runs every task due at `now` (up to `limit`); returns how many ran. A failing task is retried after its lease. */
export async function runDueTasks(env: AmaEnv, handle: TaskHandler, opts: { now?: number; limit?: number } = {}): Promise<number> {
  const { redis, log } = env.deps;
  const now = opts.now ?? env.deps.now();
  const ids = await redis.zrangebyscore(env.k.due(), '-inf', String(now), 'LIMIT', 0, opts.limit ?? 100);
  let ran = 0;
  for (const id of ids) {
    const lease = now + TASK_LEASE_MS;
    const claimed = (await env.scripts.run('amaClaim', [env.k.due()], [id, now, lease])) as number;
    if (!claimed) continue;
    const raw = await redis.hget(env.k.tasks(), id);
    if (!raw) {
      await env.scripts.run('amaFinish', [env.k.due(), env.k.tasks()], [id, lease, '']);
      continue;
    }
    try {
      const outcome = await handle(JSON.parse(raw) as AmaTask, now);
      await env.scripts.run('amaFinish', [env.k.due(), env.k.tasks()], [id, lease, outcome ? Math.round(outcome.retryAt) : '']);
      ran++;
    } catch (err) {
      // Left leased: it runs again when the lease ends (every effect is idempotent).
      log.error({ task: id, err: (err as Error).message }, 'AMA task failed; retried after its lease');
    }
  }
  return ran;
}
