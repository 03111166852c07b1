/**
 * Reply-link model for conversation disentanglement (after Kummerfeld et al., ACL 2019).
 *
 * For each new message we score "replies to candidate c" for every message c in a window of recent
 * messages, plus "starts a new conversation" (the self candidate), and take the argmax of a softmax
 * over candidates. Scoring is two-stage so it stays cheap on the hot path: a linear ranker over every
 * candidate, then a one-hidden-layer network over the ranker's top-K plus the self candidate.
 *
 * Only information available when the message arrives is used (no look-ahead), so the same code runs
 * online in Townhall and offline in training/evaluation.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  DEFAULT_IDF,
  FLAG_ACK,
  FLAG_BANG,
  FLAG_BOT,
  FLAG_CODE,
  FLAG_GREETING,
  FLAG_QUESTION,
  FLAG_THANKS,
  FLAG_URL,
  decodeIdf,
  prepare as prepareWith,
} from './text.js';
import type { ChatMessage, LinkResult, PreparedMessage, ThreadWeights } from './types.js';

export type { ChatMessage, LinkResult, PreparedMessage, ThreadWeights } from './types.js';

// ---------------------------------------------------------------------------------------------
// Feature registry. The order is the input order of the weights; names are saved with the weights
// so a stale weights.json is detected instead of silently mis-scoring.
const NAMES: string[] = [];
const f = (name: string): number => NAMES.push(name) - 1;

// Query block: the same for every candidate; only matters through the hidden layer (e.g. "a
// greeting is likely a new conversation" is query x self).
const Q_SYSTEM = f('q_system');
const Q_TARGETED = f('q_targeted');
const Q_ADDR_START = f('q_addr_start');
const Q_HAS_PREV = f('q_has_prev');
const Q_PREV_TARGETED = f('q_prev_targeted');
const Q_PREV_D1 = f('q_prev_d1');
const Q_PREV_D2_4 = f('q_prev_d2_4');
const Q_PREV_D5_19 = f('q_prev_d5_19');
const Q_PREV_D20P = f('q_prev_d20p');
const Q_PREV_T0 = f('q_prev_t0');
const Q_PREV_T1_2 = f('q_prev_t1_2');
const Q_PREV_T3_10 = f('q_prev_t3_10');
const Q_PREV_ROOT = f('q_prev_root');
const Q_QUESTION = f('q_question');
const Q_GREETING = f('q_greeting');
const Q_BANG = f('q_bang');
const Q_BOT = f('q_bot');
const Q_THANKS = f('q_thanks');
const Q_ACK = f('q_ack');
const Q_SHORT = f('q_short');
const Q_LONG = f('q_long');
const Q_CODE = f('q_code');
const Q_URL = f('q_url');
const Q_NEW_USER = f('q_new_user');
/** First feature index that varies per candidate. */
const FIRST_CAND = NAMES.length;
// Candidate block.
const C_SYSTEM = f('c_system');
const C_TARGETED = f('c_targeted');
const C_ADDR_START = f('c_addr_start');
const C_QUESTION = f('c_question');
const C_GREETING = f('c_greeting');
const C_BANG = f('c_bang');
const C_BOT = f('c_bot');
const C_THANKS = f('c_thanks');
const C_ACK = f('c_ack');
const C_SHORT = f('c_short');
const C_CODE = f('c_code');
const C_URL = f('c_url');
const C_NEXT_SAME = f('c_next_same_user');
const C_PREV_SAME = f('c_prev_same_user');
const C_USER_SPOKE_SINCE = f('c_user_spoke_since');
const C_IS_ROOT = f('c_is_root');
const C_CHILDREN = f('c_children');
// Pair block.
const SELF = f('self');
const DIST = f('dist_scaled');
const D1 = f('d1');
const D2_3 = f('d2_3');
const D4_10 = f('d4_10');
const D11_30 = f('d11_30');
const D31P = f('d31p');
const TIME = f('time_scaled');
const T0 = f('t0');
const T1 = f('t1');
const T2_4 = f('t2_4');
const T5_59 = f('t5_59');
const T60P = f('t60p');
const Q_ADDR_C = f('q_addr_c');
const Q_ADDR_C_START = f('q_addr_c_start');
const C_ADDR_Q = f('c_addr_q');
const C_ADDR_Q_START = f('c_addr_q_start');
const SAME_USER = f('same_user');
const NO_Q_BETWEEN = f('no_q_between');
const Q_ADDR_C_BEFORE = f('q_addr_c_before');
const Q_ADDR_C_BETWEEN = f('q_addr_c_between');
const C_ADDR_Q_BEFORE = f('c_addr_q_before');
const C_ADDR_Q_BETWEEN = f('c_addr_q_between');
const SAME_TARGET = f('same_target');
const Q_PREV_ADDR_C = f('q_prev_addr_c');
const OV_Q = f('ov_q');
const OV_C = f('ov_c');
const OV_MASS = f('ov_mass');
const OV_MAX = f('ov_max');
const OV1 = f('ov1');
const OV2 = f('ov2');
const OV3P = f('ov3p');
const ANSWER_SHAPE = f('answer_shape');
const C_REPLIED_Q_USER = f('c_replied_q_user');
const C_REPLIED_Q_LAST = f('c_replied_q_last');
const C_PARENT_OF_Q_LAST = f('c_parent_of_q_last');
const SAME_CONV_Q_LAST = f('same_conv_q_last');
const C_CONV_HAS_Q_USER = f('c_conv_has_q_user');
const C_USER_IN_Q_CONV = f('c_user_latest_in_q_conv');
const C_CONV_TIP = f('c_conv_tip');
const C_CONV_SIZE = f('c_conv_size');
const CONV_OV_Q = f('conv_ov_q');
const CONV_OV_MASS = f('conv_ov_mass');
const Q_PREV_PARENT_USER_C = f('q_prev_parent_user_is_c_user');
const C_CONV_UNKNOWN = f('c_conv_unknown');

