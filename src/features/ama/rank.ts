/**
 * The question ranking (documented in README.md): `log2(1 + votes) + age / τ`, where `age` is how long after the
 * AMA's start the question was first asked (0 for questions sent in before the start) and τ ("doubling time")
 * defaults to 30 minutes.
 *
 * A question asked τ later needs about half the votes to draw level, so early questions do not sit on top
 * forever, while votes keep their logarithmic weight (the 100th vote moves a question less than the 2nd).
 * The score depends only on the vote count and the ask time, so it is written once per vote into a sorted
 * set (no re-scoring of the queue as time passes): Reddit's "hot" construction.
 */

/** Default doubling time τ of the ranking. */
export const RANK_DOUBLING_MS = 30 * 60_000;

/** The rank score of a question: higher is better. Questions asked before the start count as asked at the start. */
export function rankScore(votes: number, createdAt: number, epoch: number, doublingMs = RANK_DOUBLING_MS): number {
  return Math.log2(1 + Math.max(0, votes)) + Math.max(0, createdAt - epoch) / doublingMs;
}

/** The same formula as a Lua expression over `votes`, `created`, `epoch`, `tau` (kept next to the JS one on purpose). */
export const RANK_LUA = 'math.log(1 + votes) / math.log(2) + (created - epoch) / tau';
