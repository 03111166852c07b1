/** Performing Actions through the Bot API: each action type is one call (or a few), failures mapped by error code. */
import { createHash } from 'node:crypto';
import type { InlineKeyboardMarkup, MessageEntity } from '@telegraf/types';
import type { Telegram } from 'telegraf';
import type { Logger } from 'pino';
import { chatKey, parseChatKey, parseUserKey, PlatformError, type ActionOf, type ActionResult, type AdapterStore, type PlatformAction } from '../../src/core/index.js';
import { sendParts } from '../kit/index.js';
import { refused, toPlatformError } from './errors.js';
import { plainText, renderMarkdown, splitFormatted, truncateFormatted, type FormattedText } from './format.js';

const DAY_S = 86_400;

/** What performing needs from the adapter. */
export interface TelegramOutboundContext {
  /** The Bot API client (after init). */
  tg: Telegram;
  token: string;
  /** The adapter's own keys: recent message ids per group, topics of sent messages, blocked DMs, text of edited messages. */
  store: AdapterStore;
  log: Logger;
  /** Messages remembered per group for `/purge <count>`. */
  recentMessages: number;
  /** Chats whose 403 was already logged (one line per chat, not per action). */
  forbiddenLogged: Set<string>;
}

/** Store keys of what outbound keeps. */
export const outboundKeys = {
  /** Recent message ids of a group, newest first (bots cannot read history; `/purge <count>` needs them). */
  recent: (chatId: string | number) => `recent:${chatId}`,
  /** The topic of each message the bot sent into a forum topic (reaction updates do not say). */
  topic: (chatId: string | number) => `topic:${chatId}`,
  /** Set while a user has blocked the bot or never started a chat with it. */
  dmOff: (userId: string | number) => `dmoff:${userId}`,
  /** A hash of the text and buttons a bot message now shows, so an edit to the same text is not sent. */
  shown: (chatId: string, messageId: string) => `shown:${chatId}:${messageId}`,
  /** Whether a group is a forum (has topics): threads are topics there, else the group itself. */
  forum: (chatId: string) => `forum:${chatId}`,
};

/** Where an action goes: the chat, its topic, or the user for a DM. */
interface Target {
  chatId: string;
  topic?: number;
  key: string;
  dmUser?: string;
}

/** A chat id as telegraf takes it: a number when it is one. */
function chatIdArg(id: string): number | string {
  return /^-?\d{1,15}$/.test(id) ? Number(id) : id;
}

function userOf(user: string): string {
  const { platform, userId } = parseUserKey(user);
  if (platform !== 'telegram') throw refused('user', `${user} is not a Telegram user`);
  return userId;
}

/** A mute or ban end as until_date: Telegram reads under 30 s as "forever", so short ones are lengthened to 31 s. */
function untilDate(untilMs: number): number {
  return Math.ceil(Math.max(untilMs, Date.now() + 31_000) / 1000);
}

function targetOf(action: PlatformAction): Target {
  if (action.type === 'dm') {
    const user = userOf(action.user);
    return { chatId: user, key: chatKey('telegram', user), dmUser: user };
  }
  let ref;
  try {
    ref = parseChatKey(action.chat);
  } catch {
    throw refused(action.type, `not a chat id: ${action.chat.slice(0, 80)}`);
  }
  if (ref.platform !== 'telegram') throw refused(action.type, `${action.chat.slice(0, 80)} is not a Telegram chat`);
  // The "General" topic (id 1) is addressed by sending no thread id at all.
  const topic = ref.threadId && ref.threadId !== '1' && /^\d+$/.test(ref.threadId) ? Number(ref.threadId) : undefined;
  return { chatId: ref.chatId, key: chatKey('telegram', ref.chatId, topic), ...(topic !== undefined ? { topic } : {}) };
}

