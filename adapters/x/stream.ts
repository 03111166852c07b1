/**
 * X's filtered stream, when the access level has it: posts that mention the bot or carry a tracked hashtag arrive as
 * they are written, and polling becomes a safety net. A dropped stream is caught up by polling; until that sweep is
 * done the stream may not move the cursors past it (the host's `frozen` set).
 */
import { ETwitterStreamEvent, type TweetStream, type TwitterApi } from 'twitter-api-v2';
import { backoffMs } from '../kit/index.js';
import { EXPANSIONS, storeKey, TWEET_FIELDS, USER_FIELDS, type XContext } from './context.js';
import { summarizeXError } from './errors.js';
import { advanceCursor, type Page, type XTask } from './inbound.js';
import type { XSource } from './normalize.js';
import type { ChatEventInput } from '../../src/core/index.js';

/** Rule tags the adapter owns on the app's filtered stream (rules are per app, shared with anything else). */
const RULE_TAG = 'townhall:';

/** What the stream needs from the polling side (XInbound). */
export interface StreamHost {
  /** Tasks whose cursors the stream may not move until their catch-up sweep after a (re)connect has finished. */
  readonly frozen: Set<XTask['name']>;
  readonly tasks: XTask[];
  readonly pollIntervalMs: number;
  wake(): void;
  hashtags(): Promise<string[]>;
  parsePage(body: unknown): Page;
  toEvents(page: Page, source: XSource): ChatEventInput[];
}

/** The filtered stream's connection, its rules and what it delivers. */
export class XStream {
  /** Connected right now. */
  up = false;
  /** Why the stream is not used, shown in status. */
  note: string | undefined;
  /** The hashtag list the rules were last made to match. */
  syncedTags: string | undefined;
  private stream: TweetStream | undefined;
  /** Streamed posts are published one after the other, in order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: XContext,
    private readonly host: StreamHost,
  ) {}

  /** True once connected (reconnects are automatic from then on). */
  get connected(): boolean {
    return this.stream !== undefined;
  }

  /** Disconnects; the post being published finishes first. */
  async stop(): Promise<void> {
    this.stream?.destroy();
    this.stream = undefined;
    this.up = false;
    await this.chain;
  }

  /**
   * Connects the filtered stream. The first connect decides whether the access level has it: any failure
   * there falls back to polling (logged, shown in status). Later drops reconnect on their own.
   */
  /** Connects; any failure of the first connect means polling instead (logged, shown in status). */
  async start(): Promise<void> {
    const app = this.ctx.appOnly;
    if (!app) {
      this.note = 'x filtered stream needs an app bearer token (X_BEARER_TOKEN): polling instead';
      return;
    }
    let stream: TweetStream | undefined;
    try {
      await this.syncRules();
      stream = app.v2.searchStream({ expansions: EXPANSIONS, 'tweet.fields': TWEET_FIELDS, 'user.fields': USER_FIELDS, autoConnect: false } as Parameters<TwitterApi['v2']['searchStream']>[0] & { autoConnect: false });
      this.bind(stream);
      await stream.connect({ autoReconnect: false, keepAliveTimeout: this.ctx.opts.streamKeepAliveMs });
      stream.autoReconnect = true;
      stream.autoReconnectRetries = Infinity;
      stream.nextRetryTimeout = (n: number) => backoffMs(Math.max(1, n), { baseMs: this.ctx.opts.errorBackoffMs, maxMs: this.ctx.opts.maxErrorBackoffMs });
      this.stream = stream;
      this.note = undefined;
      this.ctx.log.info('x filtered stream connected');
    } catch (err) {
      stream?.destroy();
      this.up = false;
      const s = summarizeXError(err);
      this.note = `x filtered stream unavailable (${s.message}): polling instead`;
      this.ctx.log.warn({ status: s.status }, this.note);
    }
  }

