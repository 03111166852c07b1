/**
 * Performing Actions on Slack through the Web API. Replies go into the message's thread (`thread_ts`), private replies
 * to a command are ephemeral (its response_url, else chat.postEphemeral), `/catchup` and other private messages go to
 * the person's DM with the bot (conversations.open). What Slack keeps from bots is said plainly: deleting other
 * people's messages needs a workspace admin's user token; mute, timeout and slow mode do not exist for apps.
 */
import type { Logger } from 'pino';
import { type ActionOf, type ActionResult, type AdapterStore, parseUserKey, type PlatformAction, PlatformError } from '../../src/core/index.js';
import { PARTS_TTL_S, sendParts } from '../kit/index.js';
import type { SlackApi } from './api.js';
import { messageBlocks, type ActionButton } from './blocks.js';
import { nameOfEmoji } from './emoji.js';
import { ALREADY_DONE, refused, slackCode } from './errors.js';
import { markdownToMrkdwn, renderText, SLACK_SPLIT_CHARS, splitMrkdwn } from './format.js';
import { parseSlackChat, slackChat } from './ids.js';
import { decodeReplyHandle } from './normalize.js';

/** Where an AMA's calm answers place is on Slack: a pinned message kept up to date, a thread in the channel, or a thread in another channel. */
export type AnswersPlace = { kind: 'pinned' } | { kind: 'thread' } | { kind: 'channel'; channel: string };

/** What performing needs from the adapter. */
export interface OutboundContext {
  api: SlackApi;
  /** The adapter's own keys: DM channels, the parts of long texts sent so far, purge lists. */
  store: AdapterStore;
  log: Logger;
  /** The workspace the bot token belongs to (auth.test). */
  team: string;
  botUserId: string;
  answersPlace: AnswersPlace;
  /** Slash commands whose in-place answer goes to the person's DM instead (it is worth keeping: /catchup). */
  dmCommands: ReadonlySet<string>;
  /** Remembers a problem for status() (one line per key). */
  noteProblem(key: string, line: string): void;
}

/** What marks a message the adapter posted, so a retry after a lost answer finds it instead of posting twice. */
const MARK_TYPE = 'townhall_action';
/** How long an attempt whose outcome is unknown (a timeout, a 5xx) is remembered. */
const UNCERTAIN_TTL_MS = 24 * 3600 * 1000;
/** What deleting other people's messages needs, said once everywhere. */
export const NEEDS_ADMIN_TOKEN = "Slack lets a bot delete only its own messages: deleting other people's needs SLACK_USER_TOKEN (a workspace admin's user token with chat:write)";

interface Where {
  channel: string;
  thread?: string;
}

interface PostResult {
  ts?: string;
  channel?: string;
}

interface HistoryPage {
  messages?: { ts: string; user?: string; bot_id?: string; metadata?: { event_type?: string; event_payload?: { part?: string } } }[];
  response_metadata?: { next_cursor?: string };
}

function where(ctx: OutboundContext, chat: string): Where {
  const ref = parseSlackChat(chat);
  if (!ref) throw refused('channel', `not a slack chat: ${chat.slice(0, 80)}`);
  if (ref.team !== ctx.team) throw refused('channel', `chat ${chat.slice(0, 80)} is in another workspace than the bot token's (${ctx.team})`);
  return ref.threadTs ? { channel: ref.channel, thread: ref.threadTs } : { channel: ref.channel };
}

function userOf(user: string): string {
  try {
    const u = parseUserKey(user);
    if (u.platform === 'slack') return u.userId;
  } catch {
    // refused below
  }
  throw refused('user', `not a slack user: ${user.slice(0, 80)}`);
}

/** Text back from its mrkdwn escaping (a plain_text block takes text as it is). */
function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Actions that carry text to post. */
type TextAction = ActionOf<'send'> | ActionOf<'dm'> | ActionOf<'thread'> | ActionOf<'answer'>;

/** An action's text as Slack parts (split at 4,000 characters after escaping), and whether they are mrkdwn. */
function partsOf(action: { text?: string | undefined; format: 'plain' | 'markdown' }): { parts: string[]; mrkdwn: boolean } {
  const r = renderText(action.text ?? '', action.format);
  return { parts: r.text.trim() ? splitMrkdwn(r.text, SLACK_SPLIT_CHARS) : [], mrkdwn: r.mrkdwn };
}

