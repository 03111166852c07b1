/**
 * The AMA lifecycle: schedule (chat, CLI, API) -> announce -> reminders -> open (live) -> close with recap, and
 * recurring series. Every step is an "operation": actions to enqueue plus writes to commit after them, so the
 * pipeline can put the writes in the event's transaction and a crash between the two repeats the step without
 * posting anything twice (every action id is derived from the AMA, the step and the chat).
 */
import type { ChainableCommander } from 'ioredis';
import { getNextMillis } from 'bullmq';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { parseChatKey, platformOf, PlatformSchema } from '../../core/ids.js';
import { modKeys } from '../moderation/keys.js';
import { publishLive } from '../../pipeline/live-notes.js';
import { unlinkUnder } from '../../redis/scan.js';
import { announceRef, type Ama, type Recurrence } from './model.js';
import { amaToHash } from './model.js';
import { buildRecap, recapPosts } from './recap.js';
import { llmQualityScorer, pickWinners, winnerActions } from './rewards.js';
import { actionId, getAma, getAmas, hostLabel, safeBase, type Actions, type AmaEnv } from './store.js';
import { cancelTask, scheduleTask, taskId } from './tasks.js';
import { PLATFORM_NAME, formatDuration, formatWhen, inWords, isValidZone, notice } from './text.js';
import { capabilitiesOf } from '../../platform/index.js';

/** Something to do: actions to enqueue first, then writes to commit (so a crash between repeats it harmlessly). */
export interface Op {
  actions: Actions;
  commit(tx: ChainableCommander): void;
}

/** Runs an operation outside the pipeline (API, CLI, scheduler): enqueue, then commit. */
export async function runOp(env: AmaEnv, op: Op): Promise<void> {
  if (op.actions.length) await env.deps.outbound.enqueue(op.actions);
  const tx = env.deps.redis.multi();
  op.commit(tx);
  const res = await tx.exec();
  const failed = res?.find(([err]) => err);
  if (failed) throw failed[0];
}

