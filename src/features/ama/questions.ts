/**
 * The question queue: intake with duplicate merging, votes, approval, rejection, merging and splitting by hand,
 * and listing. Every change is atomic in Redis (scripts.ts) and safe to repeat: a redelivered event neither asks
 * twice nor votes twice.
 */
import { UserError } from '../../core/errors.js';
import type { ChatUser } from '../../core/events.js';
import { type Platform } from '../../core/ids.js';
import type { Ama, Ask, Question, QuestionStatus } from './model.js';
import { loadSimilarityResources } from '../questions/resources.js';
import type { ScorerWeights } from '../questions/scorer.js';
import { amaIndex, askEntry } from './dedup.js';
import { intakeScorer, prepareQuestion, similarityResourceOptions } from './embeddings.js';
import { rankScore } from './rank.js';
import { asksOf, getQuestion, lockAma, questionsWithAsks, rootQuestion, safeBase, type AmaEnv } from './store.js';

/** How long an event id is remembered as asked (matches the pipeline's seen TTL). */
const EV_TTL_S = 3 * 24 * 3600;
/** How long a message that asked maps back to its question (votes and replies on it). */
const MSG_TTL_S = 30 * 24 * 3600;
/** Longest question text kept. */
export const MAX_QUESTION_CHARS = 1000;

/** What intake needs to know about one ask. */
export interface AskInput extends Omit<Ask, 'text'> {
  text: string;
  /** The event (or API request) id: the same id is asked once. */
  opId: string;
}

/** What happened to an ask. */
export interface IntakeResult {
  n: number;
  /** It joined an existing question (the same question, other words or another platform). */
  merged: boolean;
  status: QuestionStatus;
  votes: number;
  /** This op was already taken in earlier (a redelivery). */
  repeat: boolean;
}

/** Cleans a question's text: one line of white space, capped length. */
export function cleanQuestion(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > MAX_QUESTION_CHARS ? `${t.slice(0, MAX_QUESTION_CHARS - 1)}…` : t;
}

/** Looks and creates this many times when other workers keep adding to the same buckets; then creates unchecked. */
const MAX_CREATE_ATTEMPTS = 12;

/**
 * Takes a question in: merges it into the same question when one exists, else opens a new one with the next number.
 * No lock: a merge is one script, and a new question is created and indexed by one script that refuses when another
 * worker added a possibly-same question to the buckets this lookup read (then it looks again). Questions that share
 * no bucket cannot be duplicates, so they never wait for each other, in one process or across many.
 */
export async function ingestQuestion(env: AmaEnv, ama: Ama, input: AskInput, opts: { premoderation?: boolean; threshold?: number; scorer?: ScorerWeights } = {}): Promise<IntakeResult> {
  const { redis } = env.deps;
  const k = env.k;
  const text = cleanQuestion(input.text);
  if (text.length < 3) throw new UserError('ama.empty', 'That question is empty.');
  const evKey = k.ev(ama.id, input.opId);
  const { opId: _op, ...askFields } = input;
  const msgKey = askFields.messageId ? k.msg(askFields.platform, safeBase(askFields.chat), askFields.messageId) : k.msg(askFields.platform, '-', '-');
  const index = amaIndex(env, ama.id, opts.threshold, intakeScorer(env, opts.scorer));
  const status: QuestionStatus = opts.premoderation ?? ama.premoderation ? 'pending' : 'open';
  // Compared once, with every stored way of asking: language resources are loaded on the first question.
  await loadSimilarityResources(similarityResourceOptions(env));
  const prepared = await prepareQuestion(env, text);
  const tag = opTag(input.opId);
  for (let attempt = 1; ; attempt++) {
    // The "already asked?" check and the bucket read go out together: one round trip.
    const [peeked, found] = await Promise.all([redis.get(evKey), index.lookupForAdd(prepared)]);
    if (peeked) return repeatResult(env, ama, Number(peeked));
    let dup = found.dup;
    let stale = false;
    const a = found.add;
    // A candidate may have been merged into another question (follow it) or be gone (drop it, look again).
    for (let hops = 0; dup && hops < 8; hops++) {
      const entry = askEntry(dup.n, tag);
      const askJson = JSON.stringify({ ...askFields, text, ix: entry } satisfies Ask);
      const res = (await env.scripts.run(
        'amaAddAsk',
        [k.q(ama.id, dup.n), k.asks(ama.id, dup.n), k.sup(ama.id, dup.n), k.askers(ama.id, dup.n), k.rank(ama.id), evKey, msgKey, k.names(ama.id), a.seqKey, a.qKey, a.idKey, ...a.buckets],
        [askJson, askFields.user, ama.startsAt, env.doublingMs, dup.n, EV_TTL_S, askFields.messageId ? `${ama.id}:${dup.n}` : '', MSG_TTL_S, askFields.userName, askFields.at, entry, a.payload, a.cap, a.seqBase],
      )) as [number, number, string];
      if (res[0] === 1) return { n: dup.n, merged: true, status: res[2] as QuestionStatus, votes: res[1], repeat: false };
      if (res[0] === -3) return repeatResult(env, ama, res[1]);
      if (res[0] === -2) {
        dup = { n: res[1], score: dup.score };
        continue;
      }
      await index.remove(dup.n);
      stale = true;
      break;
    }
    if (stale && attempt < MAX_CREATE_ATTEMPTS) continue;
    const askJson = JSON.stringify({ ...askFields, text, ix: '' } satisfies Ask);
    const res = (await env.scripts.run(
      'amaCreate',
      [k.qseq(ama.id), k.qs(ama.id), k.rank(ama.id), k.pending(ama.id), k.names(ama.id), evKey, msgKey, a.seqKey, a.qKey, a.idKey, ...a.buckets],
      [k.qPrefix(ama.id), text, status, askJson, askFields.user, askFields.userName, askFields.at, ama.startsAt, env.doublingMs, EV_TTL_S, askFields.messageId ? ama.id : '', MSG_TTL_S, attempt < MAX_CREATE_ATTEMPTS ? '1' : '0', a.payload, a.cap, a.seqBase, ...a.heads],
    )) as [number, number];
    if (res[0] === 1) return { n: res[1], merged: false, status, votes: 1, repeat: false };
    if (res[0] === -3) return repeatResult(env, ama, res[1]);
    // Another worker added to one of these buckets since the lookup: it may be this very question. Look again.
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(attempt, 5)));
  }
}

