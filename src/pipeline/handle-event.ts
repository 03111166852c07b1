/** The core's one entry point: `handleEvent(event)`, run by the inbound worker for every ChatEvent. */
import type { ChatEvent } from '../core/events.js';
import { HandlerError } from '../core/errors.js';
import { mgetCoalesced } from '../redis/scripts.js';
import { compose, type Middleware } from './composer.js';
import { EventContext, type CoreDeps } from './context.js';

/**
 * How long an event id is remembered as handled (redelivery after this is treated as new). The longest redelivery
 * there is: Telegram keeps unconfirmed updates for 24 hours, so an adapter that crashed before confirming and comes
 * back a day later gets them again. Discord's RESUME replays and BullMQ's retries are minutes. The marks are the
 * largest per-event memory Redis holds (~104 B each), so they live no longer than that.
 */
export const SEEN_TTL_S = 25 * 3600;

/** A feature plugs into the pipeline with a middleware step. */
export interface Feature {
  name: string;
  middleware: Middleware<EventContext>;
  /**
   * Plain string keys the step will read for this event: fetched in the pipeline's first round trip, together with
   * the "already handled?" check, and handed to the step through `ctx.mget`. Saves a round trip per event.
   */
  prefetch?: (event: ChatEvent) => string[];
}

/** The handler the inbound worker calls. */
export type HandleEvent = (event: ChatEvent) => Promise<void>;

/** Builds `handleEvent`: dedupe, then the features in the order given, then one flush of actions and writes. */
export function createHandleEvent(deps: CoreDeps, features: Feature[]): HandleEvent {
  const { redis, keys, outbound } = deps;
  const named = features.map(
    (f): Middleware<EventContext> =>
      (ctx, next) => {
        const fail = (err: unknown): never => {
          // A later step's failure comes back through this one's next(): it is named and counted once, where it happened.
          if (err instanceof HandlerError) throw err;
          deps.metrics?.handlerError?.(f.name);
          throw new HandlerError(err, `${ctx.event.id} in ${f.name}`);
        };
        try {
          return f.middleware(ctx, next).catch(fail);
        } catch (err) {
          return fail(err); // a step that threw before returning its promise
        }
      },
  );
  const run = compose<EventContext>(named);
  const handledKey = keys.k('stats', 'handled');
  const prefetchers = features.flatMap((f) => (f.prefetch ? [f.prefetch] : []));

  return async function handleEvent(event: ChatEvent): Promise<void> {
    const started = performance.now();
    const seenKey = keys.k('seen', event.id);
    const wanted = [seenKey];
    for (const p of prefetchers) for (const key of p(event)) wanted.push(key);
    const values = await mgetCoalesced(redis, wanted);
    if (values[0] !== null) return; // already handled: a redelivery or a second enqueue
    const ctx = new EventContext(event, deps);
    for (let i = 1; i < wanted.length; i++) ctx.prefetched.set(wanted[i]!, values[i] ?? null);
    await run(ctx);
    // Actions first (their ids are deterministic, so a retry after a crash here enqueues nothing new),
    // then state and the seen mark together, so a crash between the two re-runs the handlers, never skips them.
    // The commit sets the seen mark only if absent and applies nothing otherwise: two runs of one event (a job
    // lock that lapsed during a Redis outage) change state once.
    if (ctx.actions.length) await outbound.enqueue(ctx.actions);
    ctx.writes.incr(handledKey);
    if ((await ctx.batch.commit(seenKey, SEEN_TTL_S)) === 'duplicate') return;
    for (const fn of ctx.committed) {
      try {
        fn();
      } catch (err) {
        deps.log.warn({ event: event.id, err: (err as Error).message }, 'after-commit notice failed');
      }
    }
    deps.metrics?.handled?.(event.kind);
    deps.metrics?.latency?.((performance.now() - started) / 1000);
  };
}
