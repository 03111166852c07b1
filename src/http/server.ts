/** The one HTTP server (contract §6): health, metrics, the authenticated API, the queue board, the dashboard. */
import Fastify, { type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { AdapterStatus } from '../../adapters/types.js';
import type { CoreDeps } from '../pipeline/context.js';
import { bearerOf, verifyToken, type Principal } from './auth.js';
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
  const app = Fastify({ loggerInstance: opts.log.child({ component: 'http' }), disableRequestLogging: true, bodyLimit: 256 * 1024 });
  const { deps } = opts;

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    let redisOk = false;
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

  const authenticate = async (req: FastifyRequest): Promise<Principal | null> => {
    const cookieToken = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.townhall_session;
    return verifyToken(deps.redis, deps.keys, opts.adminToken, bearerOf(req.headers.authorization) ?? cookieToken);
  };

  await app.register(
    async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        const p = await authenticate(req);
        if (!p) return reply.code(401).send({ error: 'unauthorized: send Authorization: Bearer <token>' });
        req.principal = p;
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
          const p = await authenticate(req);
          if (!p?.admin) return reply.code(401).send({ error: 'unauthorized: the queue board is for the admin token' });
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
