/**
 * A full garbage collection between the steps of a large one-time load (dictionaries, WordNet), so that a core
 * worker's peak memory is the largest single step rather than their sum. Node hides `gc()` unless started with
 * --expose-gc; V8 lets a process turn the flag on for itself and fetch the function from a fresh context.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

/** Runs a full GC when the runtime allows it (a no-op otherwise). */
export function collectGarbage(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  collect?.();
}