function buttonsOf(action: PlatformAction): readonly ActionButton[] {
  return 'buttons' in action && action.buttons?.length ? action.buttons : [];
}

/**
 * Posts one message. Before the call, the attempt is marked in the store; a retry that finds the mark (the earlier
 * call timed out or Slack failed mid-way, so it may have posted) first looks for the message by its metadata.
 */
async function postOnce(ctx: OutboundContext, marker: string, at: Where, args: Record<string, unknown>): Promise<string> {
  const key = `posting:${marker}`;
  const uncertain = (await ctx.store.set(key, '1', 'PX', UNCERTAIN_TTL_MS, 'NX')) !== 'OK';
  if (uncertain) {
    const found = await findPosted(ctx, at, marker);
    if (found) {
      await ctx.store.del(key);
      return found;
    }
  }
  try {
    const r = await ctx.api.call<PostResult>('chat.postMessage', { channel: at.channel, ...(at.thread ? { thread_ts: at.thread } : {}), unfurl_links: false, unfurl_media: false, metadata: { event_type: MARK_TYPE, event_payload: { part: marker } }, ...args }, { what: 'post' });
    await ctx.store.del(key);
    if (!r.ts) throw new Error('slack chat.postMessage: no ts in the answer');
    return r.ts;
  } catch (err) {
    // Slack answered (a refusal, a 429): nothing was posted, the next attempt need not look.
    if (err instanceof PlatformError) await ctx.store.del(key);
    throw err;
  }
}

/** The bot's message carrying `marker` among the newest of the channel or thread, when an earlier attempt posted it. */
async function findPosted(ctx: OutboundContext, at: Where, marker: string): Promise<string | undefined> {
  const page = at.thread
    ? await ctx.api.call<HistoryPage>('conversations.replies', { channel: at.channel, ts: at.thread, limit: 100, include_all_metadata: true }, { what: 'find an uncertain post' })
    : await ctx.api.call<HistoryPage>('conversations.history', { channel: at.channel, limit: 100, include_all_metadata: true }, { what: 'find an uncertain post' });
  const hit = page.messages?.find((m) => m.metadata?.event_type === MARK_TYPE && m.metadata.event_payload?.part === marker && (m.user === ctx.botUserId || m.bot_id));
  if (hit) ctx.log.info({ platform: 'slack', marker }, 'an earlier attempt had posted the message: not posted again');
  return hit?.ts;
}

/** Posts an action's text (and buttons, under the last part) part by part, resumable: a retried action posts only what is missing. */
async function postText(ctx: OutboundContext, action: TextAction, at: Where, progress = action.id): Promise<string[]> {
  const { parts, mrkdwn } = partsOf(action);
  const buttons = buttonsOf(action);
  if (!parts.length && !buttons.length) throw refused('chat.postMessage', 'nothing to send: empty text');
  if (!parts.length) parts.push('▲');
  return sendParts(ctx.store, progress, parts, async (part, i) => {
    const args: Record<string, unknown> = { text: part, mrkdwn };
    if (i === parts.length - 1 && buttons.length) args.blocks = messageBlocks({ rendered: part, mrkdwn, plain: unescape(part), buttons });
    return postOnce(ctx, `${progress}#${i}`, at, args);
  });
}

/** Performs one action; errors come out as PlatformError (wait, fail, or stop the chat) or a retryable Error. */
export async function performAction(action: PlatformAction, ctx: OutboundContext): Promise<ActionResult> {
  try {
    return await perform(action, ctx);
  } catch (err) {
    if (err instanceof PlatformError && err.final) {
      ctx.log.warn({ platform: 'slack', action: action.type, chat: action.chat, method: err.method, code: err.code, scope: err.scope }, 'slack refused an action; not retried');
      if (err.scope === 'per-chat') ctx.noteProblem(`chat:${action.chat}`, `slack refused the bot in ${action.chat} (${String(err.code)}): invite it back to the channel`);
    }
    throw err;
  }
}

