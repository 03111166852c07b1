/** The one place the AMA talks to the duplicate-question index (src/features/questions): one index per AMA. */
import { isQuestion } from '../questions/detect.js';
import { DEFAULT_DUPLICATE_THRESHOLD, QuestionIndex, type IndexAddParts } from '../questions/index.js';
import type { AmaEnv } from './store.js';

export { isQuestion };

/** The index operations intake needs, keyed by question number. */
export interface AmaDupIndex {
  findDuplicate(text: string): Promise<{ n: number; score: number } | null>;
  /** The duplicate (or null) and what the create script needs to index the question if it is new. */
  lookupForAdd(text: string): Promise<{ dup: { n: number; score: number } | null; add: IndexAddParts }>;
  add(n: number, text: string): Promise<void>;
  /** Indexes many questions in one pipeline (bulk loads, the benchmark). */
  addMany(items: { n: number; text: string }[]): Promise<void>;
  remove(n: number): Promise<void>;
}

/** The configured merge threshold (config `ama.duplicateThreshold`, else the index's default). */
export function duplicateThreshold(env: AmaEnv): number {
  return env.deps.config.ama.duplicateThreshold ?? DEFAULT_DUPLICATE_THRESHOLD;
}

/** How many AMAs' index objects a process keeps (each caches parsed candidates; correctness never depends on it). */
const KEPT = 64;

/** The Redis key prefix of an AMA's index. */
export function indexPrefix(env: AmaEnv, amaId: string): string {
  return `${env.k.keys.k('ama', amaId, 'dedup')}:`;
}

/** The duplicate index of one AMA. */
export function amaIndex(env: AmaEnv, amaId: string, threshold?: number): AmaDupIndex {
  const t = threshold ?? duplicateThreshold(env);
  const cacheKey = `${amaId}@${t}`;
  let index = env.indexes.get(cacheKey);
  if (!index) {
    if (env.indexes.size >= KEPT) env.indexes.delete(env.indexes.keys().next().value!);
    index = new QuestionIndex(env.deps.redis, indexPrefix(env, amaId), { threshold: t });
    env.indexes.set(cacheKey, index);
  }
  const idx = index;
  return {
    async findDuplicate(text) {
      const hit = await idx.findDuplicate(text);
      return hit ? { n: Number(hit.id), score: hit.score } : null;
    },
    async lookupForAdd(text) {
      const { best, add } = await idx.lookupForAdd(text);
      return { dup: best ? { n: Number(best.id), score: best.score } : null, add };
    },
    async add(n, text) {
      await idx.add(String(n), text);
    },
    async addMany(items) {
      await idx.addMany(items.map((it) => ({ id: String(it.n), text: it.text })));
    },
    async remove(n) {
      await idx.remove(String(n));
    },
  };
}
