/**
 * The border between Townhall's core and a chat platform: a small adapter interface, like matterbridge's, what an
 * adapter is given (a sink, a store of its own keys, a logger), and the factory each platform's adapter folder exports.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config, Env } from '../../config/schema.js';
import type { Action, ActionResult, DistributiveOmit } from './actions.js';
import type { ChatEventInput } from './events.js';
import type { Platform } from './ids.js';
import type { SandboxPlatform } from './sandbox.js';

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

/**
 * The adapter's own keys in Redis: cursors, admin caches, send progress. Every key it names is under
 * `{townhall}:adapter:<platform>:` (an ioredis `keyPrefix`; the hash tag keeps a Redis Cluster in one slot), so an
 * adapter cannot read or write the core's state or another adapter's; the commands that walk the whole keyspace
 * (KEYS, SCAN, FLUSH…) are not offered.
 */
export type AdapterStore = Pick<
  Redis,
  | 'get' | 'set' | 'del' | 'exists' | 'expire' | 'pexpire' | 'pttl' | 'ttl' | 'incr' | 'incrby'
  | 'hget' | 'hset' | 'hgetall' | 'hdel' | 'hmget' | 'hincrby' | 'hexists' | 'hlen'
  | 'sadd' | 'srem' | 'smembers' | 'sismember' | 'scard'
  | 'lpush' | 'rpush' | 'lrange' | 'ltrim' | 'lrem' | 'llen'
  | 'zadd' | 'zrem' | 'zrange' | 'zscore' | 'zcard'
  | 'multi' | 'pipeline' | 'eval'
>;

/** What the outbound runner lets an adapter tell it. */
export interface OutboundControl {
  /** The bot may send to `chat` again (it was added back after a 403 stopped sending there). */
  resumeChat(chat: string): Promise<void>;
}

/** What every adapter gets from the process that runs it. */
export interface AdapterDeps {
  /** Where received events go. */
  sink: InboundSink;
  /** The adapter's own keys (never the whole Redis). */
  store: AdapterStore;
  /** The outbound runner's side of sending: the adapter never touches the runner's keys. */
  outbound: OutboundControl;
  log: Logger;
}

/** An action as the outbound runner hands it to an adapter: `inRef` already resolved into `chat`. */
export type PlatformAction = DistributiveOmit<Action, 'inRef'>;

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
  /** Performs one action. Throws PlatformError (with its scope: wait, fail the action, or stop sending to the chat). */
  perform(action: PlatformAction): Promise<ActionResult>;
  /** Stops receiving and closes connections; in-flight publishes finish first. */
  stop(): Promise<void>;
  /** Current health. */
  status(): AdapterStatus;
}

/** The event id helper adapters use: stable across redelivery, no ':' (BullMQ job ids refuse it). */
export function makeEventId(platform: Platform, kind: string, ...parts: (string | number)[]): string {
  return [platform, kind, ...parts].map((p) => String(p).replaceAll('/', '%2F')).join('/');
}

/** The settings an adapter is created from: the validated config file and the environment (secrets). */
export interface AdapterSettings {
  config: Config;
  env: Env;
}

/** How a process creates one platform's adapter: each adapter folder's index exports one of these. */
export interface AdapterFactory {
  readonly platform: Platform;
  /** The adapter when the environment holds its credentials (contract §4), else null: platforms without credentials stay off. */
  create(settings: AdapterSettings, deps: AdapterDeps): PlatformAdapter | null;
  /** The adapter pointed at a running fake of its platform (`townhall sandbox`). */
  forSandbox(fake: SandboxPlatform, deps: AdapterDeps): PlatformAdapter;
}

/** Every registered platform's adapter factory, loaded only when a process starts that platform. */
export type AdapterRegistry = { readonly [P in Platform]: () => Promise<AdapterFactory> };
