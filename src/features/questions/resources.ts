/**
 * The language resources similarity reads (language detector, WordNet, bilingual dictionaries), loaded once per
 * process before the first question is compared. Until they are loaded, `prepareText` still works on words alone
 * (no pivots, no synonyms, script-only language detection), so every caller that decides merges awaits this first.
 */
import { loadLanguageDetector } from '../language/detect.js';
import { DEFAULT_DICT_DIR, loadPivots, pivotLanguages } from '../language/pivot.js';
import { loadWordNet } from './wordnet.js';

/** What loading cost, for the benchmark's report. */
export interface ResourcesLoad {
  ms: number;
  /** Heap growth in MB (after a GC when the process exposes one). */
  heapMb: number;
  /** Languages with a dictionary pivot into English. */
  pivots: string[];
}

let loaded: Promise<ResourcesLoad> | null = null;

/** Loads everything once per process (~2-3 s, ~60-80 MB of heap); later calls return the first load's figures. */
export function loadSimilarityResources(opts: { dictDir?: string } = {}): Promise<ResourcesLoad> {
  loaded ??= (async () => {
    const t0 = performance.now();
    const heap0 = process.memoryUsage().heapUsed;
    await Promise.all([loadLanguageDetector(), loadWordNet(), loadPivots(opts.dictDir ?? DEFAULT_DICT_DIR)]);
    (globalThis as { gc?: () => void }).gc?.();
    return { ms: Math.round(performance.now() - t0), heapMb: Math.round((process.memoryUsage().heapUsed - heap0) / 1e5) / 10, pivots: pivotLanguages() };
  })();
  return loaded;
}
