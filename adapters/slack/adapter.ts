/**
 * The Slack adapter: the Web API (WebClient) out, Socket Mode (SocketModeClient) or the Events API over HTTP in,
 * Townhall's border types on both sides. Not Bolt's App: it acknowledges an event before its listeners run, and
 * Townhall acknowledges only once Redis has the event.
 */
import { SocketModeClient } from '@slack/socket-mode';
import { type ActionResult, type AdapterDeps, type AdapterStatus, type ChatEventInput, type OutboundLimits, type PlatformAction, type PlatformAdapter, PlatformError } from '../../src/core/index.js';
import { CursorStore, sleep, type Backoff } from '../kit/index.js';
import { SlackApi, slackLogger } from './api.js';
import { CURSOR_KEY, cursorValues, readMissed, sourcesToCatchUp, type CatchUpLimits, type CatchUpSource, type FetchPage, type HistoryMessage } from './catch-up.js';
import { slackCode } from './errors.js';
import { EventsHttpReceiver, type DeliveryType } from './http.js';
import { slackChat } from './ids.js';
import { Intake } from './inbound.js';
import { normalizeBlockActions, normalizeEvent, normalizeSlashCommand, type SlackBlockActions, type SlackEventCallback, type SlackSlashCommand } from './normalize.js';
import { performAction, type AnswersPlace } from './outbound.js';
import { People } from './people.js';
import { MethodBudgets, TIER_PER_MINUTE } from './tiers.js';

/** How the adapter is set up; secrets are passed in by the caller, never read from the environment here. */
export interface SlackAdapterOptions {
  /** The bot token (SLACK_BOT_TOKEN, `xoxb-`). */
  botToken: string;
  /** The app-level token for Socket Mode (SLACK_APP_TOKEN, `xapp-`, connections:write). */
  appToken?: string | undefined;
  /** A workspace admin's user token (SLACK_USER_TOKEN, `xoxp-`): deleting other people's messages. */
  adminToken?: string | undefined;
  /** Receive through the Events API over HTTP instead of Socket Mode (SLACK_SIGNING_SECRET and a public Request URL). */
  events?: { signingSecret: string; port: number; host?: string; path: string } | undefined;
  /** Web API root (`https://slack.com/api/` when absent; a fake's in the sandbox). */
  apiUrl?: string | undefined;
  /** The AMA answers place: a pinned message kept up to date, a thread in the channel, or a thread in this channel id. */
  answersPlace?: AnswersPlace;
  /** Slash commands whose answer goes to the person's DM (kept) instead of an ephemeral reply. */
  dmCommands?: readonly string[];
  /** Send budgets the outbound runner enforces: chat.postMessage's one message per second per channel. */
  limits?: OutboundLimits;
  /** Calls per minute the adapter allows itself per method tier. */
  tierPerMinute?: Readonly<Record<1 | 2 | 3 | 4, number>>;
  /** Web API request timeout. */
  requestTimeoutMs?: number;
  /** Waits between attempts when publishing to the inbound queue fails. */
  publishRetry?: Backoff;
  /** Most events published in one batch. */
  publishBatchMax?: number;
  /** Over HTTP: answer Slack by then even when the event is not yet in Redis (it then sends it again). */
  ackDeadlineMs?: number;
  /** How long stop() waits for received events to be published. */
  stopTimeoutMs?: number;
  /** After a (re)connection, channels and threads with a message published within this long are read for what was missed. */
  catchUpMaxAgeMs?: number;
  /** Pages of history read per channel or thread when catching up. */
  catchUpMaxPages?: number;
  /** Threads read back per catch-up at most. */
  catchUpMaxThreads?: number;
}

