/**
 * Redis-backed near-duplicate index of open questions, shared by every worker process.
 *
 * Candidate generation is MinHash + LSH over a question's content terms: each of `bands` bands
 * takes the `rows` terms that minimise `rows` hash functions, and the (sorted, de-duplicated) set
 * of those terms names a bucket. Two questions land in a common bucket with probability
 * 1 - (1 - J^rows)^bands for term Jaccard J, so paraphrases meet and unrelated questions don't.
 * Keying buckets by the chosen terms rather than by (band, hash) lets bands that pick the same
 * terms share a bucket: a 3-term question touches at most 6 buckets instead of 16.
 *
 * Cost per lookup is bounded whatever the queue size: every bucket keeps only its `bucketCap`
 * newest members, and only the `maxCandidates` candidates seen in the most buckets are scored.
 * A lookup is one round trip for the buckets (a single MGET: buckets are strings of fixed-width
 * sequence numbers), one HMGET for candidate payloads that this process has not parsed before
 * (payloads never change, so they are cached), then scoring in process. Adding is one Lua call
 * (atomic: sequence number, payload, buckets).
 *
 * Keys (all under the caller's prefix, which should carry a Redis Cluster hash tag such as
 * `{townhall}:ama:42:dedup:` because the Lua scripts touch several keys at once):
 *   <prefix>seq        INCR counter: internal sequence numbers (from a random base, never reused)
 *   <prefix>q          hash seq -> "id \x1f qtype \x1f terms \x1f specific \x1f normalised text"
 *   <prefix>id         hash id -> seq
 *   <prefix>b:<h1>.<h2> string of 9-char base-36 seqs, newest last, trimmed to bucketCap when it doubles
 *
 * Concurrency: `findOrAdd` is optimistic. The add script re-reads the newest entry of every bucket the
 * lookup read and refuses to add if any changed (another worker added a question sharing a bucket
 * in between); the caller then looks up again. Two workers submitting the same question therefore
 * end with one entry, without locks that a crashed worker could leave behind.
 */
import type { Redis } from 'ioredis';
import { evalScript, isNoScript, scriptSha } from '../../redis/scripts.js';
import { DEFAULT_DUPLICATE_THRESHOLD, fromParts, prepareText, similarityAtLeast, type PreparedText } from './similarity.js';
import type { ScorerWeights } from './scorer.js';
import type { QuestionType } from './text.js';

/** Number of MinHash functions computed by `prepare`; `bands * rows` must not exceed it. */
export const MAX_HASHES = 64;
// Terms beyond this add nothing to candidate generation for a chat question but cost hashing time.
const MAX_HASHED_TERMS = 64;
const SEP = '\x1f';

/** A question's features for similarity plus its MinHash argmins, computed once by `prepare`. */
export interface PreparedQuestion extends PreparedText {
  /** The elements hashed: content terms, or the whole normalised text when there are none. */
  elements: string[];
  /** For hash function i, the index in `elements` of the element with the smallest hash. */
  argmin: Uint8Array;
  /** Two independent 32-bit hashes of each element (2i, 2i+1), combined into bucket ids. */
  ehash: Uint32Array;
}

/** Options of a `QuestionIndex`. */
export interface QuestionIndexOptions {
  /** Similarity at or above which a candidate is the same question (default `DEFAULT_DUPLICATE_THRESHOLD`). */
  threshold?: number;
  /** LSH bands (default 16). More bands: better recall, more buckets per question. */
  bands?: number;
  /** MinHash rows per band (default 2). More rows: more specific buckets, lower recall. */
  rows?: number;
  /** Newest members kept per bucket (default 32); bounds both memory and lookup cost. */
  bucketCap?: number;
  /** Candidates scored per lookup, those sharing the most buckets first (default 32). */
  maxCandidates?: number;
  /** `findOrAdd` attempts before adding without the concurrency check (default 12). */
  maxAttempts?: number;
  /** Parsed candidate payloads kept in this process (default 50,000). */
  cacheSize?: number;
  /** Scorer weights (default: the fitted ones); only the fitting script's cross-validation passes others. */
  scorer?: ScorerWeights;
}

/** A duplicate found in the index. */
export interface DuplicateMatch {
  id: string;
  score: number;
}

