/** Telegram updates -> ChatEvents. Pure: everything it needs to know (admins, topics) comes in through the context. */
import type { MessageEntity, ReactionType } from '@telegraf/types';
import { chatKey, makeEventId, userKey, type ChatEventInput } from '../../src/core/index.js';

/** A loosely typed update: what arrives may be newer than our typings, or hostile. */
export type RawUpdate = Record<string, unknown>;
type Obj = Record<string, unknown>;

/** What the normalizer needs to know about the world. */
export interface NormalizeContext {
  botId: number;
  botUsername: string;
  /** Administrator user ids of a group, when known (undefined: not known, events say isAdmin false). */
  adminsOf(chatId: number): ReadonlySet<number> | undefined;
  /** The forum topic a message lives in, when known (reaction updates do not say). */
  topicOf?(chatId: number, messageId: number): number | undefined;
  /** Receipt time for updates that carry none (callback queries). */
  now?: number;
}

/** The bot's own standing changed in a chat (my_chat_member). */
export interface BotMembershipChange {
  chatId: number;
  chatType: string;
  status: string;
}

/** What one update turned into. */
export interface Normalized {
  /** The update's type: its one field besides update_id. */
  type: string;
  events: ChatEventInput[];
  /** Why no event came out (unknown type, service message, ...), when none did. */
  skipped?: 'unknown' | 'ignored' | 'service' | 'malformed';
  /** A group whose administrator list changed: drop the cached one. */
  adminsChanged?: number;
  /** The bot was added, promoted, removed or blocked. */
  botMembership?: BotMembershipChange;
  /** Anonymous reaction totals, which only become events against the previous totals (the adapter keeps those). */
  reactionCounts?: { chatId: number; chatType: 'group' | 'private' | 'channel'; messageId: number; counts: Record<string, number>; date: number };
  /** A person wrote to the bot in private: the bot may write back again. */
  privateFrom?: number;
}

/** Update types the adapter asks Telegram for (reactions and chat_member must be asked for explicitly). */
export const ALLOWED_UPDATES = [
  'message',
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'callback_query',
  'message_reaction',
  'message_reaction_count',
  'my_chat_member',
  'chat_member',
] as const;

/** Known types we deliberately do not turn into events. */
const IGNORED_TYPES = new Set([
  'inline_query', 'chosen_inline_result', 'shipping_query', 'pre_checkout_query', 'poll', 'poll_answer', 'chat_join_request',
  'chat_boost', 'removed_chat_boost', 'business_connection', 'business_message', 'edited_business_message', 'deleted_business_messages',
  'purchased_paid_media',
]);

/** Service messages: they announce something rather than say something. */
const SERVICE_FIELDS = [
  'pinned_message', 'forum_topic_created', 'forum_topic_edited', 'forum_topic_closed', 'forum_topic_reopened', 'general_forum_topic_hidden',
  'general_forum_topic_unhidden', 'new_chat_title', 'new_chat_photo', 'delete_chat_photo', 'group_chat_created', 'supergroup_chat_created',
  'channel_chat_created', 'migrate_to_chat_id', 'migrate_from_chat_id', 'message_auto_delete_timer_changed', 'video_chat_started',
  'video_chat_ended', 'video_chat_scheduled', 'video_chat_participants_invited', 'boost_added', 'chat_background_set', 'write_access_allowed',
  'users_shared', 'chat_shared', 'giveaway_created', 'proximity_alert_triggered',
];

const MAX_NAME = 256;
const MAX_MENTIONS = 100;
const MAX_LINKS = 100;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The update's type: its first field besides update_id. */
export function updateType(update: RawUpdate): string {
  return Object.keys(update).find((k) => k !== 'update_id') ?? 'empty';
}

/** The group chat an update happens in, if any (the adapter loads its administrators before normalizing). */
export function groupChatOf(update: RawUpdate): number | undefined {
  const body = update[updateType(update)];
  if (!isObj(body)) return undefined;
  const chat = isObj(body.chat) ? body.chat : isObj(body.message) && isObj(body.message.chat) ? body.message.chat : undefined;
  if (!chat) return undefined;
  const type = str(chat.type);
  return type === 'group' || type === 'supergroup' ? num(chat.id) : undefined;
}

function chatTypeOf(chat: Obj): 'group' | 'private' | 'channel' {
  const t = str(chat.type);
  return t === 'private' ? 'private' : t === 'channel' ? 'channel' : 'group';
}

