/** Middleware composition in grammY's style: each step gets the context and `next`. */

/** One pipeline step; call `next()` to pass the event on, or return to stop here. */
export type Middleware<C> = (ctx: C, next: () => Promise<void>) => Promise<void>;

/** Composes steps into one, run in order. */
export function compose<C>(steps: Middleware<C>[]): (ctx: C) => Promise<void> {
  // No async wrapper per step: on the per-message path every promise and closure counts (GC was ~10 % of the core).
  const done = Promise.resolve();
  return (ctx) => {
    const run = (i: number): Promise<void> => {
      const step = steps[i];
      if (!step) return done;
      let called = false;
      return step(ctx, () => {
        if (called) return Promise.reject(new Error('next() called twice'));
        called = true;
        return run(i + 1);
      });
    };
    return run(0);
  };
}