/** Runs one Bot API call, mapping its failure; a 403 is logged once per chat and, for a DM, remembered. */
async function call<T>(ctx: TelegramOutboundContext, method: string, target: Target, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const mapped = toPlatformError(err, method, ctx.token);
    if (mapped instanceof PlatformError && mapped.code === 403) {
      if (target.dmUser) await ctx.store.set(outboundKeys.dmOff(target.dmUser), 'forbidden', 'EX', 30 * DAY_S).catch(() => undefined);
      const key = chatKey('telegram', target.chatId);
      if (!ctx.forbiddenLogged.has(key)) {
        ctx.forbiddenLogged.add(key);
        ctx.log.warn({ chat: key, why: mapped.message }, 'telegram: forbidden (bot removed or blocked); not sending there any more');
      }
    }
    throw mapped;
  }
}

function formatted(text: string, format: 'plain' | 'markdown'): FormattedText {
  return format === 'markdown' ? renderMarkdown(text) : plainText(text);
}

function keyboard(buttons: ActionOf<'send'>['buttons']): InlineKeyboardMarkup | undefined {
  if (!buttons?.length) return undefined;
  return { inline_keyboard: [buttons.map((b) => ({ text: b.label, callback_data: b.data }))] };
}

/** What a message shows, as a short hash: an edit to the same text and buttons is not sent. */
function shownHash(text: string, markup: InlineKeyboardMarkup | undefined): string {
  return createHash('sha1').update(text).update('\0').update(JSON.stringify(markup ?? null)).digest('base64url').slice(0, 16);
}

/** Every ChatPermissions field (Bot API 7): a mute sets all false, lifting it sets all true. */
const PERMISSION_KEYS = [
  'can_send_messages',
  'can_send_audios',
  'can_send_documents',
  'can_send_photos',
  'can_send_videos',
  'can_send_video_notes',
  'can_send_voice_notes',
  'can_send_polls',
  'can_send_other_messages',
  'can_add_web_page_previews',
  'can_change_info',
  'can_invite_users',
  'can_pin_messages',
  'can_manage_topics',
] as const;

/** Performs one action; throws PlatformError (429: wait; 403: the chat; 400: this action) or a retryable Error. */
export async function performTelegramAction(action: PlatformAction, ctx: TelegramOutboundContext): Promise<ActionResult> {
  const target = targetOf(action);
  const { tg } = ctx;
  switch (action.type) {
    case 'send':
    case 'dm':
      return send(action, target, ctx);
    case 'edit':
      return edit(action, target, ctx);
    case 'delete': {
      // deleteMessages skips a message that is already gone: a retried delete is done, not an error.
      await call(ctx, 'deleteMessages', target, () => tg.callApi('deleteMessages', { chat_id: chatIdArg(target.chatId), message_ids: [Number(action.messageId)] }));
      return { messageIds: [action.messageId] };
    }
    case 'purge':
      return purge(action, target, ctx);
    case 'pin':
      await call(ctx, 'pinChatMessage', target, () => tg.pinChatMessage(chatIdArg(target.chatId), Number(action.messageId), { disable_notification: true }));
      return { messageIds: [action.messageId] };
    case 'react': {
      // Telegram's reaction list has no variation selectors (❤ not ❤️).
      const emoji = action.emoji.replace(/\uFE0F/g, '');
      await call(ctx, 'setMessageReaction', target, () =>
        tg.callApi('setMessageReaction', { chat_id: chatIdArg(target.chatId), message_id: Number(action.messageId), reaction: [{ type: 'emoji', emoji: emoji as never }] }),
      );
      return { messageIds: [action.messageId] };
    }
    case 'thread':
      return thread(action, target, ctx);
    case 'ban':
      await call(ctx, 'banChatMember', target, () =>
        tg.callApi('banChatMember', { chat_id: chatIdArg(target.chatId), user_id: Number(userOf(action.user)), ...(action.until ? { until_date: untilDate(action.until) } : {}), revoke_messages: false }),
      );
      return {};
    case 'unban':
      // only_if_banned: without it, Telegram removes a member who was not banned.
      await call(ctx, 'unbanChatMember', target, () => tg.callApi('unbanChatMember', { chat_id: chatIdArg(target.chatId), user_id: Number(userOf(action.user)), only_if_banned: true }));
      return {};
    case 'mute':
    case 'unmute': {
      // "Pass True for all permissions to lift restrictions from a user" (Bot API docs); group defaults still apply.
      const permissions = Object.fromEntries(PERMISSION_KEYS.map((k) => [k, action.type === 'unmute']));
      await call(ctx, 'restrictChatMember', target, () =>
        tg.callApi('restrictChatMember', {
          chat_id: chatIdArg(target.chatId),
          user_id: Number(userOf(action.user)),
          permissions,
          use_independent_chat_permissions: true,
          ...(action.type === 'mute' && action.until ? { until_date: untilDate(action.until) } : {}),
        }),
      );
      return {};
    }
    case 'slowmode':
      throw refused('slowmode', "the Bot API has no way to set slow mode; set it in the group's settings");
    case 'listen':
      throw refused('listen', 'Telegram cannot be searched for hashtags');
    case 'answer': {
      const handle = action.replyHandle;
      if (!handle.startsWith('cb:')) throw refused('answerCallbackQuery', `cannot answer handle ${handle.slice(0, 20)}`);
      await call(ctx, 'answerCallbackQuery', target, () => tg.answerCbQuery(handle.slice(3), action.text ? plainText(action.text).text.slice(0, 200) : undefined));
      return {};
    }
  }
}