/** A person's display name, bounded. */
function nameOf(u: Obj): string {
  const name = [str(u.first_name), str(u.last_name)].filter(Boolean).join(' ') || str(u.title) || str(u.username) || `user ${String(u.id)}`;
  return name.slice(0, MAX_NAME);
}

/** A t.me link to a message; only supergroups and channels have them. */
export function messageUrl(chat: Obj, messageId: number, topic?: number): string | undefined {
  const type = str(chat.type);
  if (type !== 'supergroup' && type !== 'channel') return undefined;
  const path = topic !== undefined ? `${topic}/${messageId}` : `${messageId}`;
  const username = str(chat.username);
  if (username) return `https://t.me/${username}/${path}`;
  const id = String(chat.id);
  return id.startsWith('-100') ? `https://t.me/c/${id.slice(4)}/${path}` : undefined;
}

/** The forum topic of a message, or undefined for "General", plain groups and reply threads of non-forum groups. */
export function topicOfMessage(msg: Obj): number | undefined {
  return msg.is_topic_message === true ? num(msg.message_thread_id) : undefined;
}

type Sender = { user: ChatEventInput['user']; userId: number };

/** Who sent a message: a person, an anonymous administrator (as the group), or a channel. */
function senderOf(msg: Obj, chat: Obj, ctx: NormalizeContext): Sender | undefined {
  const chatId = num(chat.id)!;
  const type = chatTypeOf(chat);
  const senderChat = isObj(msg.sender_chat) ? msg.sender_chat : undefined;
  const from = isObj(msg.from) ? msg.from : undefined;
  if (senderChat && num(senderChat.id) !== undefined) {
    const id = num(senderChat.id)!;
    // The group posting as itself is an anonymous administrator; a channel post is by the channel's admins.
    const isAdmin = id === chatId || type === 'channel';
    const username = str(senderChat.username);
    return { userId: id, user: { id: userKey('telegram', id), name: nameOf(senderChat), ...(username ? { username } : {}), isAdmin } };
  }
  if (!from || num(from.id) === undefined) return undefined;
  const id = num(from.id)!;
  return { userId: id, user: userOf(from, chatId, type, ctx) };
}

function userOf(from: Obj, chatId: number, type: 'group' | 'private' | 'channel', ctx: NormalizeContext): ChatEventInput['user'] {
  const id = num(from.id)!;
  const username = str(from.username);
  const lang = str(from.language_code);
  const isAdmin = type === 'group' ? (ctx.adminsOf(chatId)?.has(id) ?? false) : false;
  return {
    id: userKey('telegram', id),
    name: nameOf(from),
    ...(username ? { username: username.slice(0, MAX_NAME) } : {}),
    ...(from.is_bot === true ? { isBot: true } : {}),
    isAdmin,
    ...(lang ? { lang: lang.slice(0, 35) } : {}),
  };
}

/** Mentions and links from a message's entities (offsets are UTF-16 units, as JS strings count). */
function fromEntities(text: string, entities: unknown): { mentions: string[]; links: string[]; command?: { name: string; bot?: string } } {
  const mentions: string[] = [];
  const links: string[] = [];
  let command: { name: string; bot?: string } | undefined;
  if (!Array.isArray(entities)) return { mentions, links };
  for (const e of entities as Partial<MessageEntity>[]) {
    if (!isObj(e)) continue;
    const offset = num(e.offset);
    const length = num(e.length);
    if (offset === undefined || length === undefined || offset < 0 || length <= 0 || offset + length > text.length) continue;
    const slice = text.slice(offset, offset + length);
    if (e.type === 'mention' && mentions.length < MAX_MENTIONS) mentions.push(slice.replace(/^@/, ''));
    else if (e.type === 'text_mention' && isObj(e.user) && num(e.user.id) !== undefined && mentions.length < MAX_MENTIONS) mentions.push(userKey('telegram', num(e.user.id)!));
    else if (e.type === 'url' && links.length < MAX_LINKS) links.push(slice.slice(0, 2048));
    else if (e.type === 'text_link' && typeof e.url === 'string' && links.length < MAX_LINKS) links.push(e.url.slice(0, 2048));
    else if (e.type === 'bot_command' && offset === 0 && !command) {
      const m = /^\/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?$/.exec(slice);
      if (m) command = m[2] ? { name: m[1]!, bot: m[2] } : { name: m[1]! };
    }
  }
  return command ? { mentions, links, command } : { mentions, links };
}