/** Names of the model inputs, in weight order. */
export const FEATURE_NAMES: readonly string[] = NAMES;
/** Number of model inputs. */
export const NUM_FEATURES = NAMES.length;
/** Index of the first candidate-dependent feature (earlier ones are the per-query block). */
export const FIRST_CANDIDATE_FEATURE = FIRST_CAND;
/** Upper bound on non-zero candidate features per candidate (sizes the scratch buffers). */
export const MAX_NNZ = NAMES.length - FIRST_CAND;

// ---------------------------------------------------------------------------------------------
// Weights.

/** Weights decoded into typed arrays for scoring. */
export interface CompiledModel {
  readonly F: number;
  readonly H: number;
  readonly K: number;
  readonly lin: Float32Array;
  /** Feature-major (F x H) so adding one active feature is a contiguous loop. */
  readonly w1t: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly skip: Float32Array;
  readonly idf: Float32Array;
}

const compiled = new WeakMap<ThreadWeights, CompiledModel>();

/** Decode (and cache) stored weights; throws if they were fitted for another feature set. */
export function compileWeights(w: ThreadWeights): CompiledModel {
  const hit = compiled.get(w);
  if (hit) return hit;
  const F = NUM_FEATURES;
  if (w.features.length !== F || w.features.some((n, i) => n !== NAMES[i])) {
    throw new Error('threads: weights were fitted for a different feature set; rerun scripts/fit-threads.ts');
  }
  const H = w.hidden;
  const w1t = new Float32Array(F * H);
  for (let h = 0; h < H; h++) for (let i = 0; i < F; i++) w1t[i * H + h] = w.w1[h * F + i] ?? 0;
  const m: CompiledModel = {
    F,
    H,
    K: w.topK,
    lin: Float32Array.from(w.lin),
    w1t,
    b1: Float32Array.from(w.b1),
    w2: Float32Array.from(w.w2),
    skip: Float32Array.from(w.skip),
    idf: w.idf.length > 0 ? decodeIdf(w.idf) : new Float32Array(1 << 16).fill(DEFAULT_IDF),
  };
  compiled.set(w, m);
  return m;
}

/** Hand-set fallback (no hidden layer) used only when weights.json has not been fitted yet. */
function fallbackWeights(): ThreadWeights {
  const lin = new Array<number>(NUM_FEATURES).fill(0);
  const set = (i: number, v: number): void => void (lin[i] = v);
  set(SELF, -1);
  set(D1, 1.5);
  set(D2_3, 0.8);
  set(DIST, -2);
  set(Q_ADDR_C, 3);
  set(Q_ADDR_C_START, 2);
  set(C_ADDR_Q, 1.5);
  set(C_SYSTEM, -4);
  set(OV_MASS, 2);
  return { version: 0, features: [...NAMES], lin, topK: 8, hidden: 0, w1: [], b1: [], w2: [], skip: lin, idf: '' };
}

let defaultModel: CompiledModel | undefined;
let defaultRaw: ThreadWeights | undefined;

/** The fitted weights shipped in weights.json (or the hand-set fallback before the first fit). */
export function defaultWeights(): ThreadWeights {
  if (defaultRaw) return defaultRaw;
  const url = new URL('./weights.json', import.meta.url);
  defaultRaw = existsSync(url) ? (JSON.parse(readFileSync(url, 'utf8')) as ThreadWeights) : fallbackWeights();
  return defaultRaw;
}

function resolveModel(w: ThreadWeights | CompiledModel | undefined): CompiledModel {
  if (w === undefined) return (defaultModel ??= compileWeights(defaultWeights()));
  return 'w1t' in w ? w : compileWeights(w);
}