/** Defaults for every tunable option. */
export const SLACK_DEFAULTS = {
  answersPlace: { kind: 'pinned' } as AnswersPlace,
  dmCommands: ['catchup'],
  limits: {
    // chat.postMessage: about one message per second per channel (the runner spaces a chat's sends evenly).
    perChat: [{ points: 60, durationMs: 60_000 }],
    perPrivateChat: [{ points: 60, durationMs: 60_000 }],
    // Every other method has its own budget per workspace (tiers.ts); this caps the whole bot's traffic.
    global: [{ points: 300, durationMs: 60_000 }],
  },
  tierPerMinute: TIER_PER_MINUTE,
  requestTimeoutMs: 15_000,
  publishRetry: { baseMs: 200, maxMs: 5_000 },
  publishBatchMax: 100,
  ackDeadlineMs: 2_500,
  stopTimeoutMs: 10_000,
  catchUpMaxAgeMs: 24 * 3600 * 1000,
  catchUpMaxPages: 10,
  catchUpMaxThreads: 200,
} satisfies Required<Omit<SlackAdapterOptions, 'botToken' | 'appToken' | 'adminToken' | 'events' | 'apiUrl'>>;

type Tunable = keyof typeof SLACK_DEFAULTS;
type Resolved = Omit<SlackAdapterOptions, Tunable> & { [K in Tunable]: NonNullable<SlackAdapterOptions[K]> };

/** Reads of one source during a catch-up before it is left for the next connection. */
const CATCH_UP_ATTEMPTS = 5;

/** The adapter. */
export class SlackAdapter implements PlatformAdapter {
  readonly platform = 'slack' as const;
  readonly limits: OutboundLimits;
  private readonly o: Resolved;
  private api: SlackApi | null = null;
  private people: People | null = null;
  private team = '';
  private botUserId = '';
  private intake: Intake | null = null;
  private socket: SocketModeClient | null = null;
  private http: EventsHttpReceiver | null = null;
  private connected = false;
  private httpPort: number | null = null;
  private inbound = false;
  private stopping = false;
  /** Aborted by stop(): ends waits for Redis, for a method's budget, for a rate limit. */
  private readonly stopped = new AbortController();
  private readonly cursors: CursorStore;
  private readonly problems = new Map<string, string>();
  private catchingUp: Promise<void> | null = null;
  private catchUpAgain = false;
  private readonly counters = { deliveries: 0, skipped: 0, caughtUp: 0, connections: 0 };

  constructor(
    options: SlackAdapterOptions,
    private readonly deps: AdapterDeps,
  ) {
    if (!options.botToken) throw new Error('Slack bot token is required. Set SLACK_BOT_TOKEN or provide it in the adapter options.');
    const d = SLACK_DEFAULTS;
    this.o = {
      ...options,
      answersPlace: options.answersPlace ?? d.answersPlace,
      dmCommands: options.dmCommands ?? d.dmCommands,
      limits: options.limits ?? d.limits,
      tierPerMinute: options.tierPerMinute ?? d.tierPerMinute,
      requestTimeoutMs: options.requestTimeoutMs ?? d.requestTimeoutMs,
      publishRetry: options.publishRetry ?? d.publishRetry,
      publishBatchMax: options.publishBatchMax ?? d.publishBatchMax,
      ackDeadlineMs: options.ackDeadlineMs ?? d.ackDeadlineMs,
      stopTimeoutMs: options.stopTimeoutMs ?? d.stopTimeoutMs,
      catchUpMaxAgeMs: options.catchUpMaxAgeMs ?? d.catchUpMaxAgeMs,
      catchUpMaxPages: options.catchUpMaxPages ?? d.catchUpMaxPages,
      catchUpMaxThreads: options.catchUpMaxThreads ?? d.catchUpMaxThreads,
    };
    this.limits = this.o.limits;
    this.cursors = new CursorStore(deps.store, CURSOR_KEY);
  }

