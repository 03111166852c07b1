/** Outbound: the core enqueues Actions per platform; a runner performs them in order per chat, within budgets. */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { OutboundControl, PlatformAction, PlatformAdapter, RateBudget } from '../core/adapter.js';
import { ActionSchema, PRIORITIES, type Action, type ActionInput, type ActionResult } from '../core/actions.js';
import { PlatformError } from '../core/errors.js';
import { baseChat, type Platform } from '../core/ids.js';
import { createRedis } from '../redis/connect.js';
import { toJobId, type Keys } from '../redis/keys.js';
import { DeadLetterStore } from './dead-letter.js';
import { outboundQueueName } from './names.js';

/** Outbound job options: generous retries with backoff; a permanent error skips them. */
export const OUTBOUND_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { count: 10_000 },
} as const;

/** How long a performed action's id is remembered, so a retried or re-enqueued action is never sent twice. */
export const DONE_TTL_S = 7 * 24 * 3600;

/** Keys the outbound side shares between producers and runners. */
function outKeys(keys: Keys, platform: Platform, chat: string) {
  return {
    order: keys.k('out', 'order', platform, chat),
    block: keys.k('out', 'block', platform, chat),
    disabled: keys.k('out', 'disabled', platform),
    pause: keys.k('out', 'pause', platform),
  };
}

/** The order key's score: priority first, then enqueue time, so a chat's actions go out in order, urgent ones first. */
function orderScore(priority: number, at: number): number {
  return priority * 1e13 + at;
}

/** Enqueues actions on their platform's outbound queue. */
export class OutboundQueue {
  private readonly queues = new Map<Platform, Queue>();
  private readonly connection: Redis;
  private readonly ownsConnection: boolean;

  constructor(
    opts: { url?: string; connection?: Redis; keys: Keys },
    private readonly keys = opts.keys,
  ) {
    if (!opts.connection && !opts.url) throw new Error('OutboundQueue needs a url or a connection');
    this.ownsConnection = !opts.connection;
    // No auto-pipelining: BullMQ defines its ~60 scripts on this connection, and ioredis copies them all onto every
    // pipeline it builds (each auto-pipeline flush) — measured at 2 % of a core worker's CPU for a few adds.
    this.connection = opts.connection ?? createRedis(opts.url!, { name: 'townhall-outbound-producer', autoPipelining: false });
  }

  /** The BullMQ queue of a platform. */
  queue(platform: Platform): Queue {
    let q = this.queues.get(platform);
    if (!q) {
      q = new Queue(outboundQueueName(platform), { connection: this.connection, prefix: this.keys.prefix });
      q.on('error', () => undefined);
      this.queues.set(platform, q);
    }
    return q;
  }

  /** Validates and enqueues; an action id already enqueued or done is not enqueued again. */
  async enqueue(inputs: ActionInput[]): Promise<void> {
    const byPlatform = new Map<Platform, Action[]>();
    for (const input of inputs) {
      const action = ActionSchema.parse(input);
      const list = byPlatform.get(action.platform) ?? [];
      list.push(action);
      byPlatform.set(action.platform, list);
    }
    const now = Date.now();
    await Promise.all(
      [...byPlatform].map(async ([platform, actions]) => {
        // One ZADD per chat (not a pipeline: that would copy BullMQ's scripts too).
        const byChat = new Map<string, (string | number)[]>();
        actions.forEach((a, i) => {
          const key = outKeys(this.keys, platform, orderChat(a)).order;
          let pairs = byChat.get(key);
          if (!pairs) byChat.set(key, (pairs = []));
          pairs.push(orderScore(PRIORITIES[a.priority], now + i / 1000), toJobId(a.id));
        });
        // The order entries go in first: a runner that sees the job always finds it in its chat's order.
        await Promise.all([...byChat].map(([key, pairs]) => this.connection.zadd(key, 'NX', ...pairs)));
        await this.queue(platform).addBulk(
          actions.map((a) => ({
            name: a.type,
            data: a,
            opts: { ...OUTBOUND_JOB_OPTIONS, jobId: toJobId(a.id), priority: PRIORITIES[a.priority] },
          })),
        );
      }),
    );
  }