// A short tag unique to the asking event, naming the ask's index entry (FNV-1a, base 36).
function opTag(opId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < opId.length; i++) h = Math.imul(h ^ opId.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

async function repeatResult(env: AmaEnv, ama: Ama, n: number): Promise<IntakeResult> {
  const q = await rootQuestion(env, ama.id, n);
  return { n: q?.n ?? n, merged: (q?.askCount ?? 1) > 1, status: q?.status ?? 'open', votes: q?.votes ?? 1, repeat: true };
}

function rankOf(env: AmaEnv, ama: Ama, votes: number, createdAt: number): number {
  return rankScore(votes, createdAt, ama.startsAt, env.doublingMs);
}

/** Outcome of a vote. */
export interface VoteResult {
  n: number;
  votes: number;
  /** False when the vote was already there (or already absent, for a removal). */
  changed: boolean;
}

/** Adds (or removes) one person's vote on a question; one vote per person, merges followed. */
export async function voteQuestion(env: AmaEnv, ama: Ama, n: number, user: Pick<ChatUser, 'id' | 'name'>, add = true): Promise<VoteResult> {
  let target = n;
  for (let hops = 0; hops < 20; hops++) {
    const res = (await env.scripts.run(
      'amaVote',
      [env.k.q(ama.id, target), env.k.sup(ama.id, target), env.k.voters(ama.id, target), env.k.askers(ama.id, target), env.k.rank(ama.id), env.k.names(ama.id)],
      [user.id, add ? '1' : '0', ama.startsAt, env.doublingMs, target, user.name ?? ''],
    )) as [number, number];
    if (res[0] === -1) throw new UserError('ama.noQuestion', `There is no Q${n}.`);
    if (res[0] === -2) {
      target = res[1];
      continue;
    }
    return { n: target, votes: res[1], changed: res[0] === 1 };
  }
  throw new UserError('ama.noQuestion', `There is no Q${n}.`);
}

/** Approves a waiting question (pre-moderation) or reopens a rejected one. */
export async function approveQuestion(env: AmaEnv, ama: Ama, n: number): Promise<Question> {
  return setStatus(env, ama, n, 'open', '');
}

/** Rejects a question: it leaves the queue and is never shown as a candidate again. */
export async function rejectQuestion(env: AmaEnv, ama: Ama, n: number, reason = ''): Promise<Question> {
  return setStatus(env, ama, n, 'rejected', reason.slice(0, 300));
}

async function setStatus(env: AmaEnv, ama: Ama, n: number, to: 'open' | 'rejected', reason: string): Promise<Question> {
  let target = n;
  for (let hops = 0; hops < 20; hops++) {
    const res = (await env.scripts.run('amaSetStatus', [env.k.q(ama.id, target), env.k.rank(ama.id), env.k.pending(ama.id)], [to, reason, target, ama.startsAt, env.doublingMs])) as number[];
    if (res[0] === -1) throw new UserError('ama.noQuestion', `There is no Q${n}.`);
    if (res[0] === -2) {
      target = res[1]!;
      continue;
    }
    if (res[0] === -3) throw new UserError('ama.answered', `Q${target} is already answered.`);
    if (res[0] === 0) throw new UserError('ama.same', `Q${target} is already ${to === 'open' ? 'approved' : 'rejected'}.`);
    return (await getQuestion(env, ama.id, target))!;
  }
  throw new UserError('ama.noQuestion', `There is no Q${n}.`);
}

/** Merges question `from` into `into` by hand: asks and distinct supporters move; `from` answers to `into` from now on. */
export async function mergeQuestions(env: AmaEnv, ama: Ama, from: number, into: number): Promise<Question> {
  const target = await rootQuestion(env, ama.id, into);
  if (!target) throw new UserError('ama.noQuestion', `There is no Q${into}.`);
  if (target.n === from) throw new UserError('ama.sameQuestion', `Q${from} is already part of Q${into}.`);
  const { release } = await lockAma(env, ama.id);
  try {
    const k = env.k;
    const res = (await env.scripts.run(
      'amaMerge',
      [k.q(ama.id, from), k.q(ama.id, target.n), k.asks(ama.id, from), k.asks(ama.id, target.n), k.sup(ama.id, from), k.sup(ama.id, target.n), k.voters(ama.id, from), k.voters(ama.id, target.n), k.askers(ama.id, from), k.askers(ama.id, target.n), k.rank(ama.id), k.qs(ama.id), k.pending(ama.id)],
      [from, target.n, ama.startsAt, env.doublingMs],
    )) as number[];
    if (res[0] === -1) throw new UserError('ama.noQuestion', `There is no Q${from}.`);
    if (res[0] === -2) throw new UserError('ama.merged', `Q${from} is already merged into Q${res[1]}.`);
    if (res[0] === -3) throw new UserError('ama.merged', `Q${target.n} was just merged into Q${res[1]}; merge into that.`);
    if (res[0] === -4) throw new UserError('ama.answered', `Q${from} is answered and Q${target.n} is not: merge Q${target.n} into Q${from} instead.`);
    // `from`'s index entries stay: new asks that resemble any of its asks land on `into` through the merge link.
    const asks = await asksOf(env, ama.id, from);
    const p = env.deps.redis.pipeline();
    for (const a of asks) if (a.messageId) p.set(k.msg(a.platform, safeBase(a.chat), a.messageId), `${ama.id}:${target.n}`, 'EX', MSG_TTL_S);
    await p.exec();
    return (await getQuestion(env, ama.id, target.n))!;
  } finally {
    await release();
  }
}

/** Splits ask number `k` (1-based, as listed) out of question `n` into a new question of its own. */
export async function splitQuestion(env: AmaEnv, ama: Ama, n: number, k: number): Promise<Question> {
  const root = await rootQuestion(env, ama.id, n);
  if (!root) throw new UserError('ama.noQuestion', `There is no Q${n}.`);
  const { release } = await lockAma(env, ama.id);
  try {
    const m = await env.deps.redis.incr(env.k.qseq(ama.id));
    const kk = env.k;
    const status = root.status === 'pending' ? 'pending' : 'open';
    const res = (await env.scripts.run(
      'amaSplit',
      [kk.q(ama.id, root.n), kk.asks(ama.id, root.n), kk.sup(ama.id, root.n), kk.voters(ama.id, root.n), kk.askers(ama.id, root.n), kk.q(ama.id, m), kk.asks(ama.id, m), kk.sup(ama.id, m), kk.askers(ama.id, m), kk.rank(ama.id), kk.qs(ama.id), kk.pending(ama.id)],
      [k - 1, m, ama.startsAt, env.doublingMs, status, root.n],
    )) as [number, string];
    if (res[0] === -1) throw new UserError('ama.noAsk', `Q${root.n} has no ask number ${k}.`);
    if (res[0] === -2) throw new UserError('ama.single', `Q${root.n} was asked only once: nothing to split.`);
    if (res[0] === -3) throw new UserError('ama.noQuestion', `Q${root.n} cannot be split.`);
    const ask = JSON.parse(res[1]) as Ask;
    // The split is remembered by where the ask's text is indexed: it leaves the question it was split from and
    // opens the new one, so later asks like it land on Q<m> and Q<root> no longer draws them.
    const index = amaIndex(env, ama.id);
    if (ask.ix) await index.remove(ask.ix);
    await index.add(m, ask.text);
    const moved = JSON.stringify({ ...ask, ix: String(m) } satisfies Ask);
    const p = env.deps.redis.pipeline().lset(kk.asks(ama.id, m), 0, moved);
    if (ask.messageId) p.set(kk.msg(ask.platform, safeBase(ask.chat), ask.messageId), `${ama.id}:${m}`, 'EX', MSG_TTL_S);
    await p.exec();
    return (await getQuestion(env, ama.id, m))!;
  } finally {
    await release();
  }
}

/** A question as the API shows it (contract §6). */
export interface QuestionView {
  id: string;
  n: number;
  text: string;
  status: QuestionStatus;
  votes: number;
  asks: { platform: Platform; chat: string; user: string; messageId?: string; text: string; at: number; url?: string }[];
  answer?: string;
  answeredAt?: number;
  createdAt: number;
}

/** Hides anonymous askers; everything else as stored. */
export function toView(amaId: string, q: Question & { asks: Ask[] }): QuestionView {
  const v: QuestionView = {
    id: `${amaId}-q${q.n}`,
    n: q.n,
    text: q.text,
    status: q.status,
    votes: q.votes,
    createdAt: q.createdAt,
    asks: q.asks.map((a) => ({
      platform: a.platform,
      chat: a.chat,
      user: a.anonymous ? 'anonymous' : a.user,
      ...(a.messageId && !a.anonymous ? { messageId: a.messageId } : {}),
      text: a.text,
      at: a.at,
      ...(a.url ? { url: a.url } : {}),
    })),
  };
  if (q.answer !== undefined) v.answer = q.answer;
  if (q.answeredAt !== undefined) v.answeredAt = q.answeredAt;
  return v;
}

/** Which questions to list and in what order. */
export interface ListOptions {
  status?: QuestionStatus | 'all';
  sort?: 'rank' | 'votes' | 'new' | 'number';
  limit?: number;
  offset?: number;
}

/** Lists merged questions: open ones by rank by default; `status`/`sort` as in contract §6. */
export async function listQuestions(env: AmaEnv, ama: Ama, opts: ListOptions = {}): Promise<(Question & { asks: Ask[] })[]> {
  const { redis } = env.deps;
  const limit = Math.max(1, Math.min(opts.limit ?? 50, 1000));
  const offset = Math.max(0, opts.offset ?? 0);
  const sort = opts.sort ?? 'rank';
  const status = opts.status ?? (sort === 'rank' ? 'open' : 'all');
  const k = env.k;
  let ns: number[];
  if (status === 'open' && sort === 'rank') {
    ns = (await redis.zrevrange(k.rank(ama.id), String(offset), String(offset + limit - 1))).map(Number);
    return questionsWithAsks(env, ama.id, ns);
  }
  if (status === 'answered' && (sort === 'new' || sort === 'rank')) {
    ns = (await redis.zrevrange(k.answered(ama.id), String(offset), String(offset + limit - 1))).map(Number);
    return questionsWithAsks(env, ama.id, ns);
  }
  if (status === 'pending') {
    ns = (await redis.zrange(k.pending(ama.id), '0', '-1')).map(Number);
  } else {
    // Other combinations need the statuses: read every top-level question's small fields in one pipeline.
    ns = (await redis.zrange(k.qs(ama.id), '0', '-1')).map(Number);
  }
  const p = redis.pipeline();
  for (const n of ns) p.hmget(k.q(ama.id, n), 'status', 'votes', 'createdAt');
  const rows = ((await p.exec()) ?? []).map(([, r], i) => {
    const [st, votes, created] = (r ?? []) as (string | null)[];
    return { n: ns[i]!, status: st as QuestionStatus, votes: Number(votes ?? 0), createdAt: Number(created ?? 0) };
  });
  let picked = rows.filter((r) => r.status && (status === 'all' ? r.status !== 'merged' : r.status === status));
  if (sort === 'votes' || sort === 'rank') {
    const score = (r: (typeof rows)[number]) => (sort === 'votes' ? r.votes : rankOf(env, ama, r.votes, r.createdAt));
    picked = picked.sort((a, b) => score(b) - score(a) || a.n - b.n);
  } else if (sort === 'new') picked = picked.sort((a, b) => b.createdAt - a.createdAt);
  else picked = picked.sort((a, b) => a.n - b.n);
  return questionsWithAsks(env, ama.id, picked.slice(offset, offset + limit).map((r) => r.n));
}

/** The question a native message (an ask) belongs to, as `{amaId, n}`. */
export async function questionOfMessage(env: AmaEnv, platform: string, chat: string, messageId: string): Promise<{ amaId: string; n: number } | null> {
  const v = await env.deps.redis.get(env.k.msg(platform, safeBase(chat), messageId));
  return parseMsgValue(v);
}

/** Reads `amaId:n`. */
export function parseMsgValue(v: string | null | undefined): { amaId: string; n: number } | null {
  const m = /^([^:]+):(\d+)$/.exec(v ?? '');
  return m ? { amaId: m[1]!, n: Number(m[2]) } : null;
}
