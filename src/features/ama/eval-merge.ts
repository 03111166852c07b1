/**
 * `townhall eval merge`: how well AMA intake merges the same question asked in other words, platforms and languages.
 *
 * Every line of a JSONL file `{group, platform, text, lang?}` is asked, in order, through the real intake
 * (`ingestQuestion`, the same merge path as a chat `/ask`) into a throwaway AMA whose keys are deleted afterwards.
 * Two lines are the same question when their `group` is; the figures are pairwise over all line pairs (contract §8).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { isPlatform, PLATFORMS, type Platform } from '../../core/ids.js';
import type { CoreDeps } from '../../pipeline/context.js';
import { unlinkUnder } from '../../redis/scan.js';
import type { ScorerWeights } from '../questions/scorer.js';
import { stripAddressing } from './intake.js';
import { amaToHash, type Ama } from './model.js';
import { ingestQuestion } from './questions.js';
import { amaEnv } from './store.js';

/** One line of the file. */
export interface MergeLine {
  group: string;
  platform: Platform;
  text: string;
  lang?: string;
}

/** Pairwise figures in percent; `questions` is how many questions the lines became, `n` the number of lines. */
export interface MergeEval {
  precision: number;
  recall: number;
  f1: number;
  cross_language_recall: number;
  questions: number;
  n: number;
}

/** Reads and checks a merge file; a bad line fails with its number. */
export async function readMergeLines(path: string): Promise<MergeLine[]> {
  const out: MergeLine[] = [];
  for (const [i, line] of (await readFile(path, 'utf8')).split('\n').entries()) {
    if (!line.trim()) continue;
    let r: Partial<MergeLine>;
    try {
      r = JSON.parse(line) as Partial<MergeLine>;
    } catch {
      throw new Error(`${path}:${i + 1}: not JSON`);
    }
    if (typeof r.group !== 'string' || typeof r.text !== 'string' || typeof r.platform !== 'string' || !isPlatform(r.platform)) {
      throw new Error(`${path}:${i + 1}: expected {group, platform: ${PLATFORMS.join(' or ')}, text, lang?}`);
    }
    out.push({ group: r.group, platform: r.platform, text: r.text, ...(typeof r.lang === 'string' ? { lang: r.lang } : {}) });
  }
  return out;
}

/** Counts of line pairs: same question found / wrongly merged / missed, and the same for pairs across languages. */
export interface PairCounts {
  tp: number;
  fp: number;
  fn: number;
  xl: number;
  xlFound: number;
}

/** Counts the line pairs (only those involving a line `involves` accepts, when given). */
export function countPairs(lines: readonly MergeLine[], predicted: readonly number[], involves?: (i: number) => boolean): PairCounts {
  const c: PairCounts = { tp: 0, fp: 0, fn: 0, xl: 0, xlFound: 0 };
  for (let i = 0; i < lines.length; i++) {
    for (let j = i + 1; j < lines.length; j++) {
      if (involves && !involves(i) && !involves(j)) continue;
      const gold = lines[i]!.group === lines[j]!.group;
      const same = predicted[i] === predicted[j];
      if (gold && same) c.tp++;
      else if (same) c.fp++;
      else if (gold) c.fn++;
      if (gold && (lines[i]!.lang ?? 'en') !== (lines[j]!.lang ?? 'en')) {
        c.xl++;
        if (same) c.xlFound++;
      }
    }
  }
  return c;
}

/** Precision, recall, F1 and cross-language recall in percent from pair counts. */
export function pairFigures(c: PairCounts): Pick<MergeEval, 'precision' | 'recall' | 'f1' | 'cross_language_recall'> {
  const p = c.tp + c.fp ? c.tp / (c.tp + c.fp) : 0;
  const r = c.tp + c.fn ? c.tp / (c.tp + c.fn) : 0;
  const pct = (x: number): number => Math.round(x * 10000) / 100;
  return { precision: pct(p), recall: pct(r), f1: pct(p + r ? (2 * p * r) / (p + r) : 0), cross_language_recall: pct(c.xl ? c.xlFound / c.xl : 0) };
}

/** Pairwise precision, recall, F1 and cross-language recall of predicted question numbers against the groups. */
export function pairwiseMerge(lines: readonly MergeLine[], predicted: readonly number[]): MergeEval {
  return { ...pairFigures(countPairs(lines, predicted)), questions: new Set(predicted).size, n: lines.length };
}

/** Asks every line through AMA intake on a throwaway AMA and scores the merges; optionally writes `{"question"}` per line. */
export async function evalMerge(
  deps: CoreDeps,
  opts: {
    data: string | MergeLine[];
    predictions?: string;
    threshold?: number;
    scorer?: ScorerWeights;
    onProgress?: (done: number, total: number) => void;
    /** Called with the question number each line went to, in order. */
    onQuestion?: (n: number, line: number) => void;
  },
): Promise<MergeEval> {
  const lines = typeof opts.data === 'string' ? await readMergeLines(opts.data) : opts.data;
  const env = amaEnv(deps);
  const now = deps.now();
  const id = `eval${randomUUID().slice(0, 8)}`;
  const ama: Ama = {
    id, title: 'merge evaluation', status: 'live', startsAt: now, durationMs: 3_600_000, tz: 'UTC', hosts: [], chats: ['telegram:eval', 'discord:eval', 'x:eval'],
    hashtag: id, lang: 'en', reminders: [], premoderation: false, detectQuestions: false, rewards: 0, createdBy: 'eval', createdAt: now,
  };
  const predicted: number[] = [];
  try {
    await deps.redis.hset(env.k.ama(id), amaToHash(ama));
    for (const [i, line] of lines.entries()) {
      const r = await ingestQuestion(
        env,
        ama,
        {
          platform: line.platform,
          chat: `${line.platform}:eval`,
          user: `${line.platform}:user:e${i}`,
          userName: `asker ${i}`,
          // As the bot receives it: a mention of the bot is addressing, not part of the question.
          text: stripAddressing(line.text),
          at: now + i,
          via: 'api',
          opId: `eval/${id}/${i}`,
        },
        { ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}), ...(opts.scorer ? { scorer: opts.scorer } : {}) },
      );
      predicted.push(r.n);
      opts.onQuestion?.(r.n, i);
      opts.onProgress?.(i + 1, lines.length);
    }
  } finally {
    await unlinkUnder(deps.redis, `${env.k.ama(id)}:`);
    await deps.redis.unlink(env.k.ama(id));
  }
  if (opts.predictions) {
    const out = createWriteStream(opts.predictions, 'utf8');
    for (const n of predicted) if (!out.write(`${JSON.stringify({ question: `${id}-q${n}` })}\n`)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
  }
  return pairwiseMerge(lines, predicted);
}
