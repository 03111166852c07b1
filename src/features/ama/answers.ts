/**
 * Answers: the host's one answer goes back as a threaded reply under every ask of the question, on every
 * platform, and into each linked chat's answers place. Every outbound action has an id derived from the
 * question and the place, so each place gets the answer exactly once, whatever crashes, retries or repeats.
 */
import { UserError } from '../../core/errors.js';
import { parseChatKey, platformOf, type Platform } from '../../core/ids.js';
import type { Ama, Ask, Question } from './model.js';
import { placeRef } from './model.js';
import { actionId, asksOf, getQuestion, safeBase, shownName, type Actions, type AmaEnv } from './store.js';
import { scheduleTask, type AmaTask, type TaskOutcome } from './tasks.js';
import { PLATFORM_TEXT_LIMIT, shorten, splitText } from './text.js';
import { capabilitiesOf } from '../../platform/index.js';

/** Longest answer accepted. */
export const MAX_ANSWER_CHARS = 20_000;

/** Who answered. */
export interface Answerer {
  id: string;
  name: string;
}

/** Records the answer of question `n` and returns the replies under every ask; the answers places follow via tasks. */
export async function answerQuestion(env: AmaEnv, ama: Ama, n: number, text: string, by: Answerer): Promise<{ question: Question; actions: Actions }> {
  const answer = text.trim();
  if (!answer) throw new UserError('usage', 'Usage: /answer <n> <text>');
  if (answer.length > MAX_ANSWER_CHARS) throw new UserError('ama.long', `That answer is too long (${answer.length} characters; at most ${MAX_ANSWER_CHARS}).`);
  const at = env.deps.now();
  let target = n;
  for (let hops = 0; hops < 20; hops++) {
    const res = (await env.scripts.run('amaAnswer', [env.k.q(ama.id, target), env.k.rank(ama.id), env.k.answered(ama.id), env.k.pending(ama.id)], [answer, at, by.name || by.id, target])) as number[];
    if (res[0] === -1) throw new UserError('ama.noQuestion', `There is no Q${n}.`);
    if (res[0] === -2) {
      target = res[1]!;
      continue;
    }
    if (res[0] === 3) throw new UserError('ama.answered', `Q${target} is already answered.`);
    if (res[0] === 4) throw new UserError('ama.rejected', `Q${target} was rejected; /approve it first.`);
    // 1: answered now; 2: the same answer again (a retry): the same action ids make the fan-out a no-op where done.
    const question = (await getQuestion(env, ama.id, target))!;
    const asks = await asksOf(env, ama.id, target);
    const actions = asks.flatMap((a) => replyUnderAsk(ama, question, a));
    await schedulePlaces(env, ama);
    return { question, actions };
  }
  throw new UserError('ama.noQuestion', `There is no Q${n}.`);
}

/** Brings every linked chat's answers place up to date soon (a scheduler task per chat). */
export async function schedulePlaces(env: AmaEnv, ama: Ama): Promise<void> {
  const tx = env.deps.redis.multi();
  for (const chat of ama.chats) scheduleTask(env, { type: 'place', amaId: ama.id, chat }, env.deps.now(), tx);
  await tx.exec();
}

/** The text posted under an ask. */
function answerText(q: Question, ask: Ask | null): string {
  const who = q.answeredBy ? `${q.answeredBy} answered` : 'Answer to';
  const head = ask?.messageId ? `🎙 ${who} Q${q.n}:` : `🎙 ${who} Q${q.n} (“${shorten(q.text, 200)}”${ask ? `, asked by ${shownName(ask)}` : ''}):`;
  return `${head}\n\n${q.answer ?? ''}`;
}

/** Whether a chat id names a topic/thread; undefined when it is not a chat id. */
function hasThread(chat: string): boolean | undefined {
  try {
    return Boolean(parseChatKey(chat).threadId);
  } catch {
    return undefined;
  }
}

