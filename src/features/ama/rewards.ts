/**
 * Rewards, as crypto AMAs run them: pick N winning questions by votes and a quality score, skip people who won
 * within the cooldown, announce the winners in every linked chat and let them claim privately (/claim).
 */
import { randomBytes } from 'node:crypto';
import { UserError } from '../../core/errors.js';
import { platformOf, type Platform } from '../../core/ids.js';
import { isQuestion } from './dedup.js';
import type { Ama, Ask } from './model.js';
import { actionId, asksOf, type Actions, type AmaEnv } from './store.js';
import { shorten } from './text.js';

/** One reward winner. */
export interface Winner {
  n: number;
  question: string;
  user: string;
  userName: string;
  platform: Platform;
  anonymous?: boolean;
  votes: number;
  quality: number;
  code: string;
}

/** Scores question texts for quality in [0, 1] (an LLM, or the built-in heuristic). */
export type QualityScorer = (texts: string[]) => Promise<number[]>;

const SPAM = /\b(?:airdrop me|send me|dm me|giveaway|free tokens?|whitelist me|wl pls|1000x|pump)\b|(?:t\.me\/|https?:\/\/)/i;

/** Heuristic quality: a readable, specific question of reasonable length that is not spam. */
export function heuristicQuality(text: string): number {
  const t = text.trim();
  const len = [...t].length;
  // Length: very short questions rarely carry substance, walls of text are hard to answer live.
  const lengthScore = len < 15 ? 0.2 : len < 40 ? 0.6 : len <= 300 ? 1 : len <= 600 ? 0.7 : 0.4;
  const clarity = isQuestion(t) ? 1 : 0.4;
  const words = t.split(/\s+/).filter(Boolean);
  const distinct = new Set(words.map((w) => w.toLowerCase())).size;
  const variety = words.length ? Math.min(1, distinct / Math.max(3, words.length * 0.6)) : 0;
  const letters = t.replace(/[^\p{L}]/gu, '');
  const upper = letters.replace(/[^\p{Lu}]/gu, '').length;
  const shouting = letters.length > 10 && upper / letters.length > 0.7;
  const repeated = /(.)\1{5,}/u.test(t);
  const emojiHeavy = (t.match(/\p{Extended_Pictographic}/gu)?.length ?? 0) > Math.max(3, words.length / 2);
  let spam = SPAM.test(t) ? 0.1 : 1;
  if (shouting || repeated || emojiHeavy) spam *= 0.5;
  return Math.round(lengthScore * (0.5 + 0.5 * clarity) * (0.6 + 0.4 * variety) * spam * 1000) / 1000;
}

/**
 * An OpenAI-compatible chat-completions scorer (the same provider setting as summaries: `digest.llm` plus the
 * LLM_API_KEY the caller passes in). Any failure falls back to the heuristic for that batch.
 */
