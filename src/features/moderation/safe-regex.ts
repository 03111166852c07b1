/**
 * Moderator-written regular expressions that cannot hang a worker: a static check refuses catastrophic shapes
 * (safe-regex2's star height, back-references, look-behind), a timed probe in a worker thread refuses what slipped
 * through, and matching only ever sees bounded windows of a message.
 */
import { Worker } from 'node:worker_threads';
import safeRegex from 'safe-regex2';

/** Longest pattern a moderator may add. */
export const MAX_PATTERN_CHARS = 200;
/** Matching sees the text in windows of this many characters ... */
export const MATCH_WINDOW = 1_000;
/** ... overlapping by this much, so a match across a window edge up to this length is still found. */
export const MATCH_OVERLAP = 100;
/** Longest text matched at all; the pipeline's own limit (MAX_TEXT_CHARS) is lower, this guards other callers. */
export const MAX_MATCH_TEXT = 20_000;
/** The slowest one probe input may be: linear and quadratic patterns take ~1-3 ms on a window, cubic or exponential ones far longer. */
export const PROBE_INPUT_MS = 100;
/** The whole probe is stopped after this long, whatever it is doing (an exponential pattern never returns by itself). */
export const PROBE_BUDGET_MS = 1_000;
/** Flags every filter pattern is compiled with: case-insensitive, Unicode-aware. */
export const FILTER_FLAGS = 'iu';

/** Why a pattern is refused, or the compiled pattern. */
export type PatternCheck = { ok: true; re: RegExp } | { ok: false; reason: string };

/** The cheap checks, run when a pattern is added and again whenever one is loaded from Redis. */
export function checkPatternStatic(pattern: string): PatternCheck {
  if (!pattern.trim()) return { ok: false, reason: 'the pattern is empty' };
  if (pattern.length > MAX_PATTERN_CHARS) return { ok: false, reason: `patterns are limited to ${MAX_PATTERN_CHARS} characters` };
  let re: RegExp;
  try {
    re = new RegExp(pattern, FILTER_FLAGS);
  } catch (err) {
    return { ok: false, reason: `not a valid pattern (${(err as Error).message.replace(/^Invalid regular expression: /, '').slice(0, 80)})` };
  }
  if (/\\[1-9]|\\k</.test(pattern)) return { ok: false, reason: 'back-references are not allowed (they need a backtracking engine)' };
  if (/\(\?<[=!]/.test(pattern)) return { ok: false, reason: 'look-behind is not allowed' };
  // safe-regex2 refuses nested quantifiers ((a+)+, (a*)*) and more than `limit` quantifiers in all.
  if (!safeRegex(pattern, { limit: 10 })) return { ok: false, reason: 'nested or too many repetitions: this pattern could backtrack catastrophically' };
  return { ok: true, re };
}

/** Probe inputs: long runs of the characters a pattern can match, each followed by a character that makes it fail. */
export function probeInputs(pattern: string): string[] {
  const units = new Set<string>(['a', 'A', '1', ' ', '_', '-', '.', 'x', 'é', '\u0430']);
  if (/\\d/.test(pattern)) units.add('7');
  if (/\\s/.test(pattern)) units.add('\t');
  for (const ch of pattern.replace(/\\[dDsSwWbBnrtfv]/g, '')) if (/[\p{L}\p{N}\p{P}\p{S} ]/u.test(ch) && !'()[]{}|*+?^$\\'.includes(ch)) units.add(ch);
  const literalRuns = pattern.match(/[\p{L}\p{N} ]{2,12}/gu) ?? [];
  const inputs: string[] = [];
  const n = MATCH_WINDOW;
  for (const u of [...units].slice(0, 40)) inputs.push(u.repeat(n) + '\u0000', u.repeat(n) + '!');
  for (const run of literalRuns.slice(0, 10)) inputs.push(run.repeat(Math.ceil(n / run.length)).slice(0, n) + '\u0000');
  inputs.push([...units].join('').repeat(Math.ceil(n / units.size)).slice(0, n) + '\u0000');
  return inputs;
}

// Runs inside the worker thread: plain JavaScript, no TypeScript loader needed.
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const re = new RegExp(workerData.pattern, workerData.flags);
let slowest = 0;
for (const s of workerData.inputs) {
  const t = performance.now();
  re.lastIndex = 0;
  re.test(s);
  slowest = Math.max(slowest, performance.now() - t);
  if (slowest > workerData.inputMs) break;
}
parentPort.postMessage(slowest);
`;

/** Runs the pattern against adversarial inputs in a worker thread; false when one input is slow or the whole run overruns. */
export async function probePattern(pattern: string, budgetMs = PROBE_BUDGET_MS): Promise<boolean> {
  const worker = new Worker(PROBE_SOURCE, {
    eval: true,
    workerData: { pattern, flags: FILTER_FLAGS, inputs: probeInputs(pattern), inputMs: PROBE_INPUT_MS },
    resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
  });
  return new Promise<boolean>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (ok: boolean) => {
      if (timer) clearTimeout(timer);
      worker.removeAllListeners();
      worker.on('error', () => undefined);
      void worker.terminate();
      resolve(ok);
    };
    // The budget starts once the thread runs: starting a thread on a busy machine is not the pattern's fault.
    worker.once('online', () => {
      timer = setTimeout(() => finish(false), budgetMs);
    });
    worker.once('message', (slowest: number) => finish(slowest <= PROBE_INPUT_MS));
    worker.once('error', () => finish(false));
    worker.once('exit', () => finish(false));
  });
}

/** Everything a pattern must pass before it is stored: the static check, then the timed probe. */
export async function validatePattern(pattern: string): Promise<PatternCheck> {
  const check = checkPatternStatic(pattern);
  if (!check.ok) return check;
  if (!(await probePattern(pattern))) return { ok: false, reason: 'too slow on long inputs: this pattern could backtrack catastrophically' };
  return check;
}

/** Tests `re` against `text` in bounded, overlapping windows, so the cost is linear in the text length. */
export function boundedTest(re: RegExp, text: string): boolean {
  const t = text.length > MAX_MATCH_TEXT ? text.slice(0, MAX_MATCH_TEXT) : text;
  const step = MATCH_WINDOW - MATCH_OVERLAP;
  for (let start = 0; start < t.length || start === 0; start += step) {
    re.lastIndex = 0;
    if (re.test(t.slice(start, start + MATCH_WINDOW))) return true;
    if (start + MATCH_WINDOW >= t.length) break;
  }
  return false;
}
