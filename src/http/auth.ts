/**
 * Credentials and what they grant. Every credential the bot hands out — an API token, a one-time sign-in code, a
 * browser session — stores a Grant: who, in which role (admin, moderator of chats, host of AMAs), on what basis
 * (what is re-checked on every use, see standing.ts) and the admin-token generation it was issued under (a new admin
 * token starts a new generation, which ends every earlier grant). Only hashes of the secrets are stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

/** What a credential lets its holder do (checked by every /api and dashboard route, see access.ts). */
export type Role = 'admin' | 'moderator' | 'host';

/**
 * What a grant rests on, i.e. what is re-checked on each use: `operator` — given by the operator (the admin or the
 * CLI), valid until it expires; `standing` — the holder's moderator standing in its chats (a platform admin as the
 * adapters last reported, or a community role); `host` — hosting its AMAs while they are scheduled or live.
 */
export type Basis = 'operator' | 'standing' | 'host';

/** Who a valid credential belongs to, as re-checked for this request. */
export interface Principal {
  /** 'admin' for the admin token; a prefixed user id otherwise. */
  subject: string;
  role: Role;
  /** role === 'admin' (kept for the callers that only ask this). */
  admin: boolean;
  /** Chats the principal may see: a moderator's own, a host's AMAs' chats (empty for the admin: all). */
  chats: string[];
  /** AMAs a host may read and answer (empty for other roles). */
  amas: string[];
}

/** What is stored for a credential. */
export interface Grant {
  subject: string;
  role: Role;
  chats: string[];
  amas: string[];
  basis: Basis;
  /** The admin-token generation it was issued under. */
  gen: string;
  /** When it was issued (ms). */
  at: number;
}

/** Constant-time string comparison (lengths are compared via digests so they leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** The stored name of a secret: its SHA-256 (the secrets are 192+ random bits, so no slow hash is needed). */
export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

const newSecret = () => randomBytes(24).toString('base64url');

/** Longest credential looked at; anything longer is refused unread. */
export const MAX_CREDENTIAL_CHARS = 512;

/** Where the credentials live. */
export function authKeys(keys: Keys) {
  return {
    gen: keys.k('auth', 'gen'),
    adminFingerprint: keys.k('auth', 'adminfp'),
    token: (hash: string) => keys.k('apitoken', hash),
    code: (hash: string) => keys.k('auth', 'code', hash),
    session: (hash: string) => keys.k('session', hash),
    /** API tokens a session minted, revoked with it. */
    sessionTokens: (hash: string) => keys.k('session', hash, 'tokens'),
  };
}

// Sets the admin token's fingerprint; a different one than stored starts a new generation (every grant ends).
const SYNC_GEN = `
local fp = redis.call('GET', KEYS[1])
if fp ~= ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1])
  if fp then redis.call('SET', KEYS[2], ARGV[2]) else redis.call('SET', KEYS[2], ARGV[2], 'NX') end
end
return redis.call('GET', KEYS[2])`;

/** The fingerprint of the admin token kept in Redis: a hash under a label, so it is not the token's own hash. */
export function adminFingerprint(adminToken: string | undefined): string {
  return adminToken ? createHash('sha256').update(`townhall-admin-token:${adminToken}`).digest('hex').slice(0, 32) : 'none';
}

/** Records the admin token the HTTP server runs with and returns the current generation (a new one if the token changed). */
export async function syncGeneration(redis: Redis, keys: Keys, adminToken: string | undefined): Promise<string> {
  const ak = authKeys(keys);
  return String(await redis.eval(SYNC_GEN, 2, ak.adminFingerprint, ak.gen, adminFingerprint(adminToken), randomBytes(12).toString('base64url')));
}

/** The current generation, created when none exists yet (a core process may issue before any HTTP server started). */
export async function currentGeneration(redis: Redis, keys: Keys): Promise<string> {
  const gen = authKeys(keys).gen;
  const have = await redis.get(gen);
  if (have) return have;
  await redis.set(gen, randomBytes(12).toString('base64url'), 'NX');
  return (await redis.get(gen)) ?? '';
}

