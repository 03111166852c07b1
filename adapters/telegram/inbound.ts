/**
 * Receiving from Telegram: long polling (getUpdates) or a webhook. A batch of updates is normalized and published,
 * and only then acknowledged (the next getUpdates offset, the webhook's 200): nothing is confirmed before it is in Redis.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Telegram } from 'telegraf';
import type { Logger } from 'pino';
import { chatKey, ChatEventSchema, parseChatKey, type AdapterDeps, type ChatEventInput } from '../../src/core/index.js';
import { backoffMs, sleep } from '../kit/index.js';
import type { AdminCache } from './admins.js';
import { isApiError } from './errors.js';
import { ALLOWED_UPDATES, groupChatOf, normalizeUpdate, reactionCountEvents, type Normalized, type RawUpdate } from './normalize.js';
import { outboundKeys } from './outbound.js';

const DAY_S = 86_400;

/** What the adapter counts, shown in status().details. */
export interface InboundStats {
  updates: number;
  events: number;
  rejected: number;
  skipped: Record<string, number>;
  unknownTypes: Record<string, number>;
  refusedWebhooks: number;
}

/** What receiving needs from the adapter. */
export interface TelegramInboundContext {
  deps: AdapterDeps;
  tg: Telegram;
  me: { id: number; username: string };
  admins: AdminCache;
  log: Logger;
  /** Bot API knobs (see TelegramAdapterOptions). */
  o: { pollTimeoutSeconds: number; pollLimit: number; retryDelayMs: number; maxRetryDelayMs: number; recentMessages: number; stopTimeoutMs: number; maxUpdateBytes: number; webhookPublishTimeoutMs: number };
  webhook: { path: string; secret: string } | undefined;
  setProblem(key: string, text: string | undefined): void;
  redact(text: string): string;
  /** Chats whose 403 was logged by outbound: a chat the bot is added back to may log again. */
  forbiddenLogged: Set<string>;
  /** Counters kept across restarts of receiving. */
  stats: InboundStats;
}

/** Hashes before comparing so the comparison takes the same time whatever the lengths. */
function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Store keys of what inbound keeps (besides those outbound shares: recent ids, topics, blocked DMs). */
const inboundKeys = {
  /** The last reaction totals of a message (message_reaction_count updates carry totals, not changes). */
  reactionCounts: (chatId: number, messageId: number) => `rcount:${chatId}:${messageId}`,
};

