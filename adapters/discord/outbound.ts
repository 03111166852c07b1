/** Performing Actions on Discord through discord.js's REST manager (its per-route buckets included). */
import { createHash } from 'node:crypto';
import type { REST } from 'discord.js';
import { Routes } from 'discord.js';
import type { Logger } from 'pino';
import { type ActionOf, type ActionResult, type AdapterStore, chatKey, parseChatKey, parseUserKey, type PlatformAction, PlatformError } from '../../src/core/index.js';
import { sendParts } from '../kit/index.js';
import { VOTE_BUTTON_PREFIX } from './commands.js';
import { ALREADY_GONE, discordCode, refused, toPlatformError } from './errors.js';
import { DISCORD_MAX_CHARS, allowedMentions, renderText, splitMessage } from './format.js';
import { POST_CHANNEL_TYPES, THREAD_TYPES, decodeReplyHandle, snowflakeTime, type ChannelInfo } from './normalize.js';

/** Bulk delete refuses messages older than 14 days; a minute of margin for clock skew. */
const BULK_DELETE_MAX_AGE_MS = 14 * 24 * 3600 * 1000 - 60_000;
/** Discord's longest timeout. */
const MAX_TIMEOUT_MS = 28 * 24 * 3600 * 1000;

/** What performing needs from the adapter. */
export interface OutboundContext {
  rest: REST;
  /** The adapter's own keys: DM channels, the parts of long texts sent so far. */
  store: AdapterStore;
  log: Logger;
  /** Channel facts (type, guild, parent), from the gateway cache or a fetch. */
  channel(id: string): Promise<ChannelInfo>;
  /** Remembers that sending into a chat is forbidden, for status(). */
  noteForbidden(chat: string): void;
}

interface ApiMessage {
  id: string;
  channel_id?: string;
}

function channelOf(chat: string): { chat: string; parent: string; channel: string; thread?: string } {
  let ref;
  try {
    ref = parseChatKey(chat);
  } catch {
    throw refused('channel', `not a chat id: ${chat.slice(0, 80)}`);
  }
  if (ref.platform !== 'discord') throw refused('channel', `not a discord chat: ${chat.slice(0, 80)}`);
  return { chat, parent: ref.chatId, channel: ref.threadId ?? ref.chatId, ...(ref.threadId ? { thread: ref.threadId } : {}) };
}

function userOf(user: string): string {
  let u;
  try {
    u = parseUserKey(user);
  } catch {
    throw refused('user', `not a user id: ${user.slice(0, 80)}`);
  }
  if (u.platform !== 'discord') throw refused('user', `not a discord user: ${user.slice(0, 80)}`);
  return u.userId;
}

/** Actions that carry text to post. */
type TextAction = ActionOf<'send'> | ActionOf<'dm'> | ActionOf<'answer'> | ActionOf<'thread'>;

function buttonsOf(action: PlatformAction): unknown[] | undefined {
  if (!('buttons' in action) || !action.buttons?.length) return undefined;
  return [
    {
      type: 1,
      components: action.buttons.map((b) => ({ type: 2, style: 2, label: b.label.slice(0, 80), custom_id: `${VOTE_BUTTON_PREFIX}${b.data}`.slice(0, 100) })),
    },
  ];
}

/** Discord dedupes a repeated nonce (with enforce_nonce) for a few minutes: a retried send does not post twice. */
function nonceOf(actionId: string, part: number): string {
  return createHash('sha256').update(`${actionId}#${part}`).digest('base64url').slice(0, 25);
}

/** The message chunks of an action's text, rendered for Discord. */
function chunksOf(action: TextAction): string[] {
  const text = action.text ?? '';
  if (!text.trim()) return [];
  return splitMessage(renderText(text, action.format));
}

/**
 * Posts an action's text, split at Discord's limit, part by part (kit's resumable send: a retried action posts only
 * the parts not yet posted; the nonce also makes Discord drop a repeat of a part whose answer was lost).
 */
