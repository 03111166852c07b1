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
