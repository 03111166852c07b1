/** `townhall eval threads|summaries|duplicates|merge`: quality metrics on labelled data (contract §8). */
import { Presets, SingleBar } from 'cli-progress';
import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load.js';

/** Runs one evaluation and prints the JSON (alone with --json, after a readable line otherwise). */
export async function evalCommand(kind: 'threads' | 'summaries' | 'duplicates' | 'merge', o: { data: string; json?: boolean; predictions?: string; method: string }): Promise<void> {
  if (!existsSync(o.data)) throw new Error(`no such data file: ${o.data}`);
  const bar = process.stderr.isTTY ? new SingleBar({ format: ` eval ${kind} {bar} {value}/{total}`, stream: process.stderr, hideCursor: true }, Presets.shades_classic) : null;
  let started = false;
  const onProgress = (done: number, total: number) => {
    if (!bar) return;
    if (!started) {
      bar.start(total, 0);
      started = true;
    }
    bar.setTotal(total);
    bar.update(done);
  };
  const extra = o.predictions ? { predictions: o.predictions } : {};
  let result: object;
  try {
    if (kind === 'threads') {
      const { evalThreads } = await import('../features/threads/eval.js');
      result = await evalThreads({ data: o.data, onProgress, ...extra });
    } else if (kind === 'summaries') {
      const { evalSummaries } = await import('../features/digest/eval.js');
      const method = o.method as 'extractive' | 'lead3' | 'longest3' | 'llm';
      if (!['extractive', 'lead3', 'longest3', 'llm'].includes(method)) throw new Error(`unknown --method ${o.method}: extractive, lead3, longest3 or llm`);
      let provider;
      if (method === 'llm') {
        const { config, env } = loadConfig();
        if (!config.digest.llm) throw new Error('--method llm needs digest.llm in the config (baseUrl, model) and LLM_API_KEY');
        const { LlmSummaryProvider } = await import('../features/digest/llm.js');
        provider = new LlmSummaryProvider({ ...config.digest.llm, ...(env.LLM_API_KEY ? { apiKey: env.LLM_API_KEY } : {}) });
      }
      result = await evalSummaries({ data: o.data, method, onProgress, ...extra, ...(provider ? { provider } : {}) });
    } else if (kind === 'merge') {
      result = await evalMergeCommand(o.data, onProgress, o.predictions);
    } else {
      const { evalDuplicates } = await import('../features/questions/eval.js');
      const { DEFAULT_DUPLICATE_THRESHOLD } = await import('../features/questions/similarity.js');
      const { config } = loadConfig();
      result = await evalDuplicates({ data: o.data, threshold: config.ama.duplicateThreshold ?? DEFAULT_DUPLICATE_THRESHOLD, onProgress, ...extra });
    }
  } finally {
    if (started) bar?.stop();
  }
  if (!o.json) console.log(`eval ${kind} on ${o.data}:`);
  console.log(JSON.stringify(result));
}

// Merge is scored through the real AMA intake, so it needs Redis (found or started like the tests' throwaway one).
async function evalMergeCommand(data: string, onProgress: (d: number, t: number) => void, predictions?: string): Promise<object> {
  const { openRuntime } = await import('../app/runtime.js');
  const { quietLogger } = await import('../log.js');
  const { evalMerge } = await import('../features/ama/eval-merge.js');
  const { configureQuestionEmbeddings } = await import('../features/ama/embeddings.js');
  const rt = await openRuntime({ spawn: 'throwaway', log: quietLogger() });
  try {
    configureQuestionEmbeddings(rt.config, rt.env, rt.log);
    return await evalMerge(rt.deps, { data, onProgress, ...(predictions ? { predictions } : {}) });
  } finally {
    await rt.close();
  }
}
