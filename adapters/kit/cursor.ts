/**
 * Where an adapter has read up to, per source (a channel, a search): the newest platform id it published, kept in one
 * Redis hash of its store. Ids are compared as unsigned integers of any length (Discord snowflakes, X post ids), and a
 * cursor only moves forward, atomically, whoever else moves it meanwhile. A value may carry data after a `|`
 * (`<id>|<guild>`): only the id part is compared.
 */
import type { ChainableCommander } from 'ioredis';
import type { AdapterStore } from '../../src/core/index.js';

/** Sets each ARGV pair (field, value) whose id is newer than the stored one's; returns how many moved. */
const ADVANCE_LUA = `
local moved = 0
for i = 1, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  local id = string.match(value, '^[^|]*')
  local cur = redis.call('hget', KEYS[1], field)
  local curId = cur and string.match(cur, '^[^|]*')
  if not curId or #id > #curId or (#id == #curId and id > curId) then
    redis.call('hset', KEYS[1], field, value)
    moved = moved + 1
  end
end
return moved`;

/** True when platform id `a` is newer (larger) than `b`: both decimal strings of any length. */
export function newerId(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/** The cursors of one adapter feature, in one hash of the adapter's store. */
export class CursorStore {
  constructor(
    private readonly store: AdapterStore,
    /** The hash's key in the store (`cursor`, `cursor:mentions`). */
    readonly key: string,
  ) {}

  /** One cursor's value, or null before anything was read there. */
  async get(name: string): Promise<string | null> {
    return this.store.hget(this.key, name);
  }

  /** Every cursor, by name. */
  async all(): Promise<Record<string, string>> {
    return this.store.hgetall(this.key);
  }

  /** Moves each cursor forward to its value; a cursor already at or past it stays. */
  async advance(values: Record<string, string>): Promise<void> {
    const args = Object.entries(values).flat();
    if (args.length) await this.store.eval(ADVANCE_LUA, 1, this.key, ...args);
  }

  /** As `advance`, queued on the caller's pipeline or transaction, so it lands with the caller's other writes. */
  advanceOn(tx: ChainableCommander, values: Record<string, string>): void {
    const args = Object.entries(values).flat();
    if (args.length) tx.eval(ADVANCE_LUA, 1, this.key, ...args);
  }

  /** Drops cursors (a channel gone quiet or gone). */
  async forget(names: string[]): Promise<void> {
    if (names.length) await this.store.hdel(this.key, ...names);
  }
}
