/** The Discord adapter: discord.js's gateway client in, its REST manager out, Townhall's border types on both sides. */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Client,
  Events,
  GatewayIntentBits,
  Options,
  Routes,
  Status,
  type Channel,
  type GatewayDispatchPayload,
  type RateLimitData,
} from 'discord.js';
import { type ActionResult, type AdapterDeps, type AdapterStatus, type OutboundLimits, type PlatformAction, type PlatformAdapter, PlatformError } from '../../src/core/index.js';
import { CursorStore } from '../kit/index.js';
import { TOWNHALL_COMMANDS, commandsHash } from './commands.js';
import { isGoneOrForbidden, refused, toPlatformError } from './errors.js';
import { CURSOR_KEY, channelsToCatchUp, cursorValues, readMissed, type CatchUpChannel, type CatchUpLimits, type RestMessage } from './catch-up.js';
import { InboundPipeline } from './inbound.js';
import { Lru } from './lru.js';
import { THREAD_TYPES, normalizeDispatch, type ChannelInfo, type KnownUser, type NormalizeContext, type Normalized, type PendingInteraction } from './normalize.js';
import { performAction } from './outbound.js';
import { computeChannelPermissions, isModerator, type Overwrite } from './permissions.js';

/** How the adapter is set up; secrets are passed in by the caller, never read from the environment here. */
export interface DiscordAdapterOptions {
  /** The bot token (DISCORD_BOT_TOKEN). */
  token: string;
  /** The application id (DISCORD_APPLICATION_ID); learned from READY when absent. */
  applicationId?: string;
  /** REST API root (discord.js `rest.api`), e.g. a fake's `http://127.0.0.1:PORT/api`; Discord's when absent. */
  apiBaseUrl?: string;
  /** Role ids or names whose members are moderators, besides those with ban/moderate/manage-messages rights. */
  moderatorRoles?: readonly string[];
  /** Register Townhall's slash commands on startInbound: globally, per guild (instant), or not at all. */
  registerCommands?: 'global' | 'guilds' | 'off';
  /** Slash commands whose answer only the asker sees. */
  ephemeralCommands?: readonly string[];
  /** Send budgets the outbound runner enforces (Discord allows about 5 messages per 5 s per channel). */
  limits?: OutboundLimits;
  /** Rate limits up to this long are waited out inside discord.js; longer ones become RateLimitedError for the queue. */
  inlineRateLimitWaitMs?: number;
  /** REST request timeout. */
  restTimeoutMs?: number;
  /** Retries discord.js makes on 5xx and network errors before the runner's own retries. */
  restRetries?: number;
  /** An interaction is acknowledged at the latest this long after it arrives, even when Redis is slow (Discord allows 3 s). */
  deferDeadlineMs?: number;
  /** Wait between attempts when publishing to the inbound queue fails. */
  publishRetryMs?: number;
  /** Most events published in one batch. */
  publishBatchMax?: number;
  /** Least time between two IDENTIFYs (Discord: 5 s per bucket). */
  identifyIntervalMs?: number;
  /** How long a published event id is remembered to drop redeliveries. */
  dedupeTtlMs?: number;
  /** How long stop() waits for queued events to be published. */
  stopTimeoutMs?: number;
  /** How long startInbound() waits for the gateway to be ready. */
  readyTimeoutMs?: number;
  /** After a new gateway session, channels with a message published within this long are read for what was missed. */
  catchUpMaxAgeMs?: number;
  /** Pages of 100 messages read per channel when catching up. */
  catchUpMaxPages?: number;
}

/** Reads of one channel during a catch-up before it is left for the next session (rate limits and failures are waited out between them). */
const CATCH_UP_ATTEMPTS = 5;

