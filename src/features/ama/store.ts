/** Reading and finding AMAs in Redis, and the small shared helpers every AMA module needs. */
import { createHash, randomBytes } from 'node:crypto';
import type { ActionInput } from '../../core/actions.js';
import type { ChatUser } from '../../core/events.js';
import { baseChat } from '../../core/ids.js';
import type { CoreDeps } from '../../pipeline/context.js';
import type { QuestionIndex } from '../questions/index.js';
import { AmaKeys, amaFromHash, questionFromHash, type Ama, type Ask, type Question } from './model.js';
import { RANK_DOUBLING_MS } from './rank.js';
import { amaScripts, type AmaScripts } from './scripts.js';

/** Everything the AMA modules share: the core's dependencies, key builders, scripts and tunables. */
export interface AmaEnv {
  deps: CoreDeps;
  k: AmaKeys;
  scripts: AmaScripts;
  /** Ranking doubling time τ (rank.ts). */
  doublingMs: number;
  /** Duplicate index objects per AMA (they cache immutable candidate payloads; see dedup.ts). */
  indexes: Map<string, QuestionIndex>;
}

/** Builds the shared environment (registers the Lua scripts on the connection). */
export function amaEnv(deps: CoreDeps, opts: { doublingMs?: number } = {}): AmaEnv {
  return { deps, k: new AmaKeys(deps.keys), scripts: amaScripts(deps.redis), doublingMs: opts.doublingMs ?? RANK_DOUBLING_MS, indexes: new Map() };
}

/** The outbound actions an operation produced; the caller enqueues them (ctx.act in the pipeline, outbound.enqueue elsewhere). */
export type Actions = ActionInput[];

/** A stable action id from parts; hashed when too long for a job id. */
export function actionId(...parts: (string | number)[]): string {
  const id = ['ama', ...parts].map((p) => String(p).replaceAll('/', '%2F')).join('/');
  return id.length <= 250 ? id : `ama/h/${createHash('sha1').update(id).digest('hex')}`;
}

/** Reads one AMA. */
export async function getAma(env: AmaEnv, id: string): Promise<Ama | null> {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(id)) return null;
  return amaFromHash(await env.deps.redis.hgetall(env.k.ama(id)));
}

/** Reads several AMAs in one round trip, skipping missing ones. */
export async function getAmas(env: AmaEnv, ids: string[]): Promise<Ama[]> {
  if (!ids.length) return [];
  const p = env.deps.redis.pipeline();
  for (const id of ids) p.hgetall(env.k.ama(id));
  const res = (await p.exec()) ?? [];
  return res.map(([, h]) => amaFromHash((h ?? {}) as Record<string, string>)).filter((a): a is Ama => a !== null);
}

/** Every AMA linked to a group, by start time (bounded by `limit`, newest last). */
export async function amasOfChat(env: AmaEnv, group: string, limit = 50): Promise<Ama[]> {
  const ids = await env.deps.redis.zrange(env.k.byChat(group), String(-limit), '-1');
  return getAmas(env, ids);
}

/** The live AMA of a group, if any. */
export async function liveAmaOf(env: AmaEnv, group: string): Promise<Ama | null> {
  const id = await env.deps.redis.get(env.k.live(group));
  return id ? getAma(env, id) : null;
}

/** Every live AMA, most recently opened first. */
export async function liveAmas(env: AmaEnv, limit = 50): Promise<Ama[]> {
  const ids = await env.deps.redis.zrevrange(env.k.liveAll(), '0', String(limit - 1));
  return (await getAmas(env, ids)).filter((a) => a.status === 'live');
}

/** The AMA a group's questions go to: the live one, else the next scheduled one. */
export async function intakeAmaOf(env: AmaEnv, group: string): Promise<Ama | null> {
  const live = await liveAmaOf(env, group);
  if (live?.status === 'live') return live;
  const list = await amasOfChat(env, group, 20);
  return list.filter((a) => a.status === 'scheduled').sort((a, b) => a.startsAt - b.startsAt)[0] ?? null;
}

/** The AMA a group's commands refer to: live, else next scheduled, else the most recently closed. */
export async function currentAmaOf(env: AmaEnv, group: string): Promise<Ama | null> {
  const live = await liveAmaOf(env, group);
  if (live?.status === 'live') return live;
  const list = await amasOfChat(env, group, 20);
  const next = list.filter((a) => a.status === 'scheduled').sort((a, b) => a.startsAt - b.startsAt)[0];
  if (next) return next;
  return list.filter((a) => a.status === 'closed').sort((a, b) => (b.closedAt ?? 0) - (a.closedAt ?? 0))[0] ?? null;
}

/** True when the AMA spans the group (any topic of it). */
export function amaSpans(ama: Ama, chat: string): boolean {
  const g = safeBase(chat);
  return ama.chats.some((c) => safeBase(c) === g);
}

/** The group of a chat id; the id itself when it is not a chat id. */
export function safeBase(chat: string): string {
  try {
    return baseChat(chat);
  } catch {
    return chat;
  }
}

/** How a host entry is shown in chat: `telegram:@hanna` as `@hanna`, an id as it is. */
export function hostLabel(entry: string): string {
  return entry.replace(/^[a-z]+:@/, '@');
}