/** Preprocess a message once (tokens -> hashes) with the IDF table of the given/default weights. */
export function prepare(msg: ChatMessage, weights?: ThreadWeights | CompiledModel): PreparedMessage {
  return prepareWith(msg, resolveModel(weights).idf);
}

// Online state.

/** A predicted conversation: who is in it, its newest message, and a bag of its words. */
interface Conv {
  readonly root: number;
  /** Root unknown (history replayed without links): conversation features are unreliable. */
  readonly unknown: boolean;
  last: number;
  size: number;
  users: number[];
  /** Allocated lazily: conversations of replayed history (unknown root) never need it. */
  words: Set<number> | undefined;
  /** Cache of the overlap with the current query (valid when stamp === query seq). */
  stamp: number;
  ovQ: number;
  ovMass: number;
}

interface UserState {
  last: Entry;
}

interface Entry {
  readonly seq: number;
  readonly m: PreparedMessage;
  /** Canonical user keys this message addresses (resolved against nicks known at arrival). */
  readonly targets: Int32Array;
  /** How many leading `targets` were addressed at the start of the message. */
  readonly startTargets: number;
  /** The previous message by the same user, if any. */
  readonly prevSame: Entry | undefined;
  readonly us: UserState;
  /** Has the same user spoken again since? */
  laterSame: boolean;
  /** Is the very next message by the same user? */
  nextSame: boolean;
  /** Parent seq; === seq for a conversation start; -1 unknown. */
  readonly parent: number;
  readonly parentUser: number;
  /** Parent id as reported to the caller (null = conversation start). */
  readonly parentId: string | null;
  readonly conv: Conv;
  children: number;
}

interface AddrRec {
  first: number;
  last: number;
}

/** Options for a ThreadLinker. */
export interface LinkerOptions {
  /** How many previous messages are candidates (default 100, like the paper). */
  window?: number;
  weights?: ThreadWeights | CompiledModel;
  /** Override stage-1 top-K (default from the weights). */
  topK?: number;
}

/** Result of ThreadLinker.add: the link plus the conversation it joined. */
export interface LinkedMessage extends LinkResult {
  /** Id of the conversation's first message (the message's own id when it starts one). */
  conversation: string;
}

const HISTORY_PRUNE_EVERY = 4096;
const HISTORY_KEEP = 5000;
const CONV_WORDS = 256;
const CONV_USERS = 16;

function includes(a: Int32Array, n: number, v: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] === v) return true;
  return false;
}

function intersects(a: Int32Array, b: Int32Array, bn: number): boolean {
  for (let i = 0; i < a.length; i++) if (includes(b, bn, a[i] as number)) return true;
  return false;
}

/**
 * Incremental linker for one chat: keeps a ring buffer of prepared messages and per-user history so
 * each `add` costs O(window) with no string work. One instance per chat.
 */
export class ThreadLinker {
  readonly window: number;
  readonly model: CompiledModel;
  readonly topK: number;
  private readonly ring: (Entry | undefined)[];
  private seq = 0;
  private readonly byId = new Map<string, Entry>();
  /** nick key (full or core) -> canonical user key. */
  private readonly known = new Map<number, number>();
  private readonly users = new Map<number, UserState>();
  private readonly outAddr = new Map<number, Map<number, AddrRec>>();
  private readonly inAddr = new Map<number, Map<number, AddrRec>>();

  // Scratch filled by `extract` (also read by the training script).
  /** Candidates of the last `extract`; index 0 is the self candidate (undefined). */
  private readonly cands: (Entry | undefined)[];
  /** Sparse candidate rows: row i is fIdx/fVal[rowStart[i] .. rowStart[i+1]). */
  readonly rowStart: Int32Array;
  readonly fIdx: Int32Array;
  readonly fVal: Float32Array;
  /** Query block (shared by every candidate). */
  readonly qIdx: Int32Array;
  readonly qVal: Float32Array;
  qN = 0;
  nCands = 0;
  private readonly qTargets: Int32Array;
  private qTargetN = 0;
  private qStartTargets = 0;
  // Stage scores.
  private readonly s1: Float32Array;
  /** Rows chosen by stage 1 in the last `score` (best first); `nPicks` of them. */
  readonly pick: Int32Array;
  nPicks = 0;
  private readonly s2: Float32Array;
  private readonly hq: Float32Array;
  private readonly pre: Float32Array;