/** Defaults for every tunable option. */
export const DISCORD_DEFAULTS = {
  registerCommands: 'global',
  ephemeralCommands: ['catchup', 'dashboard', 'claim', 'hidden'],
  moderatorRoles: [],
  limits: {
    perChat: [{ points: 5, durationMs: 5_000 }],
    perPrivateChat: [{ points: 5, durationMs: 5_000 }],
    global: [{ points: 45, durationMs: 1_000 }],
  },
  inlineRateLimitWaitMs: 250,
  restTimeoutMs: 15_000,
  restRetries: 2,
  deferDeadlineMs: 2_000,
  publishRetryMs: 500,
  publishBatchMax: 200,
  identifyIntervalMs: 5_000,
  dedupeTtlMs: 24 * 3600 * 1000,
  stopTimeoutMs: 10_000,
  readyTimeoutMs: 30_000,
  catchUpMaxAgeMs: 24 * 3600 * 1000,
  catchUpMaxPages: 10,
} satisfies Required<Omit<DiscordAdapterOptions, 'token' | 'applicationId' | 'apiBaseUrl'>>;

type Tunable = keyof typeof DISCORD_DEFAULTS;
type Resolved = Omit<DiscordAdapterOptions, Tunable> & Required<Pick<DiscordAdapterOptions, Tunable>>;

/** The intents Townhall needs: guilds, messages and their content, reactions, members, DMs. */
export const DISCORD_INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMembers,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.GuildMessageReactions,
  GatewayIntentBits.MessageContent,
  GatewayIntentBits.DirectMessages,
  GatewayIntentBits.DirectMessageReactions,
];

/** Close codes after which the gateway will not reconnect, with what the operator must do. */
const FATAL_CLOSE: Record<number, string> = {
  4004: 'Discord rejected the bot token: check DISCORD_BOT_TOKEN',
  4010: 'invalid shard configuration',
  4011: 'the bot is in too many servers for one shard',
  4012: 'invalid gateway API version',
  4013: 'invalid gateway intents',
  4014: 'privileged intents not enabled: turn on Message Content and Server Members in the Discord developer portal',
};

/** Counters for status(): what came in and what was skipped, by reason. */
interface Counters {
  dispatches: number;
  skipped: Record<string, number>;
  unknown: Record<string, number>;
  malformed: number;
  acknowledged: number;
  ackFailures: number;
  /** Messages read back through REST after a new session (published or found already published). */
  caughtUp: number;
}

/** Waits for a promise at most `ms`; true when it settled in time. The timer never outlives the wait. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The adapter. Construct with createDiscordAdapter. */
export class DiscordAdapter implements PlatformAdapter {
  readonly platform = 'discord' as const;
  readonly limits: OutboundLimits;
  private readonly o: Resolved;
  private client: Client | null = null;
  private pipeline: InboundPipeline | null = null;
  private botUserId: string | null = null;
  private botUsername = 'townhall_bot';
  private applicationId: string | null;
  private inbound = false;
  private stopping = false;
  private readonly problems = new Map<string, string>();
  private readonly forbidden = new Lru<string, true>(50);
  private readonly channels = new Lru<string, ChannelInfo>(10_000);
  private readonly fetching = new Map<string, Promise<ChannelInfo | null>>();
  private readonly ephemeral: ReadonlySet<string>;
  private readonly deferTimers = new Set<NodeJS.Timeout>();
  /** Aborted by stop(): ends a catch-up's wait for a rate limit at once. */
  private readonly stopped = new AbortController();
  private readonly counters: Counters = { dispatches: 0, skipped: {}, unknown: {}, malformed: 0, acknowledged: 0, ackFailures: 0, caughtUp: 0 };
  /** Per channel, the newest message published (catch-up reads from there after a new gateway session). */
  private readonly cursors: CursorStore;
  private rateLimited = 0;
  /** Gateway session per shard, from READY: reaction ids use it so a RESUME replay keeps their ids. */
  private readonly sessions = new Map<number, string>();