/** Alternative constructor form: the app's key builder plus a namespace (prefix = `keys.k(namespace, 'dedup', '')`). */
export interface QuestionIndexConfig extends QuestionIndexOptions {
  redis: Redis;
  /** Anything with the `Keys.k` method of src/redis/keys.ts. */
  keys: { k(...parts: (string | number)[]): string };
  /** E.g. `ama:<amaId>`. */
  namespace: string;
}

/** Outcome of `findOrAdd`: either the question was added, or the id of the question it duplicates. */
export type FindOrAddResult = { added: true; id: string } | { added: false; id: string; score: number };

// ---------------------------------------------------------------------------------------------
// Hashing (pure)
// ---------------------------------------------------------------------------------------------

function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// murmur3 finaliser: turns one 32-bit hash into MAX_HASHES well-mixed, independent-enough ones.
function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SEEDS = Uint32Array.from({ length: MAX_HASHES }, (_, i) => fmix32(Math.imul(i + 1, 0x9e3779b9)));

/** Features of a question for the index and for `similarity` (pure; compute once, pass to any method). */
export function prepare(text: string, opts: { lang?: string; vec?: Float32Array | null; vecKind?: string } = {}): PreparedQuestion {
  return withMinHash(prepareText(text, opts));
}

function withMinHash(p: PreparedText): PreparedQuestion {
  const elements = p.terms.length ? p.terms.slice(0, MAX_HASHED_TERMS) : p.norm ? [p.norm] : [];
  const argmin = new Uint8Array(MAX_HASHES);
  const ehash = new Uint32Array(elements.length * 2);
  for (let e = 0; e < elements.length; e++) {
    ehash[2 * e] = fnv1a(elements[e]!);
    ehash[2 * e + 1] = fmix32(fnv1a(elements[e]!, 0x01000193));
  }
  if (elements.length > 1) {
    const mins = new Uint32Array(MAX_HASHES).fill(0xffffffff);
    for (let e = 0; e < elements.length; e++) {
      const base = ehash[2 * e]!;
      for (let i = 0; i < MAX_HASHES; i++) {
        const v = fmix32(base ^ SEEDS[i]!);
        if (v < mins[i]!) {
          mins[i] = v;
          argmin[i] = e;
        }
      }
    }
  }
  return Object.assign(p, { elements, argmin, ehash });
}

function toPrepared(q: string | PreparedQuestion): PreparedQuestion {
  return typeof q === 'string' ? prepare(q) : q;
}

// ---------------------------------------------------------------------------------------------
// Redis scripts
// ---------------------------------------------------------------------------------------------

/** Width of an encoded sequence number in a bucket string (base 36, zero-padded). */
const SEQ_WIDTH = 9;

/**
 * The index's writes as Lua functions, so that a caller can index a question inside its own script, atomically with
 * its other writes (the AMA creates a question and indexes it in one step: see src/features/ama/scripts.ts).
 *   idx_unchanged(buckets, heads, from): every bucket still ends with the seq a lookup read (ARGV[from...]);
 *   idx_add(kseq, kq, kid, buckets, id, payload, cap, seqBase): 1 when added, 0 if the id is already indexed.
 */
export const INDEX_LUA = `
local IDX_W = ${SEQ_WIDTH}
local function idx_unchanged(buckets, heads, from)
  for i = 1, #buckets do
    if redis.call('GETRANGE', buckets[i], -IDX_W, -1) ~= heads[from + i - 1] then return false end
  end
  return true
end
local function idx_add(kseq, kq, kid, buckets, id, payload, cap, seqBase)
  if redis.call('HEXISTS', kid, id) == 1 then return 0 end
  local n = redis.call('INCR', kseq)
  if n == 1 then
    -- A fresh (or cleared) index starts at a random base, so sequence numbers cached by other
    -- processes before a clear() can never name a different question afterwards.
    n = seqBase
    redis.call('SET', kseq, n)
  end
  local digits = '0123456789abcdefghijklmnopqrstuvwxyz'
  local s = ''
  for _ = 1, IDX_W do
    local r = n % 36
    s = string.sub(digits, r + 1, r + 1) .. s
    n = (n - r) / 36
  end
  redis.call('HSET', kq, s, id .. '\\31' .. payload)
  redis.call('HSET', kid, id, s)
  -- Buckets are strings of fixed-width seqs, newest last: APPEND is O(1), readers parse one bulk
  -- string instead of one reply element per member. Trim lazily, back to cap entries once a bucket
  -- doubles, so saturated buckets are rewritten once per cap adds rather than on every add.
  local limit = 2 * cap * IDX_W
  for i = 1, #buckets do
    if redis.call('APPEND', buckets[i], s) > limit then
      redis.call('SET', buckets[i], redis.call('GETRANGE', buckets[i], -limit / 2, -1))
    end
  end
  return 1
end
`;