/** A grant as issued now under the current generation. */
export async function newGrant(redis: Redis, keys: Keys, g: Omit<Grant, 'gen' | 'at' | 'amas'> & { amas?: string[] }, now = Date.now()): Promise<Grant> {
  return { subject: g.subject, role: g.role, chats: g.chats, amas: g.amas ?? [], basis: g.basis, gen: await currentGeneration(redis, keys), at: now };
}

/** Parses a stored grant; null for anything written before grants had a role and a generation. */
export function parseGrant(raw: string | null | undefined): Grant | null {
  if (!raw) return null;
  try {
    const g = JSON.parse(raw) as Partial<Grant>;
    if (typeof g.subject !== 'string' || typeof g.gen !== 'string' || !Array.isArray(g.chats)) return null;
    if (g.role !== 'admin' && g.role !== 'moderator' && g.role !== 'host') return null;
    if (g.basis !== 'operator' && g.basis !== 'standing' && g.basis !== 'host') return null;
    return { subject: g.subject, role: g.role, chats: g.chats, amas: Array.isArray(g.amas) ? g.amas : [], basis: g.basis, gen: g.gen, at: Number(g.at) || 0 };
  } catch {
    return null;
  }
}

/**
 * Issues an API bearer token valid for `ttlMs`; only its hash is stored. Without a grant it is an operator's
 * moderator token for `chats` (as the CLI and tests issue them).
 */
export async function issueToken(redis: Redis, keys: Keys, subject: string, chats: string[], ttlMs: number, grant?: Grant): Promise<string> {
  const token = newSecret();
  const g = grant ?? (await newGrant(redis, keys, { subject, role: 'moderator', chats, basis: 'operator' }));
  await redis.set(authKeys(keys).token(hashSecret(token)), JSON.stringify(g), 'PX', Math.max(1, Math.round(ttlMs)));
  return token;
}

/** Issues a one-time sign-in code for a grant (what a /dashboard link carries): it signs in once, then it is gone. */
export async function issueSignInCode(redis: Redis, keys: Keys, grant: Grant, ttlMs: number): Promise<string> {
  const code = newSecret();
  await redis.set(authKeys(keys).code(hashSecret(code)), JSON.stringify(grant), 'PX', Math.max(1, Math.round(ttlMs)));
  return code;
}

/** Takes a sign-in code: its grant and remaining life, and the code is deleted in the same step (GETDEL), so it works once. */
export async function redeemSignInCode(redis: Redis, keys: Keys, code: string): Promise<{ grant: Grant; ttlMs: number } | null> {
  if (!code || code.length > MAX_CREDENTIAL_CHARS) return null;
  const key = authKeys(keys).code(hashSecret(code));
  const res = await redis.multi().pttl(key).getdel(key).exec();
  const ttl = Number(res?.[0]?.[1] ?? -2);
  const grant = parseGrant(res?.[1]?.[1] as string | null);
  return grant && ttl > 0 ? { grant, ttlMs: ttl } : null;
}

/** The grant of an API token and how much longer it lives, or null. */
export async function readToken(redis: Redis, keys: Keys, token: string): Promise<{ grant: Grant; ttlMs: number } | null> {
  if (!token || token.length > MAX_CREDENTIAL_CHARS) return null;
  const key = authKeys(keys).token(hashSecret(token));
  const res = await redis.multi().get(key).pttl(key).exec();
  const grant = parseGrant(res?.[0]?.[1] as string | null);
  const ttl = Number(res?.[1]?.[1] ?? -2);
  return grant && ttl > 0 ? { grant, ttlMs: ttl } : null;
}

