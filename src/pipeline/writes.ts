/**
 * An event's state writes, applied atomically in one round trip. Features queue commands on `ctx.writes` as on a
 * MULTI; the commit sends them as ONE script call that runs them back to back (atomic, like MULTI/EXEC). Measured
 * on the ingest path (bench/README.md): an ioredis MULTI of a dozen commands costs the client about 190 µs of CPU,
 * the same commands as one EVALSHA about 70 µs — a MULTI pays a Command, a promise and a QUEUED reply per command.
 * A batch that uses anything the script cannot replay (a custom script command, an object argument) goes through
 * a real MULTI, so the semantics never change.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { evalCoalesced } from '../redis/scripts.js';

/** One recorded call: the command name and its arguments as given. */
type Call = [name: string, args: unknown[]];

// Runs ARGV = [guardTtl, count, (argc, name, args...)...] with pcall, so one failing command does not stop the others —
// as in MULTI/EXEC — and returns the failures as "index error" strings. With guardTtl > 0, KEYS[1] is the event's
// seen mark: set only if absent, and when it is already there (another run committed this event first) nothing is
// applied and 'DUP' is returned, so an event handled twice (a lapsed job lock) changes state once.
const APPLY_LUA = `
local errs = {}
local guard = tonumber(ARGV[1])
if guard > 0 and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', guard) then return 'DUP' end
local p = 3
for c = 1, tonumber(ARGV[2]) do
  local argc = tonumber(ARGV[p])
  local r = redis.pcall(unpack(ARGV, p + 1, p + argc))
  if type(r) == 'table' and r.err then errs[#errs + 1] = c .. ' ' .. r.err end
  p = p + argc + 1
end
return errs`;

// Commands that never belong in a replayed batch (scripts, transactions, blocking or connection state).
const NOT_REPLAYED = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'multi', 'exec', 'discard', 'watch', 'unwatch', 'select', 'subscribe', 'psubscribe', 'monitor', 'script', 'function']);
// Lua's unpack() has a stack limit; a command with more arguments than this goes through MULTI.
const MAX_ARGS = 4000;

let builtins: Set<string> | undefined;

/** Flattens arguments the way ioredis does for arrays; undefined when one cannot be sent as a plain string. */
function plainArgs(args: unknown[], out: (string | Buffer)[]): boolean {
  for (const a of args) {
    if (typeof a === 'string') out.push(a);
    else if (typeof a === 'number') out.push(String(a));
    else if (Buffer.isBuffer(a)) out.push(a);
    else if (Array.isArray(a)) {
      if (!plainArgs(a, out)) return false;
    } else return false;
  }
  return true;
}

/** A write batch: `tx` records like a MULTI; `commit()` applies everything recorded, atomically. */
export class WriteBatch {
  private readonly calls: Call[] = [];
  /** The commander features write to (a recorder: nothing reaches Redis before commit). */
  readonly tx: ChainableCommander;

  constructor(private readonly redis: Redis) {
    const calls = this.calls;
    const proxy: ChainableCommander = new Proxy({} as ChainableCommander, {
      get(_target, prop) {
        // Not a thenable, not inspectable as anything but a recorder.
        if (typeof prop === 'symbol' || prop === 'then') return undefined;
        return (...args: unknown[]) => {
          calls.push([prop, args]);
          return proxy;
        };
      },
    });
    this.tx = proxy;
  }

  /** How many commands are queued. */
  get length(): number {
    return this.calls.length;
  }

  /**
   * Applies the recorded writes atomically; throws the first command error, as the MULTI it replaces did. With
   * `guardTtlS`, `routeKey` is a mark set only when absent: if it is already set, nothing is applied and the result
   * is 'duplicate'.
   */
  async commit(routeKey: string, guardTtlS = 0): Promise<'applied' | 'duplicate'> {
    if (!this.calls.length && !guardTtlS) return 'applied';
    const argv = this.scriptArgs(guardTtlS);
    if (!argv) {
      if (guardTtlS && (await this.redis.set(routeKey, '1', 'EX', guardTtlS, 'NX')) === null) return 'duplicate';
      await this.commitMulti();
      return 'applied';
    }
    // Folded with the other events' commits of this turn into one EVALSHA (src/redis/scripts.ts).
    const res = (await evalCoalesced(this.redis, APPLY_LUA, [routeKey], argv)) as string[] | string;
    if (res === 'DUP') return 'duplicate';
    if (res.length) throw new Error(`state write failed: ${res[0]}`);
    return 'applied';
  }

  /** The script's ARGV, or undefined when some call has to go through a real MULTI. */
  private scriptArgs(guardTtlS: number): (string | Buffer)[] | undefined {
    builtins ??= new Set(this.redis.getBuiltinCommands());
    const argv: (string | Buffer)[] = [String(guardTtlS), String(this.calls.length)];
    for (const [name, args] of this.calls) {
      const lower = name.toLowerCase();
      if (!builtins.has(lower) || NOT_REPLAYED.has(lower)) return undefined;
      const flat: (string | Buffer)[] = [];
      if (!plainArgs(args, flat) || flat.length > MAX_ARGS) return undefined;
      argv.push(String(flat.length + 1), lower, ...flat);
    }
    return argv;
  }

  private async commitMulti(): Promise<void> {
    const tx = this.redis.multi() as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const [name, args] of this.calls) tx[name]!(...args);
    const res = await (tx as unknown as ChainableCommander).exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
  }
}
