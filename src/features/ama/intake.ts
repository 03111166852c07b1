/**
 * The AMA's pipeline step for everything that is not a command: upvote buttons, 👍 reactions, `+1` replies,
 * the host's reply to a question card (an answer), replies to the announcement, the AMA's hashtag, mentions
 * on X, and (when enabled) questions written without a command during a live AMA.
 *
 * Per message in a chat without an AMA this costs one MGET; everything else happens only when it applies.
 */
import { UserError } from '../../core/errors.js';
import type { ChatEvent } from '../../core/events.js';
import { BOT_USERNAME } from '../../commands/parser.js';
import { baseChat } from '../../core/ids.js';
import type { EventContext } from '../../pipeline/context.js';
import type { Middleware } from '../../pipeline/composer.js';
import { answerQuestion, lateAskReply } from './answers.js';
import { isQuestion } from './dedup.js';
import { parseRef, parseVoteData, type Ama, type Ask } from './model.js';
import { ingestQuestion, parseMsgValue, voteQuestion, type IntakeResult } from './questions.js';
import { isAmaHost } from './roles.js';
import { amaSpans, getAma, getQuestion, liveAmas, namedHost, amasOfChat, type AmaEnv } from './store.js';
import { capabilitiesOf, type Platform } from '../../platform/index.js';

/** Reactions that count as an upvote. */
const UPVOTE_EMOJI = new Set(['👍', '⬆', '🔼', '▲', '☝', '+1', 'thumbsup']);

/** `+1`, `👍`, `same`, `me too`: a reply that votes rather than says something. */
export function isPlusOne(text: string): boolean {
  const t = text.replace(/(?:[\u{1F3FB}-\u{1F3FF}]|\uFE0F)/gu, '');
  return /^\s*(?:\+\s*1|\+\+|👍|⬆|same(?: question)?|me too|this|upvoted?)\s*[!.]*\s*$/iu.test(t);
}

/** The upvote meaning of a reaction emoji, skin tones and variation selectors ignored. */
export function isUpvoteEmoji(emoji: string): boolean {
  return UPVOTE_EMOJI.has(emoji.replace(/(?:[\u{1F3FB}-\u{1F3FF}]|\uFE0F)/gu, ''));
}

/** The AMA accepts questions (pre-questions before it opens, and while live). */
export function acceptsQuestions(ama: Ama | null | undefined): ama is Ama {
  return Boolean(ama && (ama.status === 'live' || ama.status === 'scheduled'));
}

/** Display name of the sender. */
export function senderName(e: ChatEvent): string {
  return e.user.name || (e.user.username ? `@${e.user.username}` : e.user.id);
}

/** Takes the event's message in as a question of `ama` and acknowledges it quietly. */
export async function askFromEvent(ctx: EventContext, env: AmaEnv, ama: Ama, text: string, via: Ask['via'], opts: { anonymous?: boolean } = {}): Promise<IntakeResult> {
  const e = ctx.event;
  const ask: Ask = {
    platform: e.platform,
    chat: e.chat,
    user: e.user.id,
    userName: senderName(e),
    text,
    at: e.at,
    via,
    ...(e.messageId ? { messageId: e.messageId } : {}),
    ...(opts.anonymous ? { anonymous: true } : {}),
    ...(e.url ? { url: e.url } : {}),
  };
  const result = await ingestQuestion(env, ama, { ...ask, opId: e.id });
  acknowledge(ctx, ama, result, Boolean(opts.anonymous));
  if (result.merged && result.status === 'answered') {
    const q = await getQuestion(env, ama.id, result.n);
    if (q) for (const a of lateAskReply(ama, q, ask)) ctx.act(a);
  }
  return result;
}

/** A quiet acknowledgement: a reaction where the platform has them, an in-place answer for interactions, a line in private. */
export function acknowledge(ctx: EventContext, ama: Ama, r: IntakeResult, anonymous: boolean): void {
  const e = ctx.event;
  const id = `${e.id}#ama-ack`;
  const line = r.merged ? `Added to Q${r.n} (the same question was already asked; ▲${r.votes}).` : `Q${r.n} received${r.status === 'pending' ? ' (waiting for approval)' : ''}.`;
  if (e.replyHandle) {
    ctx.act({ id, type: 'answer', platform: e.platform, chat: e.chat, replyHandle: e.replyHandle, text: line, priority: 'ack' });
  } else if (e.chatType === 'private') {
    ctx.act({ id, type: 'send', platform: e.platform, chat: e.chat, text: `${line} AMA: ${ama.title}${anonymous ? ' · asked anonymously (use /ask --public to show your name)' : ''}`, priority: 'ack', ...(e.messageId ? { replyTo: e.messageId } : {}) });
  } else if (e.messageId) {
    ctx.act({ id, type: 'react', platform: e.platform, chat: e.chat, messageId: e.messageId, emoji: '👀', priority: 'ack' });
  }
}