function messageEvents(msg: Obj, edited: boolean, updateId: number, type: string, ctx: NormalizeContext): Normalized {
  const chat = isObj(msg.chat) ? msg.chat : undefined;
  const chatId = chat ? num(chat.id) : undefined;
  const messageId = num(msg.message_id);
  if (!chat || chatId === undefined || messageId === undefined) return { type, events: [], skipped: 'malformed' };
  const chatType = chatTypeOf(chat);
  const topic = topicOfMessage(msg);
  const chatStr = chatKey('telegram', chatId, topic);
  const date = num(msg.date) ?? 0;
  const raw = { updateId, type };
  const privateFrom = chatType === 'private' && isObj(msg.from) ? num(msg.from.id) : undefined;
  const base = { v: 1 as const, platform: 'telegram' as const, chat: chatStr, chatType, source: 'live' as const, raw };

  // Joins and leaves are service messages that do become events.
  const joined = Array.isArray(msg.new_chat_members) ? (msg.new_chat_members as unknown[]).filter(isObj) : [];
  if (joined.length && !edited) {
    const events: ChatEventInput[] = joined
      .filter((u) => num(u.id) !== undefined && num(u.id) !== ctx.botId)
      .map((u) => ({
        ...base,
        id: makeEventId('telegram', 'join', chatId, messageId, num(u.id)!),
        kind: 'join' as const,
        messageId: String(messageId),
        user: userOf(u, chatId, chatType, ctx),
        at: date * 1000,
      }));
    return events.length ? { type, events } : { type, events, skipped: 'service' };
  }
  if (isObj(msg.left_chat_member) && num(msg.left_chat_member.id) !== undefined && !edited) {
    const u = msg.left_chat_member;
    if (num(u.id) === ctx.botId) return { type, events: [], skipped: 'service' };
    return {
      type,
      events: [{ ...base, id: makeEventId('telegram', 'leave', chatId, messageId, num(u.id)!), kind: 'leave', messageId: String(messageId), user: userOf(u, chatId, chatType, ctx), at: date * 1000 }],
    };
  }
  if (SERVICE_FIELDS.some((f) => f in msg)) return { type, events: [], skipped: 'service' };

  const sender = senderOf(msg, chat, ctx);
  if (!sender) return { type, events: [], skipped: 'malformed' };
  const text = str(msg.text) ?? str(msg.caption);
  const { mentions, links, command } = text !== undefined ? fromEntities(text, msg.entities ?? msg.caption_entities) : { mentions: [], links: [], command: undefined };
  const forUs = command && (!command.bot || command.bot.toLowerCase() === ctx.botUsername.toLowerCase());
  const kind = edited ? 'edit' : forUs ? 'command' : 'message';

  let replyTo: string | undefined;
  let replyToUser: string | undefined;
  const reply = isObj(msg.reply_to_message) ? msg.reply_to_message : undefined;
  // In a forum every message "replies" to its topic's first message; that is not a reply anyone wrote.
  if (reply && num(reply.message_id) !== undefined && !('forum_topic_created' in reply) && !(topic !== undefined && num(reply.message_id) === topic)) {
    replyTo = String(num(reply.message_id));
    if (isObj(reply.from) && num(reply.from.id) !== undefined) replyToUser = userKey('telegram', num(reply.from.id)!);
  }
  const url = messageUrl(chat, messageId, topic);
  const editDate = num(msg.edit_date) ?? date;
  const event: ChatEventInput = {
    ...base,
    id: edited ? makeEventId('telegram', 'edit', chatId, messageId, editDate) : makeEventId('telegram', 'message', chatId, messageId),
    kind,
    messageId: String(messageId),
    user: sender.user,
    ...(text !== undefined ? { text } : {}),
    ...(replyTo ? { replyTo } : {}),
    ...(replyToUser ? { replyToUser } : {}),
    ...(mentions.length ? { mentions } : {}),
    ...(links.length ? { links } : {}),
    at: (edited ? editDate : date) * 1000,
    ...(url ? { url } : {}),
  };
  return { type, events: [event], ...(privateFrom !== undefined ? { privateFrom } : {}) };
}

