/**
 * Fit the reply-link ("threads") model of src/features/threads on the Ubuntu IRC training split of
 * Kummerfeld et al. 2019 and write src/features/threads/weights.json.
 *
 *   npx tsx scripts/fit-threads.ts                 # defaults: 4 epochs, 3.7 min on the shared 2-core box
 *   npx tsx scripts/fit-threads.ts --epochs 6 --hidden 32 --topk 8 --window 100 --seed 1 --holdout 15
 *   (also --lr, --batch, --l2, --ema, and --refit 1 to refit on all logs for the chosen epoch count)
 *
 * Reads ONLY ../shared/data/irc-disentanglement/ubuntu.train.jsonl (dev is for reporting, see
 * src/features/threads/eval.ts). A seeded split of the training logs is held out for choosing the
 * epoch; everything is deterministic for a given seed. Training runs the same online ThreadLinker
 * code as production, so features (including those built from the model's own earlier links) are
 * computed exactly as they will be at run time.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { goldParents, readRecords, recordToMessages } from '../src/features/threads/irc.js';
import type { IrcRecord } from '../src/features/threads/irc.js';
import { goldGraph, linkScores, predictRecord, scoreGraphs, roundScores } from '../src/features/threads/eval.js';
import { FEATURE_NAMES, FIRST_CANDIDATE_FEATURE, NUM_FEATURES, ThreadLinker } from '../src/features/threads/model.js';
import type { CompiledModel } from '../src/features/threads/model.js';
import { IDF_BITS, contentWordKeys, encodeIdf, idfBucket, prepare, rawTokens } from '../src/features/threads/text.js';
import type { PreparedMessage, ThreadWeights } from '../src/features/threads/types.js';
import { seededRandom } from '../src/core/random.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TRAIN = `${ROOT}../shared/data/irc-disentanglement/ubuntu.train.jsonl`;
const OUT = `${ROOT}src/features/threads/weights.json`;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) ? v : def;
}
const EPOCHS = arg('epochs', 4);
const H = arg('hidden', 32);
const K = arg('topk', 8);
const WINDOW = arg('window', 100);
const SEED = arg('seed', 1);
const HOLDOUT = arg('holdout', 15);
const LR = arg('lr', 0.003);
const BATCH = arg('batch', 16);
const L2 = arg('l2', 1e-5);
const EMA = arg('ema', 0.999);
const REFIT = arg('refit', 0); // 1 = after choosing the epoch count, refit on all training logs

const rng = seededRandom;
function shuffle<T>(xs: T[], r: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
}
function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

interface Log {
  rec: IrcRecord;
  preps: PreparedMessage[];
  gold: Map<number, number[]>;
}

const t0 = Date.now();
const log = (s: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`);

const recs = readRecords(TRAIN);
log(`read ${recs.length} training logs`);

// IDF over all training messages (label-free), hashed into 2^IDF_BITS buckets.
const df = new Uint32Array(1 << IDF_BITS);
let nDocs = 0;
const msgsByLog = recs.map((r) => recordToMessages(r.messages_ascii));
for (const msgs of msgsByLog) {
  for (const m of msgs) {
    if (m.system) continue;
    nDocs++;
    const seen = new Set<number>();
    for (const k of contentWordKeys(rawTokens(m.text))) seen.add(idfBucket(k));
    for (const b of seen) df[b] = (df[b] ?? 0) + 1;
  }
}
const idfF = new Float32Array(df.length);
for (let b = 0; b < df.length; b++) idfF[b] = Math.min(15.9, Math.log((nDocs + 1) / ((df[b] ?? 0) + 1)));
const idfB64 = encodeIdf(idfF);
// Use the quantised table during training too, so training sees exactly what inference sees.
const idf = new Float32Array(idfF.length);
for (let b = 0; b < idf.length; b++) idf[b] = Math.round((idfF[b] ?? 0) * 16) / 16;
log(`idf from ${nDocs} messages`);

const logs: Log[] = recs.map((rec, i) => ({
  rec,
  preps: (msgsByLog[i] ?? []).map((m) => prepare(m, idf)),
  gold: goldParents(rec),
}));

const F = NUM_FEATURES;
const QF = FIRST_CANDIDATE_FEATURE;

class Params {
  lin = new Float32Array(F);
  w1t = new Float32Array(F * H);
  b1 = new Float32Array(H);
  w2 = new Float32Array(H);
  skip = new Float32Array(F);
  all(): Float32Array[] {
    return [this.lin, this.w1t, this.b1, this.w2, this.skip];
  }
  clone(): Params {
    const p = new Params();
    p.all().forEach((a, i) => a.set(this.all()[i] as Float32Array));
    return p;
  }
  model(): CompiledModel {
    return { F, H, K, lin: this.lin, w1t: this.w1t, b1: this.b1, w2: this.w2, skip: this.skip, idf };
  }
}

function init(r: () => number): Params {
  const p = new Params();
  const s = 1 / Math.sqrt(12); // ~12 active inputs per candidate
  for (let i = 0; i < p.w1t.length; i++) p.w1t[i] = gauss(r) * s;
  for (let h = 0; h < H; h++) p.w2[h] = gauss(r) * 0.1;
  return p;
}

// Adam, plus an exponential moving average of the parameters (Polyak averaging): the averaged
// weights are what we evaluate and ship, because single-epoch snapshots are noisy (+-0.4 F).
class Adam {
  m: Float64Array[];
  v: Float64Array[];
  t = 0;
  constructor(
    readonly params: Float32Array[],
    readonly avg: Float32Array[],
  ) {
    this.m = params.map((a) => new Float64Array(a.length));
    this.v = params.map((a) => new Float64Array(a.length));
    params.forEach((a, k) => (avg[k] as Float32Array).set(a));
  }
  step(grads: Float64Array[], lr: number): void {
    this.t++;
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    this.params.forEach((p, k) => {
      const g = grads[k] as Float64Array;
      const m = this.m[k] as Float64Array;
      const v = this.v[k] as Float64Array;
      for (let i = 0; i < p.length; i++) {
        const gi = (g[i] as number) + L2 * (p[i] as number);
        m[i] = b1 * (m[i] as number) + (1 - b1) * gi;
        v[i] = b2 * (v[i] as number) + (1 - b2) * gi * gi;
        p[i] = (p[i] as number) - (lr * ((m[i] as number) / c1)) / (Math.sqrt((v[i] as number) / c2) + 1e-8);
        g[i] = 0;
      }
      const a = this.avg[k] as Float32Array;
      // Warm-up so early averages are not dominated by the random init.
      const d = Math.min(EMA, (1 + this.t) / (10 + this.t));
      for (let i = 0; i < p.length; i++) a[i] = d * (a[i] as number) + (1 - d) * (p[i] as number);
    });
  }
}

/** One pass over `train` logs, updating `P` online; returns mean losses. */
function epoch(P: Params, opt: Adam, grads: Float64Array[], train: Log[], lr: number, r: () => number): string {
  const [gLin, gW1t, gB1, gW2, gSkip] = grads as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const model = P.model();
  let loss1 = 0;
  let loss2 = 0;
  let n1 = 0;
  let n2 = 0;
  let inBatch = 0;
  let miss = 0;
  const pre = new Float64Array((K + 1) * H);
  const sc = new Float64Array(K + 1);
  const rows = new Int32Array(K + 1);
  const dq = new Float64Array(H);
  for (const lg of shuffle([...train], r)) {
    const linker = new ThreadLinker({ window: WINDOW, weights: model, topK: K });
    const { rec, preps, gold } = lg;
    const end = Math.min(rec.annotated_to, preps.length - 1);
    for (let i = 0; i <= end; i++) {
      const p = preps[i] as PreparedMessage;
      if (i < rec.annotated_from) {
        linker.add(p);
        continue;
      }
      const n = linker.extract(p);
      const gp = gold.get(i) ?? [];
      // Gold rows: row 0 = self, row d = the message d lines back (seq === line number here).
      const goldRows = gp.map((g) => (g === i ? 0 : i - g)).filter((d) => d < n);
      const { rowStart, fIdx, fVal } = linker;

      // Stage 1: softmax over non-self candidates, linear.
      const g1 = goldRows.filter((d) => d > 0);
      if (g1.length > 0 && n > 2) {
        const s = new Float64Array(n);
        let mx = -Infinity;
        for (let c = 1; c < n; c++) {
          let v = 0;
          for (let k = rowStart[c] as number; k < (rowStart[c + 1] as number); k++) v += (P.lin[fIdx[k] as number] as number) * (fVal[k] as number);
          s[c] = v;
          if (v > mx) mx = v;
        }
        let z = 0;
        for (let c = 1; c < n; c++) z += Math.exp((s[c] as number) - mx);
        const tg = 1 / g1.length;
        for (let c = 1; c < n; c++) {
          let d = Math.exp((s[c] as number) - mx) / z;
          if (g1.includes(c)) {
            d -= tg;
            loss1 -= tg * ((s[c] as number) - mx - Math.log(z));
          }
          for (let k = rowStart[c] as number; k < (rowStart[c + 1] as number); k++) gLin[fIdx[k] as number] = (gLin[fIdx[k] as number] as number) + d * (fVal[k] as number);
        }
        n1++;
      }

      // Stage 2 over self + stage-1 picks (exactly the set inference scores).
      const { best } = linker.score(n);
      const m = linker.nPicks + 1;
      rows[0] = 0;
      for (let j = 1; j < m; j++) rows[j] = linker.pick[j - 1] as number;
      let gIn = 0;
      for (let j = 0; j < m; j++) if (goldRows.includes(rows[j] as number)) gIn++;
      if (goldRows.length > 0 && gIn === 0) miss++;
      if (gIn > 0) {
        // Forward in float64 (same math as ThreadLinker.netScore).
        const hq = new Float64Array(H);
        for (let h = 0; h < H; h++) hq[h] = P.b1[h] as number;
        for (let k = 0; k < linker.qN; k++) {
          const off = (linker.qIdx[k] as number) * H;
          const v = linker.qVal[k] as number;
          for (let h = 0; h < H; h++) hq[h] = (hq[h] as number) + (P.w1t[off + h] as number) * v;
        }
        let mx = -Infinity;
        for (let j = 0; j < m; j++) {
          const c = rows[j] as number;
          let s = 0;
          const o = j * H;
          for (let h = 0; h < H; h++) pre[o + h] = hq[h] as number;
          for (let k = rowStart[c] as number; k < (rowStart[c + 1] as number); k++) {
            const fi = fIdx[k] as number;
            const v = fVal[k] as number;
            s += (P.skip[fi] as number) * v;
            const off = fi * H;
            for (let h = 0; h < H; h++) pre[o + h] = (pre[o + h] as number) + (P.w1t[off + h] as number) * v;
          }
          for (let h = 0; h < H; h++) {
            const x = pre[o + h] as number;
            if (x > 0) s += x * (P.w2[h] as number);
          }
          sc[j] = s;
          if (s > mx) mx = s;
        }
        let z = 0;
        for (let j = 0; j < m; j++) z += Math.exp((sc[j] as number) - mx);
        const tg = 1 / gIn;
        dq.fill(0);
        for (let j = 0; j < m; j++) {
          const c = rows[j] as number;
          let d = Math.exp((sc[j] as number) - mx) / z;
          if (goldRows.includes(c)) {
            d -= tg;
            loss2 -= tg * ((sc[j] as number) - mx - Math.log(z));
          }
          if (d === 0) continue;
          const o = j * H;
          for (let h = 0; h < H; h++) {
            const x = pre[o + h] as number;
            if (x > 0) {
              gW2[h] = (gW2[h] as number) + d * x;
              dq[h] = (dq[h] as number) + d * (P.w2[h] as number);
            }
          }
          for (let k = rowStart[c] as number; k < (rowStart[c + 1] as number); k++) {
            const fi = fIdx[k] as number;
            const v = fVal[k] as number;
            gSkip[fi] = (gSkip[fi] as number) + d * v;
            const off = fi * H;
            for (let h = 0; h < H; h++) {
              if ((pre[o + h] as number) > 0) gW1t[off + h] = (gW1t[off + h] as number) + d * (P.w2[h] as number) * v;
            }
          }
        }
        // Shared parts (bias, query block) get the summed hidden gradient once.
        for (let h = 0; h < H; h++) gB1[h] = (gB1[h] as number) + (dq[h] as number);
        for (let k = 0; k < linker.qN; k++) {
          const off = (linker.qIdx[k] as number) * H;
          const v = linker.qVal[k] as number;
          for (let h = 0; h < H; h++) gW1t[off + h] = (gW1t[off + h] as number) + (dq[h] as number) * v;
        }
        n2++;
      }
      if (++inBatch === BATCH) {
        opt.step(grads, lr);
        inBatch = 0;
      }
      linker.commitRow(p, best);
    }
  }
  if (inBatch > 0) opt.step(grads, lr);
  return `loss1 ${(loss1 / Math.max(1, n1)).toFixed(4)} loss2 ${(loss2 / Math.max(1, n2)).toFixed(4)} stage1-miss ${miss}`;
}

