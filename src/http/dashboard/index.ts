/**
 * The host and moderator dashboard (contract §6 `/`): sign-in, sessions, the static single-page app, live updates
 * over server-sent events, and the few dashboard-only endpoints (activity chart, quiet-mode switch).
 *
 *   await app.register(dashboardRoutes, { deps, adminToken });   // at the root of the one server
 *
 * Pages and routes:
 *   GET  /login[?token=…&next=…]   sign-in page (public, as are its static assets)
 *   POST /login {token}            the admin token, a /dashboard link's one-time code (used up) or an API token ->
 *                                  session cookie (http-only, SameSite=Strict); through the credential limiter
 *   POST /logout                   ends the session and the API tokens it minted
 *   POST /dashboard/token          mints an API bearer token with the session's role (no longer than the session)
 *   GET  /                         the app (hash routes #/ama, #/chats, #/moderation); sign-in page when signed out
 *   GET  /dashboard/session        who is signed in, and the CSRF token to echo in X-CSRF-Token
 *   GET  /dashboard/live?ama=&chats=   server-sent events: `ama` and `chat` nudges; the page re-fetches through /api
 *   GET  /dashboard/activity?window=&chat=   messages per minute per platform and questions per minute
 *   GET|POST /dashboard/quiet      a chat's quiet mode (new members muted)
 *   GET  /dashboard/static/<file>  assets; uPlot comes from node_modules (no CDN)
 * Every state-changing request of a signed-in browser carries the session's CSRF token in X-CSRF-Token
 * (checked here and by the /api hook in server.ts). Every request re-checks the session's grant (standing.ts):
 * a demoted moderator, a host whose AMA ended, or a changed admin token ends it. Hosts see their AMAs only.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseDuration } from '../../commands/parser.js';
import { baseChat } from '../../core/ids.js';
import { amaEnv, amaGet } from '../../features/ama/index.js';
import { durationMs } from '../../config/load.js';
import { modKeys } from '../../features/moderation/index.js';
import { auditInto } from '../../pipeline/audit.js';
import type { CoreDeps } from '../../pipeline/context.js';
import { groupOf, mayModerateChat, maySeeAma } from '../access.js';
import { createSession, CSRF_COOKIE, csrfOk, endSession, mintSessionToken, readSession, sameOrigin, SESSION_COOKIE, SESSION_TTL_MS, type Principal, type Session } from '../auth.js';
import { Authenticator } from '../authenticate.js';
import { DEFAULT_CREDENTIAL_LIMITS, type CredentialLimits } from '../limiter.js';
import { readActivity } from './activity.js';
import { LiveHub, type LiveClient, type LiveInterest } from './live.js';
import { capabilitiesOf, CHAT_ID_PATTERN, isPlatform } from '../../platform/index.js';

/** Options of the dashboard plugin. */
export interface DashboardOptions {
  deps: CoreDeps;
  /** TOWNHALL_ADMIN_TOKEN; without it only /dashboard links and API tokens sign in. */
  adminToken?: string | undefined;
  /** Longest session (default 12 h; one signed in with an API token also ends when the token does). */
  sessionTtlMs?: number;
  /** Failed credential checks per client address per 10 minutes before 429 (default 10; the limiter is shared with /api). */
  maxFailedLogins?: number;
  /** The credential limiter's buckets (defaults in limiter.ts; maxFailedLogins sets the per-source one). */
  credentialLimits?: CredentialLimits;
  /** SSE heartbeat interval; each heartbeat also re-checks the session (default 20 s). */
  heartbeatMs?: number;
}

export { SESSION_TTL_MS };

const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
/** Assets the signed-out sign-in page needs; everything else needs a session. */
const PUBLIC_ASSETS = new Set(['login.js', 'theme.js', 'style.css', 'icon.svg']);
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(file: string): Asset {
  const body = readFileSync(file);
  return { body, type: TYPES[path.extname(file)] ?? 'application/octet-stream', etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"` };
}

/** Loads the static files once (they are small); uPlot from node_modules under vendor names. */
function loadAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const name of readdirSync(STATIC_DIR)) if (TYPES[path.extname(name)]) out.set(name, asset(path.join(STATIC_DIR, name)));
  const require = createRequire(import.meta.url);
  const uplotDir = path.dirname(require.resolve('uplot/package.json'));
  out.set('uplot.js', asset(path.join(uplotDir, 'dist', 'uPlot.iife.min.js')));
  out.set('uplot.css', asset(path.join(uplotDir, 'dist', 'uPlot.min.css')));
  return out;
}

