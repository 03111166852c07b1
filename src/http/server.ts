/**
 * The one HTTP server (contract §6): health, metrics, the authenticated API, the queue board, the dashboard.
 * `/healthz` is open and answers from memory. `/metrics` and the detail of `/readyz` follow `http.metrics`: `loopback`
 * (the default: callers on this machine, or the admin token), `token` (the admin token) or `public`.
 */
import Fastify, { type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { AdapterStatus } from '../core/adapter.js';
import type { CoreDeps } from '../pipeline/context.js';
import { durationMs } from '../config/load.js';
import { bearerOf, csrfOk, SAFE_METHODS, sameOrigin, SESSION_COOKIE, type Principal, type Session } from './auth.js';
import { Authenticator } from './authenticate.js';
import type { CredentialLimits } from './limiter.js';
import type { TownhallMetrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on /api and /admin routes. */
    principal?: Principal;
  }
}

/** Route plugins get the core's dependencies. */
export type RoutePlugin = FastifyPluginAsync<{ deps: CoreDeps }>;

/** What the server needs from the process that runs it. */
export interface ServerOptions {
  deps: CoreDeps;
  log: Logger;
  metrics: TownhallMetrics;
  adminToken?: string | undefined;
  /** Health of each enabled adapter. */
  adapters: () => Record<string, AdapterStatus>;
  /** Queues shown on the board. */
  queues: Queue[];
  /** API route plugins, mounted under /api. */
  apiRoutes?: RoutePlugin[];
  /** Unauthenticated plugins mounted at the root (the dashboard's pages, the sandbox control routes). */
  publicRoutes?: FastifyPluginAsync[];
  /** Credential limiter buckets (defaults in limiter.ts). */
  credentialLimits?: CredentialLimits;
}

/** True for an address on this machine. */
export function isLoopback(ip: string): boolean {
  return ip === '::1' || /^127\./.test(ip) || /^::ffff:127\./.test(ip);
}

/** How long one /metrics rendering is reused: a scrape flood costs one collection a second, not one per request. */
const METRICS_REUSE_MS = 1000;

