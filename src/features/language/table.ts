/**
 * A read-only string → string table packed into two strings and two offset arrays, looked up by binary search.
 *
 * The dictionaries and WordNet hold a few hundred thousand short entries. As a Map they are that many objects,
 * which every major GC of a core worker marks again; packed, they are four objects and a quarter of the memory.
 */

/** A packed table (build it with `packTable`). */
export interface PackedTable {
  get(key: string): string | undefined;
  has(key: string): boolean;
  readonly size: number;
}

/** Packs entries (later duplicates of a key are dropped: the first wins). */
export function packTable(entries: Iterable<[string, string]>): PackedTable {
  const seen = new Map<string, string>();
  for (const [k, v] of entries) if (!seen.has(k)) seen.set(k, v);
  const keys = [...seen.keys()].sort();
  const keyOff = new Uint32Array(keys.length + 1);
  const valOff = new Uint32Array(keys.length + 1);
  let kAt = 0;
  let vAt = 0;
  const vals: string[] = [];
  for (const [i, k] of keys.entries()) {
    keyOff[i] = kAt;
    valOff[i] = vAt;
    kAt += k.length;
    const v = seen.get(k)!;
    vals.push(v);
    vAt += v.length;
  }
  keyOff[keys.length] = kAt;
  valOff[keys.length] = vAt;
  const keyText = keys.join('');
  const valText = vals.join('');
  seen.clear();
  const find = (key: string): number => {
    let lo = 0;
    let hi = keyOff.length - 2;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keyText.slice(keyOff[mid]!, keyOff[mid + 1]!);
      if (k === key) return mid;
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  };
  return {
    size: keyOff.length - 1,
    has: (key) => find(key) >= 0,
    get(key) {
      const i = find(key);
      return i < 0 ? undefined : valText.slice(valOff[i]!, valOff[i + 1]!);
    },
  };
}

/**
 * A copy of a word cut out of a large text. V8 keeps such a slice pointing into the whole text, so a table of words
 * read from a dictionary file would keep the file alive (megabytes per word kept); the copy lets it go.
 */
export function ownString(s: string): string {
  return (' ' + s).slice(1);
}