export function llmQualityScorer(opts: { baseUrl: string; model: string; apiKey?: string | undefined; timeoutMs?: number }): QualityScorer {
  return async (texts) => {
    const fallback = texts.map(heuristicQuality);
    if (!texts.length) return fallback;
    const prompt =
      'Rate each AMA question from 0 to 10 for quality: specific, clear, relevant to the project, not spam or begging. ' +
      'Answer with only a JSON array of numbers, one per question, same order.\n\n' +
      texts.map((t, i) => `${i + 1}. ${shorten(t, 400)}`).join('\n');
    try {
      const res = await fetch(`${opts.baseUrl.replace(/\/$/, '')}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
        body: JSON.stringify({ model: opts.model, temperature: 0, messages: [{ role: 'user', content: prompt }] }),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000),
      });
      if (!res.ok) return fallback;
      const body = (await res.json()) as { choices?: { message?: { content?: string } }[] };
      const m = /\[[\s\S]*\]/.exec(body.choices?.[0]?.message?.content ?? '');
      const arr = m ? (JSON.parse(m[0]) as unknown[]) : [];
      if (arr.length !== texts.length) return fallback;
      return arr.map((x, i) => (typeof x === 'number' && Number.isFinite(x) ? Math.max(0, Math.min(1, x / 10)) : fallback[i]!));
    } catch {
      return fallback;
    }
  };
}

/** How many top-voted questions are scored for quality (scoring all of a 100k queue would be waste). */
const CANDIDATES = 200;

/** Picks (once; later calls return the same) up to `count` winners and records their claims. */
export async function pickWinners(env: AmaEnv, ama: Ama, count: number, opts: { cooldownMs: number; scorer?: QualityScorer }): Promise<Winner[]> {
  const { redis } = env.deps;
  const existing = await redis.get(env.k.winners(ama.id));
  if (existing) return JSON.parse(existing) as Winner[];
  if (count < 1) throw new UserError('usage', 'Usage: /rewards <count>');
  const ns = (await redis.zrange(env.k.qs(ama.id), '0', '-1')).map(Number);
  const p = redis.pipeline();
  for (const n of ns) p.hmget(env.k.q(ama.id, n), 'status', 'votes', 'text');
  const rows = ((await p.exec()) ?? [])
    .map(([, r], i) => {
      const [status, votes, text] = (r ?? []) as (string | null)[];
      return { n: ns[i]!, status: status ?? '', votes: Number(votes ?? 0), text: text ?? '' };
    })
    .filter((r) => r.status === 'open' || r.status === 'answered')
    .sort((a, b) => b.votes - a.votes || a.n - b.n)
    .slice(0, CANDIDATES);
  const quality = await (opts.scorer ?? (async (t: string[]) => t.map(heuristicQuality)))(rows.map((r) => r.text));
  const ranked = rows
    .map((r, i) => ({ ...r, quality: quality[i] ?? 0 }))
    .filter((r) => r.quality >= 0.15)
    .sort((a, b) => Math.log2(1 + b.votes) * (0.5 + b.quality) - Math.log2(1 + a.votes) * (0.5 + a.quality) || a.n - b.n);
  const now = env.deps.now();
  const winners: Winner[] = [];
  const taken = new Set<string>();
  for (const r of ranked) {
    if (winners.length >= count) break;
    const asks = await asksOf(env, ama.id, r.n);
    const lastWins = asks.length ? await redis.zmscore(env.k.wins(), ...asks.map((a) => a.user)) : [];
    // The first asker who has not won within the cooldown (and not already in this round) gets it.
    const idx = asks.findIndex((a, i) => !taken.has(a.user) && !(lastWins[i] && now - Number(lastWins[i]) < opts.cooldownMs));
    const a: Ask | undefined = asks[idx];
    if (!a) continue;
    taken.add(a.user);
    winners.push({
      n: r.n,
      question: r.text,
      user: a.user,
      userName: a.userName,
      platform: platformOf(a.user),
      ...(a.anonymous ? { anonymous: true } : {}),
      votes: r.votes,
      quality: r.quality,
      code: randomBytes(4).toString('hex'),
    });
  }
  // First writer wins: a concurrent pick (or a retry) reads back the same list.
  const set = await redis.set(env.k.winners(ama.id), JSON.stringify(winners), 'NX');
  if (set !== 'OK') return JSON.parse((await redis.get(env.k.winners(ama.id)))!) as Winner[];
  const tx = redis.multi();
  for (const w of winners) {
    tx.zadd(env.k.wins(), now, w.user);
    tx.hset(env.k.claims(w.user), `${ama.id}:${w.n}`, JSON.stringify({ amaId: ama.id, title: ama.title, n: w.n, question: w.question, code: w.code, at: now }));
  }
  await tx.exec();
  return winners;
}

/** The winners announcement in every linked chat, and a private note to each winner. */
export function winnerActions(ama: Ama, winners: Winner[]): Actions {
  if (!winners.length) return [];
  const list = winners.map((w) => `Q${w.n} · ${w.anonymous ? 'anonymous' : w.userName} — “${shorten(w.question, 120)}” (▲${w.votes})`).join('\n');
  const text = `🏆 Reward winners of "${ama.title}":\n${list}\n\nWinners: open a private chat with @townhall_bot and send /claim.`;
  const actions: Actions = ama.chats.map((chat) => ({ v: 1, id: actionId(ama.id, 'winners', chat), type: 'send', platform: platformOf(chat), chat, text, priority: 'digest' }));
  for (const w of winners) {
    actions.push({
      v: 1,
      id: actionId(ama.id, 'winner-dm', w.user),
      type: 'dm',
      platform: w.platform,
      chat: '',
      user: w.user,
      text: `🏆 Your question Q${w.n} in the AMA "${ama.title}" won a reward. Send /claim here to claim it (code ${w.code}).`,
      priority: 'command',
    });
  }
  return actions;
}

/** Claims every unclaimed reward of a person; returns what was claimed. */
export async function claimRewards(env: AmaEnv, user: string): Promise<{ title: string; n: number; code: string }[]> {
  const { redis } = env.deps;
  const all = await redis.hgetall(env.k.claims(user));
  const out: { title: string; n: number; code: string }[] = [];
  for (const [field, raw] of Object.entries(all)) {
    // HDEL decides who claims when the same person sends /claim twice at once.
    if ((await redis.hdel(env.k.claims(user), field)) !== 1) continue;
    const c = JSON.parse(raw) as { amaId: string; title: string; n: number; code: string };
    await redis.hset(env.k.claimed(c.amaId), user, JSON.stringify({ n: c.n, code: c.code, at: env.deps.now() }));
    out.push({ title: c.title, n: c.n, code: c.code });
  }
  return out;
}
