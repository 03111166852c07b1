/** The border between Townhall's core and a chat platform: a small adapter interface, like matterbridge's. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Action, ActionResult } from '../src/core/actions.js';
import type { ChatEventInput } from '../src/core/events.js';
import type { Platform } from '../src/core/ids.js';
import type { Keys } from '../src/redis/keys.js';

/** Where an adapter puts what it receives. */
export interface InboundSink {
  /** Resolves only once every event is durably in Redis: acknowledge the platform after, never before. */
  publish(events: ChatEventInput[]): Promise<void>;
}

/** A send budget: `points` actions per `durationMs`, shared by every process through Redis. */
export interface RateBudget {
  points: number;
  durationMs: number;
}

/** The limits the outbound runner enforces for a platform before it calls `perform`. */
export interface OutboundLimits {
  /** Per chat (group/channel/conversation; topics count toward their group). */
  perChat: RateBudget[];
  /** For the whole bot. */
  global: RateBudget[];
  /** Per private chat/DM, when it differs from perChat. */
  perPrivateChat?: RateBudget[];
}

/** What every adapter gets from the process that runs it. */
export interface AdapterDeps {
  sink: InboundSink;
  /** For adapter-owned state: cursors, admin caches, disabled chats. Keys go under `keys`. */
  redis: Redis;
  keys: Keys;
  log: Logger;
}

/** Connection health, shown by /readyz and `townhall status`. */
export interface AdapterStatus {
  connected: boolean;
  /** Problems an operator must fix (bot not admin, privacy mode on, budget exhausted), one line each. */
  problems: string[];
  /** Free-form figures (remaining X budget, last poll time). */
  details?: Record<string, unknown>;
}

/** One platform: receive into the sink, perform actions, report health. */
export interface PlatformAdapter {
  readonly platform: Platform;
  /** Send budgets the outbound runner enforces across processes. */
  readonly limits: OutboundLimits;
  /** Creates the client (checks the token); after this `perform` works. Receives nothing yet. */
  init(): Promise<void>;
  /** Starts receiving (long poll, webhook, gateway, mention polling). Only one process per bot should. */
  startInbound(): Promise<void>;
  /** Performs one action. Throws RateLimitedError (wait) or PermanentPlatformError (never retry). */
  perform(action: Action): Promise<ActionResult>;
  /** Stops receiving and closes connections; in-flight publishes finish first. */
  stop(): Promise<void>;
  /** Current health. */
  status(): AdapterStatus;
}

/** The event id helper adapters use: stable across redelivery, no ':' (BullMQ job ids refuse it). */
export function makeEventId(platform: Platform, kind: string, ...parts: (string | number)[]): string {
  return [platform, kind, ...parts].map((p) => String(p).replaceAll('/', '%2F')).join('/');
}