  constructor(opts: LinkerOptions = {}) {
    this.window = Math.max(1, opts.window ?? 100);
    this.model = resolveModel(opts.weights);
    this.topK = Math.max(1, opts.topK ?? this.model.K);
    this.ring = new Array<Entry | undefined>(this.window).fill(undefined);
    const n = this.window + 1;
    this.cands = new Array<Entry | undefined>(n).fill(undefined);
    this.rowStart = new Int32Array(n + 1);
    this.fIdx = new Int32Array(n * MAX_NNZ);
    this.fVal = new Float32Array(n * MAX_NNZ);
    this.qIdx = new Int32Array(FIRST_CAND);
    this.qVal = new Float32Array(FIRST_CAND);
    this.qTargets = new Int32Array(64);
    this.s1 = new Float32Array(n);
    this.pick = new Int32Array(n);
    this.s2 = new Float32Array(n);
    this.hq = new Float32Array(this.model.H);
    this.pre = new Float32Array(this.model.H);
  }

  /** Preprocess with this linker's IDF table. */
  prepare(msg: ChatMessage): PreparedMessage {
    return prepareWith(msg, this.model.idf);
  }

  /** Link a new message (explicit `replyTo` wins), record it, and return its parent. */
  add(msg: ChatMessage | PreparedMessage): LinkedMessage {
    const p = 'words' in msg ? msg : this.prepare(msg);
    if (p.replyTo !== undefined) {
      this.resolveTargets(p);
      const e = this.byId.get(p.replyTo);
      const conv = this.commit(p, e ? e.seq : -1, e);
      return { parent: p.replyTo, score: 1, conversation: this.convId(conv, p.replyTo) };
    }
    const n = this.extract(p);
    const { best, prob } = this.score(n);
    const e = best > 0 ? this.cands[best] : undefined;
    const conv = this.commit(p, e ? e.seq : this.seq, e);
    return { parent: e ? e.m.id : null, score: prob, conversation: this.convId(conv, p.id) };
  }

  /**
   * Record a message whose link is already known (history replay, or the caller's own decision):
   * `parent` id, null for a conversation start, undefined if unknown.
   */
  observe(p: PreparedMessage, parent?: string | null): void {
    this.resolveTargets(p);
    if (parent === undefined) {
      this.commit(p, -1, undefined);
      return;
    }
    const e = parent === null ? undefined : this.byId.get(parent);
    this.commit(p, parent === null ? this.seq : e ? e.seq : -1, e, parent);
  }

  /** Is `w` the last message added, with the parent the caller recorded (if any)? */
  endsWith(w: WindowMessage | undefined): boolean {
    if (w === undefined) return this.seq === 0;
    const e = this.ring[(this.seq - 1) % this.window];
    return e !== undefined && e.m === w && (w.parent === undefined || w.parent === e.parentId);
  }

  /** Record `p` (just passed to `extract`) as replying to candidate row `row` (0 = new conversation). */
  commitRow(p: PreparedMessage, row: number): void {
    const e = row > 0 ? this.cands[row] : undefined;
    this.commit(p, e ? e.seq : this.seq, e);
  }

  private convId(conv: Conv, fallback: string): string {
    if (conv.unknown) return fallback;
    const e = this.ring[conv.root % this.window];
    return e !== undefined && e.seq === conv.root ? e.m.id : fallback;
  }

  private resolveTargets(p: PreparedMessage): void {
    let n = 0;
    let start = 0;
    const keys = p.nickKeys;
    for (let i = 0; i < keys.length; i++) {
      const u = this.known.get(keys[i] as number);
      if (u === undefined || u === p.userKey || includes(this.qTargets, n, u)) continue;
      if (n < this.qTargets.length) this.qTargets[n++] = u;
      if (i < p.firstNickCount) start = n;
    }
    this.qTargetN = n;
    this.qStartTargets = start;
  }