// KEYS: seq, q, id, bucket...  ARGV: id, payload, cap, check, seqBase, expectedHead...
// Returns 1 when added, 0 if the id is already indexed, -1 if a bucket changed since it was read.
const ADD_LUA = `${INDEX_LUA}
local buckets = {unpack(KEYS, 4)}
if ARGV[4] == '1' and not idx_unchanged(buckets, ARGV, 6) then return -1 end
return idx_add(KEYS[1], KEYS[2], KEYS[3], buckets, ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[5]))
`;

// Bulk form of ADD_LUA without the concurrency check, for addMany: one call adds a chunk of
// questions, so per-command overhead (client encoding, script entry) is paid once per chunk.
// KEYS: seq, q, id, bucket...  ARGV: cap, seqBase, then per question: id, payload, n, n indexes into KEYS.
// Returns the number of questions added (ids already indexed are skipped).
const ADD_MANY_LUA = `${INDEX_LUA}
local cap, seqBase = tonumber(ARGV[1]), tonumber(ARGV[2])
local added = 0
local i = 3
while i <= #ARGV do
  local nb = tonumber(ARGV[i + 2])
  local buckets = {}
  for j = 1, nb do buckets[j] = KEYS[tonumber(ARGV[i + 2 + j])] end
  added = added + idx_add(KEYS[1], KEYS[2], KEYS[3], buckets, ARGV[i], ARGV[i + 1], cap, seqBase)
  i = i + 3 + nb
end
return added
`;

// KEYS: q, id, bucket...  ARGV: id, expectedPayload ('' = don't check)
// Returns 1 when removed, 0 when the id is unknown, -1 when the stored payload differs from the
// expected one (the caller's text is not what was indexed: it retries with the stored terms).
const REMOVE_LUA = `
local W = ${SEQ_WIDTH}
local s = redis.call('HGET', KEYS[2], ARGV[1])
if not s then return 0 end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], s) ~= ARGV[1] .. '\\31' .. ARGV[2] then return -1 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], s)
for i = 3, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then
    local parts = {}
    for j = 1, #v, W do
      local e = string.sub(v, j, j + W - 1)
      if e ~= s then parts[#parts + 1] = e end
    end
    if #parts == 0 then redis.call('DEL', KEYS[i]) else redis.call('SET', KEYS[i], table.concat(parts)) end
  end
end
return 1
`;

// KEYS: q, id  ARGV: id  -> stored payload (with id) or false
const GET_LUA = `
local s = redis.call('HGET', KEYS[2], ARGV[1])
if not s then return false end
return redis.call('HGET', KEYS[1], s)
`;

const SCRIPTS = { add: ADD_LUA, addMany: ADD_MANY_LUA, remove: REMOVE_LUA, get: GET_LUA } as const;
// Questions per ADD_MANY_LUA call: big enough to amortise overhead, small enough that one call
// holds Redis for only a few milliseconds.
const ADD_MANY_CHUNK = 100;
type ScriptName = keyof typeof SCRIPTS;

// Stored fields, in order: qtype, terms, specific, normalised text, language, negated, surface words, embedding.
// A payload of an earlier version (five fields) still parses: it simply lacks the newer ones.
function payloadOf(p: PreparedQuestion): string {
  return [p.qtype ?? '', p.terms.join(' '), p.specific.join(' '), p.norm, p.lang, p.neg ? '1' : '', p.words.join(' '), p.vec ? `${p.vecKind}:${encodeVector(p.vec)}` : ''].join(SEP);
}