  /** Creates the Web API clients and checks the bot token with auth.test (and the admin's, when there is one). */
  async init(): Promise<void> {
    if (this.api) return;
    const api = new SlackApi({ botToken: this.o.botToken, adminToken: this.o.adminToken, apiUrl: this.o.apiUrl, timeoutMs: this.o.requestTimeoutMs, budgets: new MethodBudgets(this.deps.store, this.o.tierPerMinute), log: this.deps.log });
    const budget = { wait: this.stopped.signal };
    try {
      const me = await api.call<{ team_id?: string; user_id?: string }>('auth.test', {}, { what: 'token check', budget });
      if (!me.team_id || !me.user_id) throw new Error('auth.test named no team or user');
      this.team = me.team_id;
      this.botUserId = me.user_id;
    } catch (err) {
      throw new Error(`Slack: could not check the bot token (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
    if (api.hasAdmin) {
      await api.call('auth.test', {}, { what: 'admin token check', as: 'admin', budget }).catch((err: unknown) => {
        this.problems.set('admin', `SLACK_USER_TOKEN was refused (${err instanceof Error ? err.message : String(err)}): deleting other people's messages will fail`);
      });
    }
    this.api = api;
    this.people = new People(api);
  }

  private requireApi(): SlackApi {
    if (!this.api) throw new Error('slack adapter: init() first');
    return this.api;
  }

  /** Starts receiving: Socket Mode, or the Events API's Request URL; then reads back what was missed. */
  async startInbound(): Promise<void> {
    this.requireApi();
    if (this.inbound) return;
    if (!this.o.appToken && !this.o.events) {
      throw new Error('Slack: nothing to receive with. Set SLACK_APP_TOKEN (Socket Mode), or SLACK_SIGNING_SECRET and slack.requestUrl (the Events API over HTTP).');
    }
    this.inbound = true;
    this.intake = new Intake({
      sink: this.deps.sink,
      log: this.deps.log,
      batchMax: this.o.publishBatchMax,
      retry: this.o.publishRetry,
      signal: this.stopped.signal,
      afterPublish: (published) => this.cursors.advance(cursorValues(published)),
    });
    const deliver = (type: DeliveryType, body: Record<string, unknown>, ack: () => unknown) => this.onDelivery(type, body, ack);
    if (this.o.events) {
      this.http = new EventsHttpReceiver({ port: this.o.events.port, host: this.o.events.host ?? '0.0.0.0', path: this.o.events.path, signingSecret: this.o.events.signingSecret, ackDeadlineMs: this.o.ackDeadlineMs, log: this.deps.log }, deliver);
      this.httpPort = await this.http.listen();
      this.connected = true;
      this.deps.log.info({ platform: 'slack', team: this.team, mode: 'events-api', port: this.httpPort, path: this.o.events.path }, 'slack: receiving on the Request URL');
      void this.catchUp();
      return;
    }
    const socket = new SocketModeClient({ appToken: this.o.appToken!, logger: slackLogger(this.deps.log), autoReconnectEnabled: true, clientOptions: { ...(this.o.apiUrl ? { slackApiUrl: this.o.apiUrl } : {}), timeout: this.o.requestTimeoutMs } });
    socket.on('slack_event', ({ type, body, ack }: { type: string; body: Record<string, unknown>; ack: () => Promise<void> }) => {
      if (type === 'events_api' || type === 'slash_commands' || type === 'interactive') deliver(type, body ?? {}, ack);
      else void ack().catch(() => undefined);
    });
    socket.on('connected', () => {
      if (!this.connected) this.deps.log.info({ platform: 'slack', team: this.team, mode: 'socket-mode' }, 'slack: connected');
      this.connected = true;
      this.counters.connections++;
      this.problems.delete('socket');
      // Every (re)connection: Slack gave up on what it could not deliver meanwhile.
      void this.catchUp();
    });
    socket.on('disconnected', () => {
      this.connected = false;
    });
    socket.on('reconnecting', () => {
      this.connected = false;
    });
    this.socket = socket;
    try {
      await socket.start();
    } catch (err) {
      throw new Error(`Slack: Socket Mode did not connect (${err instanceof Error ? err.message : String(err)}); check SLACK_APP_TOKEN (an xapp- token with connections:write)`, { cause: err });
    }
  }

  /** The port the Events API receiver listens on (the configured one, or the one given for port 0); null without it. */
  get eventsPort(): number | null {
    return this.httpPort;
  }

  /** One delivery from Slack: normalized (after looking up the people it names), published, then acknowledged. */
  private onDelivery(type: DeliveryType, body: Record<string, unknown>, ack: () => unknown): void {
    const intake = this.intake;
    if (!intake || this.stopping) return; // not acknowledged: Slack sends it again to whoever listens next
    this.counters.deliveries++;
    if (type === 'events_api') {
      const cb = body as unknown as SlackEventCallback;
      const ev = cb.event ?? {};
      if (ev.type === 'member_joined_channel' && ev.user === this.botUserId && typeof ev.channel === 'string') {
        // Invited back: the outbound runner may send there again.
        void this.deps.outbound.resumeChat(slackChat(cb.team_id, ev.channel)).catch(() => undefined);
        this.problems.delete(`chat:${slackChat(cb.team_id, ev.channel)}`);
      }
      intake.push(this.prepare([str(ev.user), str((ev.message as Record<string, unknown> | undefined)?.user), ...mentioned(ev.text)], () => normalizeEvent(cb, this.context())), ack);
    } else if (type === 'slash_commands') {
      const p = body as unknown as SlackSlashCommand;
      intake.push(this.prepare([p.user_id, ...mentioned(p.text)], () => normalizeSlashCommand(p, this.context())), ack);
    } else {
      const p = body as unknown as SlackBlockActions;
      intake.push(this.prepare([p.user?.id], () => normalizeBlockActions(p, this.context())), ack);
    }
  }

  /** Looks up the people a delivery names (for names and admin rights), then normalizes it. */
  private async prepare(users: (string | undefined)[], normalize: () => ChatEventInput | undefined): Promise<ChatEventInput[]> {
    const ids = [...new Set(users.filter((u): u is string => !!u && u !== this.botUserId))];
    await Promise.all(ids.map((id) => this.people?.get(id)));
    const event = normalize();
    if (!event) this.counters.skipped++;
    return event ? [event] : [];
  }

  private context() {
    return { botUserId: this.botUserId, person: (id: string) => this.people?.peek(id) };
  }

  /** Reads back what was missed; one catch-up at a time (a reconnection during one asks for another after it). */
  private catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return this.catchingUp;
    }
    this.catchingUp = (async () => {
      do {
        this.catchUpAgain = false;
        await this.catchUpOnce().catch((err: unknown) => this.deps.log.warn({ platform: 'slack', err: err instanceof Error ? err.message : String(err) }, 'catch-up failed; the cursors stay for the next connection'));
      } while (this.catchUpAgain && !this.stopping);
    })().finally(() => {
      this.catchingUp = null;
    });
    return this.catchingUp;
  }

  private async catchUpOnce(): Promise<void> {
    const limits: CatchUpLimits = { maxAgeMs: this.o.catchUpMaxAgeMs, maxPages: this.o.catchUpMaxPages, pageSize: 200, maxThreads: this.o.catchUpMaxThreads };
    const sources = await sourcesToCatchUp(this.cursors, limits);
    let total = 0;
    for (const src of sources) {
      for (let attempt = 0; ; attempt++) {
        if (this.stopping || !this.intake) return;
        try {
          total += await readMissed(src, limits, this.fetchPage, (messages) => this.deliverHistory(src, messages));
          break;
        } catch (err) {
          const code = slackCode(err) ?? (err instanceof PlatformError ? String(err.code) : '');
          if (['channel_not_found', 'not_in_channel', 'is_archived', 'thread_not_found'].includes(code)) {
            await this.cursors.forget([src.name]).catch(() => undefined);
            this.deps.log.info({ platform: 'slack', source: src.name, code }, 'catch-up: channel or thread gone or not readable; no longer tracked');
            break;
          }
          if (attempt >= CATCH_UP_ATTEMPTS - 1) {
            this.deps.log.warn({ platform: 'slack', source: src.name, err: err instanceof Error ? err.message : String(err) }, 'catch-up of a channel failed; its cursor stays for the next connection');
            break;
          }
          const wait = err instanceof PlatformError && err.retryAfterMs !== undefined ? Math.min(err.retryAfterMs, 60_000) : 1000 * 2 ** attempt;
          if (!(await sleep(wait, this.stopped.signal))) return;
        }
      }
    }
    if (total) this.deps.log.info({ platform: 'slack', sources: sources.length, messages: total }, 'read back messages sent while no connection was listening');
  }

  /** One page of conversations.history or .replies, paced by the method's budget (waited for, not refused). */
  private readonly fetchPage: FetchPage = async ({ channel, thread, oldest, cursor, limit }) => {
    const api = this.requireApi();
    const args = { channel, oldest, limit, ...(cursor ? { cursor } : {}) };
    const opts = { what: 'catch-up', budget: { wait: this.stopped.signal } };
    const r = thread
      ? await api.call<{ messages?: HistoryMessage[]; response_metadata?: { next_cursor?: string } }>('conversations.replies', { ...args, ts: thread }, opts)
      : await api.call<{ messages?: HistoryMessage[]; response_metadata?: { next_cursor?: string } }>('conversations.history', args, opts);
    return { messages: r.messages ?? [], next: r.response_metadata?.next_cursor ?? '' };
  };

  /** History messages as the events they would have been live (same ids), into the intake in order. */
  private deliverHistory(src: CatchUpSource, messages: HistoryMessage[]): void {
    if (!messages.length) return;
    this.counters.caughtUp += messages.length;
    for (const m of messages) {
      const body: SlackEventCallback = { type: 'event_callback', team_id: this.team, event: { ...m, type: 'message', channel: src.channel } };
      this.intake?.push(this.prepare([str(m.user), ...mentioned(m.text)], () => normalizeEvent(body, this.context())));
    }
  }

  // ---- outbound -------------------------------------------------------------------------------------------

  /** Performs one action through the Web API. */
  async perform(action: PlatformAction): Promise<ActionResult> {
    return performAction(action, {
      api: this.requireApi(),
      store: this.deps.store,
      log: this.deps.log,
      team: this.team,
      botUserId: this.botUserId,
      answersPlace: this.o.answersPlace,
      dmCommands: new Set(this.o.dmCommands),
      noteProblem: (key, line) => this.problems.set(key, line),
    });
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------

  /** Publishes what was received (up to stopTimeoutMs), then closes the connection; what is left Slack sends again. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.intake) {
      const drained = await this.intake.flush(this.o.stopTimeoutMs);
      if (!drained) this.deps.log.error({ platform: 'slack', waiting: this.intake.pending }, 'stopped with inbound events not yet published (not acknowledged: Slack sends them again, catch-up reads them back)');
    }
    this.stopped.abort();
    await this.catchingUp?.catch(() => undefined);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.removeAllListeners();
      await Promise.race([socket.disconnect().catch(() => undefined), sleep(3000)]);
    }
    await this.http?.close();
    this.http = null;
    this.connected = false;
  }

  /** Connection health, problems an operator must fix, and counters. */
  status(): AdapterStatus {
    const problems = [...this.problems.values()];
    const stats = this.intake?.stats;
    if (stats?.lastError) problems.push(`inbound events waiting for Redis (${this.intake?.pending ?? 0}): ${stats.lastError}`);
    return {
      connected: !!this.api && (!this.inbound || this.connected),
      problems,
      details: {
        team: this.team,
        // Without it the bot deletes only its own messages (a failed delete then shows as a problem, with what it needs).
        adminToken: this.api?.hasAdmin ?? false,
        receiving: this.o.events ? 'events-api' : 'socket-mode',
        deliveries: this.counters.deliveries,
        skipped: this.counters.skipped,
        caughtUp: this.counters.caughtUp,
        connections: this.counters.connections,
        rateLimited: this.api?.rateLimited ?? 0,
        ...(stats ? { published: stats.published, duplicates: stats.duplicates, ackFailures: stats.ackFailures, waiting: this.intake?.pending ?? 0 } : {}),
        ...(this.http ? { httpRefused: this.http.stats.refused, httpLate: this.http.stats.late } : {}),
      },
    };
  }
}

/** The user ids a Slack text mentions (`<@U123>`, `<@U123|name>`). */
function mentioned(text: unknown): string[] {
  return typeof text === 'string' ? [...text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)].map((m) => m[1]!) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