  /**
   * Fill the feature scratch for message `p` against the current window; returns the number of
   * candidates (row 0 = self). Does not change the linker's state. Written without closures: under
   * tsx/esbuild every closure creation also pays for a `__name` call, which dominated the profile.
   */
  extract(p: PreparedMessage): number {
    this.resolveTargets(p);
    const qT = this.qTargets;
    const qTN = this.qTargetN;
    const qTS = this.qStartTargets;
    const fIdx = this.fIdx;
    const fVal = this.fVal;
    const qSeq = this.seq;
    const qUser = p.userKey;
    const qPrev = this.users.get(qUser)?.last;
    const qOut = this.outAddr.get(qUser);
    const qIn = this.inAddr.get(qUser);

    // Query block.
    const qi = this.qIdx;
    const qv = this.qVal;
    let qn = 0;
    const fl = p.flags;
    if (p.system) qi[qn++] = Q_SYSTEM;
    if (qTN > 0) qi[qn++] = Q_TARGETED;
    if (qTS > 0) qi[qn++] = Q_ADDR_START;
    if (qPrev) {
      qi[qn++] = Q_HAS_PREV;
      if (qPrev.targets.length > 0) qi[qn++] = Q_PREV_TARGETED;
      const d = qSeq - qPrev.seq;
      qi[qn++] = d <= 1 ? Q_PREV_D1 : d <= 4 ? Q_PREV_D2_4 : d <= 19 ? Q_PREV_D5_19 : Q_PREV_D20P;
      const t = (p.at - qPrev.m.at) / 60000;
      if (t < 1) qi[qn++] = Q_PREV_T0;
      else if (t < 3) qi[qn++] = Q_PREV_T1_2;
      else if (t < 11) qi[qn++] = Q_PREV_T3_10;
      if (qPrev.parent === qPrev.seq) qi[qn++] = Q_PREV_ROOT;
    } else qi[qn++] = Q_NEW_USER;
    if (fl & FLAG_QUESTION) qi[qn++] = Q_QUESTION;
    if (fl & FLAG_GREETING) qi[qn++] = Q_GREETING;
    if (fl & FLAG_BANG) qi[qn++] = Q_BANG;
    if (fl & FLAG_BOT) qi[qn++] = Q_BOT;
    if (fl & FLAG_THANKS) qi[qn++] = Q_THANKS;
    if (fl & FLAG_ACK) qi[qn++] = Q_ACK;
    if (p.nTokens <= 3) qi[qn++] = Q_SHORT;
    if (p.nTokens >= 15) qi[qn++] = Q_LONG;
    if (fl & FLAG_CODE) qi[qn++] = Q_CODE;
    if (fl & FLAG_URL) qi[qn++] = Q_URL;
    for (let i = 0; i < qn; i++) qv[i] = 1;
    this.qN = qn;

    // Self candidate: only the SELF indicator varies.
    const rs = this.rowStart;
    this.cands[0] = undefined;
    rs[0] = 0;
    fIdx[0] = SELF;
    fVal[0] = 1;
    let k = 1;
    rs[1] = k;

    const qWords = p.words;
    const qIdf = p.wordIdf;
    const qMass = p.idfMass;
    const qNW = qWords.length;
    const qQuestion = (fl & FLAG_QUESTION) !== 0;
    const prevSeq = qPrev ? qPrev.seq : -1;
    const prevConv = qPrev?.conv;
    const prevParentUser = qPrev ? qPrev.parentUser : 0;
    let n = 1;
    const lo = Math.max(0, qSeq - this.window);
    for (let s = qSeq - 1; s >= lo; s--) {
      const c = this.ring[s % this.window];
      if (c === undefined || c.seq !== s) break;
      this.cands[n] = c;
      const m = c.m;
      const cf = m.flags;
      const conv = c.conv;
      // Candidate block.
      if (m.system) {
        fIdx[k] = C_SYSTEM;
        fVal[k++] = 1;
      }
      if (c.targets.length > 0) {
        fIdx[k] = C_TARGETED;
        fVal[k++] = 1;
        if (c.startTargets > 0) {
          fIdx[k] = C_ADDR_START;
          fVal[k++] = 1;
        }
      }
      if (cf !== 0) {
        if (cf & FLAG_QUESTION) {
          fIdx[k] = C_QUESTION;
          fVal[k++] = 1;
        }
        if (cf & FLAG_GREETING) {
          fIdx[k] = C_GREETING;
          fVal[k++] = 1;
        }
        if (cf & FLAG_BANG) {
          fIdx[k] = C_BANG;
          fVal[k++] = 1;
        }
        if (cf & FLAG_BOT) {
          fIdx[k] = C_BOT;
          fVal[k++] = 1;
        }
        if (cf & FLAG_THANKS) {
          fIdx[k] = C_THANKS;
          fVal[k++] = 1;
        }
        if (cf & FLAG_ACK) {
          fIdx[k] = C_ACK;
          fVal[k++] = 1;
        }
        if (cf & FLAG_CODE) {
          fIdx[k] = C_CODE;
          fVal[k++] = 1;
        }
        if (cf & FLAG_URL) {
          fIdx[k] = C_URL;
          fVal[k++] = 1;
        }
      }
      if (m.nTokens <= 3) {
        fIdx[k] = C_SHORT;
        fVal[k++] = 1;
      }
      if (c.nextSame) {
        fIdx[k] = C_NEXT_SAME;
        fVal[k++] = 1;
      }
      if (c.prevSame !== undefined && c.prevSame.seq === s - 1) {
        fIdx[k] = C_PREV_SAME;
        fVal[k++] = 1;
      }
      if (c.laterSame) {
        fIdx[k] = C_USER_SPOKE_SINCE;
        fVal[k++] = 1;
      }
      if (c.parent === s) {
        fIdx[k] = C_IS_ROOT;
        fVal[k++] = 1;
      }
      if (c.children > 0) {
        fIdx[k] = C_CHILDREN;
        fVal[k++] = Math.min(3, c.children) / 3;
      }
      if (conv.unknown) {
        fIdx[k] = C_CONV_UNKNOWN;
        fVal[k++] = 1;
      } else {
        if (conv.last === s) {
          fIdx[k] = C_CONV_TIP;
          fVal[k++] = 1;
        }
        fIdx[k] = C_CONV_SIZE;
        fVal[k++] = Math.min(10, conv.size) / 10;
        // Overlap with the whole conversation, computed once per conversation per query.
        if (conv.stamp !== qSeq) {
          conv.stamp = qSeq;
          let sh = 0;
          const cwds = conv.words;
          if (cwds !== undefined) for (let i = 0; i < qNW; i++) if (cwds.has(qWords[i] as number)) sh += qIdf[i] as number;
          conv.ovMass = sh;
          conv.ovQ = qMass > 0 ? sh / qMass : 0;
        }
        if (conv.ovMass > 0) {
          fIdx[k] = CONV_OV_Q;
          fVal[k++] = conv.ovQ;
          fIdx[k] = CONV_OV_MASS;
          fVal[k++] = Math.min(1, conv.ovMass / 30);
        }
        if (conv.users.includes(qUser)) {
          fIdx[k] = C_CONV_HAS_Q_USER;
          fVal[k++] = 1;
        }
      }

      // Pair block.
      const d = qSeq - s;
      fIdx[k] = DIST;
      fVal[k++] = Math.min(100, d) / 100;
      fIdx[k] = d === 1 ? D1 : d <= 3 ? D2_3 : d <= 10 ? D4_10 : d <= 30 ? D11_30 : D31P;
      fVal[k++] = 1;
      const t = (p.at - m.at) / 60000;
      fIdx[k] = TIME;
      fVal[k++] = Math.min(100, Math.max(0, t)) / 100;
      fIdx[k] = t < 1 ? T0 : t < 2 ? T1 : t < 5 ? T2_4 : t < 60 ? T5_59 : T60P;
      fVal[k++] = 1;
      const cUser = m.userKey;
      if (cUser === qUser) {
        fIdx[k] = SAME_USER;
        fVal[k++] = 1;
      } else {

        for (let i = 0; i < qTN; i++) {
          if (qT[i] === cUser) {
            fIdx[k] = Q_ADDR_C;
            fVal[k++] = 1;
            if (i < qTS) {
              fIdx[k] = Q_ADDR_C_START;
              fVal[k++] = 1;
            }
            break;
          }
        }
        const ct = c.targets;
        for (let i = 0; i < ct.length; i++) {
          if (ct[i] === qUser) {
            fIdx[k] = C_ADDR_Q;
            fVal[k++] = 1;
            if (i < c.startTargets) {
              fIdx[k] = C_ADDR_Q_START;
              fVal[k++] = 1;
            }
            break;
          }
        }
        if (qOut !== undefined) {
          const r = qOut.get(cUser);
          if (r !== undefined) {
            if (r.first < s) {
              fIdx[k] = Q_ADDR_C_BEFORE;
              fVal[k++] = 1;
            }
            if (r.last > s) {
              fIdx[k] = Q_ADDR_C_BETWEEN;
              fVal[k++] = 1;
            }
          }
        }
        if (qIn !== undefined) {
          const r = qIn.get(cUser);
          if (r !== undefined) {
            if (r.first < s) {
              fIdx[k] = C_ADDR_Q_BEFORE;
              fVal[k++] = 1;
            }
            if (r.last > s) {
              fIdx[k] = C_ADDR_Q_BETWEEN;
              fVal[k++] = 1;
            }
          }
        }
        if (qPrev !== undefined) {
          if (includes(qPrev.targets, qPrev.targets.length, cUser)) {
            fIdx[k] = Q_PREV_ADDR_C;
            fVal[k++] = 1;
          }
          if (prevParentUser === cUser) {
            fIdx[k] = Q_PREV_PARENT_USER_C;
            fVal[k++] = 1;
          }
          if (c.us.last.conv === prevConv) {
            fIdx[k] = C_USER_IN_Q_CONV;
            fVal[k++] = 1;
          }
        }
        if (!qQuestion && (cf & FLAG_QUESTION) !== 0) {
          fIdx[k] = ANSWER_SHAPE;
          fVal[k++] = 1;
        }
      }
      if (prevSeq < s) {
        fIdx[k] = NO_Q_BETWEEN;
        fVal[k++] = 1;
      }
      if (qTN > 0 && c.targets.length > 0 && intersects(c.targets, qT, qTN)) {
        fIdx[k] = SAME_TARGET;
        fVal[k++] = 1;
      }

      // Lexical overlap of content words (both sorted): IDF mass shared, relative to each side.
      const cw = m.words;
      if (qNW > 0 && cw.length > 0) {
        let a = 0;
        let b = 0;
        let shared = 0;
        let cnt = 0;
        let mx = 0;
        while (a < qNW && b < cw.length) {
          const x = qWords[a] as number;
          const y = cw[b] as number;
          if (x === y) {
            const v = qIdf[a] as number;
            shared += v;
            if (v > mx) mx = v;
            cnt++;
            a++;
            b++;
          } else if (x < y) a++;
          else b++;
        }
        if (cnt > 0) {
          fIdx[k] = OV_Q;
          fVal[k++] = shared / qMass;
          fIdx[k] = OV_C;
          fVal[k++] = shared / m.idfMass;
          fIdx[k] = OV_MASS;
          fVal[k++] = Math.min(1, shared / 30);
          fIdx[k] = OV_MAX;
          fVal[k++] = Math.min(1, mx / 12);
          fIdx[k] = cnt === 1 ? OV1 : cnt === 2 ? OV2 : OV3P;
          fVal[k++] = 1;
        }
      }

      // Structure predicted so far (the model's own earlier decisions).
      if (c.parent !== s && c.parentUser === qUser) {
        fIdx[k] = C_REPLIED_Q_USER;
        fVal[k++] = 1;
      }
      if (prevSeq >= 0) {
        if (c.parent === prevSeq) {
          fIdx[k] = C_REPLIED_Q_LAST;
          fVal[k++] = 1;
        }
        if (qPrev !== undefined && qPrev.parent === s) {
          fIdx[k] = C_PARENT_OF_Q_LAST;
          fVal[k++] = 1;
        }
        if (conv === prevConv) {
          fIdx[k] = SAME_CONV_Q_LAST;
          fVal[k++] = 1;
        }
      }
      n++;
      rs[n] = k;
    }
    this.nCands = n;
    return n;
  }