/** Receives updates into the sink: the poll loop or the webhook handler, and what both share. */
export class TelegramInbound {
  /** Time of the last successful getUpdates. */
  lastPollAt = 0;
  /** Receiving works (the last poll answered, or the webhook is set). */
  ok = false;
  private stopping = false;
  private stopStarted = 0;
  private readonly stopped = new AbortController();
  private pollAbort: AbortController | undefined;
  private pollLoop: Promise<void> | undefined;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly ctx: TelegramInboundContext) {}

  private get store() {
    return this.ctx.deps.store;
  }

  /** Starts the long-poll loop (webhook mode: nothing to start here, Telegram pushes to `webhookCallback`). */
  startPolling(): void {
    this.pollLoop = this.poll();
  }

  /** Stops receiving: the poll ends, what is being published finishes (or is left unacknowledged) first. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopStarted = Date.now();
    this.stopped.abort();
    this.pollAbort?.abort();
    await this.pollLoop?.catch(() => undefined);
    this.pollLoop = undefined;
    await Promise.allSettled([...this.inflight]);
    this.ok = false;
  }

  private async poll(): Promise<void> {
    const { tg, o, log } = this.ctx;
    let offset = 0;
    let published = false;
    let failures = 0;
    while (!this.stopping) {
      let updates: RawUpdate[];
      try {
        this.pollAbort = new AbortController();
        updates = (await tg.callApi(
          'getUpdates',
          { offset, timeout: o.pollTimeoutSeconds, limit: o.pollLimit, allowed_updates: [...ALLOWED_UPDATES] },
          // telegraf types the signal with the abort-controller polyfill; node-fetch accepts the built-in one.
          { signal: this.pollAbort.signal as never },
        )) as unknown as RawUpdate[];
        this.lastPollAt = Date.now();
        this.ok = true;
        failures = 0;
        this.ctx.setProblem('poll', undefined);
      } catch (err) {
        if (this.stopping) break;
        failures++;
        this.ok = false;
        let wait = backoffMs(failures, { baseMs: o.retryDelayMs, maxMs: o.maxRetryDelayMs });
        if (isApiError(err, 409)) this.ctx.setProblem('poll', 'telegram: getUpdates conflict (409): another process polls with this token, or a webhook is set');
        else if (isApiError(err, 401)) this.ctx.setProblem('poll', 'telegram: the bot token was refused (401) while polling');
        else if (isApiError(err, 429)) wait = (err.parameters?.retry_after ?? 1) * 1000;
        else if (failures === 3) log.warn({ err: this.ctx.redact((err as Error).message) }, 'telegram: polling keeps failing; retrying');
        await sleep(wait, this.stopped.signal);
        continue;
      }
      if (!Array.isArray(updates) || updates.length === 0) continue;
      const last = updates[updates.length - 1];
      let ok: boolean;
      try {
        ok = await this.track(this.handleBatch(updates, Infinity));
      } catch (err) {
        // Unexpected, and nothing was acknowledged: fetch the same updates again after a pause.
        log.error({ err: this.ctx.redact((err as Error).message) }, 'telegram: failed to handle a batch of updates; retrying it');
        await sleep(o.retryDelayMs, this.stopped.signal);
        continue;
      }
      // Only now may the next getUpdates confirm these: they are in Redis.
      if (ok && last && typeof last.update_id === 'number') {
        offset = last.update_id + 1;
        published = true;
      }
      if (!ok) break; // stopping while Redis would not take them: leave them unconfirmed for the next run
    }
    if (published) {
      // Confirm the last batch now rather than on the next run's first call.
      await tg.callApi('getUpdates', { offset, limit: 1, timeout: 0 }).catch(() => undefined);
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => undefined);
    return p;
  }

  private count(n: Normalized): void {
    this.ctx.stats.updates++;
    if (n.skipped) this.ctx.stats.skipped[n.skipped] = (this.ctx.stats.skipped[n.skipped] ?? 0) + 1;
    if (n.skipped === 'unknown') {
      const t = n.type.slice(0, 64);
      if (t in this.ctx.stats.unknownTypes || Object.keys(this.ctx.stats.unknownTypes).length < 50) {
        if (!(t in this.ctx.stats.unknownTypes)) this.ctx.log.info({ type: t }, 'telegram: skipping an update type Townhall does not know');
        this.ctx.stats.unknownTypes[t] = (this.ctx.stats.unknownTypes[t] ?? 0) + 1;
      }
    }
  }

  /**
   * Normalizes and publishes a batch. Resolves true once every event is in Redis; false only when it gave up
   * (stopping, or the deadline passed): then nothing may be acknowledged.
   */
  async handleBatch(updates: RawUpdate[], deadlineMs: number): Promise<boolean> {
    const { me, admins, log, o } = this.ctx;
    const groups = new Set<number>();
    for (const u of updates) {
      const g = typeof u === 'object' && u !== null ? groupChatOf(u) : undefined;
      if (g !== undefined) groups.add(g);
    }
    await Promise.all([...groups].map((g) => admins.get(g)));
    const topics = await this.topicsFor(updates);
    const normalizeCtx = {
      botId: me.id,
      botUsername: me.username,
      adminsOf: (chatId: number) => admins.peek(chatId),
      topicOf: (chatId: number, messageId: number) => topics.get(`${chatId}/${messageId}`),
    };
    const events: ChatEventInput[] = [];
    const after: (() => Promise<unknown>)[] = [];
    const batchCounts = new Map<string, Record<string, number>>();
    for (const update of updates) {
      let n: Normalized;
      try {
        if (typeof update !== 'object' || update === null || Array.isArray(update)) throw new Error('update is not an object');
        n = normalizeUpdate(update, normalizeCtx);
      } catch (err) {
        this.ctx.stats.rejected++;
        log.warn({ err: (err as Error).message }, 'telegram: skipping an update that could not be read');
        continue;
      }
      this.count(n);
      if (n.reactionCounts) {
        const rc = n.reactionCounts;
        const key = inboundKeys.reactionCounts(rc.chatId, rc.messageId);
        // Totals from an earlier update of this same batch are not in Redis yet.
        const previous =
          batchCounts.get(key) ?? Object.fromEntries(Object.entries(await this.store.hgetall(key).catch(() => ({}) as Record<string, string>)).map(([e, c]) => [e, Number(c)]));
        batchCounts.set(key, rc.counts);
        events.push(...reactionCountEvents(rc, previous, update.update_id as number, topics.get(`${rc.chatId}/${rc.messageId}`)));
        // The new totals are stored only after the events are: a crash in between recomputes the same events (same ids).
        after.push(() => {
          const tx = this.store.multi().del(key);
          if (Object.keys(rc.counts).length) tx.hset(key, rc.counts);
          return tx.expire(key, 30 * DAY_S).exec();
        });
      }
      if (n.adminsChanged !== undefined) {
        // Later updates of this batch must already see the new rights.
        await admins.invalidate(n.adminsChanged);
        const removed = n.botMembership && !['member', 'administrator', 'creator'].includes(n.botMembership.status);
        if (!removed) await admins.get(n.adminsChanged);
      }
      const membership = n.botMembership;
      if (membership) after.push(() => this.onBotMembership(membership));
      if (n.privateFrom !== undefined) {
        const userId = n.privateFrom;
        after.push(() => this.store.del(outboundKeys.dmOff(userId)));
      }
      for (const e of n.events) {
        const r = ChatEventSchema.safeParse(e);
        if (r.success) events.push(e);
        else {
          this.ctx.stats.rejected++;
          const issue = r.error.issues[0];
          log.warn({ type: n.type, field: issue?.path.join('.'), why: issue?.message }, 'telegram: rejecting an update that does not make a valid event');
        }
      }
    }
    const deadline = Date.now() + deadlineMs;
    let failures = 0;
    while (events.length > 0) {
      try {
        // A publish that hangs (Redis unreachable) must not hold stop() or a webhook push forever.
        const done = await this.publishWithin(events, deadline);
        if (!done) return false;
        break;
      } catch (err) {
        failures++;
        if (failures === 1) log.warn({ err: (err as Error).message }, 'telegram: cannot store events yet; holding the acknowledgement and retrying');
        if ((this.stopping && Date.now() > this.stopDeadline()) || Date.now() > deadline) return false;
        await sleep(Math.min(backoffMs(failures, { baseMs: o.retryDelayMs, maxMs: o.maxRetryDelayMs }), Math.max(10, deadline - Date.now())));
      }
    }
    this.ctx.stats.events += events.length;
    this.remember(events);
    for (const f of after) await f().catch(() => undefined);
    return true;
  }

  private stopDeadline(): number {
    return this.stopStarted + this.ctx.o.stopTimeoutMs;
  }

  /** Publishes, or resolves false when waiting longer makes no sense: past `deadline`, or stop()'s grace ran out. */
  private async publishWithin(events: ChatEventInput[], deadline: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const giveUp = new Promise<false>((resolve) => {
      const tick = () => {
        if (settled) return;
        if (Date.now() >= deadline || (this.stopping && Date.now() > this.stopDeadline())) return resolve(false);
        timer = setTimeout(tick, 50);
      };
      tick();
    });
    try {
      return await Promise.race([this.ctx.deps.sink.publish(events).then(() => true as const), giveUp]);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /** Remembers recent message ids per group, for `/purge <count>` (bots cannot read history). */
  private remember(events: ChatEventInput[]): void {
    const tx = this.store.pipeline();
    let any = false;
    for (const e of events) {
      if ((e.kind !== 'message' && e.kind !== 'command') || !e.messageId || e.chatType === 'private') continue;
      const key = outboundKeys.recent(parseChatKey(e.chat).chatId);
      tx.lpush(key, e.messageId).ltrim(key, 0, this.ctx.o.recentMessages - 1).expire(key, 2 * DAY_S);
      any = true;
    }
    if (any) void tx.exec().catch(() => undefined);
  }

  /** Topics of the messages reacted to: reaction updates do not say, but we noted the topics of what the bot sent. */
  private async topicsFor(updates: RawUpdate[]): Promise<Map<string, number>> {
    const wanted: [number, number][] = [];
    for (const u of updates) {
      const body = (u as Record<string, unknown>)?.message_reaction ?? (u as Record<string, unknown>)?.message_reaction_count;
      if (!body || typeof body !== 'object') continue;
      const b = body as { chat?: { id?: unknown; type?: unknown }; message_id?: unknown };
      if (b.chat?.type === 'supergroup' && typeof b.chat.id === 'number' && typeof b.message_id === 'number') wanted.push([b.chat.id, b.message_id]);
    }
    const out = new Map<string, number>();
    if (!wanted.length) return out;
    try {
      const found = await Promise.all(wanted.map(([c, m]) => this.store.hget(outboundKeys.topic(c), String(m))));
      wanted.forEach(([c, m], i) => {
        const t = found[i];
        if (t) out.set(`${c}/${m}`, Number(t));
      });
    } catch {
      // Without it, the reaction is reported on the group rather than the topic.
    }
    return out;
  }

  private async onBotMembership(change: NonNullable<Normalized['botMembership']>): Promise<void> {
    const key = chatKey('telegram', change.chatId);
    const present = change.status === 'member' || change.status === 'administrator' || change.status === 'creator';
    if (change.chatType === 'private') {
      if (present) await this.store.del(outboundKeys.dmOff(change.chatId));
      else await this.store.set(outboundKeys.dmOff(change.chatId), 'blocked', 'EX', 30 * DAY_S);
      return;
    }
    if (present) {
      // Back in the chat: the outbound runner may send there again; learn the bot's rights afresh.
      await this.ctx.deps.outbound.resumeChat(key);
      this.ctx.forbiddenLogged.delete(key);
      await this.ctx.admins.get(change.chatId);
      this.ctx.log.info({ chat: key, status: change.status }, 'telegram: the bot was added to a chat');
    } else {
      this.ctx.setProblem(`rights:${change.chatId}`, undefined);
      this.ctx.log.warn({ chat: key, status: change.status }, 'telegram: the bot was removed from a chat; sending there stops');
    }
  }

  /** The webhook endpoint as a node request handler: checks the secret, stores the update, then answers 200. */
  webhookCallback(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      void this.track(this.onWebhook(req, res)).catch((err: unknown) => {
        this.ctx.log.error({ err: this.ctx.redact((err as Error).message) }, 'telegram: webhook handler failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    };
  }

  private async onWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { webhook, log, o } = this.ctx;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!webhook || path !== webhook.path) return void res.writeHead(404).end();
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], webhook.secret)) {
      if (this.ctx.stats.refusedWebhooks++ === 0) log.warn({ from: req.socket.remoteAddress }, 'telegram: refused a webhook call without the right secret (further ones are only counted)');
      req.resume();
      return void res.writeHead(403).end();
    }
    if (this.stopping) return void res.writeHead(503).end();
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > o.maxUpdateBytes) {
      log.warn({ bytes: declared }, 'telegram: refused an oversized webhook update');
      req.resume();
      return void res.writeHead(413).end();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > o.maxUpdateBytes) {
        log.warn({ bytes: size }, 'telegram: refused an oversized webhook update');
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    let update: unknown;
    try {
      update = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      log.warn({ bytes: size }, 'telegram: refused a webhook update that is not JSON');
      return void res.writeHead(400).end();
    }
    if (typeof update !== 'object' || update === null || Array.isArray(update) || typeof (update as RawUpdate).update_id !== 'number') {
      log.warn({ bytes: size }, 'telegram: refused a webhook body that is not an update');
      return void res.writeHead(400).end();
    }
    const ok = await this.handleBatch([update as RawUpdate], o.webhookPublishTimeoutMs);
    // 200 only once the event is stored; otherwise Telegram pushes the update again later.
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(ok ? '{}' : '');
  }
}