function evaluate(P: Params, set: Log[]): { f: number; all: ReturnType<typeof roundScores> } {
  const model = P.model();
  const gold = set.map((l) => goldGraph(l.rec));
  const auto = set.map((l) => predictRecord(l.rec, { weights: model, window: WINDOW, topK: K }));
  return { f: linkScores(gold, auto).f, all: roundScores(scoreGraphs(gold, auto)) };
}

function train(set: Log[], epochs: number, holdout: Log[] | undefined): { P: Params; bestEpoch: number } {
  const r = rng(SEED);
  const P = init(r);
  const A = new Params();
  const opt = new Adam(P.all(), A.all());
  const grads = P.all().map((a) => new Float64Array(a.length));
  let best = { f: -1, epoch: 0, P: P.clone() };
  for (let e = 1; e <= epochs; e++) {
    const lr = LR / (1 + 0.3 * (e - 1));
    const msg = epoch(P, opt, grads, set, lr, r);
    if (holdout) {
      const ev = evaluate(A, holdout);
      log(`epoch ${e} ${msg} holdout link F ${ev.f.toFixed(2)} conv ${JSON.stringify(ev.all.conv)}`);
      if (ev.f > best.f) best = { f: ev.f, epoch: e, P: A.clone() };
    } else {
      log(`epoch ${e} ${msg}`);
      best = { f: 0, epoch: e, P: A.clone() };
    }
  }
  return { P: best.P, bestEpoch: best.epoch };
}