/** A message split at Telegram's limit, sent part by part (the kit resumes a retried action after the parts already sent). */
async function send(action: ActionOf<'send'> | ActionOf<'dm'>, target: Target, ctx: TelegramOutboundContext): Promise<ActionResult> {
  if (target.dmUser && (await ctx.store.exists(outboundKeys.dmOff(target.dmUser)).catch(() => 0))) {
    throw new PlatformError({ platform: 'telegram', method: 'sendMessage', code: 403, scope: 'per-chat', message: 'telegram: this user blocked the bot or never started a chat with it' });
  }
  const chunks = splitFormatted(formatted(action.text, action.format));
  if (chunks.length === 0) throw refused('sendMessage', 'nothing to send (empty text)');
  const markup = keyboard(action.buttons);
  const replyTo = action.type === 'send' ? action.replyTo : undefined;
  const ids = await sendParts(ctx.store, action.id, chunks, async (chunk, i) => {
    const last = i === chunks.length - 1;
    const msg = await call(ctx, 'sendMessage', target, () =>
      ctx.tg.callApi('sendMessage', {
        chat_id: chatIdArg(target.chatId),
        text: chunk.text,
        ...(chunk.entities.length ? { entities: chunk.entities as MessageEntity[] } : {}),
        ...(target.topic !== undefined ? { message_thread_id: target.topic } : {}),
        ...(i === 0 && replyTo ? { reply_parameters: { message_id: Number(replyTo), allow_sending_without_reply: true } } : {}),
        ...(last && markup ? { reply_markup: markup } : {}),
        link_preview_options: { is_disabled: true },
      }),
    );
    const id = String(msg.message_id);
    const tx = ctx.store.multi().set(outboundKeys.shown(target.chatId, id), shownHash(chunk.text, last ? markup : undefined), 'EX', 7 * DAY_S);
    const topic = (msg as { is_topic_message?: boolean; message_thread_id?: number }).is_topic_message ? (msg as { message_thread_id?: number }).message_thread_id : undefined;
    if (topic !== undefined) tx.hset(outboundKeys.topic(target.chatId), id, String(topic)).expire(outboundKeys.topic(target.chatId), 30 * DAY_S);
    if (!target.dmUser) tx.lpush(outboundKeys.recent(target.chatId), id).ltrim(outboundKeys.recent(target.chatId), 0, ctx.recentMessages - 1);
    await tx.exec().catch(() => undefined);
    return id;
  });
  return { messageIds: ids, chat: target.key };
}

