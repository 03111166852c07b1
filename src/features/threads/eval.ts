/**
 * Evaluation of reply-link predictions with the metrics of Kummerfeld et al. (ACL 2019), matching
 * the original tools in github.com/jkkummerfeld/irc-disentanglement:
 * - tools/evaluation/graph-eval.py: link P/R/F over (child, parent) pairs, a self pair for starts;
 * - tools/format_conversion/graph_to_cluster.py: conversations = connected components of the link
 *   graph (context messages included while joining), then restricted to messages >= the first
 *   annotated one;
 * - tools/evaluation/conversation-eval.py: 1 - VI / log2(n) (n = all points of all logs, pooled),
 *   one-to-one overlap (max-weight matching of clusters), exact-match P/R/F over clusters with more
 *   than one message.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { goldParents, readRecords, recordToMessages } from './irc.js';
import type { IrcRecord } from './irc.js';
import { ThreadLinker } from './model.js';
import type { CompiledModel } from './model.js';
import type { ThreadWeights } from './types.js';

/** A [parent, child] pair; parent === child marks the start of a conversation. */
export type Link = [number, number];

/** The links of one log plus the first annotated message (the cluster cut-off). */
export interface LogGraph {
  from: number;
  links: readonly Link[];
}

/** Link and conversation metrics, in percent. */
export interface ThreadScores {
  link: { p: number; r: number; f: number };
  conv: { vi: number; one_to_one: number; p: number; r: number; f: number };
}

function prf(matched: number, gold: number, auto: number): { p: number; r: number; f: number } {
  const p = auto > 0 ? (100 * matched) / auto : 0;
  const r = gold > 0 ? (100 * matched) / gold : 0;
  const f = matched > 0 ? (2 * p * r) / (p + r) : 0;
  return { p, r, f };
}

function pairKeys(links: readonly Link[]): Set<string> {
  const s = new Set<string>();
  for (const [a, b] of links) s.add(`${Math.max(a, b)} ${Math.min(a, b)}`);
  return s;
}

/** Link precision/recall/F over the (child, parent) pairs of each log (graph-eval.py). */
export function linkScores(gold: readonly LogGraph[], auto: readonly LogGraph[]): { p: number; r: number; f: number } {
  let g = 0;
  let a = 0;
  let m = 0;
  for (let i = 0; i < gold.length; i++) {
    const gs = pairKeys(gold[i]?.links ?? []);
    const as = pairKeys(auto[i]?.links ?? []);
    g += gs.size;
    a += as.size;
    for (const k of as) if (gs.has(k)) m++;
  }
  return prf(m, g, a);
}

/** Connected components of a log's link graph, keeping only messages >= from (graph_to_cluster.py). */
export function conversations(graph: LogGraph): number[][] {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r) as number;
    // Path compression keeps long chains cheap.
    let y = x;
    while (y !== r) {
      const nx = parent.get(y) as number;
      parent.set(y, r);
      y = nx;
    }
    return r;
  };
  const add = (x: number): void => {
    if (!parent.has(x)) parent.set(x, x);
  };
  for (const [a, b] of graph.links) {
    add(a);
    add(b);
  }
  for (const [a, b] of graph.links) {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  }
  const groups = new Map<number, number[]>();
  for (const x of parent.keys()) {
    if (x < graph.from) continue;
    const r = find(x);
    const g = groups.get(r);
    if (g) g.push(x);
    else groups.set(r, [x]);
  }
  return [...groups.values()].map((g) => g.sort((x, y) => x - y));
}

/** Overlap counts between auto (rows) and gold (cols) clusters of one log. */
function contingency(auto: number[][], gold: number[][]): Map<number, number>[] {
  const where = new Map<number, number>();
  gold.forEach((g, j) => g.forEach((v) => where.set(v, j)));
  return auto.map((a) => {
    const row = new Map<number, number>();
    for (const v of a) {
      const j = where.get(v);
      if (j !== undefined) row.set(j, (row.get(j) ?? 0) + 1);
    }
    return row;
  });
}

/** Max total weight of a one-to-one assignment of rows to columns (Hungarian algorithm, dense). */
export function maxWeightMatching(w: readonly (readonly number[])[], nCols: number): number {
  const transpose = w.length > nCols;
  const n = transpose ? nCols : w.length;
  const m = transpose ? w.length : nCols;
  if (n === 0) return 0;
  const cost = (i: number, j: number): number => -(transpose ? (w[j]?.[i] ?? 0) : (w[i]?.[j] ?? 0));
  // e-maxx formulation, 1-based, minimising cost.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0] as number;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - (u[i0] as number) - (v[j] as number);
        if (cur < (minv[j] as number)) {
          minv[j] = cur;
          way[j] = j0;
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j] as number] = (u[p[j] as number] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else minv[j] = (minv[j] as number) - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0] as number;
      p[j0] = p[j1] as number;
      j0 = j1;
    } while (j0 !== 0);
  }
  let total = 0;
  for (let j = 1; j <= m; j++) {
    const i = p[j] as number;
    if (i > 0) total -= cost(i - 1, j - 1);
  }
  return total;
}