function parsePayload(raw: string): { id: string; prep: PreparedText } | null {
  const parts = raw.split(SEP);
  if (parts.length < 5) return null;
  const [id, qtype, terms, specific, norm, lang, neg, words, vec] = parts as [string, string, string, string, string, string?, string?, string?, string?];
  const termList = terms ? terms.split(' ') : [];
  return {
    id,
    prep: fromParts({
      norm,
      terms: termList,
      qtype: (qtype || null) as QuestionType | null,
      specific: specific ? specific.split(' ') : [],
      lang: lang ?? 'und',
      neg: neg === '1',
      words: words ? words.split(' ') : termList,
      vec: vec ? decodeVector(vec.slice(vec.indexOf(':') + 1)) : null,
      vecKind: vec ? vec.slice(0, vec.indexOf(':')) : '',
    }),
  };
}

// Embeddings are stored as signed bytes (unit vectors: components within [-1, 1]) in base64: 4x smaller than floats,
// and the cosine moves by less than 0.01.
function encodeVector(v: Float32Array): string {
  const b = Buffer.alloc(v.length);
  for (let i = 0; i < v.length; i++) b.writeInt8(Math.max(-127, Math.min(127, Math.round(v[i]! * 127))), i);
  return b.toString('base64');
}

function decodeVector(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const v = new Float32Array(b.length);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    v[i] = b.readInt8(i) / 127;
    n += v[i]! * v[i]!;
  }
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  return v.map((x) => x * inv);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------------------------

/** What a caller's own script needs to index a new question with INDEX_LUA (keys, payload, the bucket heads a lookup saw). */
export interface IndexAddParts {
  seqKey: string;
  qKey: string;
  idKey: string;
  buckets: string[];
  /** The newest seq of each bucket when it was read ('' = empty): the add must refuse if one moved. */
  heads: string[];
  payload: string;
  cap: number;
  seqBase: number;
}

interface Lookup {
  best: DuplicateMatch | null;
  keys: string[];
  heads: string[];
}

/** Near-duplicate index of one AMA's open questions, stored in Redis under a caller-given prefix. */
export class QuestionIndex {
  /** Similarity at or above which two questions are merged. */
  readonly threshold: number;
  private readonly bands: number;
  private readonly rows: number;
  private readonly cap: number;
  private readonly maxCandidates: number;
  private readonly maxAttempts: number;
  private readonly cacheSize: number;
  private readonly scorer: ScorerWeights | undefined;
  private readonly kSeq: string;
  private readonly kQ: string;
  private readonly kId: string;
  // seq -> parsed payload. Payloads are immutable and seqs never reused, so entries never go stale;
  // a removed seq also leaves every bucket (atomically), so it is never looked up again.
  private readonly cache = new Map<string, { id: string; prep: PreparedText }>();
  private scriptsLoaded: Promise<void> | null = null;
  private readonly redis: Redis;
  /** Every key of this index starts with it. */
  readonly prefix: string;

  /** An index over `redis` whose keys all start with `prefix` (e.g. `{townhall}:ama:42:dedup:`), or from a `QuestionIndexConfig`. */
  constructor(redis: Redis, prefix: string, opts?: QuestionIndexOptions);
  constructor(config: QuestionIndexConfig);
  constructor(redisOrConfig: Redis | QuestionIndexConfig, prefixArg?: string, optsArg: QuestionIndexOptions = {}) {
    let opts = optsArg;
    if (prefixArg === undefined) {
      const c = redisOrConfig as QuestionIndexConfig;
      this.redis = c.redis;
      this.prefix = c.keys.k(c.namespace, 'dedup', '');
      opts = c;
    } else {
      this.redis = redisOrConfig as Redis;
      this.prefix = prefixArg;
    }
    const prefix = this.prefix;
    this.threshold = opts.threshold ?? DEFAULT_DUPLICATE_THRESHOLD;
    this.bands = opts.bands ?? 16;
    this.rows = opts.rows ?? 2;
    this.cap = opts.bucketCap ?? 32;
    this.maxCandidates = opts.maxCandidates ?? 32;
    this.maxAttempts = opts.maxAttempts ?? 12;
    this.cacheSize = opts.cacheSize ?? 50_000;
    this.scorer = opts.scorer;
    if (this.bands * this.rows > MAX_HASHES || this.bands < 1 || this.rows < 1) throw new Error(`bands * rows must be between 1 and ${MAX_HASHES}`);
    this.kSeq = `${prefix}seq`;
    this.kQ = `${prefix}q`;
    this.kId = `${prefix}id`;
  }