/** A reaction's emoji as one string: the emoji, `custom:<id>` for custom emoji, ⭐ for paid ones. */
export function reactionKey(r: unknown): string | undefined {
  if (!isObj(r)) return undefined;
  const t = r as Partial<ReactionType> & Obj;
  if (t.type === 'emoji' && typeof t.emoji === 'string') return t.emoji.replace(/\uFE0F/g, '').slice(0, 64) || undefined;
  if (t.type === 'custom_emoji' && typeof t.custom_emoji_id === 'string') return `custom:${t.custom_emoji_id}`.slice(0, 64);
  if ((t.type as string) === 'paid') return '⭐'; // Bot API 7.9, newer than these typings
  return undefined;
}

function reactionEvents(r: Obj, updateId: number, type: string, ctx: NormalizeContext): Normalized {
  const chat = isObj(r.chat) ? r.chat : undefined;
  const chatId = chat ? num(chat.id) : undefined;
  const messageId = num(r.message_id);
  if (!chat || chatId === undefined || messageId === undefined) return { type, events: [], skipped: 'malformed' };
  const chatType = chatTypeOf(chat);
  const who = isObj(r.user) ? r.user : isObj(r.actor_chat) ? r.actor_chat : undefined;
  if (!who || num(who.id) === undefined) return { type, events: [], skipped: 'malformed' };
  const user = isObj(r.user) ? userOf(who, chatId, chatType, ctx) : { id: userKey('telegram', num(who.id)!), name: nameOf(who), isAdmin: num(who.id) === chatId };
  const keys = (list: unknown) => new Set((Array.isArray(list) ? list : []).map(reactionKey).filter((k): k is string => k !== undefined));
  const before = keys(r.old_reaction);
  const after = keys(r.new_reaction);
  const topic = ctx.topicOf?.(chatId, messageId);
  const date = (num(r.date) ?? 0) * 1000;
  const events: ChatEventInput[] = [];
  const push = (emoji: string, added: boolean) =>
    events.push({
      v: 1,
      // The update id keeps "added, removed, added again" three distinct events, and a redelivery one.
      id: makeEventId('telegram', 'reaction', chatId, messageId, updateId, added ? 'add' : 'remove', emoji),
      kind: 'reaction',
      platform: 'telegram',
      chat: chatKey('telegram', chatId, topic),
      chatType,
      messageId: String(messageId),
      user,
      reaction: { emoji, added },
      at: date,
      source: 'live',
      raw: { updateId, type },
    });
  for (const e of after) if (!before.has(e)) push(e, true);
  for (const e of before) if (!after.has(e)) push(e, false);
  return events.length ? { type, events } : { type, events, skipped: 'ignored' };
}

function callbackEvents(q: Obj, updateId: number, type: string, ctx: NormalizeContext): Normalized {
  const id = str(q.id);
  const data = str(q.data);
  const msg = isObj(q.message) ? q.message : undefined;
  const chat = msg && isObj(msg.chat) ? msg.chat : undefined;
  const chatId = chat ? num(chat.id) : undefined;
  const from = isObj(q.from) ? q.from : undefined;
  if (!id || !msg || !chat || chatId === undefined || !from || num(from.id) === undefined) return { type, events: [], skipped: 'malformed' };
  // Game buttons and buttons without data are not ours.
  if (data === undefined) return { type, events: [], skipped: 'ignored' };
  const messageId = num(msg.message_id);
  const topic = topicOfMessage(msg) ?? (messageId !== undefined ? ctx.topicOf?.(chatId, messageId) : undefined);
  const chatType = chatTypeOf(chat);
  return {
    type,
    events: [
      {
        v: 1,
        id: makeEventId('telegram', 'vote', id),
        kind: 'vote',
        platform: 'telegram',
        chat: chatKey('telegram', chatId, topic),
        chatType,
        ...(messageId !== undefined ? { messageId: String(messageId) } : {}),
        user: userOf(from, chatId, chatType, ctx),
        vote: { target: data.slice(0, 100), added: true },
        replyHandle: `cb:${id}`,
        at: ctx.now ?? Date.now(),
        source: 'live',
        raw: { updateId, type },
      },
    ],
  };
}

const ADMIN_STATUSES = new Set(['creator', 'administrator']);