async function perform(action: PlatformAction, ctx: OutboundContext): Promise<ActionResult> {
  switch (action.type) {
    case 'send': {
      const at = where(ctx, action.chat);
      // A reply goes into the message's thread (Slack's way of replying; in a DM, plainly); in a thread chat, into that thread.
      const thread = at.thread ?? (at.channel.startsWith('D') ? undefined : action.replyTo);
      return { messageIds: await postText(ctx, action, { channel: at.channel, ...(thread ? { thread } : {}) }), chat: action.chat };
    }
    case 'dm': {
      const channel = await dmChannel(ctx, userOf(action.user));
      return { messageIds: await postText(ctx, action, { channel }), chat: slackChat(ctx.team, channel) };
    }
    case 'answer':
      return answer(action, ctx);
    case 'edit': {
      const at = where(ctx, action.chat);
      const rendered = action.format === 'markdown' ? markdownToMrkdwn(action.text) : renderText(action.text, 'plain').text;
      // An edit cannot become two messages: cut at the limit, marked.
      const text = rendered.length > SLACK_SPLIT_CHARS ? `${rendered.slice(0, SLACK_SPLIT_CHARS - 1).replace(/&[a-z]{0,4}$/, '')}…` : rendered;
      // chat.update takes no `mrkdwn` flag: blocks keep a plain text literal (plain_text) and carry the buttons.
      const blocks = messageBlocks({ rendered: text, mrkdwn: action.format === 'markdown', plain: unescape(text), buttons: buttonsOf(action) });
      await ctx.api.call('chat.update', { channel: at.channel, ts: action.messageId, text, blocks }, { what: 'edit' });
      return { messageIds: [action.messageId], chat: action.chat };
    }
    case 'delete': {
      const at = where(ctx, action.chat);
      await deleteMessage(ctx, at.channel, action.messageId);
      return { messageIds: [action.messageId], chat: action.chat };
    }
    case 'purge':
      return purge(action, ctx);
    case 'pin': {
      const at = where(ctx, action.chat);
      await done(() => ctx.api.call('pins.add', { channel: at.channel, timestamp: action.messageId }, { what: 'pin' }));
      return { messageIds: [action.messageId], chat: action.chat };
    }
    case 'react': {
      const at = where(ctx, action.chat);
      const name = nameOfEmoji(action.emoji);
      if (!name) throw refused('reactions.add', `no Slack name known for the emoji ${JSON.stringify(action.emoji)}`);
      await done(() => ctx.api.call('reactions.add', { channel: at.channel, timestamp: action.messageId, name }, { what: 'react' }));
      return { messageIds: [action.messageId], chat: action.chat };
    }
    case 'thread':
      return thread(action, ctx);
    case 'ban':
      return removeFromChannel(action, ctx);
    case 'unban':
      // Removal from a channel is not a ban Slack keeps: there is nothing to lift (they may rejoin, or be invited back).
      ctx.log.info({ platform: 'slack', chat: action.chat, user: action.user }, 'unban on Slack: nothing to lift (a removal from a channel is not a ban)');
      return { chat: action.chat };
    case 'mute':
    case 'unmute':
      throw refused('mute', 'Slack gives apps no way to mute or time out a member');
    case 'slowmode':
      throw refused('slowmode', 'Slack has no slow mode');
    case 'listen':
      throw refused('listen', 'Slack cannot be searched for hashtags by a bot');
  }
}

/** Runs a call whose "already done" answers (already reacted, pinned, deleted…) mean the action's effect is there. */
async function done(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (ALREADY_DONE.has(slackCode(err) ?? '')) return;
    throw err;
  }
}

/** The person's DM with the bot (conversations.open), remembered in the store. */
async function dmChannel(ctx: OutboundContext, userId: string): Promise<string> {
  const key = `dm:${userId}`;
  const cached = await ctx.store.get(key);
  if (cached) return cached;
  const r = await ctx.api.call<{ channel?: { id?: string } }>('conversations.open', { users: userId }, { what: 'open a DM' });
  const id = r.channel?.id;
  if (!id) throw new Error('slack conversations.open: no channel in the answer');
  await ctx.store.set(key, id, 'EX', 30 * 24 * 3600);
  return id;
}

/**
 * Answers an interaction in place: ephemerally through its response_url (five uses within thirty minutes), then
 * through chat.postEphemeral, and by DM when neither reaches the person (a command run in a channel the bot is not in,
 * long after). The answer to a command in `dmCommands` (/catchup) goes to the DM at once: it is worth keeping.
 */