  private bind(stream: TweetStream): void {
    const onUp = () => {
      this.up = true;
      // Whatever was posted while disconnected comes from a catch-up sweep; until it is done the stream
      // must not move the cursors past it.
      this.host.frozen.add('mentions').add('search');
      for (const t of this.host.tasks) if (t.name !== 'likes') t.nextAt = 0;
      this.host.wake();
    };
    const onDown = (what: string) => () => {
      if (!this.up) return;
      this.up = false;
      this.ctx.log.warn(`x filtered stream ${what}: polling until it is back`);
      const soon = Date.now() + this.host.pollIntervalMs;
      for (const t of this.host.tasks) if (t.name !== 'likes') t.nextAt = Math.min(t.nextAt, soon);
      this.host.wake();
    };
    stream.on(ETwitterStreamEvent.Connected, onUp);
    stream.on(ETwitterStreamEvent.Reconnected, onUp);
    stream.on(ETwitterStreamEvent.ConnectionLost, onDown('lost (no keep-alive)'));
    stream.on(ETwitterStreamEvent.ConnectionError, onDown('dropped'));
    stream.on(ETwitterStreamEvent.ConnectionClosed, onDown('closed'));
    stream.on(ETwitterStreamEvent.Data, (payload: unknown) => {
      this.chain = this.chain.then(() => this.onData(payload));
    });
    stream.on(ETwitterStreamEvent.DataError, (payload: unknown) => {
      this.ctx.counters.streamErrors++;
      const first = (payload as { errors?: { title?: unknown; detail?: unknown }[] })?.errors?.[0];
      this.ctx.log.warn({ title: String(first?.title ?? '').slice(0, 100), detail: String(first?.detail ?? '').slice(0, 200) }, 'x stream error payload skipped');
    });
    stream.on(ETwitterStreamEvent.TweetParseError, () => {
      this.ctx.counters.streamErrors++;
      this.ctx.log.warn('x stream payload that is not JSON skipped');
    });
    // The library also emits a generic Error for each of the above; they are handled there.
    stream.on(ETwitterStreamEvent.Error, () => undefined);
  }

  /** One streamed post: validate, publish, then move the matching cursors (never the frozen ones). */
  private async onData(payload: unknown): Promise<void> {
    try {
      const b = payload as { data?: unknown; includes?: unknown; matching_rules?: unknown };
      if (!b || typeof b !== 'object' || !b.data || typeof b.data !== 'object' || Array.isArray(b.data)) {
        this.ctx.counters.streamErrors++;
        this.ctx.log.warn('x stream payload of unknown shape skipped');
        return;
      }
      const page = this.host.parsePage({ data: [b.data], includes: b.includes });
      const post = page.posts[0];
      if (!post) return;
      this.ctx.counters.streamed++;
      const events = this.host.toEvents(page, 'stream');
      if (events.length) {
        await this.ctx.deps.sink.publish(events);
        this.ctx.counters.published += events.length;
      }
      const tags = Array.isArray(b.matching_rules) ? (b.matching_rules as { tag?: unknown }[]).map((r) => (typeof r?.tag === 'string' ? r.tag : '')) : [];
      const keys: string[] = [];
      if (tags.includes(`${RULE_TAG}mentions`) && !this.host.frozen.has('mentions')) keys.push(storeKey('cursor', 'mentions'));
      if (!this.host.frozen.has('search')) {
        for (const t of tags) if (t.startsWith(`${RULE_TAG}tag:`)) keys.push(storeKey('cursor', 'search', t.slice(RULE_TAG.length + 4)));
      }
      for (const key of keys) await advanceCursor(this.ctx.deps.store, key, post.id);
    } catch (err) {
      // Not published, or not recorded: the cursors stay behind it and a catch-up sweep fetches it again.
      this.host.frozen.add('mentions').add('search');
      for (const t of this.host.tasks) if (t.name !== 'likes') t.nextAt = Math.min(t.nextAt, Date.now() + this.ctx.opts.errorBackoffMs);
      this.host.wake();
      this.ctx.log.warn(`x streamed post not delivered, catching up by polling: ${summarizeXError(err).message}`);
    }
  }

  /** Makes the app's stream rules match the bot's mentions and the tracked hashtags; leaves others' rules alone. */
  private async syncRules(): Promise<void> {
    const app = this.ctx.appOnly!;
    const want = new Map<string, string>([[`@${this.ctx.me.username} -is:retweet`, `${RULE_TAG}mentions`]]);
    const tags = await this.host.hashtags();
    for (const t of tags) want.set(`#${t} -is:retweet`, `${RULE_TAG}tag:${t}`);
    const current = (await app.v2.streamRules()).data ?? [];
    const stale = current.filter((r) => r.tag?.startsWith(RULE_TAG) && want.get(r.value) !== r.tag);
    const missing = [...want].filter(([value, tag]) => !current.some((r) => r.value === value && r.tag === tag));
    if (stale.length) await app.v2.updateStreamRules({ delete: { ids: stale.map((r) => r.id) } });
    if (missing.length) await app.v2.updateStreamRules({ add: missing.map(([value, tag]) => ({ value, tag })) });
    this.syncedTags = tags.join(',');
  }

  /** Re-syncs the rules; a failure is logged and left for the next change or restart. */
  async syncRulesQuietly(): Promise<void> {
    try {
      await this.syncRules();
    } catch (err) {
      // The search sweeps still cover the hashtag; the rules are fixed on the next change or restart.
      this.ctx.log.warn(`x stream rules not updated: ${summarizeXError(err).message}`);
    }
  }
}