  /** The bucket keys of a prepared question. */
  bucketKeys(p: PreparedQuestion): string[] {
    const out: string[] = [];
    const n = p.elements.length;
    if (n === 0) return out;
    const eh = p.ehash;
    const seen: number[] = []; // (h1, h2) pairs already emitted: bands often pick the same terms
    const picked = new Int32Array(this.rows);
    for (let b = 0; b < this.bands; b++) {
      // The band's distinct argmin elements, ordered by hash so that the same set of terms names
      // the same bucket in every question, then folded into two 32-bit hashes. (Typed array and
      // insertion sort: Array#length writes and splice are runtime calls in V8.)
      let np = 0;
      for (let r = 0; r < this.rows; r++) {
        const e = p.argmin[b * this.rows + r]!;
        let at = np;
        let dup = false;
        for (let i = 0; i < np; i++) {
          const o = picked[i]!;
          if (o === e) {
            dup = true;
            break;
          }
          if (at === np && (eh[2 * e]! < eh[2 * o]! || (eh[2 * e] === eh[2 * o] && eh[2 * e + 1]! < eh[2 * o + 1]!))) at = i;
        }
        if (dup) continue;
        for (let i = np; i > at; i--) picked[i] = picked[i - 1]!;
        picked[at] = e;
        np++;
      }
      let h1 = 0x9747b28c;
      let h2 = 0x2545f491;
      for (let i = 0; i < np; i++) {
        const e = picked[i]!;
        h1 = fmix32((h1 ^ eh[2 * e]!) + 0x6b43a9b5);
        h2 = fmix32((h2 ^ eh[2 * e + 1]!) + 0x3c6ef372);
      }
      let dup = false;
      for (let i = 0; i < seen.length && !dup; i += 2) dup = seen[i] === h1 && seen[i + 1] === h2;
      if (!dup) {
        seen.push(h1, h2);
        // Decimal, not base 36: Number#toString(36) is an order of magnitude slower in V8.
        out.push(`${this.prefix}b:${h1}.${h2}`);
      }
      if (n === 1) break; // every band picks the only element
    }
    return out;
  }

  /** The most similar indexed question at or above the threshold, or null. */
  async findDuplicate(text: string | PreparedQuestion): Promise<DuplicateMatch | null> {
    return (await this.lookup(toPrepared(text))).best;
  }

  /**
   * The duplicate of `text` (or null), and what indexing it needs if it is new: for a caller that creates its own
   * record and indexes it in one script (INDEX_LUA), refusing when another worker added to the same buckets meanwhile.
   */
  async lookupForAdd(text: string | PreparedQuestion): Promise<{ best: DuplicateMatch | null; add: IndexAddParts }> {
    const p = toPrepared(text);
    const { best, keys, heads } = await this.lookup(p);
    const seqBase = 1 + Math.floor(Math.random() * 2 ** 45);
    return { best, add: { seqKey: this.kSeq, qKey: this.kQ, idKey: this.kId, buckets: keys, heads, payload: payloadOf(p), cap: this.cap, seqBase } };
  }

  /** Indexes a question under `id` (one Lua call); an id already indexed is left as it is. */
  async add(id: string, text: string | PreparedQuestion): Promise<void> {
    const p = toPrepared(text);
    await this.runAdd(id, p, this.bucketKeys(p), null);
  }