  /** Stage-1 score of candidate row i (linear). */
  private linScore(i: number): number {
    const lin = this.model.lin;
    const fIdx = this.fIdx;
    const fVal = this.fVal;
    let s = 0;
    const end = this.rowStart[i + 1] as number;
    for (let k = this.rowStart[i] as number; k < end; k++) s += (lin[fIdx[k] as number] as number) * (fVal[k] as number);
    return s;
  }

  /** Stage-2 score of candidate row i (network + skip); requires `hq` filled for the query. */
  private netScore(i: number): number {
    const { H, w1t, w2, skip } = this.model;
    const pre = this.pre;
    pre.set(this.hq);
    let s = 0;
    const end = this.rowStart[i + 1] as number;
    for (let k = this.rowStart[i] as number; k < end; k++) {
      const fi = this.fIdx[k] as number;
      const v = this.fVal[k] as number;
      s += (skip[fi] as number) * v;
      const off = fi * H;
      for (let h = 0; h < H; h++) pre[h] = (pre[h] as number) + (w1t[off + h] as number) * v;
    }
    for (let h = 0; h < H; h++) {
      const x = pre[h] as number;
      if (x > 0) s += x * (w2[h] as number);
    }
    return s;
  }

  /**
   * Score the extracted candidates; returns the winning row (0 = new conversation) and its softmax
   * probability among the stage-2 candidates.
   */
  score(n: number): { best: number; prob: number } {
    const { H, b1, w1t } = this.model;
    const K = Math.min(this.topK, n - 1);
    // Stage 1: keep the K best non-self rows (insertion into a tiny sorted list).
    const pick = this.pick;
    const s1 = this.s1;
    let m = 0;
    for (let i = 1; i < n; i++) {
      const s = this.linScore(i);
      if (m < K || s > (s1[m - 1] as number)) {
        let j = m < K ? m++ : m - 1;
        while (j > 0 && (s1[j - 1] as number) < s) {
          s1[j] = s1[j - 1] as number;
          pick[j] = pick[j - 1] as number;
          j--;
        }
        s1[j] = s;
        pick[j] = i;
      }
    }
    this.nPicks = m;
    // Stage 2 over self + picks; the query block is folded into the hidden bias once.
    const hq = this.hq;
    hq.set(b1);
    for (let k = 0; k < this.qN; k++) {
      const off = (this.qIdx[k] as number) * H;
      const v = this.qVal[k] as number;
      for (let h = 0; h < H; h++) hq[h] = (hq[h] as number) + (w1t[off + h] as number) * v;
    }
    const s2 = this.s2;
    let best = 0;
    let bestS = (s2[0] = this.netScore(0));
    for (let j = 0; j < m; j++) {
      const s = (s2[j + 1] = this.netScore(pick[j] as number));
      if (s > bestS) {
        bestS = s;
        best = pick[j] as number;
      }
    }
    let z = 0;
    for (let j = 0; j <= m; j++) z += Math.exp((s2[j] as number) - bestS);
    return { best, prob: 1 / z };
  }

