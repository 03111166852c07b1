/** The fake's world: users, chats, members, topics and stored messages, with Telegram's shapes and rules. */
import type { ChatPermissions, MessageEntity, ReactionType } from '@telegraf/types';

/** Loosely typed JSON object: the fake speaks the Bot API's wire format. */
export type Json = Record<string, unknown>;

/** A Telegram user as the Bot API serializes it. */
export interface FakeUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

/** Rights an administrator can hold (the subset moderation needs, all reported by getChatAdministrators). */
export interface AdminRights {
  can_manage_chat: boolean;
  can_delete_messages: boolean;
  can_restrict_members: boolean;
  can_pin_messages: boolean;
  can_manage_topics: boolean;
  can_invite_users: boolean;
  can_change_info: boolean;
  can_promote_members: boolean;
  can_manage_video_chats: boolean;
  is_anonymous: boolean;
}

/** Every right, as a bot added with full admin rights has. */
export const FULL_RIGHTS: AdminRights = {
  can_manage_chat: true,
  can_delete_messages: true,
  can_restrict_members: true,
  can_pin_messages: true,
  can_manage_topics: true,
  can_invite_users: true,
  can_change_info: true,
  can_promote_members: false,
  can_manage_video_chats: true,
  is_anonymous: false,
};

/** A member's standing in a chat. */
export interface MemberState {
  status: 'creator' | 'administrator' | 'member' | 'restricted' | 'left' | 'kicked';
  /** Seconds since the epoch; 0 = forever. */
  until?: number;
  permissions?: ChatPermissions;
  rights?: AdminRights;
}

/** A forum topic. */
export interface TopicState {
  id: number;
  name: string;
  icon_color: number;
}

/** Everything the fake knows about a chat. */
export interface ChatState {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title: string;
  username?: string;
  isForum: boolean;
  members: Map<number, MemberState>;
  bot: MemberState;
  topics: Map<number, TopicState>;
  messages: Map<number, Json>;
  nextMessageId: number;
  pinned: number[];
  /** message id -> user id -> that user's reactions. */
  reactions: Map<number, Map<number, ReactionType[]>>;
  /** Private chats: the user wrote to the bot first (bots cannot start conversations). */
  started: boolean;
  /** Private chats: the user blocked the bot. */
  blocked: boolean;
  permissions: ChatPermissions;
  /** Send times, for flood control. */
  sends: number[];
}

/** The group's default permissions: members may write. */
export const DEFAULT_PERMISSIONS: ChatPermissions = {
  can_send_messages: true,
  can_send_audios: true,
  can_send_documents: true,
  can_send_photos: true,
  can_send_videos: true,
  can_send_video_notes: true,
  can_send_voice_notes: true,
  can_send_polls: true,
  can_send_other_messages: true,
  can_add_web_page_previews: true,
  can_change_info: false,
  can_invite_users: true,
  can_pin_messages: false,
  can_manage_topics: false,
};

/** The chat type Telegram's ids imply: -100… supergroups, other negatives basic groups, positives users.
 * Short -100 ids (`-1001234`, handy in the sandbox) count as supergroups too. */
export function typeForId(id: number): ChatState['type'] {
  if (String(id).startsWith('-100')) return 'supergroup';
  if (id < 0) return 'group';
  return 'private';
}

/** The Chat object a message or update carries. */
export function chatJson(chat: ChatState, users: Map<number, FakeUser>): Json {
  if (chat.type === 'private') {
    const u = users.get(chat.id);
    return {
      id: chat.id,
      type: 'private',
      first_name: u?.first_name ?? chat.title,
      ...(u?.last_name ? { last_name: u.last_name } : {}),
      ...(u?.username ? { username: u.username } : {}),
    };
  }
  return {
    id: chat.id,
    type: chat.type,
    title: chat.title,
    ...(chat.username ? { username: chat.username } : {}),
    ...(chat.isForum ? { is_forum: true } : {}),
  };
}

/** A ChatMember object for getChatMember / getChatAdministrators / chat_member updates. */
export function memberJson(user: FakeUser, m: MemberState): Json {
  switch (m.status) {
    case 'creator':
      return { status: 'creator', user, is_anonymous: false };
    case 'administrator':
      return { status: 'administrator', user, can_be_edited: false, ...(m.rights ?? FULL_RIGHTS) };
    case 'restricted':
      return { status: 'restricted', user, is_member: true, until_date: m.until ?? 0, ...(m.permissions ?? {}) };
    case 'kicked':
      return { status: 'kicked', user, until_date: m.until ?? 0 };
    default:
      return { status: m.status, user };
  }
}

/** True when the entities are well formed for the text (inside it, positive length). */
export function entitiesFit(text: string, entities: MessageEntity[]): boolean {
  return entities.every((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.offset >= 0 && e.length > 0 && e.offset + e.length <= text.length);
}

/** The emoji Telegram accepts as a standard reaction. */
export const ALLOWED_REACTIONS = new Set([
  '👍', '👎', '❤', '🔥', '🥰', '👏', '😁', '🤔', '🤯', '😱', '🤬', '😢', '🎉', '🤩', '🤮', '💩', '🙏', '👌', '🕊', '🤡', '🥱', '🥴',
  '😍', '🐳', '❤‍🔥', '🌚', '🌭', '💯', '🤣', '⚡', '🍌', '🏆', '💔', '🤨', '😐', '🍓', '🍾', '💋', '🖕', '😈', '😴', '😭', '🤓', '👻',
  '👨‍💻', '👀', '🎃', '🙈', '😇', '😨', '🤝', '✍', '🤗', '🫡', '🎅', '🎄', '☃', '💅', '🤪', '🗿', '🆒', '💘', '🙉', '🦄', '😘', '💊',
  '🙊', '😎', '👾', '🤷‍♂', '🤷', '🤷‍♀', '😡',
]);
