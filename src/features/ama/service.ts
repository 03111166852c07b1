/**
 * The AMA operations for the CLI (`townhall ama schedule|list|start|end|recap`) and the HTTP API: the same steps
 * the chat commands take, enqueued straight onto the outbound queues. Each throws UserError with a one-line reason.
 */
import { UserError } from '../../core/errors.js';
import type { CoreDeps } from '../../pipeline/context.js';
import { auditInto } from '../../pipeline/audit.js';
import { publishLive } from '../../pipeline/live-notes.js';
import { answerQuestion } from './answers.js';
import { amaView, cancelOp, closeOp, openOp, requireAma, runOp, scheduleAma, type AmaView, type CloseOptions, type ScheduleInput } from './lifecycle.js';
import type { Ama, AmaStatus } from './model.js';
import { approveQuestion, listQuestions, mergeQuestions, rejectQuestion, splitQuestion, toView, type ListOptions, type QuestionView } from './questions.js';
import { buildRecap, recapCsv, recapMarkdown, type AmaRecap } from './recap.js';
import { amaEnv, getAmas, once, questionsWithAsks, rootQuestion, safeBase, type AmaEnv } from './store.js';

function envOf(deps: CoreDeps | AmaEnv): AmaEnv {
  return 'scripts' in deps ? deps : amaEnv(deps);
}

async function audit(env: AmaEnv, ama: Ama, action: string, by: string, meta: Record<string, string | number | boolean> = {}): Promise<void> {
  const tx = env.deps.redis.multi();
  const chat = ama.chats[0] ?? 'api';
  auditInto(tx, env.deps.keys, safeBase(chat), { action, by, chat, meta: { ama: ama.id, ...meta }, at: env.deps.now() });
  // Every operation that changes an AMA ends here: nudge the dashboards that show it.
  publishLive(tx, env.deps.keys, { type: 'ama', amaId: ama.id });
  await tx.exec();
}

/**
 * Schedules an AMA (contract §6 body: `{title, startsAt, durationMinutes, hosts[], chats[]}` plus optional settings).
 * With `opId` (an API Idempotency-Key), a retry returns the AMA the first call made instead of scheduling another.
 */
export async function amaSchedule(deps: CoreDeps | AmaEnv, input: ScheduleInput, by = 'cli', opId?: string): Promise<AmaView> {
  const env = envOf(deps);
  const ama = await once(env, opId ? `schedule:${opId}` : undefined, () => scheduleAma(env, input, by));
  await audit(env, ama, 'ama.schedule', by, { title: ama.title });
  return amaView(ama);
}

/** Lists AMAs, newest start first; optionally only one status or one chat's. */
export async function amaList(deps: CoreDeps | AmaEnv, opts: { status?: AmaStatus; chat?: string; limit?: number } = {}): Promise<AmaView[]> {
  const env = envOf(deps);
  const limit = Math.max(1, Math.min(opts.limit ?? 100, 1000));
  const key = opts.chat ? env.k.byChat(safeBase(opts.chat)) : env.k.all();
  // Read a little more than asked when filtering by status, so a page is rarely short.
  const ids = await env.deps.redis.zrevrange(key, '0', String((opts.status ? limit * 4 : limit) - 1));
  const amas = (await getAmas(env, ids)).filter((a) => !opts.status || a.status === opts.status);
  return amas.slice(0, limit).map(amaView);
}

/** One AMA. */
export async function amaGet(deps: CoreDeps | AmaEnv, id: string): Promise<AmaView> {
  return amaView(await requireAma(envOf(deps), id));
}

/** Opens an AMA now (before its scheduled time if need be). */
export async function amaStart(deps: CoreDeps | AmaEnv, id: string, by = 'cli'): Promise<AmaView> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  if (ama.status === 'live') throw new UserError('ama.live', `"${ama.title}" is already live.`);
  if (ama.status !== 'scheduled') throw new UserError('ama.over', `"${ama.title}" is ${ama.status}.`);
  await runOp(env, openOp(env, ama, env.deps.now()));
  await audit(env, ama, 'ama.start', by);
  return amaView(await requireAma(env, id));
}

/** Closes an AMA now: closing notice, recap everywhere, reward winners when configured. */
export async function amaEnd(deps: CoreDeps | AmaEnv, id: string, by = 'cli', opts: CloseOptions = {}): Promise<AmaView> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  if (ama.status !== 'live' && ama.status !== 'scheduled') throw new UserError('ama.over', `"${ama.title}" is already ${ama.status}.`);
  await runOp(env, await closeOp(env, ama, env.deps.now(), opts));
  await audit(env, ama, 'ama.end', by);
  return amaView(await requireAma(env, id));
}