/** Where under an ask the answer goes, as a stable id part. */
function placeOfAsk(ask: Ask): string {
  return `${ask.chat}/${ask.messageId ?? `u:${ask.user}`}`;
}

/** The reply under one ask: a reply in the ask's chat/topic, a thread opened on the ask (where threads open on messages), an X reply (thread). */
export function replyUnderAsk(ama: Ama, q: Question, ask: Ask): Actions {
  const base = actionId(ama.id, `q${q.n}`, 'ans', placeOfAsk(ask));
  const text = answerText(q, ask);
  const inThread = hasThread(ask.chat) ?? true;
  if (capabilitiesOf(ask.platform).threads === 'on-message' && ask.messageId && ask.via !== 'private' && !inThread) {
    // A thread on the question message with the answer inside (the adapter names the thread, posts and splits the text;
    // a retried action finds the thread it made, since a message's thread has the message's id).
    return [{ v: 1, id: `${base}/thread`, type: 'thread', platform: ask.platform, chat: ask.chat, messageId: ask.messageId, title: shorten(`Q${q.n}: ${q.text}`, 90), text, priority: 'answer' }];
  }
  return splitText(text, PLATFORM_TEXT_LIMIT[ask.platform]).map((part, i) => ({
    v: 1,
    id: `${base}/p${i}`,
    type: 'send',
    platform: ask.platform,
    chat: ask.chat,
    text: part,
    priority: 'answer',
    ...(ask.messageId ? { replyTo: ask.messageId } : {}),
  }));
}

/** How many answers a pinned answers digest shows at most. */
const PINNED_MAX_ANSWERS = 30;

/** The pinned answers digest of a group without a thread of its own (newest first, within the platform's length limit). */
async function pinnedDigest(env: AmaEnv, ama: Ama, platform: Platform): Promise<{ text: string; count: number }> {
  const { redis } = env.deps;
  const count = await redis.zcard(env.k.answered(ama.id));
  const ns = (await redis.zrevrange(env.k.answered(ama.id), '0', String(PINNED_MAX_ANSWERS - 1))).map(Number);
  const p = redis.pipeline();
  for (const n of ns) p.hmget(env.k.q(ama.id, n), 'text', 'answer');
  const rows = ((await p.exec()) ?? []).map(([, r]) => (r ?? []) as (string | null)[]);
  const head = `📌 AMA answers · ${ama.title} (${count} answered)`;
  let text = head;
  let shown = 0;
  for (const [i, [qt, ans]] of rows.entries()) {
    const block = `\n\nQ${ns[i]} · ${shorten(qt ?? '', 200)}\n→ ${shorten(ans ?? '', 600)}`;
    if (text.length + block.length > PLATFORM_TEXT_LIMIT[platform] - 80) break;
    text += block;
    shown++;
  }
  if (count > shown) text += `\n\n… and ${count - shown} earlier answer${count - shown === 1 ? '' : 's'}: see the recap.`;
  if (count === 0) text += '\n\nAnswers will appear here as the host gives them.';
  return { text, count };
}

/**
 * Brings one chat's answers place up to date: a thread/topic (Discord thread, Telegram forum topic, X thread)
 * with each answer once, or, in a Telegram group without topics, a pinned message edited as answers come.
 */