/** Whether a principal may see a chat's views (the admin: all; a moderator: its own chats' groups; a host: none). */
export function maySeeChat(p: Principal, chat: string): boolean {
  return mayModerateChat(p, chat);
}

/** A relative path to return to after signing in; anything else becomes `/`. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[^\s\\]*$/.test(next) && next.length < 300 ? next : '/';
}

const CHAT_RE = new RegExp(CHAT_ID_PATTERN);
const LoginBody = z.object({ token: z.string().trim().min(1).max(512), next: z.string().max(300).optional() });
const QuietBody = z.object({ chat: z.string().regex(CHAT_RE), on: z.boolean(), minutes: z.number().int().min(1).max(7 * 24 * 60).optional() });

/** The dashboard plugin; mount it at the root of the server built by `buildServer`. */
export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, opts) => {
  const { deps } = opts;
  const { redis, keys } = deps;
  const sessionTtl = opts.sessionTtlMs ?? SESSION_TTL_MS;
  const limits = opts.credentialLimits ?? { ...DEFAULT_CREDENTIAL_LIMITS, perSource: { ...DEFAULT_CREDENTIAL_LIMITS.perSource, points: opts.maxFailedLogins ?? DEFAULT_CREDENTIAL_LIMITS.perSource.points } };
  const auth = new Authenticator(deps, { adminToken: opts.adminToken, standingMaxAgeMs: durationMs(deps.config.http.standingMaxAge), limits });
  await auth.init();
  const assets = loadAssets();
  const hub = new LiveHub(redis, keys, deps.log);
  const env = amaEnv(deps);
  const mk = modKeys(keys);
  if (!app.hasRequestDecorator('cookies')) await app.register(cookie);

  // Headers for every dashboard response (this plugin's scope only; the API keeps its own).
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });

  const isHttps = (req: FastifyRequest) => req.protocol === 'https' || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
  /** The request's session with its grant re-checked now (null when there is none or it no longer stands). */
  const sessionOf = async (req: FastifyRequest): Promise<{ id: string; session: Session; principal: Principal } | null> => {
    const id = req.cookies[SESSION_COOKIE];
    const s = id ? await auth.session(id) : null;
    return s && id ? { id, ...s } : null;
  };
  /** The session, or a 401 already sent. */
  const requireSession = async (req: FastifyRequest, reply: FastifyReply) => {
    const s = await sessionOf(req);
    if (!s) void reply.code(401).header('cache-control', 'no-store').send({ error: 'unauthorized: sign in at /login' });
    return s;
  };
  /** The session of a state-changing request with its CSRF proof, or an error already sent. */
  const requireWrite = async (req: FastifyRequest, reply: FastifyReply) => {
    const s = await requireSession(req, reply);
    if (s && !csrfOk(req.headers, s.session)) {
      void reply.code(403).send({ error: 'forbidden: send the X-CSRF-Token header from the same origin' });
      return null;
    }
    return s;
  };
  const sendAsset = (req: FastifyRequest, reply: FastifyReply, a: Asset) => {
    reply.header('content-type', a.type).header('etag', a.etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
    return reply.send(a.body);
  };
  const page = (name: string) => {
    const a = assets.get(name);
    if (!a) throw new Error(`dashboard asset ${name} is missing`);
    return a;
  };

  // ---- sign-in -----------------------------------------------------------------------------------------

  app.get('/login', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return sendAsset(req, reply, page('login.html'));
  });

  app.post('/login', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // Signing someone in from another site (login CSRF) is refused; SameSite cookies alone do not cover it.
    if (!sameOrigin(req.headers)) return reply.code(403).send({ error: 'forbidden: cross-origin sign-in' });
    const parsed = LoginBody.safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: 'send {"token": "..."}' });
    // Limited before anything is compared; a link's code is used up by this, whatever follows.
    const r = await auth.signIn(req.ip, parsed.data.token);
    if (!r.ok) {
      if (r.status === 429) return reply.code(429).header('retry-after', String(r.retryAfterS ?? 60)).send({ error: 'too many failed sign-ins; wait a few minutes' });
      return reply.code(401).send({ error: 'That token is not valid (wrong, used, or the link expired). Ask the bot for a new one with /dashboard.' });
    }
    const { principal } = r;
    // A session signed in with an API token ends when the token does; a link's session lasts sessionTtl, re-checked on every request.
    const ttl = r.via === 'token' && r.ttlMs !== null ? Math.min(sessionTtl, r.ttlMs) : sessionTtl;
    const old = req.cookies[SESSION_COOKIE];
    if (old) await endSession(redis, keys, old);
    const { id, session } = await createSession(redis, keys, r.grant, ttl, Date.now());
    const secure = isHttps(req);
    const maxAge = Math.floor(ttl / 1000);
    reply.setCookie(SESSION_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'strict', secure, maxAge });
    reply.setCookie(CSRF_COOKIE, session.csrf, { path: '/', httpOnly: false, sameSite: 'strict', secure, maxAge });
    return { ok: true, next: safeNext(parsed.data.next), subject: principal.subject, admin: principal.admin, role: principal.role };
  });

  app.post('/logout', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // Not re-checked: a session whose grant no longer stands can still be signed out (and its tokens revoked).
    const id = req.cookies[SESSION_COOKIE];
    const s = await readSession(redis, keys, id);
    if (s && !csrfOk(req.headers, s)) return reply.code(403).send({ error: 'forbidden: send the X-CSRF-Token header from the same origin' });
    if (s) await endSession(redis, keys, id);
    reply.clearCookie(SESSION_COOKIE, { path: '/' }).clearCookie(CSRF_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  // ---- the app -----------------------------------------------------------------------------------------

  app.get('/', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!(await sessionOf(req))) return reply.redirect('/login', 303);
    return sendAsset(req, reply, page('index.html'));
  });

  app.get<{ Params: { file: string } }>('/dashboard/static/:file', async (req, reply) => {
    const a = assets.get(req.params.file);
    if (!a || req.params.file.endsWith('.html')) return reply.code(404).send({ error: 'not found' });
    if (!PUBLIC_ASSETS.has(req.params.file) && !(await requireSession(req, reply))) return reply;
    return sendAsset(req, reply, a);
  });

  app.get('/dashboard/session', async (req, reply) => {
    const s = await requireSession(req, reply);
    if (!s) return reply;
    reply.header('cache-control', 'no-store');
    const { principal } = s;
    const { csrf, expiresAt } = s.session;
    return { subject: principal.subject, admin: principal.admin, role: principal.role, chats: principal.chats, amas: principal.amas, csrf, expiresAt };
  });

  app.post('/dashboard/token', async (req, reply) => {
    const s = await requireWrite(req, reply);
    if (!s) return reply;
    reply.header('cache-control', 'no-store');
    const minted = await mintSessionToken(redis, keys, s.id, s.session);
    if (!minted) return reply.code(401).send({ error: 'unauthorized: the session has ended' });
    return { token: minted.token, role: s.principal.role, expiresAt: minted.expiresAt };
  });

  // ---- live updates ------------------------------------------------------------------------------------

  const sids = new Map<LiveClient, string>();
  const heartbeat = setInterval(() => {
    for (const client of hub.list()) {
      const sid = sids.get(client);
      // Re-checked like a request: a demoted moderator's or an ended AMA host's stream is closed.
      void auth.session(sid).then(
        (s) => {
          if (s) return client.send('ping', { at: Date.now() });
          client.send('signedout', {});
          client.end();
        },
        () => undefined,
      );
    }
  }, opts.heartbeatMs ?? 20_000);
  heartbeat.unref();
  app.addHook('preClose', async () => {
    clearInterval(heartbeat);
    await hub.close();
  });

  app.get<{ Querystring: { ama?: string; chats?: string } }>('/dashboard/live', async (req, reply) => {
    const s = await requireSession(req, reply);
    if (!s) return reply;
    const p = s.principal;
    const interest: LiveInterest = { maySee: (group) => maySeeChat(p, group) };
    if (req.query.ama) {
      const amaId = String(req.query.ama).slice(0, 64);
      let chats: string[];
      try {
        chats = (await amaGet(env, amaId)).chats;
      } catch {
        return reply.code(404).send({ error: 'no such AMA' });
      }
      if (!maySeeAma(p, { id: amaId, chats })) return reply.code(404).send({ error: 'no such AMA' });
      const groups = new Set(chats.map(groupOf).filter((g): g is string => g !== null));
      const addressed = new Set(chats.map((c) => c.slice(0, c.indexOf(':'))).filter((pf) => isPlatform(pf) && capabilitiesOf(pf).addressedOnly));
      interest.ama = { id: String(req.query.ama), groups, addressed };
    }
    if (req.query.chats !== undefined) {
      interest.chats = new Set(
        String(req.query.chats)
          .split(',')
          .slice(0, 100)
          .map((c) => groupOf(c.trim()))
          .filter((g): g is string => g !== null),
      );
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      // Reverse proxies (nginx) must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const client: LiveClient = {
      interest,
      send: (event, data) => {
        if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      end: () => res.end(),
    };
    sids.set(client, s.id);
    res.on('close', () => {
      hub.remove(client);
      sids.delete(client);
    });
    try {
      await hub.add(client);
    } catch {
      res.end();
      return;
    }
    client.send('ready', { at: Date.now() });
  });

  // ---- chats view: activity ------------------------------------------------------------------------------

  app.get<{ Querystring: { window?: string; chat?: string } }>('/dashboard/activity', async (req, reply) => {
    const s = await requireSession(req, reply);
    if (!s) return reply;
    const p = s.principal;
    if (p.role === 'host') return reply.code(403).send({ error: 'forbidden: a host link reads and answers its AMA only' });
    const win = parseDuration(req.query.window ?? '2h');
    if (win === null || win > 24 * 3600_000) return reply.code(400).send({ error: 'window must be a duration up to 24h, like 30m or 2h' });
    let chats: string[];
    if (req.query.chat) {
      if (!CHAT_RE.test(req.query.chat)) return reply.code(400).send({ error: 'chat must be a prefixed chat id like telegram:-100123' });
      if (!maySeeChat(p, req.query.chat)) return reply.code(403).send({ error: 'not your chat' });
      chats = [req.query.chat];
    } else {
      chats = (await redis.zrevrange(keys.k('chats'), '0', '199')).filter((c) => maySeeChat(p, c));
    }
    const now = deps.now();
    return readActivity(redis, keys, chats, now - win, now + 1, Math.min(20_000, deps.config.core.history.maxMessages));
  });

  // ---- moderation view: quiet mode -------------------------------------------------------------------------

  app.get<{ Querystring: { chat?: string } }>('/dashboard/quiet', async (req, reply) => {
    const s = await requireSession(req, reply);
    if (!s) return reply;
    const chat = req.query.chat ?? '';
    if (!CHAT_RE.test(chat)) return reply.code(400).send({ error: 'chat must be a prefixed chat id like telegram:-100123' });
    if (!maySeeChat(s.principal, chat)) return reply.code(403).send({ error: 'not your chat' });
    const group = baseChat(chat);
    const raw = await redis.get(mk.quiet(group));
    const q = raw ? (JSON.parse(raw) as { until?: number; by?: string }) : null;
    return { chat: group, on: Boolean(q), ...(q?.until ? { until: q.until } : {}), ...(q?.by ? { by: q.by } : {}) };
  });

  app.post('/dashboard/quiet', async (req, reply) => {
    const s = await requireWrite(req, reply);
    if (!s) return reply;
    const body = QuietBody.safeParse(req.body ?? {});
    if (!body.success) return reply.code(400).send({ error: 'send {"chat": "telegram:-100…", "on": true|false, "minutes"?: n}' });
    const p = s.principal;
    if (!maySeeChat(p, body.data.chat)) return reply.code(403).send({ error: 'not your chat' });
    const group = baseChat(body.data.chat);
    const by = p.admin ? 'dashboard:admin' : p.subject;
    const now = deps.now();
    const tx = redis.multi();
    let until: number | undefined;
    if (body.data.on) {
      const ms = (body.data.minutes ?? 30) * 60_000;
      until = now + ms;
      // The same record /quiet on writes, so the protection hook and /quiet read it alike.
      tx.set(mk.quiet(group), JSON.stringify({ by, until, reason: 'by a moderator' }), 'PX', ms);
    } else {
      tx.del(mk.quiet(group));
    }
    auditInto(tx, keys, group, { action: 'quiet', by, chat: group, reason: body.data.on ? 'quiet mode on (dashboard)' : 'quiet mode off (dashboard)', meta: { on: body.data.on, ...(until ? { until } : {}) }, at: now });
    await tx.exec();
    return { chat: group, on: body.data.on, ...(until ? { until } : {}) };
  });
};

export { dashboardCommand, DASHBOARD_LINK_TTL_MS, type DashboardCommandOptions } from './command.js';
export { liveNotesFeature, publishLive, liveChannel, LiveHub, type LiveNote } from './live.js';
export { readActivity, type Activity } from './activity.js';