/** Builds the fastify server (not yet listening). */
export async function buildServer(opts: ServerOptions) {
  const { deps } = opts;
  const http = deps.config.http;
  // Request lines are debug noise at this volume; the child logger keeps warnings and errors. Behind a reverse
  // proxy, http.trustProxy says whose X-Forwarded-For to believe: req.ip is then the client's.
  const hops = http.trustProxy;
  const trustProxy = typeof hops === 'number' ? (_address: string, hop: number) => hop < hops : hops;
  const app = Fastify({ loggerInstance: opts.log.child({ component: 'http' }, { level: 'warn' }), bodyLimit: 256 * 1024, trustProxy });
  // Cookies carry the dashboard's session (src/http/dashboard); parsed for every route so /api and /admin see them.
  await app.register(cookie);
  const auth = new Authenticator(deps, { adminToken: opts.adminToken, standingMaxAgeMs: durationMs(http.standingMaxAge), ...(opts.credentialLimits ? { limits: opts.credentialLimits } : {}) });
  await auth.init();

  /** Whether the caller may see operational detail (metrics, readiness detail) under http.metrics; otherwise why not. */
  const operator = async (req: FastifyRequest): Promise<{ ok: true } | { ok: false; status: 401 | 403 | 429; error: string; retryAfterS?: number }> => {
    if (http.metrics === 'public' || (http.metrics === 'loopback' && isLoopback(req.ip))) return { ok: true };
    const where = http.metrics === 'token' ? 'the admin token' : 'this machine or the admin token';
    const bearer = bearerOf(req.headers.authorization);
    if (bearer === undefined) return { ok: false, status: 403, error: `forbidden: this answers ${where} only (http.metrics)` };
    const r = await auth.bearer(req.ip, bearer);
    if (r.ok) return r.principal.admin ? { ok: true } : { ok: false, status: 403, error: `forbidden: this answers ${where} only (http.metrics)` };
    return r;
  };

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (req, reply) => {
    let redisOk: boolean;
    try {
      redisOk = (await deps.redis.ping()) === 'PONG';
    } catch {
      redisOk = false;
    }
    const adapters = opts.adapters();
    const ready = redisOk && Object.values(adapters).every((a) => a.connected);
    // Which adapter has which problem is for operators; anyone may learn ready or not.
    const detail = (await operator(req)).ok;
    return reply.code(ready ? 200 : 503).send(detail ? { ready, redis: redisOk, adapters } : { ready });
  });
  let rendered: { at: number; text: Promise<string> } | undefined;
  app.get('/metrics', async (req, reply) => {
    const may = await operator(req);
    if (!may.ok) {
      if (may.retryAfterS) reply.header('retry-after', String(may.retryAfterS));
      return reply.code(may.status).send({ error: may.error });
    }
    if (!rendered || Date.now() - rendered.at > METRICS_REUSE_MS) rendered = { at: Date.now(), text: opts.metrics.registry.metrics() };
    reply.header('content-type', opts.metrics.registry.contentType);
    return rendered.text;
  });

  type Authenticated = { ok: true; principal: Principal; session?: Session } | { ok: false; status: 401 | 429; error: string; retryAfterS?: number };
  /** Bearer token first (API clients, through the credential limiter); else the dashboard's session cookie, which also needs CSRF proof on writes. */
  const authenticate = async (req: FastifyRequest): Promise<Authenticated> => {
    const bearer = bearerOf(req.headers.authorization);
    if (bearer !== undefined) return auth.bearer(req.ip, bearer);
    const s = await auth.session(req.cookies[SESSION_COOKIE]);
    return s ? { ok: true, principal: s.principal, session: s.session } : { ok: false, status: 401, error: 'unauthorized: send Authorization: Bearer <token>' };
  };
  const refuse = (reply: FastifyReply, r: Extract<Authenticated, { ok: false }>) => {
    if (r.retryAfterS) reply.header('retry-after', String(r.retryAfterS));
    return reply.code(r.status).send({ error: r.error });
  };

  await app.register(
    async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        const a = await authenticate(req);
        if (!a.ok) return refuse(reply, a);
        if (a.session && !SAFE_METHODS.has(req.method) && !csrfOk(req.headers, a.session)) {
          return reply.code(403).send({ error: 'forbidden: a signed-in browser must send the X-CSRF-Token header from the same origin' });
        }
        req.principal = a.principal;
      });
      for (const plugin of opts.apiRoutes ?? []) await api.register(plugin, { deps });
    },
    { prefix: '/api' },
  );

  if (opts.queues.length) {
    const { createBullBoard } = await import('@bull-board/api');
    const { BullMQAdapter } = await import('@bull-board/api/bullMQAdapter');
    const { FastifyAdapter } = await import('@bull-board/fastify');
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath('/admin/queues');
    createBullBoard({ queues: opts.queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })), serverAdapter: serverAdapter as never });
    await app.register(
      async (admin) => {
        admin.addHook('onRequest', async (req, reply) => {
          const a = await authenticate(req);
          if (!a.ok && a.status === 429) return refuse(reply, a);
          if (!a.ok || !a.principal.admin) {
            // A browser that is not signed in goes to the sign-in page and comes back here.
            if (!a.ok && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) return reply.redirect('/login?next=/admin/queues', 303);
            return reply.code(401).send({ error: 'unauthorized: the queue board is for the admin token' });
          }
          // The board's own pages cannot send the CSRF header; its session cookie is SameSite=Strict, and writes must come from this origin.
          if (a.session && !SAFE_METHODS.has(req.method) && !sameOrigin(req.headers)) return reply.code(403).send({ error: 'forbidden: cross-origin request' });
          req.principal = a.principal;
        });
        await admin.register(serverAdapter.registerPlugin());
      },
      { prefix: '/admin/queues' },
    );
  }
  for (const plugin of opts.publicRoutes ?? []) await app.register(plugin);
  return app;
}

/** The server type buildServer returns. */
export type TownhallServer = Awaited<ReturnType<typeof buildServer>>;
