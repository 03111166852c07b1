/** What the X adapter's parts (inbound, stream, likes, outbound) share once init() has checked the credentials. */
import type { TwitterApi } from 'twitter-api-v2';
import type { Logger } from 'pino';
import type { AdapterDeps } from '../../src/core/index.js';
import type { XBudgets } from './budget.js';
import type { ResolvedXOptions } from './options.js';

/** Endpoint families whose rate-limit windows gate calls. */
export const X_ENDPOINTS = {
  mentions: 'GET /2/users/:id/mentions',
  search: 'GET /2/tweets/search/recent',
  post: 'POST /2/tweets',
  likingUsers: 'GET /2/tweets/:id/liking_users',
} as const;

/** Post fields every read asks for. */
export const TWEET_FIELDS = ['author_id', 'conversation_id', 'created_at', 'lang', 'in_reply_to_user_id', 'referenced_tweets', 'entities', 'note_tweet'];
/** Expansions every read asks for (authors, referenced posts). */
export const EXPANSIONS = ['author_id', 'referenced_tweets.id'];
/** User fields every read asks for. */
export const USER_FIELDS: ('name' | 'username')[] = ['name', 'username'];

/** Counts of what inbound saw, for status and tests. */
export interface XCounters {
  polls: number;
  published: number;
  malformed: number;
  ownPosts: number;
  reposts: number;
  pollErrors: number;
  /** Posts received over the filtered stream. */
  streamed: number;
  /** Error and unknown payloads on the filtered stream. */
  streamErrors: number;
}

/** The bot account. */
export interface XBotUser {
  id: string;
  username: string;
  name: string;
}

/** The adapter's shared state after init: options, clients, the bot account, budgets, counters. */
export interface XContext {
  readonly opts: ResolvedXOptions;
  readonly deps: AdapterDeps;
  readonly log: Logger;
  readonly budgets: XBudgets;
  readonly counters: XCounters;
  /** The user-context (or bearer) client every call goes through. */
  readonly client: TwitterApi;
  /** The app-only client the filtered stream needs, when there is a bearer token. */
  readonly appOnly: TwitterApi | undefined;
  readonly me: XBotUser;
  /** Whether a user administers the conversation (configured admins, or the caller's check). */
  isAdmin(userId: string, username: string | undefined, conversationId: string): boolean;
}

/** A key in the adapter's own store. */
export function storeKey(...parts: (string | number)[]): string {
  return parts.join(':');
}

/** Compares numeric X ids (snowflakes exceed 2^53: compare as strings by length, then lexically). */
export function cmpId(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** The larger of two X ids. */
export function maxId(a: string | undefined, b: string): string {
  return a === undefined || cmpId(b, a) > 0 ? b : a;
}
