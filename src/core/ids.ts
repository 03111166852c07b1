/** Platform-prefixed identifiers (contract §3): every id that names a platform object says which platform it lives on. */
import { z } from 'zod';

/** The platforms Townhall speaks to. */
export const PLATFORMS = ['telegram', 'discord', 'x'] as const;
/** One of the supported platforms. */
export type Platform = (typeof PLATFORMS)[number];
/** Schema for a platform name. */
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

/** `telegram:<chat>` or `telegram:<chat>:<topic>`; `discord:<channel>[:<thread>]`; `x:<conversation>`. */
export function chatKey(platform: Platform, chatId: string | number, threadId?: string | number | null): string {
  return threadId === undefined || threadId === null || threadId === ''
    ? `${platform}:${chatId}`
    : `${platform}:${chatId}:${threadId}`;
}

/** `telegram:user:<id>` and so on. */
export function userKey(platform: Platform, userId: string | number): string {
  return `${platform}:user:${userId}`;
}

/** Splits a prefixed chat id; throws on anything that is not one. */
export function parseChatKey(key: string): ChatRef {
  const [platform, chatId, threadId, ...rest] = key.split(':');
  if (!PlatformSchema.safeParse(platform).success || !chatId || chatId === 'user' || rest.length > 0) {
    throw new Error(`not a chat id: ${JSON.stringify(key).slice(0, 80)}`);
  }
  const ref: ChatRef = { platform: platform as Platform, chatId };
  if (threadId) ref.threadId = threadId;
  return ref;
}

/** Splits a prefixed user id into platform and native id; throws on anything else. */
export function parseUserKey(key: string): { platform: Platform; userId: string } {
  const [platform, tag, userId, ...rest] = key.split(':');
  if (!PlatformSchema.safeParse(platform).success || tag !== 'user' || !userId || rest.length > 0) {
    throw new Error(`not a user id: ${JSON.stringify(key).slice(0, 80)}`);
  }
  return { platform: platform as Platform, userId };
}

/** The chat without its topic/thread part (the group a topic belongs to). */
export function baseChat(key: string): string {
  const ref = parseChatKey(key);
  return chatKey(ref.platform, ref.chatId);
}

/** The platform named by a prefixed id. */
export function platformOf(key: string): Platform {
  const p = key.slice(0, key.indexOf(':'));
  if (!PlatformSchema.safeParse(p).success) throw new Error(`no platform in id: ${key.slice(0, 80)}`);
  return p as Platform;
}
