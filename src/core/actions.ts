/** The outbound border type: everything the bot asks an adapter to do on a platform. */
import { z } from 'zod';
import { PlatformSchema } from './ids.js';

/** Version of the Action wire format. */
export const ACTION_VERSION = 1;

/** What an action does. */
export const ACTION_TYPES = [
  'send', // a message into a chat (or topic/thread via the chat id), optionally as a reply
  'edit',
  'delete',
  'purge', // delete the last `count` messages (or `messageIds`)
  'pin',
  'react',
  'thread', // create a thread/topic (on a message when `messageId` is set); result carries its chat id
  'ban',
  'unban',
  'mute', // until `until`
  'unmute',
  'slowmode', // `seconds`, 0 = off
  'dm', // a private message to `user`
  'answer', // answer an interaction in place (`replyHandle`), e.g. a deferred Discord slash command
] as const;
/** One of ACTION_TYPES. */
export type ActionType = (typeof ACTION_TYPES)[number];

/** Outbound urgency; BullMQ priority numbers (lower runs first). */
export const PRIORITIES = { moderation: 1, answer: 2, command: 3, digest: 5, ack: 8 } as const;
/** A named priority class. */
export type PriorityClass = keyof typeof PRIORITIES;

/** Validates an Action at the queue border. */
export const ActionSchema = z.object({
  v: z.literal(ACTION_VERSION),
  /** Idempotency key: the outbound job id; the same id is never performed twice. */
  id: z.string().min(3).max(300),
  type: z.enum(ACTION_TYPES),
  platform: PlatformSchema,
  /** Prefixed chat id; for 'dm' the chat of origin (may be omitted). */
  chat: z.string().max(200),
  text: z.string().max(100_000).optional(),
  /** 'plain' text is escaped by the adapter; 'markdown' is Townhall's small subset (bold, italic, links, code). */
  format: z.enum(['plain', 'markdown']).default('plain'),
  /** Native message id to reply to. */
  replyTo: z.string().max(100).optional(),
  /** Native message id acted on (edit, delete, pin, react, thread). */
  messageId: z.string().max(100).optional(),
  messageIds: z.array(z.string().max(100)).max(1000).optional(),
  count: z.number().int().min(1).max(1000).optional(),
  /** Prefixed user id acted on (ban, mute, dm). */
  user: z.string().max(200).optional(),
  /** Milliseconds since the epoch (mute end). */
  until: z.number().int().optional(),
  seconds: z.number().int().min(0).max(21_600).optional(),
  emoji: z.string().max(64).optional(),
  title: z.string().max(200).optional(),
  reason: z.string().max(512).optional(),
  /** Interaction handle from the ChatEvent this answers. */
  replyHandle: z.string().max(2048).optional(),
  /** Buttons under the message (an upvote button on a question card). */
  buttons: z.array(z.object({ label: z.string().max(64), data: z.string().max(64) })).max(5).optional(),
  /** When set, the result (message/thread ids) is stored under this name for later actions and replies. */
  ref: z.string().max(300).optional(),
  /** Send into the thread/topic stored under this ref instead of `chat` (created by an earlier 'thread' action). */
  inRef: z.string().max(300).optional(),
  priority: z.enum(Object.keys(PRIORITIES) as [PriorityClass, ...PriorityClass[]]).default('command'),
});
/** Something for an adapter to do on its platform. */
export type Action = z.infer<typeof ActionSchema>;
/** An Action as the core writes it (defaults not yet applied). */
export type ActionInput = z.input<typeof ActionSchema>;

/** What performing an action produced: the ids later actions and replies need. */
export interface ActionResult {
  /** Native id(s) of the message(s) sent; several when a long text was split. */
  messageIds?: string[];
  /** Prefixed chat id of a thread/topic that was created or posted into. */
  chat?: string;
}
