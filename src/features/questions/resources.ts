/**
 * The language resources similarity reads (WordNet, bilingual dictionaries), loaded once per process before the
 * first question is compared. Until they are loaded, `prepareText` still works on words alone (no pivots, no
 * synonyms), so every caller that decides merges awaits this first.
 */
import { DEFAULT_DICT_DIR, loadPivots, pivotLanguages } from '../language/pivot.js';
import { collectGarbage } from '../language/gc.js';
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

/** Loads everything once per process (~3 s, ~25 MB of heap once loaded); later calls return the first load's figures. */
export function loadSimilarityResources(opts: { dictDir?: string } = {}): Promise<ResourcesLoad> {
  loaded ??= (async () => {
    const t0 = performance.now();
    const heap0 = process.memoryUsage().heapUsed;
    // One after the other with a collection between: the peak is then the larger step, not the sum of both.
    await loadWordNet();
    collectGarbage();
    await loadPivots(opts.dictDir ?? DEFAULT_DICT_DIR);
    collectGarbage();
    return { ms: Math.round(performance.now() - t0), heapMb: Math.round((process.memoryUsage().heapUsed - heap0) / 1e5) / 10, pivots: pivotLanguages() };
  })();
  return loaded;
}