async function postChunks(ctx: OutboundContext, channelId: string, action: TextAction, replyTo: string | undefined): Promise<string[]> {
  const chunks = chunksOf(action);
  const components = buttonsOf(action);
  if (!chunks.length && !components) throw refused('POST /channels/:id/messages', 'nothing to send: empty text');
  if (!chunks.length) chunks.push('\u200b');
  return sendParts(ctx.store, action.id, chunks, async (content, i) => {
    const first = i === 0;
    const body: Record<string, unknown> = {
      content,
      allowed_mentions: allowedMentions(first && !!replyTo),
      nonce: nonceOf(action.id, i),
      enforce_nonce: true,
    };
    if (first && replyTo) body.message_reference = { message_id: replyTo, fail_if_not_exists: false };
    if (i === chunks.length - 1 && components) body.components = components;
    const msg = (await ctx.rest.post(Routes.channelMessages(channelId), { body })) as ApiMessage;
    return msg.id;
  });
}

async function guildOf(ctx: OutboundContext, channelId: string): Promise<string> {
  const info = await ctx.channel(channelId);
  if (!info.guildId) throw refused('guild', 'not a server channel: bans and timeouts need a server');
  return info.guildId;
}

/** Performs one action; errors come out as PlatformError (wait, fail, or stop the chat) or a retryable Error. */
export async function performAction(action: PlatformAction, ctx: OutboundContext): Promise<ActionResult> {
  try {
    return await perform(action, ctx);
  } catch (err) {
    const mapped = toPlatformError(err, action.type);
    if (mapped instanceof PlatformError && mapped.final) {
      if (mapped.scope === 'per-chat') ctx.noteForbidden(action.chat);
      ctx.log.warn({ platform: 'discord', action: action.type, chat: action.chat, method: mapped.method, code: mapped.code, scope: mapped.scope }, 'discord refused an action; not retried');
    }
    throw mapped;
  }
}

async function perform(action: PlatformAction, ctx: OutboundContext): Promise<ActionResult> {
  const rest = ctx.rest;
  switch (action.type) {
    case 'send': {
      const t = channelOf(action.chat);
      return { messageIds: await postChunks(ctx, t.channel, action, action.replyTo), chat: t.chat };
    }
    case 'dm': {
      const userId = userOf(action.user);
      const channelId = await dmChannel(ctx, userId);
      return { messageIds: await postChunks(ctx, channelId, action, undefined), chat: chatKey('discord', channelId) };
    }
    case 'answer':
      return answer(action, ctx);
    case 'edit': {
      const t = channelOf(action.chat);
      const messageId = action.messageId;
      const content = renderText(action.text, action.format);
      // An edit cannot become two messages: cut at the limit, marked.
      const body: Record<string, unknown> = {
        content: content.length > DISCORD_MAX_CHARS ? `${content.slice(0, DISCORD_MAX_CHARS - 1).replace(/\\$/, '')}…` : content,
        allowed_mentions: { parse: [] },
      };
      const components = buttonsOf(action);
      if (components) body.components = components;
      await rest.patch(Routes.channelMessage(t.channel, messageId), { body });
      return { messageIds: [messageId], chat: t.chat };
    }
    case 'delete': {
      const t = channelOf(action.chat);
      const messageId = action.messageId;
      await idempotent(() => rest.delete(Routes.channelMessage(t.channel, messageId)));
      return { messageIds: [messageId], chat: t.chat };
    }
    case 'purge':
      return purge(action, ctx);
    case 'pin': {
      const t = channelOf(action.chat);
      const messageId = action.messageId;
      await rest.put(Routes.channelMessagesPin(t.channel, messageId));
      return { messageIds: [messageId], chat: t.chat };
    }
    case 'react': {
      const t = channelOf(action.chat);
      const { messageId, emoji } = action;
      await rest.put(Routes.channelMessageOwnReaction(t.channel, messageId, encodeURIComponent(emoji.replace(/^<a?:/, '').replace(/>$/, ''))));
      return { messageIds: [messageId], chat: t.chat };
    }
    case 'thread':
      return thread(action, ctx);
    case 'ban': {
      const t = channelOf(action.chat);
      const guildId = await guildOf(ctx, t.parent);
      await rest.put(Routes.guildBan(guildId, userOf(action.user)), { body: { delete_message_seconds: 0 }, ...reasonOf(action.reason) });
      return { chat: t.chat };
    }
    case 'unban': {
      const t = channelOf(action.chat);
      const guildId = await guildOf(ctx, t.parent);
      await idempotent(() => rest.delete(Routes.guildBan(guildId, userOf(action.user)), reasonOf(action.reason)));
      return { chat: t.chat };
    }
    case 'mute':
    case 'unmute': {
      const t = channelOf(action.chat);
      const guildId = await guildOf(ctx, t.parent);
      let until: string | null = null;
      if (action.type === 'mute') {
        if (action.until === undefined) throw refused('PATCH /guilds/:id/members/:id', 'a mute needs an end');
        if (action.until <= Date.now()) return { chat: t.chat };
        until = new Date(Math.min(action.until, Date.now() + MAX_TIMEOUT_MS - 60_000)).toISOString();
      }
      await rest.patch(Routes.guildMember(guildId, userOf(action.user)), { body: { communication_disabled_until: until }, ...reasonOf(action.reason) });
      return { chat: t.chat };
    }
    case 'slowmode': {
      const t = channelOf(action.chat);
      await rest.patch(Routes.channel(t.channel), { body: { rate_limit_per_user: action.seconds } });
      return { chat: t.chat };
    }
    case 'listen':
      throw refused('listen', 'Discord cannot be searched for hashtags');
  }
}

