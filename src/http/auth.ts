/** API authentication: the admin token, or a per-moderator token issued by the bot (stored hashed in Redis). */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

/** Who a valid token belongs to. */
export interface Principal {
  /** 'admin' for the admin token; a prefixed user id for a moderator token. */
  subject: string;
  admin: boolean;
  /** Chats a moderator token is limited to (empty for the admin). */
  chats: string[];
}

/** Constant-time string comparison (lengths are compared via digests so they leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Issues a moderator token valid for `ttlMs`; only its hash is stored. */
export async function issueToken(redis: Redis, keys: Keys, subject: string, chats: string[], ttlMs: number): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await redis.set(keys.k('apitoken', hash(token)), JSON.stringify({ subject, chats }), 'PX', ttlMs);
  return token;
}

/** Resolves a bearer token to its principal, or null. */
export async function verifyToken(redis: Redis, keys: Keys, adminToken: string | undefined, token: string | undefined): Promise<Principal | null> {
  if (!token || token.length > 512) return null;
  if (adminToken && safeEqual(token, adminToken)) return { subject: 'admin', admin: true, chats: [] };
  const raw = await redis.get(keys.k('apitoken', hash(token)));
  if (!raw) return null;
  const { subject, chats } = JSON.parse(raw) as { subject: string; chats: string[] };
  return { subject, admin: false, chats };
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

/** A signed-in browser: who it is and the CSRF token its state-changing requests must echo. */
export interface Session {
  principal: Principal;
  csrf: string;
  expiresAt: number;
}

/** How much longer an issued (moderator) token lives, in ms; null when it is unknown or expired. */
export async function tokenTtlMs(redis: Redis, keys: Keys, token: string): Promise<number | null> {
  if (!token || token.length > 512) return null;
  const ttl = await redis.pttl(keys.k('apitoken', hash(token)));
  return ttl > 0 ? ttl : null;
}

/** Starts a session for `principal` lasting `ttlMs`; the id goes in the http-only cookie, only its hash is stored. */
export async function createSession(redis: Redis, keys: Keys, principal: Principal, ttlMs: number, now = Date.now()): Promise<{ id: string; session: Session }> {
  const id = randomBytes(32).toString('base64url');
  const session: Session = { principal, csrf: randomBytes(24).toString('base64url'), expiresAt: now + ttlMs };
  await redis.set(keys.k('session', hash(id)), JSON.stringify(session), 'PX', Math.max(1, Math.round(ttlMs)));
  return { id, session };
}

/** The session a cookie value names, or null (unknown, expired or signed out). */
export async function readSession(redis: Redis, keys: Keys, id: string | undefined): Promise<Session | null> {
  if (!id || id.length > 128) return null;
  const raw = await redis.get(keys.k('session', hash(id)));
  return raw ? (JSON.parse(raw) as Session) : null;
}

/** Signs a session out. */
export async function endSession(redis: Redis, keys: Keys, id: string | undefined): Promise<void> {
  if (id && id.length <= 128) await redis.del(keys.k('session', hash(id)));
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
export function csrfOk(headers: Headers, session: Session): boolean {
  const sent = one(headers[CSRF_HEADER]);
  return Boolean(sent) && safeEqual(sent!, session.csrf) && sameOrigin(headers);
}