  constructor(
    options: DiscordAdapterOptions,
    private readonly deps: AdapterDeps,
  ) {
    if (!options.token || typeof options.token !== 'string') {
      throw new Error('Discord bot token is required. Set DISCORD_BOT_TOKEN or provide it in the adapter options.');
    }
    this.cursors = new CursorStore(deps.store, CURSOR_KEY);
    const d = DISCORD_DEFAULTS;
    this.o = {
      ...options,
      registerCommands: options.registerCommands ?? d.registerCommands,
      ephemeralCommands: options.ephemeralCommands ?? d.ephemeralCommands,
      moderatorRoles: options.moderatorRoles ?? d.moderatorRoles,
      limits: options.limits ?? d.limits,
      inlineRateLimitWaitMs: options.inlineRateLimitWaitMs ?? d.inlineRateLimitWaitMs,
      restTimeoutMs: options.restTimeoutMs ?? d.restTimeoutMs,
      restRetries: options.restRetries ?? d.restRetries,
      deferDeadlineMs: options.deferDeadlineMs ?? d.deferDeadlineMs,
      publishRetryMs: options.publishRetryMs ?? d.publishRetryMs,
      publishBatchMax: options.publishBatchMax ?? d.publishBatchMax,
      identifyIntervalMs: options.identifyIntervalMs ?? d.identifyIntervalMs,
      dedupeTtlMs: options.dedupeTtlMs ?? d.dedupeTtlMs,
      stopTimeoutMs: options.stopTimeoutMs ?? d.stopTimeoutMs,
      readyTimeoutMs: options.readyTimeoutMs ?? d.readyTimeoutMs,
      catchUpMaxAgeMs: options.catchUpMaxAgeMs ?? d.catchUpMaxAgeMs,
      catchUpMaxPages: options.catchUpMaxPages ?? d.catchUpMaxPages,
    };
    this.limits = this.o.limits;
    this.applicationId = options.applicationId ?? null;
    this.ephemeral = new Set(this.o.ephemeralCommands);
  }

  /** Creates the discord.js client and checks the token with `GET /users/@me`. */
  async init(): Promise<void> {
    if (this.client) return;
    const interval = this.o.identifyIntervalMs;
    let lastIdentify = 0;
    const client = new Client({
      intents: DISCORD_INTENTS,
      rest: {
        ...(this.o.apiBaseUrl ? { api: this.o.apiBaseUrl } : {}),
        timeout: this.o.restTimeoutMs,
        retries: this.o.restRetries,
        // Short waits stay inside discord.js's buckets; long ones go back to the queue so a worker is not held.
        rejectOnRateLimit: (d: RateLimitData) => Math.max(d.retryAfter, d.timeToReset) > this.o.inlineRateLimitWaitMs,
      },
      ws: {
        buildIdentifyThrottler: () => ({
          async waitForIdentify(_shard: number, signal: AbortSignal) {
            const wait = lastIdentify + interval - Date.now();
            if (wait > 0) await sleep(wait, undefined, { signal });
            lastIdentify = Date.now();
          },
        }),
      },
      // Townhall keeps its own state in Redis; discord.js only needs guilds, channels, roles and recent messages.
      makeCache: Options.cacheWithLimits({
        ...Options.DefaultMakeCacheSettings,
        MessageManager: 100,
        PresenceManager: 0,
        ReactionManager: 0,
        GuildEmojiManager: 0,
        GuildStickerManager: 0,
        VoiceStateManager: 0,
      }),
      allowedMentions: { parse: [] },
      failIfNotExists: false,
    });
    client.rest.setToken(this.o.token);
    client.rest.on('rateLimited', () => {
      this.rateLimited++;
    });
    try {
      const me = (await client.rest.get(Routes.user('@me'))) as { id: string; username: string };
      this.botUserId = me.id;
      this.botUsername = me.username;
    } catch (err) {
      const e = toPlatformError(err, 'token check');
      await client.destroy().catch(() => undefined);
      throw new Error(`Discord: could not check the bot token (${e.message})`, { cause: err });
    }
    this.client = client;
  }

  private requireClient(): Client {
    if (!this.client) throw new Error('discord adapter: init() first');
    return this.client;
  }

