/**
 * The outbound border type: everything the bot asks an adapter to do on a platform. An Action is one of a few exact
 * shapes, told apart by `type`, so each adapter's compiler proves it has the fields it needs (no run-time checks).
 */
import { z } from 'zod';
import { PlatformSchema } from './ids.js';

/** Version of the Action wire format. */
export const ACTION_VERSION = 1;

/** Outbound urgency; BullMQ priority numbers (lower runs first). */
export const PRIORITIES = { moderation: 1, answer: 2, command: 3, digest: 5, ack: 8 } as const;
/** A named priority class. */
export type PriorityClass = keyof typeof PRIORITIES;

const nativeId = z.string().min(1).max(100);
const prefixedUser = z.string().min(3).max(200);
const text = z.string().max(100_000);
/** 'plain' text is escaped by the adapter; 'markdown' is Townhall's small subset (bold, italic, links, code). */
const format = z.enum(['plain', 'markdown']).default('plain');
/** Buttons under a message (an upvote button on a question card). */
const buttons = z.array(z.object({ label: z.string().max(64), data: z.string().max(64) })).max(5);
const reason = z.string().max(512);

/** What every action carries. */
const base = {
  v: z.literal(ACTION_VERSION),
  /** Idempotency key: the outbound job id; the same id is never performed twice. */
  id: z.string().min(3).max(300),
  platform: PlatformSchema,
  /** Prefixed chat id; for 'dm' the chat of origin (may be empty). */
  chat: z.string().max(200),
  priority: z.enum(Object.keys(PRIORITIES) as [PriorityClass, ...PriorityClass[]]).default('command'),
  /** When set, the result (message/thread ids) is stored under this name for later actions and replies. */
  ref: z.string().max(300).optional(),
  /**
   * Send into the thread/topic stored under this ref instead of `chat` (created by an earlier 'thread' action).
   * The outbound runner resolves it before the adapter sees the action: adapters never read it.
   */
  inRef: z.string().max(300).optional(),
};

/** Validates an Action at the queue border: one schema per type. */
export const ActionSchema = z.discriminatedUnion('type', [
  /** A message into a chat (or topic/thread via the chat id), optionally as a reply. */
  z.object({ ...base, type: z.literal('send'), text, format, replyTo: nativeId.optional(), buttons: buttons.optional() }),
  /** A private message to `user`. */
  z.object({ ...base, type: z.literal('dm'), user: prefixedUser, text, format, buttons: buttons.optional() }),
  /** Answers an interaction in place (`replyHandle`, e.g. a deferred Discord slash command or a Telegram button press). */
  z.object({ ...base, type: z.literal('answer'), replyHandle: z.string().min(1).max(2048), text: text.optional(), format }),
  /** Replaces a message's text (and buttons). */
  z.object({ ...base, type: z.literal('edit'), messageId: nativeId, text, format, buttons: buttons.optional() }),
  z.object({ ...base, type: z.literal('delete'), messageId: nativeId }),
  /** Deletes these messages, or the chat's last `count`. */
  z.object({ ...base, type: z.literal('purge'), messageIds: z.array(nativeId).max(1000).optional(), count: z.number().int().min(1).max(1000).optional() }),
  z.object({ ...base, type: z.literal('pin'), messageId: nativeId }),
  z.object({ ...base, type: z.literal('react'), messageId: nativeId, emoji: z.string().min(1).max(64) }),
  /** Creates a thread/topic (on a message when `messageId` is set), posting `text` in it; the result carries its chat id. */
  z.object({ ...base, type: z.literal('thread'), messageId: nativeId.optional(), title: z.string().max(200).optional(), text: text.optional(), format }),
  /** Bans `user` from the chat's group, until `until` (ms since the epoch) when set. */
  z.object({ ...base, type: z.literal('ban'), user: prefixedUser, until: z.number().int().optional(), reason: reason.optional() }),
  z.object({ ...base, type: z.literal('unban'), user: prefixedUser, reason: reason.optional() }),
  /** Stops `user` writing in the chat's group until `until`. */
  z.object({ ...base, type: z.literal('mute'), user: prefixedUser, until: z.number().int().optional(), reason: reason.optional() }),
  z.object({ ...base, type: z.literal('unmute'), user: prefixedUser, reason: reason.optional() }),
  /** One message per member every `seconds` (0 = off). */
  z.object({ ...base, type: z.literal('slowmode'), seconds: z.number().int().min(0).max(21_600) }),
  /** Starts (`on`) or stops following hashtags on a platform that can be searched for them (an AMA's hashtag on X). */
  z.object({ ...base, type: z.literal('listen'), hashtags: z.array(z.string().min(1).max(100)).min(1).max(20), on: z.boolean() }),
]);

/** Something for an adapter to do on its platform. */
export type Action = z.infer<typeof ActionSchema>;
/** An Action as the core writes it (defaults not yet applied). */
export type ActionInput = z.input<typeof ActionSchema>;
/** What an action does. */
export type ActionType = Action['type'];
/** The action of one type. */
export type ActionOf<T extends ActionType> = Extract<Action, { type: T }>;
/** Omit over each member of a union (TypeScript's Omit merges the members). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What performing an action produced: the ids later actions and replies need. */
export interface ActionResult {
  /** Native id(s) of the message(s) sent; several when a long text was split. */
  messageIds?: string[];
  /** Prefixed chat id of a thread/topic that was created or posted into. */
  chat?: string;
}
