/**
 * A process-local gate for refreshes that correctness never depends on (a TTL renewed, a directory entry
 * rewritten): `due(key)` is true for a key at most once every `ms`. Each process keeps its own; the map is dropped
 * whole past `max` keys, which only means a few refreshes come early.
 */
export function onceEvery(ms: number, now: () => number, max = 100_000): (key: string) => boolean {
  const last = new Map<string, number>();
  return (key) => {
    const t = now();
    if ((last.get(key) ?? -Infinity) > t - ms) return false;
    if (last.size >= max) last.clear();
    last.set(key, t);
    return true;
  };
}
