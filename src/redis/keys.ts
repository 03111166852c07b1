/** Every Redis key and queue lives under one hash-tagged prefix, so a Redis Cluster keeps them in one slot. */

/** The production prefix; tests use `{townhall-test-<uuid>}`. */
export const DEFAULT_PREFIX = '{townhall}';

/** Builds keys under a prefix: `keys.k('ama', id)` -> `{townhall}:ama:<id>`. */
export class Keys {
  /** The hash-tagged prefix, also BullMQ's `prefix` option. */
  readonly prefix: string;
  constructor(prefix: string = DEFAULT_PREFIX) {
    if (!/^\{[^{}]+\}$/.test(prefix)) throw new Error(`redis prefix must be a hash tag like {townhall}, got ${prefix}`);
    this.prefix = prefix;
  }
  /** A key from parts, joined with ':'. */
  k(...parts: (string | number)[]): string {
    // Concatenation rather than join(): several keys per message, and join() allocates a second array's worth.
    let key = this.prefix;
    for (const p of parts) key += `:${p}`;
    return key;
  }
}

/** The prefix of a platform adapter's own keys (its store's `keyPrefix`): `{townhall}:adapter:telegram:`. */
export function adapterKeyPrefix(keys: Keys, platform: string): string {
  return `${keys.k('adapter', platform)}:`;
}

/** Turns an id into a BullMQ custom job id (BullMQ refuses ':' and integers). */
export function toJobId(id: string): string {
  const safe = id.replaceAll('%', '%25').replaceAll(':', '%3A');
  return /^-?\d+$/.test(safe) ? `n${safe}` : safe;
}
