/**
 * Lua scripts called by EVALSHA, loaded by EVAL only when Redis answers NOSCRIPT (a restart or SCRIPT FLUSH).
 * Why not ioredis's `defineCommand`: ioredis copies every defined script onto every pipeline it builds, and with
 * auto-pipelining that is every flush of the shared connection — measured at 3–7 % of a core worker's CPU.
 */
import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';

/** A script argument as Redis receives it. */
export type ScriptArg = string | number | Buffer;

const shas = new Map<string, string>();

/** The SHA1 Redis names a script by (computed once per source). */
export function scriptSha(lua: string): string {
  let sha = shas.get(lua);
  if (!sha) shas.set(lua, (sha = createHash('sha1').update(lua).digest('hex')));
  return sha;
}

/** Whether an error is Redis saying it does not know a script (yet). */
export function isNoScript(err: unknown): boolean {
  return err instanceof Error && /NOSCRIPT/.test(err.message);
}

/** Runs a script: one EVALSHA, and EVAL (which also caches it in Redis) only the first time a server lacks it. */
export async function evalScript(redis: Redis, lua: string, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
  try {
    return await redis.evalsha(scriptSha(lua), keys.length, ...keys, ...args);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return redis.eval(lua, keys.length, ...keys, ...args);
  }
}

/** Queues a script in a MULTI or pipeline by its source (inside a transaction a NOSCRIPT could not be retried). */
export function queueScript(tx: ChainableCommander, lua: string, keys: readonly string[], args: readonly ScriptArg[]): void {
  tx.eval(lua, keys.length, ...keys, ...args);
}