/** Turns one update into ChatEvents (or says why none); never throws on hostile input. */
export function normalizeUpdate(update: RawUpdate, ctx: NormalizeContext): Normalized {
  const type = updateType(update);
  const updateId = num(update.update_id);
  const body = update[type];
  if (updateId === undefined) return { type, events: [], skipped: 'malformed' };
  if (IGNORED_TYPES.has(type)) return { type, events: [], skipped: 'ignored' };
  const known = ['message', 'edited_message', 'channel_post', 'edited_channel_post', 'message_reaction', 'message_reaction_count', 'callback_query', 'chat_member', 'my_chat_member'];
  if (!known.includes(type)) return { type, events: [], skipped: 'unknown' };
  if (!isObj(body)) return { type, events: [], skipped: 'malformed' };
  switch (type) {
    case 'message':
    case 'channel_post':
      return messageEvents(body, false, updateId, type, ctx);
    case 'edited_message':
    case 'edited_channel_post':
      return messageEvents(body, true, updateId, type, ctx);
    case 'message_reaction':
      return reactionEvents(body, updateId, type, ctx);
    case 'callback_query':
      return callbackEvents(body, updateId, type, ctx);
    case 'message_reaction_count': {
      const chat = isObj(body.chat) ? body.chat : undefined;
      const chatId = chat ? num(chat.id) : undefined;
      const messageId = num(body.message_id);
      if (chatId === undefined || messageId === undefined || !Array.isArray(body.reactions)) return { type, events: [], skipped: 'malformed' };
      const counts: Record<string, number> = {};
      for (const r of body.reactions as unknown[]) {
        if (!isObj(r)) continue;
        const k = reactionKey(r.type);
        const n = num(r.total_count);
        if (k && n !== undefined && n >= 0) counts[k] = Math.min(n, 1_000_000);
      }
      return { type, events: [], reactionCounts: { chatId, chatType: chatTypeOf(chat!), messageId, counts, date: num(body.date) ?? 0 } };
    }
    case 'chat_member': {
      const chat = isObj(body.chat) ? body.chat : undefined;
      const chatId = chat ? num(chat.id) : undefined;
      const before = isObj(body.old_chat_member) ? str(body.old_chat_member.status) : undefined;
      const after = isObj(body.new_chat_member) ? str(body.new_chat_member.status) : undefined;
      if (chatId === undefined) return { type, events: [], skipped: 'malformed' };
      // Joins and leaves come as service messages; this update only tells us when rights changed.
      const changed = ADMIN_STATUSES.has(before ?? '') || ADMIN_STATUSES.has(after ?? '');
      return changed ? { type, events: [], skipped: 'ignored', adminsChanged: chatId } : { type, events: [], skipped: 'ignored' };
    }
    case 'my_chat_member': {
      const chat = isObj(body.chat) ? body.chat : undefined;
      const chatId = chat ? num(chat.id) : undefined;
      const after = isObj(body.new_chat_member) ? str(body.new_chat_member.status) : undefined;
      if (chatId === undefined || !after) return { type, events: [], skipped: 'malformed' };
      return { type, events: [], skipped: 'ignored', adminsChanged: chatId, botMembership: { chatId, chatType: str(chat!.type) ?? 'unknown', status: after } };
    }
  }
  return { type, events: [], skipped: 'unknown' };
}

/** Reaction events from anonymous totals: the difference to the previous totals, one event per unit. */
export function reactionCountEvents(
  input: { chatId: number; chatType: 'group' | 'private' | 'channel'; messageId: number; counts: Record<string, number>; date: number },
  previous: Record<string, number>,
  updateId: number,
  topic?: number,
): ChatEventInput[] {
  const events: ChatEventInput[] = [];
  const emojis = new Set([...Object.keys(previous), ...Object.keys(input.counts)]);
  for (const emoji of emojis) {
    const before = previous[emoji] ?? 0;
    const after = input.counts[emoji] ?? 0;
    const added = after > before;
    // Bounded: a hostile or huge jump becomes at most 100 events.
    const n = Math.min(Math.abs(after - before), 100);
    for (let k = 1; k <= n; k++) {
      events.push({
        v: 1,
        id: makeEventId('telegram', 'reaction', input.chatId, input.messageId, updateId, added ? 'add' : 'remove', emoji, k),
        kind: 'reaction',
        platform: 'telegram',
        chat: chatKey('telegram', input.chatId, topic),
        chatType: input.chatType,
        messageId: String(input.messageId),
        // Anonymous reactions have no author; one shared id stands for "someone".
        user: { id: userKey('telegram', 'anonymous'), name: 'anonymous', isAdmin: false },
        reaction: { emoji, added },
        at: input.date * 1000,
        source: 'live',
        raw: { updateId, type: 'message_reaction_count' },
      });
    }
  }
  return events;
}