/** Replaces a message's text; an edit to what the message already shows is not sent (Telegram would refuse it). */
async function edit(action: ActionOf<'edit'>, target: Target, ctx: TelegramOutboundContext): Promise<ActionResult> {
  const id = action.messageId;
  const f = truncateFormatted(formatted(action.text, action.format));
  if (f.text.trim() === '') throw refused('editMessageText', 'cannot edit a message to empty text');
  const markup = keyboard(action.buttons);
  const shownKey = outboundKeys.shown(target.chatId, id);
  const hash = shownHash(f.text, markup);
  if ((await ctx.store.get(shownKey).catch(() => null)) === hash) return { messageIds: [id], chat: target.key };
  await call(ctx, 'editMessageText', target, () =>
    ctx.tg.callApi('editMessageText', {
      chat_id: chatIdArg(target.chatId),
      message_id: Number(id),
      text: f.text,
      ...(f.entities.length ? { entities: f.entities } : {}),
      ...(markup ? { reply_markup: markup } : {}),
      link_preview_options: { is_disabled: true },
    }),
  );
  await ctx.store.set(shownKey, hash, 'EX', 7 * DAY_S).catch(() => undefined);
  return { messageIds: [id], chat: target.key };
}

async function purge(action: ActionOf<'purge'>, target: Target, ctx: TelegramOutboundContext): Promise<ActionResult> {
  let ids = action.messageIds ?? [];
  if (!ids.length && action.count) ids = await ctx.store.lrange(outboundKeys.recent(target.chatId), 0, action.count - 1);
  const numeric = [...new Set(ids)].map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
  for (let i = 0; i < numeric.length; i += 100) {
    const batch = numeric.slice(i, i + 100);
    // deleteMessages skips messages it cannot find or delete, so a retried purge is harmless.
    await call(ctx, 'deleteMessages', target, () => ctx.tg.callApi('deleteMessages', { chat_id: chatIdArg(target.chatId), message_ids: batch }));
  }
  if (numeric.length) {
    const key = outboundKeys.recent(target.chatId);
    const tx = ctx.store.pipeline();
    for (const id of numeric) tx.lrem(key, 0, String(id));
    await tx.exec().catch(() => undefined);
  }
  return { messageIds: numeric.map(String) };
}

/** Whether a group has topics, from getChat's is_forum (cached an hour): a thread is a topic there, else the group. */
async function isForum(target: Target, ctx: TelegramOutboundContext): Promise<boolean> {
  const key = outboundKeys.forum(target.chatId);
  const cached = await ctx.store.get(key).catch(() => null);
  if (cached !== null) return cached === '1';
  const chat = await call(ctx, 'getChat', target, () => ctx.tg.getChat(chatIdArg(target.chatId)));
  const forum = (chat as { is_forum?: boolean }).is_forum === true;
  await ctx.store.set(key, forum ? '1' : '0', 'EX', 3600).catch(() => undefined);
  return forum;
}

async function thread(action: ActionOf<'thread'>, target: Target, ctx: TelegramOutboundContext): Promise<ActionResult> {
  const messages = action.messageId ? { messageIds: [action.messageId] } : {};
  if (!(await isForum(target, ctx))) {
    // Not a forum: there are no topics, so the "thread" is the group itself (replies keep it together).
    ctx.log.info({ chat: chatKey('telegram', target.chatId) }, 'telegram: the group is not a forum; using the group as the thread');
    return { chat: chatKey('telegram', target.chatId), ...messages };
  }
  const title = (action.title ?? action.text ?? 'Thread').slice(0, 128) || 'Thread';
  const topic = await call(ctx, 'createForumTopic', target, () => ctx.tg.callApi('createForumTopic', { chat_id: chatIdArg(target.chatId), name: title }));
  return { chat: chatKey('telegram', target.chatId, topic.message_thread_id), ...messages };
}
