/**
 * How intake prepares a question for merging: language resources loaded once, and a sentence embedding from the
 * configured endpoint (`ama.embeddings`) when there is one. The provider is set once per process by the app (it
 * holds the key from the environment); without it, or when it fails, questions are compared offline.
 */
import type { Config, Env } from '../../../config/schema.js';
import type { Logger } from 'pino';
import { prepare, type PreparedQuestion } from '../questions/index.js';
import { loadSimilarityResources } from '../questions/resources.js';
import { EndpointEmbeddings, OfflineEmbeddings, type EmbeddingsProvider } from '../questions/embeddings.js';
import { SCORER, type ScorerWeights } from '../questions/scorer.js';
import type { AmaEnv } from './store.js';

let provider: EmbeddingsProvider | null = null;
let offline: OfflineEmbeddings | null = null;

/** Sets (or clears) the process's embeddings endpoint; the app calls it once at start when `ama.embeddings` is configured. */
export function useQuestionEmbeddings(p: EmbeddingsProvider | null): void {
  provider = p;
}

/** The process's offline sentence model (one per process, loaded on first use). */
export function offlineEmbeddings(): OfflineEmbeddings {
  offline ??= new OfflineEmbeddings();
  return offline;
}

/** Turns on the configured embeddings endpoint (`ama.embeddings`, key EMBEDDINGS_API_KEY) for this process; off when unset. */
export function configureQuestionEmbeddings(config: Config, env: Env, log: Logger): void {
  const c = config.ama.embeddings;
  if (!c) return useQuestionEmbeddings(null);
  useQuestionEmbeddings(
    new EndpointEmbeddings({
      baseUrl: c.baseUrl,
      model: c.model,
      timeoutMs: c.timeoutMs,
      ...(env.EMBEDDINGS_API_KEY ? { apiKey: env.EMBEDDINGS_API_KEY } : {}),
      onFallback: (reason) => log.warn({ reason }, 'question embeddings failed; comparing offline'),
    }),
  );
}

/**
 * Loads what merging reads (language resources, and the offline model when `ama.offlineEmbeddings` is on) before a
 * worker takes events, so the first question does not wait ~4 s and a benchmark does not time the load.
 */
export async function warmUpMerging(deps: { config: Config }): Promise<{ resourcesMs: number; modelMs: number | null }> {
  const dir = deps.config.ama.dictionaries;
  const r = await loadSimilarityResources(dir ? { dictDir: dir } : {});
  const modelMs = deps.config.ama.offlineEmbeddings ? await offlineEmbeddings().load() : null;
  return { resourcesMs: r.ms, modelMs };
}

/** Where the language resources come from (`ama.dictionaries`: the directory of the FreeDict dictd files). */
export function similarityResourceOptions(env: AmaEnv): { dictDir?: string } {
  const dir = env.deps.config.ama.dictionaries;
  return dir ? { dictDir: dir } : {};
}

/**
 * A question's features for the index, with a sentence embedding: from the endpoint when one is configured (any
 * language), else — or when it fails — from the offline English model (`ama.offlineEmbeddings`), which reads the
 * English rendering of a question in another language.
 */
export async function prepareQuestion(env: AmaEnv, text: string): Promise<PreparedQuestion> {
  const p = prepare(text);
  const api = provider ? await provider.embed(text) : null;
  if (api) return Object.assign(p, { vec: api, vecKind: 'api' });
  if (!env.deps.config.ama.offlineEmbeddings) return p;
  const english = p.lang === 'en' || p.lang === 'und' ? text : p.norm;
  const vec = await offlineEmbeddings().embed(english);
  return vec ? Object.assign(p, { vec, vecKind: 'use' }) : p;
}

/** The scorer intake uses: the fitted one, plus the endpoint's merge cosine when embeddings are on. */
export function intakeScorer(env: AmaEnv, override?: ScorerWeights): ScorerWeights | undefined {
  const sameAbove = env.deps.config.ama.embeddings?.sameAbove;
  if (!provider || sameAbove === undefined) return override;
  return { ...(override ?? SCORER), cosineSameAbove: sameAbove };
}
