/** Builders for ChatEvents in tests. */
import { makeEventId } from '../../src/core/index.js';
import type { ChatEventInput } from '../../src/core/events.js';
import { chatKey, userKey, type Platform } from '../../src/core/ids.js';

let counter = 0;

/** A group message event with sensible defaults; override any field. */
export function messageEvent(o: Partial<ChatEventInput> & { text?: string; platform?: Platform; chatId?: string; userId?: string; admin?: boolean } = {}): ChatEventInput {
  const platform = o.platform ?? 'telegram';
  const chatId = o.chatId ?? '-1001';
  const messageId = o.messageId ?? String(++counter + 1000);
  const { chatId: _c, userId: _u, admin: _a, ...rest } = o;
  return {
    v: 1,
    id: makeEventId(platform, 'msg', chatId, messageId),
    kind: 'message',
    platform,
    chat: chatKey(platform, chatId),
    chatType: 'group',
    messageId,
    user: { id: userKey(platform, o.userId ?? '42'), name: `User ${o.userId ?? '42'}`, ...(o.admin ? { isAdmin: true } : {}) },
    text: 'hello',
    at: Date.now(),
    source: 'live',
    ...rest,
  };
}