async function answer(action: ActionOf<'answer'>, ctx: OutboundContext): Promise<ActionResult> {
  const handle = decodeReplyHandle(action.replyHandle);
  if (!handle) throw refused('response_url', 'not a reply handle of this adapter');
  const toDm = async () => {
    const channel = await dmChannel(ctx, handle.user);
    return { messageIds: await postText(ctx, action, { channel }, `${action.id}/dm`), chat: slackChat(ctx.team, channel) };
  };
  if (handle.command && ctx.dmCommands.has(handle.command)) return toDm();
  const { parts, mrkdwn } = partsOf(action);
  if (!parts.length) throw refused('response_url', 'nothing to send: empty text');
  const at = where(ctx, action.chat);
  let viaDm = false;
  await sendParts(ctx.store, action.id, parts, async (text, i) => {
    if (viaDm) return `dm${i}`;
    if (await respond(handle.url, { response_type: 'ephemeral', text, ...(mrkdwn ? {} : { mrkdwn: false }) })) return `r${i}`;
    try {
      await ctx.api.call('chat.postEphemeral', { channel: at.channel, user: handle.user, text, mrkdwn, ...(at.thread ? { thread_ts: at.thread } : {}) }, { what: 'answer privately' });
      return `e${i}`;
    } catch (err) {
      const code = slackCode(err);
      if (code !== 'user_not_in_channel' && code !== 'channel_not_found' && code !== 'not_in_channel') throw err;
      viaDm = true;
      return `dm${i}`;
    }
  });
  if (viaDm) return toDm();
  return { chat: action.chat };
}

/** POSTs to a response_url; true when Slack took it (a spent or expired URL answers 404). */
async function respond(url: string, body: Record<string, unknown>): Promise<boolean> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Deletes one message: with the admin's user token when there is one (it may delete anyone's), else with the bot's
 * (its own only). A message already gone is done.
 */
async function deleteMessage(ctx: OutboundContext, channel: string, ts: string): Promise<void> {
  const args = { channel, ts };
  if (ctx.api.hasAdmin) {
    try {
      await done(() => ctx.api.call('chat.delete', args, { what: 'delete', as: 'admin' }));
      return;
    } catch (err) {
      // The admin is not in that private channel; the bot may be (and the message may be its own).
      if (slackCode(err) !== 'channel_not_found') throw err;
    }
  }
  try {
    await done(() => ctx.api.call('chat.delete', args, { what: 'delete' }));
  } catch (err) {
    if (slackCode(err) !== 'cant_delete_message') throw err;
    ctx.noteProblem('delete', NEEDS_ADMIN_TOKEN);
    throw new PlatformError({ platform: 'slack', method: 'chat.delete', code: 'cant_delete_message', scope: 'permanent', message: NEEDS_ADMIN_TOKEN, cause: err });
  }
}

/**
 * Deletes these messages, or the chat's last `count`: the list is fixed at the first attempt and worked through
 * resumably (a retry after a rate limit continues where it stopped, never reaching further back). Without the admin's
 * token only the bot's own messages go, and the action fails with what the rest needs.
 */
async function purge(action: ActionOf<'purge'>, ctx: OutboundContext): Promise<ActionResult> {
  const at = where(ctx, action.chat);
  const ids = await purgeList(action, ctx, at);
  let refusedCount = 0;
  await sendParts(ctx.store, `${action.id}/purge`, ids, async (ts) => {
    try {
      await deleteMessage(ctx, at.channel, ts);
    } catch (err) {
      if (!(err instanceof PlatformError) || err.code !== 'cant_delete_message') throw err;
      refusedCount++;
    }
    return ts;
  });
  if (refusedCount) throw new PlatformError({ platform: 'slack', method: 'chat.delete', code: 'cant_delete_message', scope: 'permanent', message: `purge left ${refusedCount} of ${ids.length} messages: ${NEEDS_ADMIN_TOKEN}` });
  return { messageIds: ids, chat: action.chat };
}