  /** Connects to the gateway; events flow into the sink from here on. Registers slash commands. */
  async startInbound(): Promise<void> {
    const client = this.requireClient();
    if (this.inbound) return;
    this.inbound = true;
    this.pipeline = new InboundPipeline({
      sink: this.deps.sink,
      store: this.deps.store,
      log: this.deps.log,
      batchMax: this.o.publishBatchMax,
      publishRetryMs: this.o.publishRetryMs,
      dedupeTtlMs: this.o.dedupeTtlMs,
      afterPublish: (published, tx) => this.cursors.advanceOn(tx, cursorValues(published)),
    });
    client.on(Events.Raw, (packet: GatewayDispatchPayload, shardId: number) => this.onRaw(packet, shardId));
    this.guardPacketHandlers(client);
    client.on(Events.Error, (err) => this.deps.log.error({ platform: 'discord', err: err.message }, 'discord client error'));
    client.on(Events.ShardError, (err) => this.deps.log.warn({ platform: 'discord', err: err.message }, 'discord gateway connection error'));
    client.on(Events.ShardDisconnect, (ev: { code: number }) => {
      const why = FATAL_CLOSE[ev.code] ?? `gateway closed with ${ev.code}`;
      this.problems.set('gateway', why);
      this.deps.log.error({ platform: 'discord', code: ev.code }, `discord gateway gave up: ${why}`);
    });
    client.on(Events.ShardResume, () => this.problems.delete('gateway'));
    client.on(Events.ShardReady, (shardId: number) => {
      this.problems.delete('gateway');
      // A new session (first start, restart, or IDENTIFY after an invalid session): Discord replays nothing to it.
      void this.catchUp(shardId);
    });

    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(this.o.token);
    if (!(await within(ready, this.o.readyTimeoutMs))) throw new Error(`discord gateway not ready within ${this.o.readyTimeoutMs} ms`);
    this.applicationId ??= client.application?.id ?? null;
    await this.registerCommands().catch((err: unknown) => {
      const msg = toPlatformError(err, 'command registration').message;
      this.problems.set('commands', `slash commands not registered: ${msg}`);
      this.deps.log.warn({ platform: 'discord', err: msg }, 'slash command registration failed');
    });
  }

  /**
   * discord.js's cache handlers throw on malformed dispatches (a null `d`, an interaction without `data`), and the
   * throw surfaces as an unhandled rejection that would end the process. Townhall has already taken what it needs
   * from the `raw` event by then, so a failing cache update is logged and skipped.
   */
  private guardPacketHandlers(client: Client): void {
    const ws = client.ws as unknown as { handlePacket?: (packet: unknown, shard: unknown) => boolean };
    const original = ws.handlePacket?.bind(client.ws);
    if (!original) return;
    ws.handlePacket = (packet, shard) => {
      try {
        return original(packet, shard);
      } catch (err) {
        this.counters.malformed++;
        this.deps.log.warn({ platform: 'discord', type: String((packet as { t?: unknown } | null)?.t).slice(0, 64), err: err instanceof Error ? err.message : String(err) }, 'discord.js could not apply a dispatch; skipped');
        return true;
      }
    };
  }

  /** Registers Townhall's commands, skipping the call when the same definitions were registered before. */
  private async registerCommands(): Promise<void> {
    const client = this.requireClient();
    if (this.o.registerCommands === 'off') return;
    const appId = this.applicationId ?? ((await client.rest.get(Routes.oauth2CurrentApplication())) as { id: string }).id;
    this.applicationId = appId;
    const hash = commandsHash();
    const targets = this.o.registerCommands === 'global' ? ['global'] : [...client.guilds.cache.keys()];
    for (const target of targets) {
      const key = `commands:${appId}:${target}`;
      if ((await this.deps.store.get(key)) === hash) continue;
      const route = target === 'global' ? Routes.applicationCommands(appId) : Routes.applicationGuildCommands(appId, target);
      await client.rest.put(route, { body: TOWNHALL_COMMANDS });
      await this.deps.store.set(key, hash);
    }
    this.problems.delete('commands');
  }

  // ---- inbound --------------------------------------------------------------------------------------------

