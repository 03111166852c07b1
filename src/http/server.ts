/** The one HTTP server (contract §6): health, metrics, the authenticated API, the queue board, the dashboard. */
import Fastify, { type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { AdapterStatus } from '../core/adapter.js';
import type { CoreDeps } from '../pipeline/context.js';
import { bearerOf, csrfOk, readSession, SAFE_METHODS, sameOrigin, SESSION_COOKIE, verifyToken, type Principal, type Session } from './auth.js';
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
}

/** Builds the fastify server (not yet listening). */
export async function buildServer(opts: ServerOptions) {
  // Request lines are debug noise at this volume; the child logger keeps warnings and errors.
  const app = Fastify({ loggerInstance: opts.log.child({ component: 'http' }, { level: 'warn' }), bodyLimit: 256 * 1024 });
  const { deps } = opts;
  // Cookies carry the dashboard's session (src/http/dashboard); parsed for every route so /api and /admin see them.
  await app.register(cookie);

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    let redisOk: boolean;
    try {
      redisOk = (await deps.redis.ping()) === 'PONG';
    } catch {
      redisOk = false;
    }
    const adapters = opts.adapters();
    const ready = redisOk && Object.values(adapters).every((a) => a.connected);
    return reply.code(ready ? 200 : 503).send({ ready, redis: redisOk, adapters });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });

  /** Bearer token first (API clients); else the dashboard's session cookie, which also needs CSRF proof on writes. */
  const authenticate = async (req: FastifyRequest): Promise<{ principal: Principal; session?: Session } | null> => {
    const bearer = bearerOf(req.headers.authorization);
    if (bearer !== undefined) {
      const principal = await verifyToken(deps.redis, deps.keys, opts.adminToken, bearer);
      return principal ? { principal } : null;
    }
    const session = await readSession(deps.redis, deps.keys, req.cookies[SESSION_COOKIE]);
    return session ? { principal: session.principal, session } : null;
  };

  await app.register(
    async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        const auth = await authenticate(req);
        if (!auth) return reply.code(401).send({ error: 'unauthorized: send Authorization: Bearer <token>' });
        if (auth.session && !SAFE_METHODS.has(req.method) && !csrfOk(req.headers, auth.session)) {
          return reply.code(403).send({ error: 'forbidden: a signed-in browser must send the X-CSRF-Token header from the same origin' });
        }
        req.principal = auth.principal;
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
          const auth = await authenticate(req);
          if (!auth?.principal.admin) {
            // A browser that is not signed in goes to the sign-in page and comes back here.
            if (!auth && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) return reply.redirect('/login?next=/admin/queues', 303);
            return reply.code(401).send({ error: 'unauthorized: the queue board is for the admin token' });
          }
          // The board's own pages cannot send the CSRF header; its session cookie is SameSite=Strict, and writes must come from this origin.
          if (auth.session && !SAFE_METHODS.has(req.method) && !sameOrigin(req.headers)) return reply.code(403).send({ error: 'forbidden: cross-origin request' });
          req.principal = auth.principal;
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