  /** Indexes many questions in one pipeline of chunked Lua calls (bulk loads, benchmarks); ids already indexed are skipped. */
  async addMany(items: readonly { id: string; text: string | PreparedQuestion }[]): Promise<void> {
    if (!items.length) return;
    const calls: { keys: string[]; argv: (string | number)[] }[] = [];
    for (let start = 0; start < items.length; start += ADD_MANY_CHUNK) {
      // Bucket keys shared inside a chunk are passed once and referenced by index.
      const keys = [this.kSeq, this.kQ, this.kId];
      const keyIndex = new Map<string, number>();
      const argv: (string | number)[] = [this.cap, 1 + Math.floor(Math.random() * 2 ** 45)];
      for (const it of items.slice(start, start + ADD_MANY_CHUNK)) {
        if (it.id.includes(SEP)) throw new Error('question id must not contain \\x1f');
        const p = toPrepared(it.text);
        const buckets = this.bucketKeys(p);
        argv.push(it.id, payloadOf(p), buckets.length);
        for (const k of buckets) {
          let ix = keyIndex.get(k);
          if (ix === undefined) {
            keys.push(k);
            ix = keys.length; // Lua KEYS are 1-based
            keyIndex.set(k, ix);
          }
          argv.push(ix);
        }
      }
      calls.push({ keys, argv });
    }
    for (let attempt = 0; ; attempt++) {
      await this.ensureScripts();
      const pipe = this.redis.pipeline();
      for (const c of calls) pipe.evalsha(scriptSha(SCRIPTS.addMany), c.keys.length, ...c.keys, ...c.argv);
      const res = (await pipe.exec()) ?? [];
      const err = res.find(([e]) => e)?.[0];
      if (!err) return;
      // Scripts flushed (Redis restart): reload and replay; the add script skips ids already added.
      if (!isNoScript(err) || attempt > 0) throw err;
      this.scriptsLoaded = null;
    }
  }

  /**
   * Returns the duplicate of `text` if one is indexed, else adds it under `id` — atomically with
   * respect to other workers (see the module comment). If `id` is already indexed, returns it.
   */
  async findOrAdd(id: string, text: string | PreparedQuestion): Promise<FindOrAddResult> {
    const p = toPrepared(text);
    for (let attempt = 1; ; attempt++) {
      const { best, keys, heads } = await this.lookup(p);
      if (best) return { added: false, id: best.id, score: best.score };
      // After many conflicts in a row (a very hot bucket), add unchecked: a rare double entry is
      // cheaper than a worker that never gets through.
      const r = await this.runAdd(id, p, keys, attempt < this.maxAttempts ? heads : null);
      if (r > 0) return { added: true, id };
      if (r === 0) return { added: false, id, score: 1 };
      await sleep(Math.random() * Math.min(attempt, 5));
    }
  }

  /**
   * Removes a question (answered, deleted or merged). The buckets come from `text` when given
   * (one round trip) and are checked against what was stored; otherwise from the stored terms.
   * Returns false when the id was not indexed.
   */
  async remove(id: string, text?: string | PreparedQuestion): Promise<boolean> {
    if (text !== undefined) {
      const p = toPrepared(text);
      const r = await this.evalScript('remove', [this.kQ, this.kId, ...this.bucketKeys(p)], [id, payloadOf(p)]);
      if (r !== -1) return r === 1;
    }
    const raw = (await this.evalScript('get', [this.kQ, this.kId], [id])) as string | null;
    if (raw === null) return false;
    const parsed = parsePayload(raw);
    if (!parsed) return false;
    const p = withMinHash(parsed.prep);
    return (await this.evalScript('remove', [this.kQ, this.kId, ...this.bucketKeys(p)], [id, ''])) === 1;
  }

  /** Number of indexed questions. */
  async size(): Promise<number> {
    return this.redis.hlen(this.kId);
  }

  /**
   * Deletes the index: every bucket named by a stored question (recomputed from its stored terms,
   * so the cost is O(questions in this index), not O(keys in Redis)), then the hashes and the
   * counter. Use the same bands/rows as the adds. Returns the number of keys deleted.
   */
  async clear(): Promise<number> {
    let cursor = '0';
    let n = 0;
    do {
      const [next, kv] = await this.redis.hscan(this.kQ, cursor, 'COUNT', 1000);
      cursor = next;
      const keys = new Set<string>();
      for (let i = 1; i < kv.length; i += 2) {
        const parsed = parsePayload(kv[i]!);
        if (parsed) for (const k of this.bucketKeys(withMinHash(parsed.prep))) keys.add(k);
      }
      // Buckets shared with questions of later HSCAN pages are simply already gone by then.
      if (keys.size) n += await this.redis.unlink(...keys);
    } while (cursor !== '0');
    n += await this.redis.unlink(this.kQ, this.kId, this.kSeq);
    this.cache.clear();
    return n;
  }

  // -------------------------------------------------------------------------------------------