  private onRaw(packet: GatewayDispatchPayload, shardId: number): void {
    if (this.stopping || !this.pipeline) return;
    try {
      const p = packet as { op?: unknown; t?: unknown; s?: unknown; d?: unknown };
      if (p.op !== 0 || typeof p.t !== 'string') return;
      this.counters.dispatches++;
      if (p.t === 'READY') {
        const sid = (p.d as { session_id?: unknown } | null)?.session_id;
        if (typeof sid === 'string') this.sessions.set(shardId, sid.slice(0, 64));
      }
      this.learnChannels(p.t, p.d);
      const ctx = this.context(shardId);
      const seq = typeof p.s === 'number' ? p.s : null;
      const t = p.t;
      const n = normalizeDispatch(t, p.d, seq, ctx);
      const ack = n.interaction ? this.scheduleAck(n.interaction) : undefined;
      if (n.needsChannel) {
        const channelId = n.needsChannel;
        this.pipeline.pushLater(
          this.channelInfo(channelId)
            .catch(() => null)
            .then((info) => {
              // Unknown even to the API, or the lookup failed: report the event under the channel id itself
              // rather than lose it (a thread message then lacks its parent in the chat id).
              if (!info) this.channels.set(channelId, { id: channelId, type: 0, guildId: null, parentId: null });
              return this.count(t, normalizeDispatch(t, p.d, seq, ctx)).events;
            }),
          ack,
        );
        return;
      }
      this.count(t, n);
      if (n.events.length || ack) this.pipeline.push(n.events, ack);
    } catch (err) {
      // Hostile input must never take the adapter down: count it, say so once per kind, move on.
      this.counters.malformed++;
      if (this.counters.malformed === 1 || this.counters.malformed % 100 === 0) {
        this.deps.log.warn({ platform: 'discord', err: err instanceof Error ? err.message : String(err) }, 'malformed gateway dispatch skipped');
      }
    }
  }

  /** Reads what each recently active channel got while no session was listening, and publishes it (catch-up.ts). */
  private async catchUp(shardId: number): Promise<void> {
    const limits: CatchUpLimits = { maxAgeMs: this.o.catchUpMaxAgeMs, maxPages: this.o.catchUpMaxPages };
    let channels: CatchUpChannel[];
    try {
      const known = [...(this.client?.channels.cache.values() ?? [])].map((c) => ({ id: c.id, type: c.type, guildId: 'guildId' in c ? (c.guildId ?? null) : null }));
      channels = await channelsToCatchUp(this.cursors, limits, known);
    } catch (err) {
      this.deps.log.warn({ platform: 'discord', err: err instanceof Error ? err.message : String(err) }, 'catch-up skipped: could not read the cursors');
      return;
    }
    let total = 0;
    for (const ch of channels) {
      // A rate limit or a passing failure is waited out and the channel read again (what was already published is
      // dropped by its seen mark): a channel skipped here would stay unread until the next new session.
      for (let attempt = 0; ; attempt++) {
        if (this.stopping || !this.pipeline || !this.client) return;
        try {
          total += await this.catchUpChannel(ch, shardId, limits);
          break;
        } catch (err) {
          const e = toPlatformError(err, 'catch-up');
          if (isGoneOrForbidden(e)) {
            await this.forgetChannel(ch.channelId);
            break;
          }
          if (attempt >= CATCH_UP_ATTEMPTS - 1) {
            this.deps.log.warn({ platform: 'discord', channel: ch.channelId, err: e.message }, 'catch-up of a channel failed; its cursor stays for the next session');
            break;
          }
          const waited = await sleep(e instanceof PlatformError && e.retryAfterMs !== undefined ? Math.min(e.retryAfterMs, 60_000) : 1000 * 2 ** attempt, true, { signal: this.stopped.signal }).catch(() => false);
          if (!waited) return; // stopping
        }
      }
    }
    if (total) this.deps.log.info({ platform: 'discord', channels: channels.length, messages: total }, 'read back messages sent while no gateway session was listening');
  }

  /** A channel deleted or no longer readable by the bot: nothing to read back, and nothing to track. */
  private async forgetChannel(channelId: string): Promise<void> {
    await this.cursors.forget([channelId]).catch(() => undefined);
    this.deps.log.info({ platform: 'discord', channel: channelId }, 'catch-up: channel gone or not readable; no longer tracked');
  }

