/** Platform-prefixed identifiers (contract §3): every id that names a platform object says which platform it lives on. */
import { z } from 'zod';
import { isPlatform, matchChatId, PLATFORMS, type Platform } from '../platform/index.js';

export { isPlatform, PLATFORMS, type Platform } from '../platform/index.js';
/** Schema for a platform name (the registry's ids). */
export const PlatformSchema = z.enum(PLATFORMS);

/** A chat (or topic/thread inside one), split into its parts. */
export interface ChatRef {
  /** The platform the chat lives on. */
  platform: Platform;
  /** The platform's own chat/channel/conversation id. */
  chatId: string;
  /** Telegram forum topic id or Discord thread id, when the chat id names one. */
  threadId?: string;
}

/** `<platform>:<chat>` or `<platform>:<chat>:<thread>` (a Telegram topic, a Discord thread). */
export function chatKey(platform: Platform, chatId: string | number, threadId?: string | number | null): string {
  return threadId === undefined || threadId === null || threadId === ''
    ? `${platform}:${chatId}`
    : `${platform}:${chatId}:${threadId}`;
}

/** `<platform>:user:<id>`. */
export function userKey(platform: Platform, userId: string | number): string {
  return `${platform}:user:${userId}`;
}

/** Splits a prefixed chat id by its platform's pattern (registry); throws on anything that is not one. */
export function parseChatKey(key: string): ChatRef {
  const ref = matchChatId(key);
  // `<platform>:user:<id>` names a person, never a chat.
  if (!ref || ref.chatId === 'user') throw new Error(`not a chat id: ${JSON.stringify(key).slice(0, 80)}`);
  return ref;
}

/** Splits a prefixed user id into platform and native id; throws on anything else. */
export function parseUserKey(key: string): { platform: Platform; userId: string } {
  const [platform, tag, userId, ...rest] = key.split(':');
  if (!platform || !isPlatform(platform) || tag !== 'user' || !userId || rest.length > 0) {
    throw new Error(`not a user id: ${JSON.stringify(key).slice(0, 80)}`);
  }
  return { platform, userId };
}

/** The chat without its topic/thread part (the group a topic belongs to). */
export function baseChat(key: string): string {
  const ref = parseChatKey(key);
  return chatKey(ref.platform, ref.chatId);
}

/** The platform named by a prefixed id. */
export function platformOf(key: string): Platform {
  const p = key.slice(0, key.indexOf(':'));
  if (!isPlatform(p)) throw new Error(`no platform in id: ${key.slice(0, 80)}`);
  return p;
}