  /** Append message `p` with parent seq (=== current seq for a start, -1 unknown); returns its conversation. */
  private commit(p: PreparedMessage, parentSeq: number, parentEntry: Entry | undefined, parentId?: string | null): Conv {
    const seq = this.seq;
    const user = p.userKey;
    let us = this.users.get(user);
    const prev = us?.last;
    const targets = this.qTargets.slice(0, this.qTargetN);
    let conv: Conv;
    if (parentEntry !== undefined) conv = parentEntry.conv;
    else {
      conv = { root: seq, unknown: parentSeq !== seq, last: seq, size: 0, users: [], words: undefined, stamp: -1, ovQ: 0, ovMass: 0 };
    }
    conv.last = seq;
    conv.size++;
    if (!p.system) {
      if (!conv.users.includes(user)) {
        if (conv.users.length >= CONV_USERS) conv.users.shift();
        conv.users.push(user);
      }
      if (!conv.unknown && p.words.length > 0) {
        const ws = (conv.words ??= new Set());
        for (let i = 0; i < p.words.length && ws.size < CONV_WORDS; i++) ws.add(p.words[i] as number);
      }
    }
    if (!us) this.users.set(user, (us = { last: undefined as unknown as Entry }));
    const e: Entry = {
      seq,
      m: p,
      targets,
      startTargets: this.qStartTargets,
      prevSame: prev,
      us,
      laterSame: false,
      nextSame: false,
      parent: parentSeq,
      parentUser: parentEntry !== undefined ? parentEntry.m.userKey : 0,
      parentId: parentId !== undefined ? parentId : parentEntry !== undefined ? parentEntry.m.id : parentSeq === seq ? null : (p.replyTo ?? null),
      conv,
      children: 0,
    };
    us.last = e;
    if (parentEntry !== undefined) parentEntry.children++;
    if (prev !== undefined) prev.laterSame = true;
    const last = this.ring[(seq - 1 + this.window) % this.window];
    if (last !== undefined && last.seq === seq - 1 && last.m.userKey === user) last.nextSame = true;
    const old = this.ring[seq % this.window];
    if (old !== undefined && this.byId.get(old.m.id) === old) this.byId.delete(old.m.id);
    this.ring[seq % this.window] = e;
    this.byId.set(p.id, e);
    this.known.set(user, user);
    if (p.coreKey !== user) this.known.set(p.coreKey, user);
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i] as number;
      let o = this.outAddr.get(user);
      if (!o) this.outAddr.set(user, (o = new Map()));
      let r = o.get(t);
      if (!r) {
        r = { first: seq, last: seq };
        o.set(t, r);
        let inb = this.inAddr.get(t);
        if (!inb) this.inAddr.set(t, (inb = new Map()));
        inb.set(user, r);
      } else r.last = seq;
    }
    this.seq++;
    if (this.seq % HISTORY_PRUNE_EVERY === 0) this.prune();
    return conv;
  }

  // Bound memory on endless chats: forget users and addressing not seen for HISTORY_KEEP messages.
  private prune(): void {
    const cut = this.seq - HISTORY_KEEP;
    for (const [u, st] of this.users) {
      if (st.last.seq < cut) {
        this.users.delete(u);
        this.outAddr.delete(u);
        this.inAddr.delete(u);
      }
    }
    for (const [k, u] of this.known) if (!this.users.has(u)) this.known.delete(k);
    for (const m of [this.outAddr, this.inAddr]) {
      for (const inner of m.values()) for (const [k, r] of inner) if (r.last < cut) inner.delete(k);
    }
  }
}