  /** Reads one channel's missed messages and queues them; returns how many were read. */
  private async catchUpChannel(ch: CatchUpChannel, shardId: number, limits: CatchUpLimits): Promise<number> {
    // Channel facts first: normalizing needs them (thread parent, permissions), and REST messages carry no guild.
    const info = await this.channelInfo(ch.channelId).catch(() => undefined);
    if (info === null) {
      await this.forgetChannel(ch.channelId);
      return 0;
    }
    if (!info) this.channels.set(ch.channelId, { id: ch.channelId, type: 0, guildId: ch.guildId, parentId: null });
    const rest = this.requireClient().rest;
    return readMissed(
      ch,
      limits,
      async (after) => (await rest.get(Routes.channelMessages(ch.channelId), { query: new URLSearchParams({ after, limit: '100' }) })) as RestMessage[],
      (page) => {
        const ctx = this.context(shardId);
        const events = page.flatMap((m) => this.count('MESSAGE_CREATE', normalizeDispatch('MESSAGE_CREATE', { ...m, ...(ch.guildId ? { guild_id: ch.guildId } : {}) }, null, ctx)).events);
        this.counters.caughtUp += page.length;
        if (events.length) this.pipeline?.push(events);
      },
    );
  }

  private count(t: string, n: Normalized): Normalized {
    if (!n.skipped) return n;
    if (n.skipped.startsWith('unknown:')) {
      const first = !this.counters.unknown[t];
      this.counters.unknown[t] = (this.counters.unknown[t] ?? 0) + 1;
      if (first) this.deps.log.info({ platform: 'discord', type: t.slice(0, 64) }, 'unknown gateway dispatch type skipped');
    } else if (n.skipped === 'malformed') {
      this.counters.malformed++;
      if (this.counters.malformed === 1 || this.counters.malformed % 100 === 0) this.deps.log.warn({ platform: 'discord', type: t.slice(0, 64) }, 'malformed gateway dispatch skipped');
    } else if (n.skipped !== 'state') {
      this.counters.skipped[n.skipped] = (this.counters.skipped[n.skipped] ?? 0) + 1;
    }
    return n;
  }