const durationRe = /^(\d+)\s*(s|m|h|d)$/;
function durationToMs(d: string | number): number {
  if (typeof d === 'number') return d * 60_000;
  const m = durationRe.exec(d.trim());
  if (!m) throw new UserError('ama.duration', `Not a duration: ${d} (use 10m, 1h, 1d).`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

const chatIdSchema = z.string().refine((c) => {
  try {
    parseChatKey(c);
    return true;
  } catch {
    return false;
  }
}, 'must be a prefixed chat id like telegram:-100123 or discord:123');

/** What scheduling an AMA takes (API body, CLI flags and the chat command all become this). */
export const ScheduleInputSchema = z.object({
  title: z.string().trim().min(1).max(200),
  /** ISO 8601 with a zone, or milliseconds since the epoch. A zone-less time is read in `tz`. */
  startsAt: z.union([z.number().int().positive(), z.string().min(4).max(60)]),
  durationMinutes: z.number().int().min(1).max(7 * 24 * 60),
  hosts: z.array(z.string().min(2).max(200)).max(20).default([]),
  chats: z.array(chatIdSchema).min(1).max(50),
  tz: z.string().max(64).default('UTC').refine(isValidZone, 'unknown time zone (use an IANA name like Europe/Berlin)'),
  hashtag: z.string().regex(/^#?[\p{L}\p{N}_]{2,40}$/u, 'letters, digits and _ (2-40)').optional(),
  lang: z.string().regex(/^[a-z]{2}(-[A-Za-z]{2,4})?$/).default('en'),
  /** Reminder offsets before the start: durations like '1h' or minutes; config `ama.reminders` when absent. */
  reminders: z.array(z.union([z.string(), z.number().int().positive()])).max(10).optional(),
  premoderation: z.boolean().optional(),
  detectQuestions: z.boolean().optional(),
  rewards: z.number().int().min(0).max(100).default(0),
  recurrence: z
    .object({ pattern: z.string().min(9).max(120).optional(), every: z.union([z.string(), z.number().int().positive()]).optional(), count: z.number().int().min(1).max(1000).optional() })
    .refine((r) => Boolean(r.pattern) !== Boolean(r.every), 'give either pattern (cron) or every (interval)')
    .optional(),
});
/** Input of scheduleAma. */
export type ScheduleInput = z.input<typeof ScheduleInputSchema>;

/** How a host is written, said whenever one is refused. */
export const HOST_FORMAT = 'write each host as telegram:user:<id> or telegram:@name (the platform the name is on)';

/**
 * Hosts as stored: prefixed user ids, or `platform:@name`. A bare `@name` is qualified with `platform` — the platform
 * of the chat the command came from — and refused where there is none (API, CLI); anything else is refused.
 */
export function qualifyHosts(hosts: string[], platform?: string): string[] {
  return hosts.map((h) => {
    const t = h.trim();
    if (/^[a-z]+:user:[^:\s]+$/.test(t) && PlatformSchema.safeParse(t.slice(0, t.indexOf(':'))).success) return t;
    const named = /^(?:([a-z]+):)?@([A-Za-z0-9_.]{1,64})$/.exec(t);
    const on = named?.[1] ?? platform;
    if (named && on && PlatformSchema.safeParse(on).success) return `${on}:@${named[2]}`;
    throw new UserError('ama.host', `Host "${t.slice(0, 64)}" names no platform: ${HOST_FORMAT}.`);
  });
}

/** Resolves `platform:@name` hosts the bot already knows (its directory of who wrote under which name) to their ids. */
async function resolveHosts(env: AmaEnv, hosts: string[]): Promise<Record<string, string>> {
  const named = hosts.map((h) => /^([a-z]+):@(.+)$/.exec(h)).filter((m): m is RegExpExecArray => m !== null);
  if (!named.length) return {};
  const mk = modKeys(env.deps.keys);
  const ids = await env.deps.redis.mget(...named.map((m) => mk.username(m[1]!, m[2]!)));
  const out: Record<string, string> = {};
  named.forEach((m, i) => {
    const id = ids[i];
    if (id && id.startsWith(`${m[1]}:user:`)) out[m[0]] = id;
  });
  return out;
}

/** Milliseconds of `tz`'s offset from UTC at `utcMs`. */
export function zoneOffsetMs(tz: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Parses a start time: epoch ms, ISO with a zone, or a zone-less local time read in `tz`. */
export function parseStart(v: string | number, tz: string, now: number): number {
  if (typeof v === 'number') return v;
  const s = v.trim();
  if (/^now$/i.test(s)) return now;
  const rel = /^in\s+(\d+)\s*([smhd])$/i.exec(s);
  if (rel) return now + durationToMs(`${rel[1]}${rel[2]!.toLowerCase()}`);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (!m) throw new UserError('ama.when', `Not a time: ${s} (use 2026-12-01 14:00 UTC, an ISO time, or "in 2h").`);
  const [, y, mo, d, h = '0', mi = '0', sec = '0', zone] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (Number.isNaN(wall) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59) throw new UserError('ama.when', `Not a time: ${s}.`);
  if (zone) {
    if (/^(z|utc|gmt)$/i.test(zone)) return wall;
    const z2 = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    return wall - (z2[1] === '-' ? -1 : 1) * (Number(z2[2]) * 60 + Number(z2[3])) * 60_000;
  }
  // Local wall time in tz: the offset at the guessed instant, corrected once for a DST change in between.
  let utc = wall - zoneOffsetMs(tz, wall);
  utc = wall - zoneOffsetMs(tz, utc);
  return utc;
}

/** The time before the start when subscribers are told (about an hour, or at once when it is sooner). */
const NOTIFY_LEAD_MS = 3_600_000;

/** Creates an AMA (and its series when recurring) and schedules its announcement, reminders, open and close. */
export async function scheduleAma(env: AmaEnv, input: ScheduleInput, by: string, opts: { series?: string; platform?: string } = {}): Promise<Ama> {
  const parsed = ScheduleInputSchema.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UserError('ama.invalid', `${i.path.join('.') || 'input'}: ${i.message}`);
  }
  // A series made before hosts were qualified repeats with the platform of whoever made it.
  const hostPlatform = opts.platform ?? (opts.series ? /^([a-z]+):user:/.exec(by)?.[1] : undefined);
  const p = { ...parsed.data, hosts: qualifyHosts(parsed.data.hosts, hostPlatform) };
  const { redis, config } = env.deps;
  const now = env.deps.now();
  const startsAt = parseStart(p.startsAt, p.tz, now);
  if (startsAt < now - 60_000) throw new UserError('ama.past', `That time is in the past (${formatWhen(startsAt, p.tz)}).`);
  const seq = await redis.incr(env.k.seq());
  const id = `a${seq}`;
  const reminders = [...new Set((p.reminders ?? config.ama.reminders).map(durationToMs))].sort((a, b) => b - a);
  const ama: Ama = {
    id,
    title: p.title,
    status: 'scheduled',
    startsAt,
    durationMs: p.durationMinutes * 60_000,
    tz: p.tz,
    hosts: p.hosts,
    chats: [...new Set(p.chats)],
    hashtag: (p.hashtag ?? `ama${seq}`).replace(/^#/, ''),
    lang: p.lang,
    reminders,
    premoderation: p.premoderation ?? config.ama.premoderation,
    detectQuestions: p.detectQuestions ?? config.ama.detectQuestions,
    rewards: p.rewards,
    createdBy: by,
    createdAt: now,
  };
  const hostIds = await resolveHosts(env, p.hosts);
  if (Object.keys(hostIds).length) ama.hostIds = hostIds;
  let seriesId = opts.series;
  if (p.recurrence && !seriesId) {
    seriesId = `s${seq}`;
    const rec: Recurrence = { ...(p.recurrence.pattern ? { pattern: p.recurrence.pattern } : {}), ...(p.recurrence.every ? { everyMs: durationToMs(p.recurrence.every) } : {}), ...(p.recurrence.count ? { count: p.recurrence.count } : {}) };
    if (rec.pattern) {
      try {
        getNextMillis(startsAt, { pattern: rec.pattern, tz: p.tz });
      } catch {
        throw new UserError('ama.cron', `Not a cron pattern: ${rec.pattern}`);
      }
    }
    const template = { ...p, startsAt: undefined, recurrence: undefined, hashtag: p.hashtag };
    await redis.hset(env.k.series(seriesId), 'template', JSON.stringify(template), 'rec', JSON.stringify(rec), 'lastStart', String(startsAt), 'made', '1', 'by', by, 'active', '1');
  }
  if (seriesId) ama.series = seriesId;
  const tx = redis.multi();
  tx.hset(env.k.ama(id), amaToHash(ama));
  tx.zadd(env.k.all(), startsAt, id);
  for (const chat of ama.chats) tx.zadd(env.k.byChat(safeBase(chat)), startsAt, id);
  scheduleLifecycle(env, ama, now, tx);
  if (seriesId && !opts.series && p.recurrence) {
    const rec = JSON.parse((await redis.hget(env.k.series(seriesId), 'rec')) ?? '{}') as Recurrence;
    const next = nextStart(rec, ama.tz, ama.startsAt);
    if (next && (rec.count === undefined || rec.count > 1)) scheduleTask(env, { type: 'spawn', series: seriesId }, Math.max(now, next - spawnLead(ama)), tx);
  }
  await tx.exec();
  return ama;
}

/** Queues announcement, reminders, subscriber notice, open and close of a scheduled AMA. */
function scheduleLifecycle(env: AmaEnv, ama: Ama, now: number, tx: ChainableCommander): void {
  // An AMA starting within two minutes is announced by its opening notice alone.
  if (ama.startsAt - now > 120_000) scheduleTask(env, { type: 'announce', amaId: ama.id }, now, tx);
  for (const r of ama.reminders) {
    const at = ama.startsAt - r;
    if (at > now + 30_000) scheduleTask(env, { type: 'remind', amaId: ama.id, offsetMs: r }, at, tx);
  }
  scheduleTask(env, { type: 'notify', amaId: ama.id }, Math.max(now, ama.startsAt - NOTIFY_LEAD_MS), tx);
  scheduleTask(env, { type: 'open', amaId: ama.id }, ama.startsAt, tx);
  scheduleTask(env, { type: 'close', amaId: ama.id }, ama.startsAt + ama.durationMs, tx);
}

/** Lead time before an instance's start when the next one of a series is created (its announcements need it). */
function spawnLead(ama: Ama): number {
  return Math.max(NOTIFY_LEAD_MS, ...ama.reminders) + 5 * 60_000;
}

function nextStart(rec: Recurrence, tz: string, after: number): number | undefined {
  if (rec.everyMs) return after + rec.everyMs;
  if (rec.pattern) return getNextMillis(after, { pattern: rec.pattern, tz });
  return undefined;
}

/** Creates the next AMA of a series (once per start time, whatever retries happen). */
export async function spawnNext(env: AmaEnv, seriesId: string): Promise<Ama | null> {
  const { redis } = env.deps;
  const s = await redis.hgetall(env.k.series(seriesId));
  if (!s.template || s.active !== '1') return null;
  const rec = JSON.parse(s.rec ?? '{}') as Recurrence;
  const template = JSON.parse(s.template) as ScheduleInput;
  const made = Number(s.made ?? 1);
  if (rec.count !== undefined && made >= rec.count) return null;
  const tz = template.tz ?? 'UTC';
  const next = nextStart(rec, tz, Number(s.lastStart));
  if (!next) return null;
  // One instance per start time: a repeated spawn finds the marker and stops.
  if ((await redis.set(env.k.keys.k('ama', 'series', seriesId, 'at', next), '1', 'EX', 400 * 86_400, 'NX')) !== 'OK') return null;
  const ama = await scheduleAma(env, { ...template, startsAt: next }, s.by ?? 'townhall', { series: seriesId });
  const tx = redis.multi();
  tx.hset(env.k.series(seriesId), 'lastStart', String(next), 'made', String(made + 1));
  if (rec.count === undefined || made + 1 < rec.count) scheduleTask(env, { type: 'spawn', series: seriesId }, Math.max(env.deps.now(), next - spawnLead(ama)), tx);
  await tx.exec();
  return ama;
}

/** Stops a series: no further instances are created. */
export async function stopSeries(env: AmaEnv, seriesId: string): Promise<void> {
  await env.deps.redis.multi().hset(env.k.series(seriesId), 'active', '0').zrem(env.k.due(), taskId({ type: 'spawn', series: seriesId })).exec();
}

const hostList = (ama: Ama) => (ama.hosts.length ? ama.hosts.map(hostLabel).join(', ') : 'the team');
const platformOfChat = (chat: string) => platformOf(chat);

/** The announcement in every linked chat (replies to it are questions). */
export function announceOp(ama: Ama, now: number): Op {
  const text = notice(ama.lang, 'announce', {
    title: ama.title,
    when: `${formatWhen(ama.startsAt, ama.tz, ama.lang)}, ${inWords(ama.startsAt, now, ama.lang)}`,
    duration: formatDuration(ama.durationMs),
    hosts: hostList(ama),
    hashtag: ama.hashtag,
  });
  return {
    actions: ama.chats.map((chat) => ({ v: 1, id: actionId(ama.id, 'announce', chat), type: 'send', platform: platformOfChat(chat), chat, text, ref: announceRef(ama.id, chat), priority: 'command' })),
    commit: () => undefined,
  };
}

/** A reminder in every linked chat. */
export function remindOp(ama: Ama, offsetMs: number, now: number): Op {
  const text = notice(ama.lang, 'remind', { title: ama.title, in: inWords(ama.startsAt, now, ama.lang), when: formatWhen(ama.startsAt, ama.tz, ama.lang), hashtag: ama.hashtag });
  return {
    actions: ama.chats.map((chat) => ({ v: 1, id: actionId(ama.id, 'remind', offsetMs, chat), type: 'send', platform: platformOfChat(chat), chat, text, priority: 'command' })),
    commit: () => undefined,
  };
}

function liveKeys(env: AmaEnv, ama: Ama): string[] {
  return [...new Set(ama.chats.map(safeBase))].map((g) => env.k.live(g));
}

/** Tells the dashboard's live channel an AMA changed state, inside the same transaction. */
function announceChange(env: AmaEnv, ama: Ama, tx: ChainableCommander): void {
  publishLive(tx, env.deps.keys, { type: 'ama', amaId: ama.id });
}

/** Starts or stops following the AMA's hashtag on each of its chats' platforms that can be searched for one (X). */
function hashtagActions(ama: Ama, on: boolean): Actions {
  if (!ama.hashtag) return [];
  return ama.chats
    .filter((chat) => capabilitiesOf(platformOfChat(chat)).hashtagSearch)
    .map((chat) => ({ v: 1, id: actionId(ama.id, 'listen', chat, on ? 'on' : 'off'), type: 'listen', platform: platformOfChat(chat), chat, hashtags: [ama.hashtag], on, priority: 'command' }));
}

/** Opens the AMA: the opening notice everywhere, live from now, close rescheduled, answers places prepared. */
export function openOp(env: AmaEnv, ama: Ama, now: number): Op {
  const closeAt = Math.max(ama.startsAt, now) + ama.durationMs;
  const text = notice(ama.lang, 'open', { title: ama.title, end: formatWhen(closeAt, ama.tz, ama.lang), hashtag: ama.hashtag });
  return {
    actions: [
      ...ama.chats.map((chat): Actions[number] => ({ v: 1, id: actionId(ama.id, 'open', chat), type: 'send', platform: platformOfChat(chat), chat, text, priority: 'command' })),
      ...hashtagActions(ama, true),
    ],
    commit: (tx) => {
      env.scripts.queue(tx, 'amaTransition', [env.k.ama(ama.id), env.k.liveAll(), ...liveKeys(env, ama)], ['scheduled', 'live', 'openedAt', now, ama.id]);
      announceChange(env, ama, tx);
      cancelTask(env, taskId({ type: 'announce', amaId: ama.id }), tx);
      for (const r of ama.reminders) cancelTask(env, taskId({ type: 'remind', amaId: ama.id, offsetMs: r }), tx);
      cancelTask(env, taskId({ type: 'open', amaId: ama.id }), tx);
      scheduleTask(env, { type: 'close', amaId: ama.id }, closeAt, tx);
      for (const chat of ama.chats) scheduleTask(env, { type: 'place', amaId: ama.id, chat }, now, tx);
    },
  };
}

/** Settings for closing (rewards need the cooldown and, optionally, the LLM provider). */
export interface CloseOptions {
  rewardCooldownMs?: number;
  llmApiKey?: string | undefined;
}

/** Closes the AMA: closing notice and recap everywhere, reward winners when configured, not live any more. */
export async function closeOp(env: AmaEnv, ama: Ama, now: number, opts: CloseOptions = {}): Promise<Op> {
  const actions: Actions = [];
  const text = notice(ama.lang, 'close', { title: ama.title });
  for (const chat of ama.chats) actions.push({ v: 1, id: actionId(ama.id, 'close', chat), type: 'send', platform: platformOfChat(chat), chat, text, priority: 'digest' });
  if (ama.rewards > 0) {
    const llm = env.deps.config.digest.llm;
    const winners = await pickWinners(env, ama, ama.rewards, {
      cooldownMs: opts.rewardCooldownMs ?? durationToMs(env.deps.config.ama.rewardCooldown),
      ...(llm ? { scorer: llmQualityScorer({ baseUrl: llm.baseUrl, model: llm.model, apiKey: opts.llmApiKey, timeoutMs: llm.timeoutMs }) } : {}),
    });
    actions.push(...winnerActions(ama, winners));
  }
  const recap = await buildRecap(env, { ...ama, status: 'closed', closedAt: ama.closedAt ?? now });
  actions.push(...recapPosts(ama, recap), ...hashtagActions(ama, false));
  return {
    actions,
    commit: (tx) => {
      env.scripts.queue(tx, 'amaTransition', [env.k.ama(ama.id), env.k.liveAll(), ...liveKeys(env, ama)], ['scheduled live', 'closed', 'closedAt', now, ama.id]);
      announceChange(env, ama, tx);
      for (const t of ['announce', 'open', 'close', 'notify'] as const) cancelTask(env, taskId({ type: t, amaId: ama.id }), tx);
      for (const r of ama.reminders) cancelTask(env, taskId({ type: 'remind', amaId: ama.id, offsetMs: r }), tx);
      schedulePurge(env, ama.id, now, tx);
    },
  };
}

/** Schedules the deletion of an AMA's data at the end of its retention (`ama.retention`; 0 keeps it). */
function schedulePurge(env: AmaEnv, amaId: string, now: number, tx: ChainableCommander): void {
  const keepMs = durationToMs(env.deps.config.ama.retention);
  if (keepMs > 0) scheduleTask(env, { type: 'purge', amaId }, now + keepMs, tx);
}

/**
 * Gives every closed or cancelled AMA without a purge task one, due at its end plus the retention: AMAs that ended
 * before retention existed (or while it was 0) expire like the rest. Run when a scheduler starts; reads the AMA
 * list in pages of 500, so it costs one pass over the AMAs, not over their questions.
 */
export async function schedulePendingPurges(env: AmaEnv): Promise<number> {
  const keepMs = durationToMs(env.deps.config.ama.retention);
  if (keepMs <= 0) return 0;
  const redis = env.deps.redis;
  let added = 0;
  for (let start = 0; ; start += 500) {
    const ids = await redis.zrange(env.k.all(), String(start), String(start + 499));
    if (!ids.length) break;
    const over = (await getAmas(env, ids)).filter((a) => a.status === 'closed' || a.status === 'cancelled');
    if (over.length) {
      const has = await redis.hmget(env.k.tasks(), ...over.map((a) => taskId({ type: 'purge', amaId: a.id })));
      const tx = redis.multi();
      over.forEach((a, i) => {
        if (has[i] !== null) return;
        scheduleTask(env, { type: 'purge', amaId: a.id }, (a.closedAt ?? a.startsAt) + keepMs, tx);
        added++;
      });
      await tx.exec();
    }
    if (ids.length < 500) break;
  }
  return added;
}

/**
 * Deletes a closed or cancelled AMA: every key under `ama:<id>:` (questions, asks, votes, the duplicate index,
 * answers places, winners), its hash, and its entries in the AMA lists. Keys are found with SCAN in pages, so a
 * large AMA never blocks Redis; a crash halfway leaves the task to run again (every step is idempotent).
 */
export async function purgeAma(env: AmaEnv, ama: Ama): Promise<number> {
  const redis = env.deps.redis;
  const removed = await unlinkUnder(redis, `${env.k.ama(ama.id)}:`);
  const tx = redis.multi().unlink(env.k.ama(ama.id)).zrem(env.k.all(), ama.id);
  for (const chat of ama.chats) tx.zrem(env.k.byChat(safeBase(chat)), ama.id);
  await tx.exec();
  return removed + 1;
}

/** Cancels a scheduled AMA (nothing is posted; its tasks are dropped). */
export function cancelOp(env: AmaEnv, ama: Ama, now: number): Op {
  return {
    actions: ama.chats.map((chat) => ({ v: 1, id: actionId(ama.id, 'cancel', chat), type: 'send', platform: platformOfChat(chat), chat, text: `The AMA "${ama.title}" (${formatWhen(ama.startsAt, ama.tz)}) is cancelled.`, priority: 'command' })),
    commit: (tx) => {
      env.scripts.queue(tx, 'amaTransition', [env.k.ama(ama.id), env.k.liveAll(), ...liveKeys(env, ama)], ['scheduled', 'cancelled', 'closedAt', now, ama.id]);
      for (const t of ['announce', 'open', 'close', 'notify'] as const) cancelTask(env, taskId({ type: t, amaId: ama.id }), tx);
      for (const r of ama.reminders) cancelTask(env, taskId({ type: 'remind', amaId: ama.id, offsetMs: r }), tx);
      schedulePurge(env, ama.id, now, tx);
    },
  };
}

/** Adds a chat to an AMA (from a moderator of that chat); a live AMA becomes live there too. */
export function linkChatOp(env: AmaEnv, ama: Ama, chat: string, now: number): Op {
  if (ama.chats.includes(chat)) throw new UserError('ama.linked', `This chat is already part of the AMA "${ama.title}".`);
  if (ama.status === 'closed' || ama.status === 'cancelled') throw new UserError('ama.over', `The AMA "${ama.title}" is over.`);
  const chats = [...ama.chats, chat];
  const linked = { ...ama, chats };
  const actions: Actions = ama.status === 'live' ? openOp(env, { ...linked, chats: [chat] }, now).actions : announceOp({ ...linked, chats: [chat] }, now).actions;
  return {
    actions,
    commit: (tx) => {
      tx.hset(env.k.ama(ama.id), 'chats', JSON.stringify(chats));
      tx.zadd(env.k.byChat(safeBase(chat)), ama.startsAt, ama.id);
      if (ama.status === 'live') {
        tx.set(env.k.live(safeBase(chat)), ama.id);
        scheduleTask(env, { type: 'place', amaId: ama.id, chat }, now, tx);
      }
    },
  };
}

/** The subscriber notices for one batch; returns the actions and the cursor of the next batch ('' = done). */
export async function notifyBatch(env: AmaEnv, ama: Ama, cursor: string | undefined, now: number): Promise<{ actions: Actions; next: string }> {
  const sources = [env.k.subsAll(), ...[...new Set(ama.chats.map(safeBase))].map((g) => env.k.subsGroup(g))];
  const [si, sc] = (cursor ?? '0:0').split(':');
  const i = Number(si);
  const source = sources[i];
  if (!source) return { actions: [], next: '' };
  const [nextCursor, flat] = await env.deps.redis.hscan(source, sc ?? '0', 'COUNT', 500);
  const text = notice(ama.lang, 'upcoming', { title: ama.title, in: inWords(ama.startsAt, now, ama.lang), when: formatWhen(ama.startsAt, ama.tz, ama.lang), hashtag: ama.hashtag, chats: [...new Set(ama.chats.map((c) => PLATFORM_NAME[platformOf(c)]))].join(', ') });
  const actions: Actions = [];
  for (let j = 0; j < flat.length; j += 2) {
    const user = flat[j]!;
    let platform;
    try {
      platform = platformOf(user);
    } catch {
      continue;
    }
    // One notice per person per AMA, even when they subscribed both everywhere and to this community.
    actions.push({ v: 1, id: actionId(ama.id, 'notify', user), type: 'dm', platform, chat: '', user, text, priority: 'digest' });
  }
  const next = nextCursor === '0' ? (i + 1 < sources.length ? `${i + 1}:0` : '') : `${i}:${nextCursor}`;
  return { actions, next };
}

/** Everything about an AMA that callers show: the stored fields plus end time and times in words. */
export interface AmaView extends Ama {
  endsAt: number;
  when: string;
}

/** The AMA as the API and CLI show it. */
export function amaView(ama: Ama): AmaView {
  const endsAt = Math.max(ama.startsAt, ama.openedAt ?? 0) + ama.durationMs;
  return { ...ama, endsAt, when: formatWhen(ama.startsAt, ama.tz) };
}

/** Reads an AMA or refuses in one line. */
export async function requireAma(env: AmaEnv, id: string): Promise<Ama> {
  const ama = await getAma(env, id);
  if (!ama) throw new UserError('ama.unknown', `There is no AMA ${id}.`);
  return ama;
}