  private async lookup(p: PreparedQuestion): Promise<Lookup> {
    const keys = this.bucketKeys(p);
    if (!keys.length) return { best: null, keys, heads: [] };
    // One MGET: buckets are plain strings under one hash tag, so no pipeline object is needed and
    // the reply is one bulk string per bucket.
    const values = await this.redis.mget(...keys);
    const heads: string[] = [];
    // How many of this question's buckets each candidate shares: the LSH estimate of overlap.
    const counts = new Map<string, number>();
    const span = this.cap * SEQ_WIDTH;
    for (const v of values) {
      if (!v) {
        heads.push('');
        continue;
      }
      heads.push(v.slice(-SEQ_WIDTH));
      // Newest first, so that among equal counts the most recent questions are kept.
      const stop = Math.max(0, v.length - span);
      for (let end = v.length; end - SEQ_WIDTH >= stop; end -= SEQ_WIDTH) {
        const seq = v.slice(end - SEQ_WIDTH, end);
        counts.set(seq, (counts.get(seq) ?? 0) + 1);
      }
    }
    if (counts.size === 0) return { best: null, keys, heads };
    const chosen = this.topCandidates(counts);
    const missing = chosen.filter((s) => !this.cache.has(s));
    if (missing.length) {
      const vals = await this.redis.hmget(this.kQ, ...missing);
      for (const [i, raw] of vals.entries()) {
        if (raw === null) continue; // removed between the two round trips
        const parsed = parsePayload(raw);
        if (parsed) this.remember(missing[i]!, parsed);
      }
    }
    let best: DuplicateMatch | null = null;
    for (const s of chosen) {
      const c = this.cache.get(s);
      if (!c) continue;
      const floor = best ? best.score : this.threshold;
      // Null when it cannot reach the floor: most candidates are rejected before the trigram and word look-ups.
      const score = similarityAtLeast(p, c.prep, floor, this.scorer);
      if (score !== null && (!best || score > best.score)) best = { id: c.id, score };
    }
    return { best, keys, heads };
  }

  // Candidates sharing the most buckets first; counts are small integers, so bucket them instead of sorting.
  private topCandidates(counts: Map<string, number>): string[] {
    if (counts.size <= this.maxCandidates) return [...counts.keys()];
    const byCount: string[][] = [];
    for (const [s, c] of counts) (byCount[c] ??= []).push(s);
    const out: string[] = [];
    for (let c = byCount.length - 1; c >= 1 && out.length < this.maxCandidates; c--) {
      for (const s of byCount[c] ?? []) {
        out.push(s);
        if (out.length >= this.maxCandidates) break;
      }
    }
    return out;
  }

  private remember(seq: string, v: { id: string; prep: PreparedText }): void {
    if (this.cache.size >= this.cacheSize) {
      // Drop the oldest tenth in insertion order: cheap, and old questions are the least likely candidates.
      let n = Math.ceil(this.cacheSize / 10);
      for (const k of this.cache.keys()) {
        this.cache.delete(k);
        if (--n <= 0) break;
      }
    }
    this.cache.set(seq, v);
  }

  private addCall(id: string, p: PreparedQuestion, buckets: string[], heads: string[] | null): { keys: string[]; argv: (string | number)[] } {
    if (id.includes(SEP)) throw new Error('question id must not contain \\x1f');
    const seqBase = 1 + Math.floor(Math.random() * 2 ** 45);
    return { keys: [this.kSeq, this.kQ, this.kId, ...buckets], argv: [id, payloadOf(p), this.cap, heads ? '1' : '0', seqBase, ...(heads ?? [])] };
  }

  private async runAdd(id: string, p: PreparedQuestion, buckets: string[], heads: string[] | null): Promise<number> {
    const c = this.addCall(id, p, buckets, heads);
    return Number(await this.evalScript('add', c.keys, c.argv));
  }

  // addMany sends EVALSHAs in one pipeline, where a NOSCRIPT cannot fall back per call: load the scripts first.
  private ensureScripts(): Promise<void> {
    this.scriptsLoaded ??= Promise.all(Object.values(SCRIPTS).map((s) => this.redis.script('LOAD', s))).then(() => undefined);
    return this.scriptsLoaded;
  }

  private evalScript(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    return evalScript(this.redis, SCRIPTS[name], keys, args);
  }
}

/** The feature's public surface in one import: threshold and scoring, question detection. */
export { DEFAULT_DUPLICATE_THRESHOLD, similarity, isSameQuestion } from './similarity.js';
/** Question detection (see detect.ts). */
export { isQuestion } from './detect.js';