/** A window entry: a prepared message whose `parent` holds the link the caller recorded for it. */
export type WindowMessage = PreparedMessage;

// Linkers left behind by earlier linkMessage calls, keyed by the message they last added, so a caller
// that slides its window one message at a time pays for one `add`, not for a replay of the window.
const continuations = new WeakMap<PreparedMessage, ThreadLinker>();

/**
 * Stateless form: link `msg` against `window` (oldest first, most recent last; entries carry the
 * `parent` the caller recorded, null = started a conversation). When the window ends with the
 * prepared message of the previous call (same object), that call's state is continued; otherwise
 * the window is replayed first (about 2-3 µs per window message).
 */
export function linkMessage(
  msg: ChatMessage | PreparedMessage,
  window: readonly WindowMessage[],
  weights?: ThreadWeights | CompiledModel,
): LinkResult {
  const model = resolveModel(weights);
  const size = Math.max(1, window.length);
  const last = window[window.length - 1];
  let linker = last !== undefined ? continuations.get(last) : undefined;
  if (last !== undefined && linker !== undefined) continuations.delete(last);
  if (linker === undefined || linker.window !== size || linker.model !== model || !linker.endsWith(last)) {
    linker = new ThreadLinker({ window: size, weights: model });
    for (const w of window) linker.observe(w, w.parent);
  }
  const p = 'words' in msg ? msg : linker.prepare(msg);
  const { parent, score } = linker.add(p);
  continuations.set(p, linker);
  return { parent, score };
}