/** Removes the bot's mention and the AMA hashtag from a question's text. */
export function stripAddressing(text: string, hashtag?: string): string {
  let t = text.replace(new RegExp(`@${BOT_USERNAME}\\b`, 'gi'), ' ');
  if (hashtag) t = t.replace(new RegExp(`#${escapeRe(hashtag)}(?![\\p{L}\\p{N}_])`, 'giu'), ' ');
  return t.replace(/\s+/g, ' ').trim();
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function hasHashtag(text: string, tag: string): boolean {
  return tag.length > 0 && new RegExp(`#${escapeRe(tag)}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** Whether the step looks at this event at all. */
function concerns(e: ChatEvent): boolean {
  return e.source !== 'import' && !e.user.isBot;
}

/** What a chat message makes the step read first: the group's live AMA, and for a reply what the replied-to message was. */
function messageLookups(env: AmaEnv, e: ChatEvent): string[] {
  const group = baseChat(e.chat);
  const lookups = [env.k.live(group)];
  if (e.replyTo) lookups.push(env.deps.keys.k('sent', e.platform, group, e.replyTo), env.k.msg(e.platform, group, e.replyTo));
  return lookups;
}

/** The keys the step reads for an event, for the pipeline to fetch with its first round trip. */
export function amaPrefetch(env: AmaEnv): (e: ChatEvent) => string[] {
  return (e) => (concerns(e) && e.kind === 'message' && e.text?.trim() ? messageLookups(env, e) : []);
}

/** The pipeline step. */
export function amaMiddleware(env: AmaEnv): Middleware<EventContext> {
  return async (ctx, next) => {
    const e = ctx.event;
    if (concerns(e) && !ctx.stopped) {
      try {
        if (e.kind === 'vote') await onVote(ctx, env);
        else if (e.kind === 'reaction') await onReaction(ctx, env);
        else if (e.kind === 'message' && e.text) await onMessage(ctx, env, e.text);
      } catch (err) {
        // A refusal meant for a person: answered in place where the event asked for an answer, otherwise not worth a message.
        if (!(err instanceof UserError)) throw err;
        if (e.replyHandle) ctx.reply(err.message, { priority: 'ack' });
        else env.deps.log.debug({ event: e.id, why: err.message }, 'AMA ignored an event');
      }
    }
    await next();
  };
}

/**
 * Whether a vote was cast in its place: in a chat the AMA spans, and — when the platform says which message carried
 * the button — on that AMA's card of that question. Button data is whatever a client sends (a Telegram client can
 * send any callback data), so it is never trusted alone.
 */
async function votePlaceOk(ctx: EventContext, env: AmaEnv, ama: Ama, n: number): Promise<boolean> {
  const e = ctx.event;
  if (!amaSpans(ama, e.chat)) return false;
  if (!e.messageId) return true;
  const [sent] = await env.deps.redis.mget(env.deps.keys.k('sent', e.platform, ctx.group, e.messageId));
  // A message the bot has no record of sending (X likes are tracked by the adapter itself) is judged by the chat alone.
  if (sent === null) return true;
  const ref = parseRef(sent);
  return ref?.kind === 'card' && ref.amaId === ama.id && ref.n === n;
}

async function onVote(ctx: EventContext, env: AmaEnv): Promise<void> {
  const e = ctx.event;
  const target = parseVoteData(e.vote?.target);
  if (!target) return;
  const ama = await getAma(env, target.amaId);
  const answer = (text: string) => {
    if (e.replyHandle) ctx.act({ id: `${e.id}#ama-vote`, type: 'answer', platform: e.platform, chat: e.chat, replyHandle: e.replyHandle, text, priority: 'ack' });
  };
  if (!acceptsQuestions(ama)) return answer('This AMA is over.');
  if (!(await votePlaceOk(ctx, env, ama, target.n))) {
    env.deps.log.info({ event: e.id, chat: e.chat, ama: ama.id, n: target.n }, 'vote refused: not cast on that AMA question in a chat the AMA spans');
    return answer('That vote does not count here.');
  }
  const r = await voteQuestion(env, ama, target.n, e.user, e.vote?.added !== false);
  answer(r.changed ? `▲ Q${r.n}: ${r.votes} vote${r.votes === 1 ? '' : 's'}` : `You already support Q${r.n} (${r.votes}).`);
}

async function onReaction(ctx: EventContext, env: AmaEnv): Promise<void> {
  const e = ctx.event;
  if (!e.reaction || !e.messageId || !isUpvoteEmoji(e.reaction.emoji)) return;
  const [sent, msg] = await env.deps.redis.mget(env.deps.keys.k('sent', e.platform, ctx.group, e.messageId), env.k.msg(e.platform, ctx.group, e.messageId));
  const ref = parseRef(sent);
  const target = ref?.kind === 'card' ? { amaId: ref.amaId, n: ref.n } : parseMsgValue(msg);
  if (!target) return;
  const ama = await getAma(env, target.amaId);
  if (!acceptsQuestions(ama) || !amaSpans(ama, e.chat)) return;
  await voteQuestion(env, ama, target.n, e.user, e.reaction.added);
}

async function onMessage(ctx: EventContext, env: AmaEnv, raw: string): Promise<void> {
  const e = ctx.event;
  const text = raw.trim();
  if (!text) return;
  const { config } = env.deps;
  const group = ctx.group;
  const [liveId, sent, msg] = await ctx.mget(messageLookups(env, e));

  if (e.replyTo) {
    const ref = parseRef(sent);
    if (ref?.kind === 'card') {
      const ama = await getAma(env, ref.amaId);
      if (!ama) return;
      if (ama.status === 'live' && (await isAmaHost(env, ama, e.user, group))) {
        // The host's reply to a question card is the answer, threaded back under every ask.
        let actions;
        try {
          ({ actions } = await answerQuestion(env, ama, ref.n, text, { id: e.user.id, name: senderName(e) }));
        } catch (err) {
          if (err instanceof UserError) return ctx.reply(err.message);
          throw err;
        }
        for (const a of actions) ctx.act(a);
        if (e.messageId) ctx.act({ id: `${e.id}#ama-answered`, type: 'react', platform: e.platform, chat: e.chat, messageId: e.messageId, emoji: '✍', priority: 'ack' });
        return;
      }
      if (isPlusOne(text) && acceptsQuestions(ama) && amaSpans(ama, e.chat)) await voteQuestion(env, ama, ref.n, e.user, true);
      return;
    }
    if (ref?.kind === 'announce') {
      const ama = await getAma(env, ref.amaId);
      const q = stripAddressing(text, ama?.hashtag);
      if (acceptsQuestions(ama) && q.length >= 3 && !isPlusOne(q) && !namedHost(ama, e.user)) await askFromEvent(ctx, env, ama, q, 'reply');
      return;
    }
    const asked = parseMsgValue(msg);
    if (asked && isPlusOne(text)) {
      const ama = await getAma(env, asked.amaId);
      if (acceptsQuestions(ama) && amaSpans(ama, e.chat)) await voteQuestion(env, ama, asked.n, e.user, true);
      return;
    }
  }

  let ama = liveId ? await getAma(env, liveId) : null;
  if (ama && ama.status !== 'live') ama = null;
  const addressedOnly = capabilitiesOf(e.platform).addressedOnly;
  if (!ama && addressedOnly) ama = await addressedAma(env, e.platform, text);

  // The AMA's hashtag is a question, live or before the start (pre-questions).
  if (text.includes('#')) {
    let tagged: Ama | null = ama && hasHashtag(text, ama.hashtag) ? ama : null;
    if (!tagged && !ama) tagged = (await amasOfChat(env, group, 10)).find((a) => a.status === 'scheduled' && hasHashtag(text, a.hashtag)) ?? null;
    if (tagged) {
      const q = stripAddressing(text, tagged.hashtag);
      if (q.length >= 3 && !namedHost(tagged, e.user)) await askFromEvent(ctx, env, tagged, q, 'hashtag');
      return;
    }
  }
  if (!ama) return;
  if (namedHost(ama, e.user)) return;
  if (addressedOnly) {
    // Where the bot sees only posts that mention it or carry a tracked hashtag (X), a question is addressed to the AMA.
    const q = stripAddressing(text);
    if (q.length >= 3 && isQuestion(q)) await askFromEvent(ctx, env, ama, q, 'mention');
    return;
  }
  if (!config.ama.detectQuestions || !ama.detectQuestions || e.chatType === 'private') return;
  // A reply to another person is conversation, not a question to the host.
  if (e.replyToUser && !e.replyToUser.endsWith(`:${BOT_USERNAME}`)) return;
  // The history step already asked this of the same text: the memo keeps it to one run per event.
  if (text.length >= 8 && ctx.memo(`isQuestion:${text}`, () => isQuestion(text))) await askFromEvent(ctx, env, ama, text, 'detected');
}

/** The live AMA an addressed post (X) belongs to when its conversation is not linked: the one with its hashtag, or the only one spanning the platform. */
async function addressedAma(env: AmaEnv, platform: Platform, text: string): Promise<Ama | null> {
  const live = (await liveAmas(env, 20)).filter((a) => a.chats.some((c) => c.startsWith(`${platform}:`)));
  const tagged = live.find((a) => hasHashtag(text, a.hashtag));
  if (tagged) return tagged;
  return live.length === 1 ? live[0]! : null;
}