function reasonOf(reason: string | undefined): { reason?: string } {
  return reason ? { reason: reason.slice(0, 512) } : {};
}

/** Runs a delete-like call; "already gone" counts as done, so a retried action is not an error. */
async function idempotent(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (ALREADY_GONE.has(discordCode(err) ?? -1)) return;
    throw err;
  }
}

async function dmChannel(ctx: OutboundContext, userId: string): Promise<string> {
  const key = `dm:${userId}`;
  const cached = await ctx.store.get(key);
  if (cached) return cached;
  const ch = (await ctx.rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as { id: string };
  await ctx.store.set(key, ch.id, 'EX', 30 * 24 * 3600);
  return ch.id;
}

/** Answers a deferred interaction by follow-up; falls back to a plain message once the token has expired. */
async function answer(action: ActionOf<'answer'>, ctx: OutboundContext): Promise<ActionResult> {
  const handle = decodeReplyHandle(action.replyHandle);
  if (handle) {
    try {
      const chunks = chunksOf(action);
      if (!chunks.length) throw refused('POST /webhooks/:id/:token', 'nothing to send: empty text');
      const ids: string[] = [];
      for (const [i, content] of chunks.entries()) {
        const body: Record<string, unknown> = { content, allowed_mentions: { parse: [] } };
        if (i === chunks.length - 1) {
          const components = buttonsOf(action);
          if (components) body.components = components;
        }
        // The first follow-up after a deferral replaces Discord's "thinking…" message.
        const msg = (await ctx.rest.post(Routes.webhook(handle.applicationId, handle.token), { body, auth: false })) as ApiMessage;
        ids.push(msg.id);
      }
      return { messageIds: ids, chat: action.chat };
    } catch (err) {
      const code = discordCode(err);
      // 10015 unknown webhook / 50027 invalid token: the 15-minute window is over.
      if (!(code === 10015 || code === 50027 || code === 10062)) throw err;
      ctx.log.info({ platform: 'discord', chat: action.chat }, 'interaction expired; answering in the chat instead');
    }
  }
  const t = channelOf(action.chat);
  return { messageIds: await postChunks(ctx, t.channel, action, undefined), chat: t.chat };
}

async function recentMessageIds(ctx: OutboundContext, channelId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  while (ids.length < count) {
    const query = new URLSearchParams({ limit: String(Math.min(100, count - ids.length)) });
    if (before) query.set('before', before);
    const page = (await ctx.rest.get(Routes.channelMessages(channelId), { query })) as ApiMessage[];
    if (!Array.isArray(page) || !page.length) break;
    ids.push(...page.map((m) => m.id));
    before = page[page.length - 1]!.id;
    if (page.length < 100) break;
  }
  return ids;
}

/** Deletes the last `count` messages (or `messageIds`): bulk for those under 14 days, one by one for older ones. */
async function purge(action: ActionOf<'purge'>, ctx: OutboundContext): Promise<ActionResult> {
  const t = channelOf(action.chat);
  const ids = action.messageIds?.length ? [...new Set(action.messageIds)] : await recentMessageIds(ctx, t.channel, action.count ?? 1);
  const now = Date.now();
  const young: string[] = [];
  const old: string[] = [];
  for (const id of ids) {
    const at = snowflakeTime(id);
    // Ids that are not snowflakes have no known age: one-by-one delete works for any age.
    (at !== null && now - at < BULK_DELETE_MAX_AGE_MS ? young : old).push(id);
  }
  for (let i = 0; i < young.length; i += 100) {
    const batch = young.slice(i, i + 100);
    if (batch.length === 1) old.push(batch[0]!);
    else await ctx.rest.post(Routes.channelBulkDelete(t.channel), { body: { messages: batch } });
  }
  for (const id of old) await idempotent(() => ctx.rest.delete(Routes.channelMessage(t.channel, id)));
  return { messageIds: ids, chat: t.chat };
}

function threadName(action: ActionOf<'thread'>): string {
  const raw = action.title ?? action.text?.split('\n')[0] ?? 'Thread';
  const name = raw.replace(/\s+/g, ' ').trim().slice(0, 100);
  return name || 'Thread';
}

/** Starts a thread on a message (or a forum post, or a bare thread) and posts the text into it. */
async function thread(action: ActionOf<'thread'>, ctx: OutboundContext): Promise<ActionResult> {
  const t = channelOf(action.chat);
  const name = threadName(action);
  let threadId: string;
  let posted: string[] = [];
  if (action.messageId) {
    try {
      const th = (await ctx.rest.post(Routes.threads(t.parent, action.messageId), { body: { name, auto_archive_duration: 1440 } })) as { id: string };
      threadId = th.id;
    } catch (err) {
      // A thread started on a message has the message's id: a retried action finds the one it made.
      if (discordCode(err) !== 160004) throw err;
      threadId = action.messageId;
    }
  } else {
    const info = await ctx.channel(t.parent);
    if (POST_CHANNEL_TYPES.has(info.type)) {
      const content = chunksOf(action)[0] ?? name;
      const th = (await ctx.rest.post(Routes.threads(t.parent), {
        body: { name, auto_archive_duration: 1440, message: { content, allowed_mentions: { parse: [] } } },
      })) as { id: string; message?: { id: string } };
      threadId = th.id;
      posted = [th.message?.id ?? th.id];
      const rest = chunksOf(action).slice(1);
      for (const [i, c] of rest.entries()) {
        const msg = (await ctx.rest.post(Routes.channelMessages(threadId), { body: { content: c, allowed_mentions: { parse: [] }, nonce: nonceOf(action.id, i + 1), enforce_nonce: true } })) as ApiMessage;
        posted.push(msg.id);
      }
      return { chat: chatKey('discord', t.parent, threadId), messageIds: posted };
    }
    if (THREAD_TYPES.has(info.type)) throw refused('POST /channels/:id/threads', 'cannot start a thread inside a thread');
    const th = (await ctx.rest.post(Routes.threads(t.parent), { body: { name, type: 11, auto_archive_duration: 1440 } })) as { id: string };
    threadId = th.id;
  }
  if (action.text?.trim()) posted = await postChunks(ctx, threadId, action, undefined);
  return { chat: chatKey('discord', t.parent, threadId), messageIds: posted };
}
