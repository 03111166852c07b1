/**
 * Offline summary evaluation: reads a JSONL file of dialogues with reference summaries (SAMSum, DialogSum, or our
 * own exports), summarizes each with the chosen method, and reports mean ROUGE-1/2/L F1 in percent.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { lead3, longest3, parseDialogue, summarizeExtractive } from './extractive.js';
import type { ChatLine } from './extractive.js';
import type { SummaryProvider } from './llm.js';
import { rougeTokenize, rougeL, rougeN } from './rouge.js';

/** Summary methods `evalSummaries` can run. */
export type EvalMethod = 'extractive' | 'lead3' | 'longest3' | 'llm';

/** Options of `evalSummaries`. */
export interface EvalOptions {
  /** Path of a JSONL file: `{dialogue, summary}` or `{dialogue, summary1, summary2, summary3}` per line. */
  data: string;
  /** When set, one `{"summary": "..."}` line per input record, in input order, is written here. */
  predictions?: string;
  /** Default 'llm' when a provider is given, else 'extractive'. */
  method?: EvalMethod;
  onProgress?: (done: number, total: number) => void;
  /** Used by method 'llm' (its own fallback still applies). */
  provider?: SummaryProvider;
}

/** Mean F1 in percent over all records, and how many records were scored. */
export interface EvalResult {
  rouge1: number;
  rouge2: number;
  rougeL: number;
  n: number;
}

interface EvalRecord {
  lines: ChatLine[];
  refs: string[];
}

function parseRecords(text: string, file: string): EvalRecord[] {
  const out: EvalRecord[] = [];
  const rows = text.split(/\r?\n/);
  rows.forEach((row, i) => {
    if (row.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(row);
    } catch {
      throw new Error(`${file}:${i + 1}: not valid JSON`);
    }
    const r = rec as Record<string, unknown>;
    if (typeof r.dialogue !== 'string') throw new Error(`${file}:${i + 1}: missing string field "dialogue"`);
    const refs: string[] = [];
    if (typeof r.summary === 'string') refs.push(r.summary);
    for (const k of ['summary1', 'summary2', 'summary3']) if (typeof r[k] === 'string') refs.push(r[k] as string);
    if (refs.length === 0) throw new Error(`${file}:${i + 1}: no reference ("summary" or "summary1".."summary3")`);
    out.push({ lines: parseDialogue(r.dialogue), refs });
  });
  return out;
}

/** Summarizes every record of `data` and returns mean ROUGE-1/2/L F1 (percent; multiple references are averaged). */
export async function evalSummaries(opts: EvalOptions): Promise<EvalResult> {
  const method: EvalMethod = opts.method ?? (opts.provider ? 'llm' : 'extractive');
  if (method === 'llm' && !opts.provider) throw new Error("method 'llm' needs a provider");
  const records = parseRecords(await readFile(opts.data, 'utf8'), opts.data);
  const total = records.length;
  const preds: string[] = [];
  let r1 = 0;
  let r2 = 0;
  let rl = 0;
  for (let i = 0; i < total; i++) {
    const rec = records[i] as EvalRecord;
    let pred: string;
    if (method === 'lead3') pred = lead3(rec.lines);
    else if (method === 'longest3') pred = longest3(rec.lines);
    else if (method === 'llm') pred = (await (opts.provider as SummaryProvider).summarize(rec.lines)).text;
    else pred = summarizeExtractive(rec.lines);
    preds.push(pred);
    // Tokenize the prediction once and score it against each reference; the mean over references is the contract.
    const p = rougeTokenize(pred);
    let a = 0;
    let b = 0;
    let c = 0;
    for (const ref of rec.refs) {
      const t = rougeTokenize(ref);
      a += rougeN(t, p, 1).f1;
      b += rougeN(t, p, 2).f1;
      c += rougeL(t, p).f1;
    }
    r1 += a / rec.refs.length;
    r2 += b / rec.refs.length;
    rl += c / rec.refs.length;
    opts.onProgress?.(i + 1, total);
  }
  if (opts.predictions !== undefined) {
    await writeFile(opts.predictions, preds.map((s) => JSON.stringify({ summary: s })).join('\n') + (preds.length ? '\n' : ''), 'utf8');
  }
  // Two decimals: enough to compare systems, and the JSON line stays readable.
  const pct = (x: number): number => (total === 0 ? 0 : Math.round((10_000 * x) / total) / 100);
  return { rouge1: pct(r1), rouge2: pct(r2), rougeL: pct(rl), n: total };
}
