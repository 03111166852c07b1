/**
 * The one place the AMA talks to the duplicate-question index (src/features/questions): one index per AMA.
 *
 * The index holds one entry per ask, not per question: a new question is compared with every way it was already
 * asked (its first text and each ask merged into it since), so a question asked in English, then Spanish, then in
 * other words keeps drawing the asks that resemble any of them. An entry id is `<n>` for the text that opened
 * question n and `<n>.<tag>` for an ask merged into it; a candidate resolves to its question through the number.
 */
import { isQuestion } from '../questions/detect.js';
import { DEFAULT_DUPLICATE_THRESHOLD, prepare, QuestionIndex, type IndexAddParts, type PreparedQuestion } from '../questions/index.js';
import type { ScorerWeights } from '../questions/scorer.js';
import type { AmaEnv } from './store.js';

export { isQuestion };

/** The index operations intake needs, keyed by index entry (see the module comment). */
export interface AmaDupIndex {
  findDuplicate(text: string | PreparedQuestion): Promise<{ n: number; score: number } | null>;
  /** The duplicate (or null) and what the create script needs to index the question if it is new. */
  lookupForAdd(text: string | PreparedQuestion): Promise<{ dup: { n: number; score: number } | null; add: IndexAddParts }>;
  /** Indexes a text under an entry id (a question number, or `<n>.<tag>` for an ask of question n). */
  add(entry: string | number, text: string | PreparedQuestion): Promise<void>;
  /** Indexes many questions in one pipeline (bulk loads, the benchmark). */
  addMany(items: { n: number; text: string }[]): Promise<void>;
  remove(entry: string | number): Promise<void>;
}

/** The question an index entry belongs to. */
export function entryQuestion(entry: string): number {
  return Number.parseInt(entry, 10);
}

/** The entry id of an ask merged into question n; `tag` is unique per ask (derived from the asking event). */
export function askEntry(n: number, tag: string): string {
  return `${n}.${tag}`;
}

/** The configured merge threshold (config `ama.duplicateThreshold`, else the fitted default). */
export function duplicateThreshold(env: AmaEnv): number {
  return env.deps.config.ama.duplicateThreshold ?? DEFAULT_DUPLICATE_THRESHOLD;
}

/** How many AMAs' index objects a process keeps (each caches parsed candidates; correctness never depends on it). */
const KEPT = 64;

/** The Redis key prefix of an AMA's index. */
export function indexPrefix(env: AmaEnv, amaId: string): string {
  return `${env.k.keys.k('ama', amaId, 'dedup')}:`;
}

/** The duplicate index of one AMA (`scorer` only for the fitting script's cross-validation). */
export function amaIndex(env: AmaEnv, amaId: string, threshold?: number, scorer?: ScorerWeights): AmaDupIndex {
  const t = threshold ?? duplicateThreshold(env);
  const cacheKey = `${amaId}@${t}${scorer ? `@${JSON.stringify(scorer)}` : ''}`;
  let index = env.indexes.get(cacheKey);
  if (!index) {
    if (env.indexes.size >= KEPT) env.indexes.delete(env.indexes.keys().next().value!);
    index = new QuestionIndex(env.deps.redis, indexPrefix(env, amaId), { threshold: t, ...(scorer ? { scorer } : {}) });
    env.indexes.set(cacheKey, index);
  }
  const idx = index;
  const hit = (h: { id: string; score: number } | null) => (h ? { n: entryQuestion(h.id), score: h.score } : null);
  return {
    async findDuplicate(text) {
      return hit(await idx.findDuplicate(text));
    },
    async lookupForAdd(text) {
      const { best, add } = await idx.lookupForAdd(text);
      return { dup: hit(best), add };
    },
    async add(entry, text) {
      await idx.add(String(entry), text);
    },
    async addMany(items) {
      await idx.addMany(items.map((it) => ({ id: String(it.n), text: prepare(it.text) })));
    },
    async remove(entry) {
      await idx.remove(String(entry));
    },
  };
}