  /** Closes the queues (and the connection when this object made it). */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    if (this.ownsConnection) this.connection.disconnect();
  }
}

/** The runner's side of a platform's sending that its adapter may ask for (it never touches the runner's keys). */
export function outboundControl(redis: Redis, keys: Keys, platform: Platform): OutboundControl {
  return {
    resumeChat: async (chat) => {
      await redis.srem(outKeys(keys, platform, chat).disabled, baseChat(chat));
    },
  };
}

/** The chat whose order and budget an action counts against (topics count toward their group; DMs per user). */
function orderChat(a: Action): string {
  if (a.type === 'dm') return a.user;
  try {
    return baseChat(a.chat);
  } catch {
    return a.chat || 'none';
  }
}

/** A running outbound runner for one platform. */
export interface OutboundRunnerHandle {
  worker: Worker;
  close(): Promise<void>;
}

/** What a runner reports about each performed action (for metrics and tests). */
export type OutboundListener = (action: Action, outcome: 'sent' | 'skipped' | 'failed' | 'delayed', detail?: string) => void;

/** Starts the BullMQ worker that performs a platform's actions through its adapter. */
export function startOutboundRunner(opts: {
  adapter: PlatformAdapter;
  url: string;
  keys: Keys;
  log: Logger;
  concurrency?: number;
  onOutcome?: OutboundListener;
  /** How long a job's lock lasts without renewal (BullMQ default 30 s); a killed runner's actions are retried after about this long. */
  lockDurationMs?: number;
}): OutboundRunnerHandle {
  const { adapter, keys, log } = opts;
  const platform = adapter.platform;
  const connection = createRedis(opts.url, { forWorker: true, name: `townhall-outbound-${platform}` });
  const redis = createRedis(opts.url, { name: `townhall-outbound-${platform}-state` });
  const deadLetters = new DeadLetterStore(redis, keys);
  const queue = new Queue(outboundQueueName(platform), { connection: redis, prefix: keys.prefix });
  queue.on('error', () => undefined);
  const limiterFor = (scope: string) => (b: RateBudget, i: number) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: keys.k('rl', platform, scope, i),
      points: b.points,
      // rate-limiter-flexible counts in whole seconds.
      duration: Math.max(1, Math.round(b.durationMs / 1000)),
    });
  const perChat = adapter.limits.perChat.map(limiterFor('chat'));
  const perPrivate = (adapter.limits.perPrivateChat ?? adapter.limits.perChat).map(limiterFor('dm'));
  const global = adapter.limits.global.map(limiterFor('global'));

  /** Consumes one point from each budget; the longest wait when any is exhausted, else 0. */
  async function consume(chat: string, isPrivate: boolean): Promise<number> {
    const budgets = isPrivate ? (adapter.limits.perPrivateChat ?? adapter.limits.perChat) : adapter.limits.perChat;
    // Fixed windows alone allow a double burst across a window edge; spacing a chat's sends by duration/points
    // keeps any sliding window within budget, and spreads a burst evenly as the platforms ask.
    for (let i = 0; i < budgets.length; i++) {
      const b = budgets[i]!;
      // 2% slack: the platform's clock and ours see a send a few ms apart, and a window edge must not count one twice.
      const gap = Math.ceil((b.durationMs / b.points) * 1.02);
      if (gap < 20) continue;
      const key = keys.k('rl', platform, 'space', i, chat);
      const ok = await redis.set(key, '1', 'PX', gap, 'NX');
      if (ok !== 'OK') return Math.max(await redis.pttl(key), 20);
    }
    for (const l of isPrivate ? perPrivate : perChat) {
      try {
        await l.consume(chat);
      } catch (e) {
        if (e instanceof RateLimiterRes) return Math.max(e.msBeforeNext, 50);
        throw e;
      }
    }
    for (const l of global) {
      try {
        await l.consume('all');
      } catch (e) {
        if (e instanceof RateLimiterRes) return Math.max(e.msBeforeNext, 50);
        throw e;
      }
    }
    return 0;
  }

  /** The chat's next action may be asleep in the delayed set waiting for its turn: wake it now that its turn came. */
  async function wakeNext(orderKey: string): Promise<void> {
    const [next] = await redis.zrange(orderKey, '0', '0');
    if (!next) return;
    const job = await queue.getJob(next);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  const doneKey = (id: string) => keys.k('out', 'done', platform, toJobId(id));

  /** The action as its adapter gets it: sent into the thread an earlier action stored under `inRef` (when there is one). */
  async function resolveInRef(action: Action): Promise<PlatformAction> {
    const { inRef, ...rest } = action;
    if (!inRef) return rest;
    const stored = await redis.hget(keys.k('ref', inRef), 'chat');
    if (!stored) log.warn({ platform, ref: inRef }, 'no chat stored under inRef; sending to the action chat');
    return stored ? { ...rest, chat: stored } : rest;
  }

  const processor = async (job: Job, token?: string): Promise<ActionResult | undefined> => {
    const parsed = ActionSchema.safeParse(job.data);
    if (!parsed.success) {
      await deadLetters.add(`outbound:${platform}`, `malformed action: ${parsed.error.issues[0]?.message ?? 'invalid'}`, job.data);
      throw new UnrecoverableError('malformed action');
    }
    const action = parsed.data;
    const chat = orderChat(action);
    const k = outKeys(keys, platform, chat);
    const jobId = job.id!;

    const [[, done], [, head], [, chatBlockTtl], [, disabled], [, pauseTtl]] = (await redis
      .multi()
      .get(doneKey(action.id))
      .zrange(k.order, '0', '0')
      .pttl(k.block)
      .sismember(k.disabled, chat)
      .pttl(k.pause)
      .exec()) as [unknown, unknown][] as [[null, string | null], [null, string[]], [null, number], [null, number], [null, number]];
    // A platform-wide pause (a global 429) also holds jobs that were already fetched when it began.
    const blockTtl = Math.max(chatBlockTtl, pauseTtl);

    if (done) {
      // Performed before a crash could record completion: never post twice.
      await redis.zrem(k.order, jobId);
      opts.onOutcome?.(action, 'skipped', 'already done');
      return JSON.parse(done) as ActionResult;
    }
    if (disabled && action.type !== 'dm') {
      await redis.zrem(k.order, jobId);
      opts.onOutcome?.(action, 'skipped', 'chat disabled');
      throw new UnrecoverableError(`sending to ${chat} is disabled after a permanent error`);
    }
    const headId = head[0];
    if (headId && headId !== jobId) {
      // Another action of this chat goes first. Make sure it still exists, else drop the stale entry.
      const state = await queue.getJobState(headId).catch(() => 'unknown');
      if (state === 'unknown' || state === 'completed' || state === 'failed') {
        await redis.zrem(k.order, headId);
      }
      const rank = (await redis.zrank(k.order, jobId)) ?? 1;
      await job.moveToDelayed(Date.now() + Math.min(100 + rank * 50, 2000), token);
      opts.onOutcome?.(action, 'delayed', 'waiting for its turn');
      throw new DelayedError();
    }
    if (!headId) await redis.zadd(k.order, 'NX', orderScore(PRIORITIES[action.priority], job.timestamp), jobId);
    if (blockTtl > 0) {
      await job.moveToDelayed(Date.now() + blockTtl, token);
      opts.onOutcome?.(action, 'delayed', `chat blocked ${blockTtl} ms`);
      throw new DelayedError();
    }
    const wait = await consume(chat, action.type === 'dm' || chat.includes(':user:'));
    if (wait > 0) {
      await job.moveToDelayed(Date.now() + wait, token);
      opts.onOutcome?.(action, 'delayed', `budget ${wait} ms`);
      throw new DelayedError();
    }

    try {
      const result = await adapter.perform(await resolveInRef(action));
      const tx = redis.multi().set(doneKey(action.id), JSON.stringify(result), 'EX', DONE_TTL_S).zrem(k.order, jobId);
      if (action.ref) {
        tx.hset(keys.k('ref', action.ref), 'platform', platform, 'chat', result.chat ?? action.chat, 'messageIds', JSON.stringify(result.messageIds ?? []));
        tx.expire(keys.k('ref', action.ref), 90 * 24 * 3600);
        for (const m of result.messageIds ?? []) tx.set(keys.k('sent', platform, chat, m), action.ref, 'EX', 30 * 24 * 3600);
      }
      await tx.exec();
      await wakeNext(k.order);
      opts.onOutcome?.(action, 'sent');
      return result;
    } catch (err) {
      if (!(err instanceof PlatformError)) throw err;
      if (err.retryAfterMs !== undefined) {
        const global = err.scope === 'global';
        log.warn({ platform, chat, method: err.method, retryAfterMs: err.retryAfterMs, global }, 'platform rate limit: waiting as asked');
        if (global) {
          // The whole bot is limited: pause this platform's queue; the job returns to wait without using an attempt.
          await redis.set(k.pause, '1', 'PX', Math.max(1, err.retryAfterMs));
          await queue.rateLimit(err.retryAfterMs);
          opts.onOutcome?.(action, 'delayed', `queue paused ${err.retryAfterMs} ms`);
          throw Worker.RateLimitError();
        }
        await redis.set(k.block, '1', 'PX', Math.max(1, err.retryAfterMs));
        await job.moveToDelayed(Date.now() + err.retryAfterMs, token);
        opts.onOutcome?.(action, 'delayed', `chat paused ${err.retryAfterMs} ms`);
        throw new DelayedError();
      }
      if (err.scope === 'global') throw err; // the bot itself is refused: retried with backoff while an operator fixes it
      // Permanent for this action; a chat that refuses the bot (not a DM: that is one person) gets nothing more.
      const stopChat = err.scope === 'per-chat' && action.type !== 'dm';
      log.error({ platform, chat, action: action.type, method: err.method, code: err.code, scope: err.scope, err: err.message }, 'platform refused an action: not retried');
      const tx = redis.multi().zrem(k.order, jobId);
      if (stopChat) tx.sadd(k.disabled, chat);
      await tx.exec();
      await deadLetters.add(`outbound:${platform}`, `${err.code ?? ''} ${err.message}`.trim(), action);
      opts.onOutcome?.(action, 'failed', err.message);
      throw new UnrecoverableError(err.message);
    }
  };

  const worker = new Worker(outboundQueueName(platform), processor, {
    connection,
    prefix: keys.prefix,
    concurrency: opts.concurrency ?? 8,
    ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs, stalledInterval: Math.max(500, Math.floor(opts.lockDurationMs / 2)) } : {}),
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { count: 10_000 },
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
    if (final) {
      const a = job.data as Action;
      void redis.zrem(outKeys(keys, platform, orderChat(a)).order, job.id!).catch(() => undefined);
      if (!(err instanceof UnrecoverableError)) void deadLetters.add(`outbound:${platform}`, `failed ${job.attemptsMade}x: ${err.message}`, a).catch(() => undefined);
    }
  });
  worker.on('error', (err) => log.error({ platform, err: err.message }, 'outbound worker error'));
  return {
    worker,
    close: async () => {
      await worker.close();
      await queue.close();
      connection.disconnect();
      redis.disconnect();
    },
  };
}