  /** Acknowledges an interaction after its event is queued, or at the deadline, whichever comes first. */
  private scheduleAck(p: PendingInteraction): () => void {
    let done = false;
    const fire = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.deferTimers.delete(timer);
      void this.acknowledge(p);
    };
    const timer = setTimeout(fire, this.o.deferDeadlineMs);
    this.deferTimers.add(timer);
    return fire;
  }

  private async acknowledge(p: PendingInteraction): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      await client.rest.post(Routes.interactionCallback(p.id, p.token), {
        body: { type: p.callbackType, ...(p.ephemeral ? { data: { flags: 64 } } : {}) },
        auth: false,
      });
      this.counters.acknowledged++;
    } catch (err) {
      this.counters.ackFailures++;
      this.deps.log.warn({ platform: 'discord', interaction: p.id, late: Date.now() - p.at, err: toPlatformError(err, 'interaction ack').message }, 'could not acknowledge an interaction');
    }
  }

  /** Keeps channel facts from the gateway, so a thread's parent is known even once discord.js drops it. */
  private learnChannels(t: string, d: unknown): void {
    if (typeof d !== 'object' || d === null) return;
    const put = (c: unknown) => {
      const ch = c as { id?: unknown; type?: unknown; guild_id?: unknown; parent_id?: unknown; name?: unknown };
      if (typeof ch.id !== 'string' || typeof ch.type !== 'number') return;
      const parentType = typeof ch.parent_id === 'string' ? this.channels.get(ch.parent_id)?.type ?? null : null;
      this.channels.set(ch.id, {
        id: ch.id,
        type: ch.type,
        guildId: typeof ch.guild_id === 'string' ? ch.guild_id : null,
        parentId: typeof ch.parent_id === 'string' ? ch.parent_id : null,
        parentType,
        name: typeof ch.name === 'string' ? ch.name : null,
      });
    };
    if (t === 'CHANNEL_CREATE' || t === 'CHANNEL_UPDATE' || t === 'THREAD_CREATE' || t === 'THREAD_UPDATE') put(d);
    else if (t === 'GUILD_CREATE' || t === 'THREAD_LIST_SYNC') {
      const g = d as { id?: unknown; guild_id?: unknown; channels?: unknown; threads?: unknown };
      const guildId = typeof g.id === 'string' && t === 'GUILD_CREATE' ? g.id : typeof g.guild_id === 'string' ? g.guild_id : undefined;
      for (const list of [g.channels, g.threads]) {
        if (Array.isArray(list)) for (const c of list.slice(0, 5000)) put({ guild_id: guildId, ...(c as object) });
      }
    }
  }

  private infoFromCache(id: string): ChannelInfo | undefined {
    const c: Channel | undefined = this.client?.channels.cache.get(id);
    if (c) {
      const parentId = 'parentId' in c ? (c.parentId ?? null) : null;
      const parentType = parentId ? (this.client?.channels.cache.get(parentId)?.type ?? this.channels.get(parentId)?.type ?? null) : null;
      return {
        id,
        type: c.type,
        guildId: 'guildId' in c ? (c.guildId ?? null) : null,
        parentId,
        parentType,
        name: 'name' in c ? (c.name ?? null) : null,
      };
    }
    const own = this.channels.get(id);
    if (own && own.parentId && own.parentType == null) own.parentType = this.channels.get(own.parentId)?.type ?? null;
    return own;
  }

  /** Channel facts from the cache, else from `GET /channels/:id` (once per channel at a time); null when unknown. */
  private channelInfo(id: string): Promise<ChannelInfo | null> {
    const known = this.infoFromCache(id);
    if (known) return Promise.resolve(known);
    let p = this.fetching.get(id);
    if (!p) {
      p = this.fetchChannel(id).finally(() => this.fetching.delete(id));
      this.fetching.set(id, p);
    }
    return p;
  }

  private async fetchChannel(id: string): Promise<ChannelInfo | null> {
    const rest = this.requireClient().rest;
    try {
      const c = (await rest.get(Routes.channel(id))) as { id: string; type: number; guild_id?: string; parent_id?: string | null; name?: string | null };
      let parentType: number | null = null;
      if (c.parent_id && THREAD_TYPES.has(c.type)) {
        const parent = this.infoFromCache(c.parent_id) ?? (await this.fetchChannel(c.parent_id));
        parentType = parent?.type ?? null;
      }
      const info: ChannelInfo = { id: c.id, type: c.type, guildId: c.guild_id ?? null, parentId: c.parent_id ?? null, parentType, name: c.name ?? null };
      this.channels.set(id, info);
      return info;
    } catch (err) {
      const e = toPlatformError(err, 'channel lookup');
      if (isGoneOrForbidden(e)) {
        this.deps.log.info({ platform: 'discord', channel: id, code: e.code }, 'channel unknown or not readable');
        return null;
      }
      this.deps.log.warn({ platform: 'discord', channel: id, err: e.message }, 'channel lookup failed');
      throw e;
    }
  }

  private moderatorRoleIds(guildId: string): Set<string> {
    const wanted = this.o.moderatorRoles;
    const ids = new Set<string>();
    if (!wanted.length) return ids;
    const roles = this.client?.guilds.cache.get(guildId)?.roles.cache;
    const names = new Set(wanted.map((r) => r.toLowerCase()));
    for (const r of wanted) ids.add(r);
    if (roles) for (const role of roles.values()) if (names.has(role.name.toLowerCase())) ids.add(role.id);
    return ids;
  }

  private isAdmin(guildId: string, channel: ChannelInfo | undefined, userId: string, roles: readonly string[] | undefined, timedOutUntil?: number | null): boolean {
    const guild = this.client?.guilds.cache.get(guildId);
    if (!guild) return false;
    let memberRoles = roles;
    let timeout = timedOutUntil ?? null;
    if (!memberRoles) {
      const m = guild.members.cache.get(userId);
      if (!m) return userId === guild.ownerId;
      memberRoles = [...m.roles.cache.keys()].filter((r) => r !== guildId);
      timeout = m.communicationDisabledUntilTimestamp;
    }
    // Threads take their permissions from the parent channel.
    const baseId = channel && THREAD_TYPES.has(channel.type) && channel.parentId ? channel.parentId : channel?.id;
    const base = baseId ? this.client?.channels.cache.get(baseId) : undefined;
    const overwrites: Overwrite[] =
      base && 'permissionOverwrites' in base
        ? [...base.permissionOverwrites.cache.values()].map((o) => ({ id: o.id, type: o.type, allow: o.allow.bitfield, deny: o.deny.bitfield }))
        : [];
    const rolePermissions = new Map([...guild.roles.cache.values()].map((r) => [r.id, r.permissions.bitfield] as const));
    const perms = computeChannelPermissions({ guildId, ownerId: guild.ownerId, rolePermissions, overwrites, userId, memberRoles, timedOutUntil: timeout });
    return isModerator(perms, memberRoles, this.moderatorRoleIds(guildId));
  }

  private context(shardId: number): NormalizeContext {
    const client = this.client!;
    return {
      botUserId: this.botUserId,
      botUsername: this.botUsername,
      sessionId: this.sessions.get(shardId) ?? `shard${shardId}`,
      ephemeralCommands: this.ephemeral,
      channel: (id) => this.infoFromCache(id),
      isAdmin: (g, ch, u, roles, until) => this.isAdmin(g, ch, u, roles, until),
      cachedAuthor: (channelId, messageId): KnownUser | undefined => {
        const ch = client.channels.cache.get(channelId);
        const msg = ch && 'messages' in ch ? ch.messages.cache.get(messageId) : undefined;
        if (!msg) return undefined;
        return { id: msg.author.id, name: msg.member?.nickname ?? msg.author.globalName ?? msg.author.username, username: msg.author.username, bot: msg.author.bot };
      },
      cachedUser: (guildId, userId): KnownUser | undefined => {
        const m = guildId ? client.guilds.cache.get(guildId)?.members.cache.get(userId) : undefined;
        const u = m?.user ?? client.users.cache.get(userId);
        if (!u) return undefined;
        return { id: u.id, name: m?.nickname ?? u.globalName ?? u.username, username: u.username, bot: u.bot };
      },
      systemChannel: (guildId) => client.guilds.cache.get(guildId)?.systemChannelId ?? undefined,
      now: () => Date.now(),
    };
  }

  // ---- outbound -------------------------------------------------------------------------------------------

  /** Performs one action through discord.js's REST manager. */
  async perform(action: PlatformAction): Promise<ActionResult> {
    const client = this.requireClient();
    return performAction(action, {
      rest: client.rest,
      store: this.deps.store,
      log: this.deps.log,
      channel: async (id) => {
        const info = await this.channelInfo(id);
        if (!info) throw refused('GET /channels/:id', `unknown channel ${id}`, 'per-chat');
        return info;
      },
      noteForbidden: (chat) => this.forbidden.set(chat, true),
    });
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------

  /** Publishes what is queued (up to stopTimeoutMs), then closes the gateway and REST client. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopped.abort();
    if (this.pipeline) {
      const drained = await this.pipeline.flush(this.o.stopTimeoutMs);
      if (!drained) this.deps.log.error({ platform: 'discord', waiting: this.pipeline.pending }, 'stopped with inbound events not yet published');
      this.pipeline.close();
    }
    for (const t of this.deferTimers) clearTimeout(t);
    this.deferTimers.clear();
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners();
      // discord.js can wait forever on a socket that is half-way through a handshake; do not hang shutdown on it.
      await within(client.destroy().catch(() => undefined), 3000);
    }
  }

  /** Gateway health, problems an operator must fix, and counters. */
  status(): AdapterStatus {
    const client = this.client;
    const shards = client ? [...client.ws.shards.values()] : [];
    const connected = !!client && (!this.inbound || (shards.length > 0 && shards.every((s) => s.status === Status.Ready)));
    const problems = [...this.problems.values()];
    const stats = this.pipeline?.stats;
    if (stats?.lastError) problems.push(`inbound events waiting for Redis (${stats.waiting}): ${stats.lastError}`);
    if (this.forbidden.size) problems.push(`missing permissions in ${this.forbidden.size} chat(s): the bot got 403 there`);
    return {
      connected,
      problems,
      details: {
        ping: client?.ws.ping ?? null,
        guilds: client?.guilds.cache.size ?? 0,
        dispatches: this.counters.dispatches,
        unknownDispatches: { ...this.counters.unknown },
        skipped: { ...this.counters.skipped },
        malformed: this.counters.malformed,
        interactionsAcknowledged: this.counters.acknowledged,
        interactionAckFailures: this.counters.ackFailures,
        restRateLimited: this.rateLimited,
        caughtUp: this.counters.caughtUp,
        ...(stats ? { published: stats.published, duplicates: stats.duplicates, rejected: stats.rejected, waiting: stats.waiting } : {}),
      },
    };
  }
}
