/** Middleware composition in grammY's style: each step gets the context and `next`. */

/** One pipeline step; call `next()` to pass the event on, or return to stop here. */
export type Middleware<C> = (ctx: C, next: () => Promise<void>) => Promise<void>;

/** Composes steps into one, run in order. */
export function compose<C>(steps: Middleware<C>[]): (ctx: C) => Promise<void> {
  return (ctx) => {
    const run = async (i: number): Promise<void> => {
      const step = steps[i];
      if (!step) return;
      let called = false;
      await step(ctx, () => {
        if (called) throw new Error('next() called twice');
        called = true;
        return run(i + 1);
      });
    };
    return run(0);
  };
}