/** True when `user` is named a host of the AMA (see hostEntryOf). */
export function namedHost(ama: Ama, user: Pick<ChatUser, 'id' | 'username'>): boolean {
  return hostEntryOf(ama, user) !== null;
}

/**
 * The host entry naming `user`, or null: a prefixed user id; a `platform:@username` by the id it was resolved to,
 * or — until it is resolved — by that username on that platform only (a namesake elsewhere is nobody's host). A
 * bare `@username` from before 0.2.2 counts on the platform of whoever scheduled the AMA.
 */
export function hostEntryOf(ama: Ama, user: Pick<ChatUser, 'id' | 'username'>): { entry: string; unresolved: boolean } | null {
  const id = user.id.toLowerCase();
  const platform = id.slice(0, id.indexOf(':'));
  const uname = user.username?.toLowerCase();
  const legacyPlatform = /^([a-z]+):user:/.exec(ama.createdBy)?.[1];
  for (const h of ama.hosts) {
    const x = h.trim().toLowerCase();
    if (x === id) return { entry: h, unresolved: false };
    const pinned = ama.hostIds?.[h];
    if (pinned) {
      if (pinned.toLowerCase() === id) return { entry: h, unresolved: false };
      continue;
    }
    const m = /^(?:([a-z]+):)?@(.+)$/.exec(x);
    if (m && uname && m[2] === uname && (m[1] ?? legacyPlatform) === platform) return { entry: h, unresolved: true };
  }
  return null;
}

/** Reads one question. */
export async function getQuestion(env: AmaEnv, amaId: string, n: number): Promise<Question | null> {
  return questionFromHash(await env.deps.redis.hgetall(env.k.q(amaId, n)));
}

/** Follows merges to the question that holds the asks now; null when there is none. */
export async function rootQuestion(env: AmaEnv, amaId: string, n: number): Promise<Question | null> {
  let q = await getQuestion(env, amaId, n);
  for (let hops = 0; q?.status === 'merged' && q.mergedInto !== undefined && hops < 20; hops++) q = await getQuestion(env, amaId, q.mergedInto);
  return q;
}

/** The asks of a question, oldest first. */
export async function asksOf(env: AmaEnv, amaId: string, n: number): Promise<Ask[]> {
  const raw = await env.deps.redis.lrange(env.k.asks(amaId, n), '0', '-1');
  return raw.map((r) => JSON.parse(r) as Ask);
}

/** Several questions with their asks in one round trip, in the order given. */
export async function questionsWithAsks(env: AmaEnv, amaId: string, ns: number[]): Promise<(Question & { asks: Ask[] })[]> {
  if (!ns.length) return [];
  const p = env.deps.redis.pipeline();
  for (const n of ns) p.hgetall(env.k.q(amaId, n)).lrange(env.k.asks(amaId, n), '0', '-1');
  const res = (await p.exec()) ?? [];
  const out: (Question & { asks: Ask[] })[] = [];
  for (let i = 0; i < ns.length; i++) {
    const q = questionFromHash((res[2 * i]?.[1] ?? {}) as Record<string, string>);
    if (!q) continue;
    out.push({ ...q, asks: ((res[2 * i + 1]?.[1] ?? []) as string[]).map((r) => JSON.parse(r) as Ask) });
  }
  return out;
}

/**
 * Takes an AMA's lock for the moderators' merges and splits (they must not interleave with each other; intake needs
 * no lock, see questions.ts). Rare operations, so a short polling wait is fine.
 */
export async function lockAma(env: AmaEnv, amaId: string, waitMs = 5000): Promise<{ release: () => Promise<void> }> {
  const { redis } = env.deps;
  const key = env.k.lock(amaId);
  const token = randomBytes(8).toString('hex');
  const deadline = Date.now() + waitMs;
  const release = async () => {
    await env.scripts.run('amaUnlock', [key], [token]);
  };
  let delay = 1;
  while (true) {
    if ((await redis.set(key, token, 'PX', 5000, 'NX')) === 'OK') return { release };
    if (Date.now() > deadline) {
      // A holder that died keeps the lock only for its 5 s TTL; waiting longer than that means overload, not a crash.
      env.deps.log.warn({ ama: amaId }, 'AMA lock wait exceeded; proceeding without it');
      return { release: async () => undefined };
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 20);
  }
}

/** How long an operation's result is remembered for redeliveries and client retries. */
const ONCE_TTL_S = 3 * 24 * 3600;

/**
 * Runs an operation that must not happen twice for the same event or request id (a redelivered `/ama schedule`,
 * an API retry with the same Idempotency-Key): the second run returns the first run's result.
 */
export async function once<T>(env: AmaEnv, opId: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!opId) return fn();
  const key = env.deps.keys.k('ama', 'op', opId);
  const prior = await env.deps.redis.get(key);
  if (prior) return JSON.parse(prior) as T;
  const result = await fn();
  await env.deps.redis.set(key, JSON.stringify(result ?? null), 'EX', ONCE_TTL_S);
  return result;
}

/** How a person is shown in public: `anonymous` for private asks that did not opt in. */
export function shownName(ask: Pick<Ask, 'anonymous' | 'userName'>): string {
  return ask.anonymous ? 'anonymous' : ask.userName || 'someone';
}
