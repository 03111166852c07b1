/** The digest's shapes: the stored messages it reads, and the "what happened" it builds (every point with its source). */
import type { Platform } from '../../platform/index.js';
import type { ChatLine } from './extractive.js';

/** A stored chat message as the digest reads it. */
export interface StoredMessage {
  /** Platform message id. */
  id: string;
  /** Prefixed chat id, e.g. 'telegram:-100123' or 'discord:123:456'. */
  chat: string;
  platform: Platform;
  user: string;
  userName: string;
  text: string;
  /** Milliseconds since the epoch. */
  at: number;
  /** Platform id of the message this one replies to (same chat). */
  replyTo?: string;
  /** Conversation id assigned by the threading model. */
  thread?: string;
  reactions?: number;
  lang?: string;
  deleted?: boolean;
  isQuestion?: boolean;
  /** Link to the source message. */
  url?: string;
  /** Pinned by a moderator: always treated as an announcement. */
  pinned?: boolean;
  /** Author had admin/host rights when posting. */
  isAdmin?: boolean;
}

/** Where a digest point comes from: enough to link back to the message. */
export interface SourceRef {
  id: string;
  chat: string;
  url?: string;
}

/** One message-backed point of the digest. */
export interface DigestPoint {
  text: string;
  user: string;
  userName: string;
  at: number;
  source: SourceRef;
}

/** One main conversation, summarized in a line. */
export interface DigestConversation {
  /** Conversation key (thread id, reply-tree root or time bucket), chat-scoped. */
  key: string;
  chat: string;
  /** Display names of the most active participants, most active first. */
  participants: string[];
  participantCount: number;
  messages: number;
  /** Extractive summary of what was said. */
  what: string;
  /** The latest decision-like message of the conversation, when there is one. */
  outcome?: DigestPoint;
  /** First message of the conversation. */
  source: SourceRef;
  firstAt: number;
  lastAt: number;
}

/** A question and, once answered, its answer. */
export interface DigestQuestion {
  question: DigestPoint;
  answer?: DigestPoint;
  reactions: number;
}

/** A link shared in the window, deduplicated. */
export interface DigestLink {
  url: string;
  /** How many (non-deleted) messages shared it. */
  count: number;
  /** First message that shared it. */
  source: SourceRef;
  userName: string;
  at: number;
}

/** A message-backed point with its reaction count. */
export interface ReactedPoint extends DigestPoint {
  reactions: number;
}

/** Everything a digest shows; lists are capped, `totals` hold the uncapped counts for "… N more". */
export interface Digest {
  window: { from: number; to: number };
  totals: {
    messages: number;
    users: number;
    conversations: number;
    openQuestions: number;
    answeredQuestions: number;
    decisions: number;
    reacted: number;
    links: number;
    byPlatform: Partial<Record<Platform, number>>;
    byLang: Record<string, number>;
  };
  conversations: DigestConversation[];
  openQuestions: DigestQuestion[];
  answeredQuestions: DigestQuestion[];
  decisions: DigestPoint[];
  topReacted: ReactedPoint[];
  links: DigestLink[];
  /** A few sentences on the whole window from the configured model (absent without one, or when it failed). */
  overview?: string;
}

/** Window and limits of `buildDigest`. */
export interface BuildDigestOptions {
  /** Inclusive start (ms). */
  from: number;
  /** Exclusive end (ms). */
  to: number;
  /** User ids whose messages count as host/admin announcements. */
  admins?: Iterable<string>;
  /** Most items kept per list (default 50; renderers show fewer). */
  maxItems?: number;
  /** Main conversations kept (default 8). */
  maxConversations?: number;
  /** Silence that splits un-threaded, un-replied chat into separate conversations (default 30 min). */
  gapMs?: number;
  /** Replaces the extractive one-line summary of a conversation. */
  summarize?: (lines: ChatLine[]) => string;
}