/** The messages a purge deletes, chosen once and kept with the action. */
async function purgeList(action: ActionOf<'purge'>, ctx: OutboundContext, at: Where): Promise<string[]> {
  const key = `purge:${action.id}`;
  const kept = await ctx.store.lrange(key, 0, -1);
  if (kept.length) return kept;
  let ids = action.messageIds?.length ? [...new Set(action.messageIds)] : [];
  if (!ids.length) {
    const want = action.count ?? 1;
    let cursor: string | undefined;
    while (ids.length < want) {
      const page = at.thread
        ? await ctx.api.call<HistoryPage>('conversations.replies', { channel: at.channel, ts: at.thread, limit: Math.min(200, want + 1), ...(cursor ? { cursor } : {}) }, { what: 'purge' })
        : await ctx.api.call<HistoryPage>('conversations.history', { channel: at.channel, limit: Math.min(200, want - ids.length), ...(cursor ? { cursor } : {}) }, { what: 'purge' });
      const got = (page.messages ?? []).map((m) => m.ts).filter((ts) => ts !== at.thread);
      ids.push(...got);
      cursor = page.response_metadata?.next_cursor || undefined;
      if (!cursor || !got.length) break;
    }
    // A thread's replies come oldest first: the last `count` are the newest.
    ids = at.thread ? ids.sort().slice(-want) : ids.slice(0, want);
  }
  if (ids.length) await ctx.store.multi().rpush(key, ...ids).expire(key, PARTS_TTL_S).exec();
  return ids;
}

/**
 * Opens a thread: on a message (a reply with `thread_ts` starts it), or — for an AMA's answers place — as the
 * configured place has it: a pinned message the core keeps up to date (no thread: the chat itself comes back), or a
 * titled root message in this channel or the chosen one, whose thread holds the answers.
 */
async function thread(action: ActionOf<'thread'>, ctx: OutboundContext): Promise<ActionResult> {
  const at = where(ctx, action.chat);
  if (action.messageId) {
    const posted = action.text?.trim() ? await postText(ctx, action, { channel: at.channel, thread: action.messageId }) : [];
    return { chat: slackChat(ctx.team, at.channel, action.messageId), messageIds: posted };
  }
  if (at.thread) throw refused('chat.postMessage', 'cannot start a thread inside a thread');
  const place = ctx.answersPlace;
  if (place.kind === 'pinned') return { chat: action.chat, messageIds: [] };
  const channel = place.kind === 'channel' ? place.channel : at.channel;
  const post = () => postText(ctx, { ...action, text: `**${action.title ?? 'Thread'}**`, format: 'markdown' }, { channel }, `${action.id}/root`);
  let root: string[];
  try {
    root = await post();
  } catch (err) {
    // The chosen answers channel: a public channel the bot may join by itself (channels:join).
    if (place.kind !== 'channel' || !(err instanceof PlatformError) || err.code !== 'not_in_channel') throw err;
    await ctx.api.call('conversations.join', { channel }, { what: 'join the answers channel' });
    root = await post();
  }
  const ts = root[0]!;
  const posted = action.text?.trim() ? await postText(ctx, action, { channel, thread: ts }) : [];
  return { chat: slackChat(ctx.team, channel, ts), messageIds: [...root, ...posted] };
}

/**
 * /ban on Slack: removal from the channel (conversations.kick), the most a bot token can do. Where the workspace lets
 * only admins remove people, the admin's user token does it when configured. Slack cannot remove anyone from #general.
 */
async function removeFromChannel(action: ActionOf<'ban'>, ctx: OutboundContext): Promise<ActionResult> {
  const at = where(ctx, action.chat);
  const args = { channel: at.channel, user: userOf(action.user) };
  try {
    await ctx.api.call('conversations.kick', args, { what: 'remove from the channel' });
  } catch (err) {
    const code = slackCode(err);
    if (code === 'not_in_channel') return { chat: action.chat }; // already out
    if (code === 'restricted_action' && ctx.api.hasAdmin) {
      await ctx.api.call('conversations.kick', args, { what: 'remove from the channel', as: 'admin' });
      return { chat: action.chat };
    }
    if (code === 'restricted_action') throw refused('conversations.kick', 'this workspace lets only admins remove people from channels: set SLACK_USER_TOKEN (a workspace admin\'s user token)');
    if (code === 'cant_kick_from_general') throw refused('conversations.kick', 'Slack does not let anyone be removed from #general');
    throw err;
  }
  return { chat: action.chat };
}
