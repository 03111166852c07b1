/** The inbound border type: what adapters put on the inbound queue and the core consumes. */
import { z } from 'zod';
import { CHAT_ID_PATTERN, USER_ID_PATTERN } from '../platform/index.js';
import { PlatformSchema } from './ids.js';

/** Version of the ChatEvent wire format; bump on incompatible change. */
export const CHAT_EVENT_VERSION = 1;

/** Longest text accepted from a platform; longer input is rejected at the border rather than stored. */
export const MAX_TEXT_CHARS = 16_384;

const prefixedChat = z.string().min(3).max(200).regex(new RegExp(CHAT_ID_PATTERN), 'must be a platform-prefixed chat id');
const prefixedUser = z.string().min(3).max(200).regex(new RegExp(USER_ID_PATTERN), 'must be a platform-prefixed user id');
const nativeId = z.string().min(1).max(100);

/** Who sent an event. */
export const ChatUserSchema = z.object({
  id: prefixedUser,
  name: z.string().max(256),
  username: z.string().max(256).optional(),
  isBot: z.boolean().optional(),
  /** The adapter's view of platform admin rights at the time of the event, when it knows. */
  isAdmin: z.boolean().optional(),
  lang: z.string().max(35).optional(),
});
/** Who sent an event. */
export type ChatUser = z.infer<typeof ChatUserSchema>;

/** The kinds of event an adapter can report. */
export const EVENT_KINDS = ['message', 'edit', 'delete', 'reaction', 'join', 'leave', 'command', 'vote'] as const;
/** One of EVENT_KINDS. */
export type ChatEventKind = (typeof EVENT_KINDS)[number];

/** Validates a ChatEvent at the queue border. */
export const ChatEventSchema = z.object({
  v: z.literal(CHAT_EVENT_VERSION),
  /** Unique per platform occurrence: the inbound job id, so a redelivered update is handled once. */
  id: z.string().min(3).max(300),
  kind: z.enum(EVENT_KINDS),
  platform: PlatformSchema,
  /** Prefixed chat id (with topic/thread when there is one). */
  chat: prefixedChat,
  chatType: z.enum(['group', 'private', 'channel']).default('group'),
  /** The platform's own id of the message this event is about. */
  messageId: nativeId.optional(),
  user: ChatUserSchema,
  text: z.string().max(MAX_TEXT_CHARS).optional(),
  /** Native id of the message this one replies to. */
  replyTo: nativeId.optional(),
  /** Prefixed user id of the author of the replied-to message, when known. */
  replyToUser: prefixedUser.optional(),
  /** Mentioned usernames or prefixed user ids. */
  mentions: z.array(z.string().max(256)).max(10_000).optional(),
  links: z.array(z.string().max(2048)).max(1000).optional(),
  /** For kind 'reaction': the emoji and whether it was added or removed. */
  reaction: z.object({ emoji: z.string().min(1).max(64), added: z.boolean() }).optional(),
  /** For kind 'vote' (an upvote button, a like on X): the target message or question number. */
  vote: z.object({ target: z.string().max(100), added: z.boolean() }).optional(),
  /** Opaque token the adapter needs to answer this event in place (a Discord interaction, a Telegram callback query). */
  replyHandle: z.string().max(2048).optional(),
  /** Milliseconds since the epoch, platform time. */
  at: z.number().int().nonnegative(),
  /** 'live' from the platform; 'import' is history: no replies, no moderation. */
  source: z.enum(['live', 'import', 'replay']).default('live'),
  /** A link to the source message, when the platform has one. */
  url: z.string().max(2048).optional(),
  /** Escape hatch: the platform payload, kept small by the adapter. */
  raw: z.unknown().optional(),
});
/** A normalized, platform-independent chat event. */
export type ChatEvent = z.infer<typeof ChatEventSchema>;
/** A ChatEvent as an adapter writes it (defaults not yet applied). */
export type ChatEventInput = z.input<typeof ChatEventSchema>;

/** Parses untrusted input into a ChatEvent, or says in one line why it is not one. */
export function parseChatEvent(input: unknown): { ok: true; event: ChatEvent } | { ok: false; reason: string } {
  const r = ChatEventSchema.safeParse(input);
  if (r.success) return { ok: true, event: r.data };
  const first = r.error.issues[0];
  const where = first?.path.length ? first.path.join('.') : 'event';
  return { ok: false, reason: `${where}: ${first?.message ?? 'invalid'}` };
}