const order = shuffle(
  logs.map((_, i) => i),
  rng(SEED + 1000),
);
const hold = order.slice(0, HOLDOUT).map((i) => logs[i] as Log);
const fit = order.slice(HOLDOUT).map((i) => logs[i] as Log);
log(`fit on ${fit.length} logs, choose epochs on ${hold.length} held-out training logs; features ${F}, hidden ${H}, topK ${K}`);
const first = train(fit, EPOCHS, hold);
const bestEpoch = first.bestEpoch;
let P = first.P;
log(`best epoch ${bestEpoch}`);
const heldOut = evaluate(P, hold);
if (REFIT && HOLDOUT > 0) {
  log(`refit on all ${logs.length} training logs for ${bestEpoch} epochs`);
  P = train(logs, bestEpoch, undefined).P;
}

const round = (a: Float32Array): number[] => Array.from(a, (x) => Math.round(x * 1e5) / 1e5);
const w1: number[] = new Array<number>(H * F).fill(0);
for (let h = 0; h < H; h++) for (let i = 0; i < F; i++) w1[h * F + i] = Math.round((P.w1t[i * H + h] as number) * 1e5) / 1e5;
const out: ThreadWeights = {
  version: 1,
  features: [...FEATURE_NAMES],
  lin: round(P.lin),
  topK: K,
  hidden: H,
  w1,
  b1: round(P.b1),
  w2: round(P.w2),
  skip: round(P.skip),
  idf: idfB64,
  meta: {
    trainedOn: 'irc-disentanglement ubuntu.train.jsonl (Kummerfeld et al. 2019, CC-BY-4.0)',
    seed: SEED,
    epochs: bestEpoch,
    window: WINDOW,
    holdoutLogs: HOLDOUT,
    holdoutScores: heldOut.all,
    refitOnAll: REFIT === 1,
    firstQueryFeature: 0,
    queryFeatures: QF,
  },
};
writeFileSync(OUT, JSON.stringify(out) + '\n');
log(`wrote ${OUT} (${(JSON.stringify(out).length / 1024).toFixed(0)} KiB)`);