/** The bearer token of an Authorization header, if any. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

/** The cookie that carries a browser's session id (http-only). */
export const SESSION_COOKIE = 'townhall_session';
/** The readable cookie that carries the session's CSRF token (double submit: the page echoes it in CSRF_HEADER). */
export const CSRF_COOKIE = 'townhall_csrf';
/** The header a cookie-authenticated state-changing request must carry. */
export const CSRF_HEADER = 'x-csrf-token';

/** Default length of a dashboard session. */
export const SESSION_TTL_MS = 12 * 3600_000;

/** A signed-in browser: what it was granted and the CSRF token its state-changing requests must echo. */
export interface Session {
  grant: Grant;
  csrf: string;
  expiresAt: number;
}

/** Starts a session for a grant lasting `ttlMs`; the id goes in the http-only cookie, only its hash is stored. */
export async function createSession(redis: Redis, keys: Keys, grant: Grant, ttlMs: number, now = Date.now()): Promise<{ id: string; session: Session }> {
  const id = randomBytes(32).toString('base64url');
  const session: Session = { grant, csrf: randomBytes(24).toString('base64url'), expiresAt: now + ttlMs };
  await redis.set(authKeys(keys).session(hashSecret(id)), JSON.stringify(session), 'PX', Math.max(1, Math.round(ttlMs)));
  return { id, session };
}

/** The session a cookie value names, or null (unknown, expired, signed out, or written before sessions had grants). */
export async function readSession(redis: Redis, keys: Keys, id: string | undefined): Promise<Session | null> {
  if (!id || id.length > 128) return null;
  const raw = await redis.get(authKeys(keys).session(hashSecret(id)));
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as { grant?: unknown; csrf?: unknown; expiresAt?: unknown };
    const grant = parseGrant(JSON.stringify(s.grant ?? null));
    return grant && typeof s.csrf === 'string' ? { grant, csrf: s.csrf, expiresAt: Number(s.expiresAt) || 0 } : null;
  } catch {
    return null;
  }
}

/** Mints an API token for a signed-in session (no longer than it); signing out revokes it. */
export async function mintSessionToken(redis: Redis, keys: Keys, sessionId: string, session: Session, now = Date.now()): Promise<{ token: string; expiresAt: number } | null> {
  const ttl = session.expiresAt - now;
  if (ttl <= 0) return null;
  const ak = authKeys(keys);
  const token = newSecret();
  const sh = hashSecret(sessionId);
  await redis
    .multi()
    .set(ak.token(hashSecret(token)), JSON.stringify(session.grant), 'PX', ttl)
    .sadd(ak.sessionTokens(sh), hashSecret(token))
    .pexpire(ak.sessionTokens(sh), ttl)
    .exec();
  return { token, expiresAt: session.expiresAt };
}

/** Signs a session out, with the API tokens it minted. */
export async function endSession(redis: Redis, keys: Keys, id: string | undefined): Promise<void> {
  if (!id || id.length > 128) return;
  const ak = authKeys(keys);
  const sh = hashSecret(id);
  const minted = await redis.smembers(ak.sessionTokens(sh));
  await redis.del(ak.session(sh), ak.sessionTokens(sh), ...minted.map((h) => ak.token(h)));
}

/** Methods that change nothing, so they need no CSRF token. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type Headers = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** False when the browser says the request came from another site (Origin or Sec-Fetch-Site); true when it cannot tell. */
export function sameOrigin(headers: Headers): boolean {
  const site = one(headers['sec-fetch-site']);
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = one(headers.origin);
  if (!origin) return true;
  const host = one(headers['x-forwarded-host'])?.split(',')[0]?.trim() ?? one(headers.host);
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Whether a cookie-authenticated state-changing request proves it came from the dashboard: same origin and the session's CSRF token in the header. */
export function csrfOk(headers: Headers, session: Pick<Session, 'csrf'>): boolean {
  const sent = one(headers[CSRF_HEADER]);
  return sent !== undefined && safeEqual(sent, session.csrf) && sameOrigin(headers);
}