/** Cancels a scheduled AMA. */
export async function amaCancel(deps: CoreDeps | AmaEnv, id: string, by = 'cli'): Promise<AmaView> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  if (ama.status !== 'scheduled') throw new UserError('ama.notScheduled', `Only a scheduled AMA can be cancelled; "${ama.title}" is ${ama.status}.`);
  await runOp(env, cancelOp(env, ama, env.deps.now()));
  await audit(env, ama, 'ama.cancel', by);
  return amaView(await requireAma(env, id));
}

/** Recap formats: Markdown, JSON, and CSV of questions or participants. */
export type RecapFormat = 'md' | 'json' | 'csv' | 'csv-questions' | 'csv-participants';

/** The recap of an AMA (any time; final after the close). */
export async function amaRecap(deps: CoreDeps | AmaEnv, id: string, format: 'json'): Promise<AmaRecap>;
export async function amaRecap(deps: CoreDeps | AmaEnv, id: string, format?: Exclude<RecapFormat, 'json'>): Promise<string>;
export async function amaRecap(deps: CoreDeps | AmaEnv, id: string, format: RecapFormat = 'md'): Promise<string | AmaRecap> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  if (format === 'csv' || format === 'csv-questions') return recapCsv(env, ama, 'questions');
  if (format === 'csv-participants') return recapCsv(env, ama, 'participants');
  const recap = await buildRecap(env, ama);
  return format === 'json' ? recap : recapMarkdown(recap);
}

/** Merged questions as the API lists them. */
export async function amaQuestions(deps: CoreDeps | AmaEnv, id: string, opts: ListOptions = {}): Promise<QuestionView[]> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  return (await listQuestions(env, ama, opts)).map((q) => toView(ama.id, q));
}

/** Reads `12`, `Q12`, `a3-q12` as a question number. */
export function questionNumber(qid: string): number {
  const m = /^(?:[A-Za-z0-9]+-)?q?(\d{1,7})$/i.exec(qid.trim());
  if (!m) throw new UserError('ama.qid', `Not a question id: ${qid.slice(0, 40)}`);
  return Number(m[1]);
}

async function viewOf(env: AmaEnv, ama: Ama, n: number): Promise<QuestionView> {
  const root = await rootQuestion(env, ama.id, n);
  const [q] = await questionsWithAsks(env, ama.id, [root?.n ?? n]);
  if (!q) throw new UserError('ama.noQuestion', `There is no Q${n}.`);
  return toView(ama.id, q);
}

/** Answers a question through the API: replies under every ask and in every answers place. */
export async function amaAnswer(deps: CoreDeps | AmaEnv, id: string, qid: string, text: string, by: { id: string; name: string }): Promise<QuestionView> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  const { question, actions } = await answerQuestion(env, ama, questionNumber(qid), text, by);
  if (actions.length) await env.deps.outbound.enqueue(actions);
  await audit(env, ama, 'ama.answer', by.id, { n: question.n });
  return viewOf(env, ama, question.n);
}

/** Approves a waiting question. */
export async function amaApprove(deps: CoreDeps | AmaEnv, id: string, qid: string, by: string): Promise<QuestionView> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  const q = await approveQuestion(env, ama, questionNumber(qid));
  await audit(env, ama, 'ama.approve', by, { n: q.n });
  return viewOf(env, ama, q.n);
}

/** Rejects a question. */
export async function amaReject(deps: CoreDeps | AmaEnv, id: string, qid: string, by: string, reason = ''): Promise<QuestionView> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  const q = await rejectQuestion(env, ama, questionNumber(qid), reason);
  await audit(env, ama, 'ama.reject', by, { n: q.n, reason });
  return viewOf(env, ama, q.n);
}

/** Merges a question into another. */
export async function amaMerge(deps: CoreDeps | AmaEnv, id: string, qid: string, into: string | number, by: string): Promise<QuestionView> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  const from = questionNumber(qid);
  const q = await mergeQuestions(env, ama, from, questionNumber(String(into)));
  await audit(env, ama, 'ama.merge', by, { from, into: q.n });
  return viewOf(env, ama, q.n);
}

/** Splits ask `k` (from 1) of a question into a question of its own. */
export async function amaSplit(deps: CoreDeps | AmaEnv, id: string, qid: string, k: number, by: string): Promise<QuestionView> {
  const env = envOf(deps);
  const ama = await requireAma(env, id);
  const q = await splitQuestion(env, ama, questionNumber(qid), k);
  await audit(env, ama, 'ama.split', by, { from: questionNumber(qid), k, into: q.n });
  return viewOf(env, ama, q.n);
}
