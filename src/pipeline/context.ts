/** What every pipeline step sees: the event, the shared dependencies, and the actions and writes it collects. */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { ActionInput, DistributiveOmit, PriorityClass } from '../core/actions.js';
import type { ChatEvent } from '../core/events.js';
import { baseChat, parseUserKey } from '../core/ids.js';
import type { OutboundQueue } from '../queue/outbound.js';
import type { Keys } from '../redis/keys.js';
import type { ParsedCommand } from '../commands/parser.js';
import { mgetCoalesced } from '../redis/scripts.js';
import { WriteBatch } from './writes.js';

/** Counters the core reports to /metrics; all optional so tests can leave them out. */
export interface CoreMetrics {
  handled?(kind: string): void;
  handlerError?(step: string): void;
  latency?(seconds: number): void;
  deferred?(what: string): void;
}

/** Shared dependencies of the core. */
export interface CoreDeps {
  redis: Redis;
  keys: Keys;
  config: Config;
  outbound: OutboundQueue;
  log: Logger;
  /** The time source (tests pass a controllable clock). */
  now: () => number;
  metrics?: CoreMetrics;
}

/** The per-event context. */
export class EventContext {
  /** Outbound actions, enqueued together after the handlers ran. */
  readonly actions: ActionInput[] = [];
  /** State writes, executed atomically after the actions are enqueued (queue commands on it as on a MULTI). */
  readonly writes: ChainableCommander;
  /** What `writes` records, committed by the pipeline in one round trip. */
  readonly batch: WriteBatch;
  /** Set by the command router. */
  command?: ParsedCommand;
  /** True once a step decided that later steps must not see this event (a removed spam message). */
  stopped = false;
  /** Whether the sender may use moderator commands (resolved lazily by the router). */
  moderator?: boolean;
  /** Run once the event's state is committed (not when it was a duplicate or failed): notifications, never state. */
  readonly committed: (() => void)[] = [];
  /** Values read in the pipeline's first round trip for the features' `prefetch` keys (see `mget`). */
  readonly prefetched = new Map<string, string | null>();
  private seq = 0;
  private groupKey: string | undefined;
  private readonly memos = new Map<string, unknown>();

  constructor(
    readonly event: ChatEvent,
    readonly deps: CoreDeps,
  ) {
    this.batch = new WriteBatch(deps.redis);
    this.writes = this.batch.tx;
  }

  /** The group the event's chat belongs to (topic/thread stripped); every step asks, so it is worked out once. */
  get group(): string {
    return (this.groupKey ??= baseChat(this.event.chat));
  }

  /** A deterministic action id: the same event handled twice yields the same ids, so nothing is posted twice. */
  actionId(tag: string): string {
    return `${this.event.id}#${tag}${this.seq++}`;
  }

  /** Runs `fn` after the event's state is committed (for notices that must not go out before the state they announce). */
  afterCommit(fn: () => void): void {
    this.committed.push(fn);
  }

  /** Reads string keys: from what the pipeline prefetched when it has them all, else in one MGET. */
  async mget(keys: string[]): Promise<(string | null)[]> {
    if (keys.every((k) => this.prefetched.has(k))) return keys.map((k) => this.prefetched.get(k) ?? null);
    return mgetCoalesced(this.deps.redis, keys);
  }

  /** Computes a value about this event once, however many steps ask (e.g. whether its text is a question). */
  memo<T>(key: string, compute: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, compute());
    return this.memos.get(key) as T;
  }

  /** Queues an action. */
  act(action: DistributiveOmit<ActionInput, 'v' | 'id'> & { id?: string }): void {
    this.actions.push({ v: 1, id: action.id ?? this.actionId(action.type), ...action } as ActionInput);
  }

  /** Answers the sender in one line: in place for interactions, privately when `private`, else as a reply. */
  reply(text: string, opts: { private?: boolean; priority?: PriorityClass; format?: 'plain' | 'markdown' } = {}): void {
    const e = this.event;
    const priority = opts.priority ?? 'command';
    const format = opts.format ?? 'plain';
    if (e.replyHandle) {
      this.act({ type: 'answer', platform: e.platform, chat: e.chat, text, replyHandle: e.replyHandle, priority, format });
    } else if (opts.private && e.chatType !== 'private') {
      this.act({ type: 'dm', platform: e.platform, chat: e.chat, user: e.user.id, text, priority, format });
    } else {
      this.act({ type: 'send', platform: e.platform, chat: e.chat, text, priority, format, ...(e.messageId ? { replyTo: e.messageId } : {}) });
    }
  }

  /** The sender's native user id. */
  get nativeUserId(): string {
    return parseUserKey(this.event.user.id).userId;
  }
}