export async function runPlaceTask(env: AmaEnv, task: Extract<AmaTask, { type: 'place' }>, ama: Ama | null, now: number): Promise<TaskOutcome> {
  if (!ama || !ama.chats.includes(task.chat)) return;
  const { redis, outbound } = env.deps;
  const stateKey = env.k.place(ama.id, task.chat);
  const state = await redis.hgetall(stateKey);
  const platform = platformOf(task.chat);
  const ref = placeRef(ama.id, task.chat);
  if (!state.requested) {
    await outbound.enqueue([
      { v: 1, id: actionId(ama.id, 'place', task.chat, 'thread'), type: 'thread', platform, chat: task.chat, title: shorten(`AMA answers · ${ama.title}`, 90), ref, priority: 'answer' },
    ]);
    await redis.hset(stateKey, 'requested', '1');
  }
  const stored = await redis.hgetall(env.deps.keys.k('ref', ref));
  if (!stored.platform) return { retryAt: now + 1000 };
  const placeChat = stored.chat || task.chat;
  // A group that got no thread of its own (a Telegram group without topics): where pins exist, its calm place is a
  // pinned message kept up to date instead.
  const pinnedMode = capabilitiesOf(platform).pins && hasThread(placeChat) === false && hasThread(task.chat) === false;
  if (pinnedMode) return syncPinned(env, ama, task.chat, stateKey, state, now);

  const ns = (await redis.zrange(env.k.answered(ama.id), '0', '-1')).map(Number);
  if (!ns.length) return;
  const posted = await redis.hmget(stateKey, ...ns.map((n) => `p${n}`));
  const todo = ns.filter((_, i) => !posted[i]);
  if (!todo.length) return;
  const p = redis.pipeline();
  for (const n of todo) p.hmget(env.k.q(ama.id, n), 'text', 'answer', 'answeredBy');
  const rows = ((await p.exec()) ?? []).map(([, r]) => (r ?? []) as (string | null)[]);
  const actions: Actions = [];
  todo.forEach((n, i) => {
    const [qt, ans, by] = rows[i]!;
    const text = `Q${n} · ${qt ?? ''}\n\n🎙 ${by ? `${by}: ` : ''}${ans ?? ''}`;
    splitText(text, PLATFORM_TEXT_LIMIT[platform]).forEach((part, j) => {
      actions.push({ v: 1, id: actionId(ama.id, 'place', task.chat, `q${n}`, `p${j}`), type: 'send', platform, chat: placeChat, text: part, priority: 'answer' });
    });
  });
  await outbound.enqueue(actions);
  await redis.hset(stateKey, ...todo.flatMap((n) => [`p${n}`, '1']));
}

async function syncPinned(env: AmaEnv, ama: Ama, chat: string, stateKey: string, state: Record<string, string>, now: number): Promise<TaskOutcome> {
  const { redis, outbound } = env.deps;
  const pinRef = `${placeRef(ama.id, chat)}:pinned`;
  const platform = platformOf(chat);
  const digest = await pinnedDigest(env, ama, platform);
  if (!state.digest) {
    await outbound.enqueue([{ v: 1, id: actionId(ama.id, 'place', chat, 'digest'), type: 'send', platform, chat, text: digest.text, ref: pinRef, priority: 'answer' }]);
    await redis.hset(stateKey, 'digest', '1', 'ver', String(digest.count));
    return { retryAt: now + 1000 };
  }
  const stored = await redis.hgetall(env.deps.keys.k('ref', pinRef));
  const msg = (JSON.parse(stored.messageIds ?? '[]') as string[])[0];
  if (!msg) return { retryAt: now + 1000 };
  const actions: Actions = [];
  if (!state.pinned) actions.push({ v: 1, id: actionId(ama.id, 'place', chat, 'pin'), type: 'pin', platform, chat, messageId: msg, priority: 'answer' });
  if (Number(state.ver ?? 0) < digest.count) {
    actions.push({ v: 1, id: actionId(ama.id, 'place', chat, 'edit', digest.count), type: 'edit', platform, chat, messageId: msg, text: digest.text, priority: 'answer' });
  }
  if (!actions.length) return;
  await outbound.enqueue(actions);
  await redis.hset(stateKey, 'pinned', '1', 'ver', String(Math.max(Number(state.ver ?? 0), digest.count)));
}

/** The answer owed to one new ask of an already answered question (a late duplicate gets the answer at once). */
export function lateAskReply(ama: Ama, q: Question, ask: Ask): Actions {
  return q.status === 'answered' && q.answer ? replyUnderAsk(ama, q, ask) : [];
}

/** The group of an ask's chat (for messages that map back to questions). */
export function askGroup(ask: Ask): string {
  return safeBase(ask.chat);
}