/** All metrics of the paper for gold vs auto graphs (same log order in both lists). */
export function scoreGraphs(gold: readonly LogGraph[], auto: readonly LogGraph[]): ThreadScores {
  const link = linkScores(gold, auto);
  let total = 0;
  let hUV = 0;
  let iUVnum = 0;
  const cells: { n: number; r: number; c: number }[] = [];
  let overlap = 0;
  let exGold = 0;
  let exAuto = 0;
  let exMatched = 0;
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i];
    const a = auto[i];
    if (!g || !a) continue;
    const gc = conversations(g);
    const ac = conversations({ from: g.from, links: a.links });
    const table = contingency(ac, gc);
    table.forEach((row, r) => {
      const rs = ac[r]?.length ?? 0;
      for (const [c, n] of row) cells.push({ n, r: rs, c: gc[c]?.length ?? 0 });
    });
    for (const x of ac) total += x.length;
    // One-to-one: dense weights per log (clusters of different logs never overlap).
    const dense = table.map((row) => {
      const arr = new Array<number>(gc.length).fill(0);
      for (const [c, n] of row) arr[c] = n;
      return arr;
    });
    overlap += maxWeightMatching(dense, gc.length);
    // Exact match over clusters with more than one message.
    const autoKeys = new Set(ac.filter((x) => x.length > 1).map((x) => x.join(' ')));
    exAuto += autoKeys.size;
    for (const x of gc) {
      if (x.length <= 1) continue;
      exGold++;
      if (autoKeys.has(x.join(' '))) exMatched++;
    }
  }
  for (const { n, r, c } of cells) {
    hUV -= (n / total) * Math.log2(n / total);
    iUVnum += (n / total) * Math.log2((n * total) / (r * c));
  }
  const vi = total > 1 ? 100 - (100 * (hUV - iUVnum)) / Math.log2(total) : 100;
  const ex = prf(exMatched, exGold, exAuto);
  return { link, conv: { vi, one_to_one: total > 0 ? (100 * overlap) / total : 0, p: ex.p, r: ex.r, f: ex.f } };
}

/** Gold graph of a corpus record. */
export function goldGraph(rec: IrcRecord): LogGraph {
  return { from: rec.annotated_from, links: rec.links.map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as Link) };
}

/** The paper's "Previous" baseline: link to the last non-system message; system lines start one. */
export function previousBaseline(rec: IrcRecord): LogGraph {
  const lines = rec.messages_ascii;
  const links: Link[] = [];
  for (let i = rec.annotated_from; i <= rec.annotated_to; i++) {
    if ((lines[i] ?? '').startsWith('===')) {
      links.push([i, i]);
      continue;
    }
    let j = i - 1;
    while (j >= 0 && (lines[j] ?? '').startsWith('===')) j--;
    links.push([j >= 0 ? j : i, i]);
  }
  return { from: rec.annotated_from, links };
}

/** Options of the model run over a record. */
export interface PredictOptions {
  window?: number;
  weights?: ThreadWeights | CompiledModel;
  topK?: number;
}

/** Run the online model over a whole log (context + annotated span); links for the annotated span. */
export function predictRecord(rec: IrcRecord, opts: PredictOptions = {}): LogGraph {
  const linker = new ThreadLinker({
    ...(opts.window !== undefined ? { window: opts.window } : {}),
    ...(opts.weights !== undefined ? { weights: opts.weights } : {}),
    ...(opts.topK !== undefined ? { topK: opts.topK } : {}),
  });
  const msgs = recordToMessages(rec.messages_ascii);
  const links: Link[] = [];
  const end = Math.min(rec.annotated_to, msgs.length - 1);
  for (let i = 0; i <= end; i++) {
    const m = msgs[i];
    if (!m) continue;
    const r = linker.add(m);
    if (i >= rec.annotated_from) links.push([r.parent === null ? i : Number(r.parent), i]);
  }
  return { from: rec.annotated_from, links };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Round every metric to one decimal. */
export function roundScores(s: ThreadScores): ThreadScores {
  return {
    link: { p: round1(s.link.p), r: round1(s.link.r), f: round1(s.link.f) },
    conv: {
      vi: round1(s.conv.vi),
      one_to_one: round1(s.conv.one_to_one),
      p: round1(s.conv.p),
      r: round1(s.conv.r),
      f: round1(s.conv.f),
    },
  };
}

/** Score a predictor (default: the fitted model) on a corpus file; optionally write its links. */
export async function evalThreads(opts: {
  data: string;
  predictions?: string;
  onProgress?: (done: number, total: number) => void;
  window?: number;
  predictor?: (rec: IrcRecord) => LogGraph;
}): Promise<ThreadScores> {
  const recs = readRecords(opts.data);
  const predict = opts.predictor ?? ((r: IrcRecord) => predictRecord(r, opts.window !== undefined ? { window: opts.window } : {}));
  const gold: LogGraph[] = [];
  const auto: LogGraph[] = [];
  const lines: string[] = [];
  for (let i = 0; i < recs.length; i++) {
    const rec = recs[i] as IrcRecord;
    gold.push(goldGraph(rec));
    const a = predict(rec);
    auto.push(a);
    const id = rec.id ?? `${basename(opts.data)}:${i}`;
    lines.push(JSON.stringify({ id, links: a.links }));
    opts.onProgress?.(i + 1, recs.length);
    // Yield so progress callbacks and timers run between logs.
    await new Promise<void>((res) => setImmediate(res));
  }
  if (opts.predictions !== undefined) writeFileSync(opts.predictions, lines.join('\n') + '\n');
  return roundScores(scoreGraphs(gold, auto));
}

export { goldParents, readRecords, recordToMessages };
export type { IrcRecord };
