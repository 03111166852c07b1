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

/**
 * Coalescing: the core runs dozens of events at once, and each makes the same few calls (the first read, the
 * moderation counters, the commit). Each Redis command costs the client fixed work whatever its size (a Command,
 * a promise, encoding, a reply to decode; in bench/handler.ts, folding one command per message into another saved
 * ~25 µs of CPU per message), so calls made in the same turn of the event loop are sent as ONE command: an MGET of all their keys, or one EVALSHA of a wrapper that runs the script
 * once per call. Each caller still gets its own result or its own error; a call runs exactly as it would alone
 * (one script run per call, back to back, nothing between them), and Redis still sees it atomically.
 */

/** Most calls folded into one command: bounds how long one script holds Redis. */
const MAX_BATCH = 64;

interface PendingCall<T> {
  keys: readonly string[];
  args: readonly ScriptArg[];
  resolve: (v: T) => void;
  reject: (err: unknown) => void;
}

const wrapped = new Map<string, string>();
const LONE_SURROGATE_ESCAPE = /\\ud[89a-f]/i;

/**
 * The script as a function run once per call: ARGV[i] = the i-th call as JSON `[keys, args]` (one argument per call:
 * ioredis's work per argument, not per byte, is what a batch of thousands of arguments costs the client); KEYS[1]
 * names the slot (every key shares the hash tag). Returns per call {1, result} or {0, error message}: an error in
 * one call does not stop the others.
 */
export function batchLua(lua: string): string {
  let w = wrapped.get(lua);
  if (!w) {
    w = `local function one(KEYS, ARGV)
${lua}
end
local out = {}
local function run(packed)
  local call = cjson.decode(packed)
  return one(call[1], call[2])
end
for i = 1, #ARGV do
  local ok, r = pcall(run, ARGV[i])
  if ok then out[i] = {1, r} else out[i] = {0, type(r) == 'table' and r.err or tostring(r)} end
end
return out`;
    wrapped.set(lua, w);
  }
  return w;
}

/** Calls waiting for the end of this turn, per connection and per kind of command ('mget' or a script's source). */
const pending = new WeakMap<Redis, Map<string, PendingCall<never>[]>>();

/** Queues a call of `kind`; the first of a turn schedules one flush of them all, MAX_BATCH calls per command. */
function coalesce<T>(redis: Redis, kind: string, keys: readonly string[], args: readonly ScriptArg[], flush: (calls: PendingCall<T>[]) => Promise<void>): Promise<T> {
  let byKind = pending.get(redis);
  if (!byKind) pending.set(redis, (byKind = new Map()));
  let queue = byKind.get(kind) as PendingCall<T>[] | undefined;
  if (!queue) {
    const q: PendingCall<T>[] = (queue = []);
    byKind.set(kind, q as PendingCall<never>[]);
    setImmediate(() => {
      byKind.delete(kind);
      for (let i = 0; i < q.length; i += MAX_BATCH) void flush(q.slice(i, i + MAX_BATCH));
    });
  }
  const q = queue;
  return new Promise<T>((resolve, reject) => q.push({ keys, args, resolve, reject }));
}

/** Runs a script like `evalScript`, folded with the other calls of the same script in this turn into one EVALSHA. */
export function evalCoalesced(redis: Redis, lua: string, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
  return coalesce<unknown>(redis, lua, keys, args, (calls) => flushScript(redis, lua, calls));
}

/** A call as `[keys, args]` JSON with every argument a string, or undefined when one is binary. */
function packCall(c: PendingCall<unknown>): string | undefined {
  let strings = true;
  for (const a of c.args) {
    if (typeof a === 'object') return undefined;
    if (typeof a !== 'string') strings = false;
  }
  return JSON.stringify([c.keys, strings ? c.args : c.args.map(String)]);
}

async function flushScript(redis: Redis, lua: string, calls: PendingCall<unknown>[]): Promise<void> {
  if (calls.length === 1) {
    const c = calls[0]!;
    return evalScript(redis, lua, c.keys, c.args).then(c.resolve, c.reject);
  }
  // Arguments go as JSON (cjson in Redis). Sent on their own instead: a call with a binary argument, and one whose
  // JSON escapes a lone surrogate (user text can hold one; cjson refuses it, EVALSHA takes it as bytes).
  const packable: PendingCall<unknown>[] = [];
  const packed: string[] = [];
  for (const c of calls) {
    const json = packCall(c);
    if (json === undefined || LONE_SURROGATE_ESCAPE.test(json)) void evalScript(redis, lua, c.keys, c.args).then(c.resolve, c.reject);
    else {
      packable.push(c);
      packed.push(json);
    }
  }
  if (!packable.length) return;
  let res: [number, unknown][];
  try {
    res = (await evalScript(redis, batchLua(lua), [packable[0]!.keys[0] ?? ''], packed)) as [number, unknown][];
  } catch (err) {
    for (const c of packable) c.reject(err);
    return;
  }
  packable.forEach((c, i) => {
    const [ok, value] = res[i] ?? [0, 'no reply'];
    if (ok === 1 && !(value instanceof Error)) c.resolve(value ?? null);
    else c.reject(value instanceof Error ? value : new Error(String(value)));
  });
}

/** MGET, folded with the other `mgetCoalesced` calls of this turn into one MGET. */
export function mgetCoalesced(redis: Redis, keys: readonly string[]): Promise<(string | null)[]> {
  return coalesce<(string | null)[]>(redis, 'mget', keys, [], (calls) => flushMget(redis, calls));
}

async function flushMget(redis: Redis, calls: PendingCall<(string | null)[]>[]): Promise<void> {
  const all: string[] = [];
  for (const c of calls) for (const k of c.keys) all.push(k);
  let values: (string | null)[];
  try {
    values = await redis.mget(all);
  } catch (err) {
    for (const c of calls) c.reject(err);
    return;
  }
  let at = 0;
  for (const c of calls) {
    c.resolve(values.slice(at, at + c.keys.length));
    at += c.keys.length;
  }
}
