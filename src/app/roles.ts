/** Runs the parts of Townhall a process is asked to run: core workers, outbound runners, adapters' inbound, scheduler, HTTP. */
import type { FastifyPluginAsync } from 'fastify';
import type { PlatformAdapter } from '../core/adapter.js';
import { buildServer, type RoutePlugin, type TownhallServer } from '../http/server.js';
import { startInboundWorker } from '../queue/inbound-worker.js';
import { allQueues } from '../queue/names.js';
import { startOutboundRunner } from '../queue/outbound.js';
import { buildCore, type Core } from './core.js';
import type { Runtime } from './runtime.js';
import { Queue } from 'bullmq';
import { createRedis } from '../redis/connect.js';
import { startDigestScheduler } from '../features/history/scheduled.js';
import { startAmaScheduler } from '../features/ama/index.js';
import { configureQuestionEmbeddings, warmUpMerging } from '../features/ama/embeddings.js';

/** What a worker process can do. */
export type Role = 'core' | 'outbound' | 'scheduler' | 'inbound' | 'http';

/** A running process's parts. */
export interface Running {
  core?: Core;
  server?: TownhallServer;
  /** The address the HTTP server listens on. */
  httpUrl?: string;
  close(): Promise<void>;
}

/** Starts the given roles; `close()` stops them in reverse order (inbound first, so nothing new arrives). */
export async function runRoles(
  rt: Runtime,
  opts: {
    roles: Role[];
    adapters: PlatformAdapter[];
    http?: { port: number; host: string; publicRoutes?: FastifyPluginAsync[]; apiRoutes?: RoutePlugin[]; publicUrl?: string };
    extraClosers?: (() => Promise<void>)[];
    /** Overrides TOWNHALL_ADMIN_TOKEN (the sandbox makes one up when none is set). */
    adminToken?: string;
  },
): Promise<Running> {
  const roles = new Set(opts.roles);
  const closers: (() => Promise<void>)[] = [...(opts.extraClosers ?? [])];
  const running: Running = { close: async () => undefined };
  const { log, metrics, keys, url } = rt;

  if (roles.has('core')) {
    configureQuestionEmbeddings(rt.config, rt.env, log);
    const warm = await warmUpMerging(rt.deps);
    log.info(warm, 'question-merging resources loaded');
    const core = buildCore(rt.deps, { llmApiKey: rt.env.LLM_API_KEY, publicUrl: rt.config.http.publicUrl ?? opts.http?.publicUrl });
    running.core = core;
    const w = startInboundWorker({ url, keys, handle: core.handleEvent, log, concurrency: rt.config.core.concurrency, onMalformed: () => metrics.malformed.inc() });
    closers.push(w.close);
    log.info({ concurrency: rt.config.core.concurrency }, 'core worker started');
  }
  if (roles.has('outbound') || roles.has('inbound')) {
    for (const a of opts.adapters) await a.init();
  }
  if (roles.has('outbound')) {
    for (const adapter of opts.adapters) {
      const r = startOutboundRunner({ adapter, url, keys, log, onOutcome: (a, outcome) => metrics.outbound.inc({ platform: a.platform, outcome }) });
      closers.push(r.close);
    }
    log.info({ platforms: opts.adapters.map((a) => a.platform) }, 'outbound runners started');
  }
  if (roles.has('inbound')) {
    for (const a of opts.adapters) {
      await a.startInbound();
      closers.push(() => a.stop());
    }
    log.info({ platforms: opts.adapters.map((a) => a.platform) }, 'adapters receiving');
  }
  if (roles.has('scheduler')) {
    const digests = await startDigestScheduler({ url, deps: rt.deps, llmApiKey: rt.env.LLM_API_KEY });
    closers.push(digests.close);
    const amas = await startAmaScheduler({ url, keys, deps: rt.deps, ...(rt.env.LLM_API_KEY ? { llmApiKey: rt.env.LLM_API_KEY } : {}) });
    closers.push(amas.close);
  }
  if (opts.http && roles.has('http')) {
    // A connection of their own: BullMQ defines its ~50 scripts on the connection it gets, and ioredis copies those
    // onto every auto-pipeline flush of it — the core's state connection must not pay that per message.
    const queueConn = createRedis(url, { name: 'townhall-http-queues' });
    const queues = allQueues().map((q) => ({ display: q.display, queue: new Queue(q.name, { connection: queueConn, prefix: keys.prefix }) }));
    metrics.watchQueues(queues);
    const server = await buildServer({
      deps: rt.deps,
      log,
      metrics,
      adminToken: opts.adminToken ?? rt.env.TOWNHALL_ADMIN_TOKEN,
      adapters: () => Object.fromEntries(opts.adapters.map((a) => [a.platform, a.status()])),
      queues: queues.map((q) => q.queue),
      ...(opts.http.apiRoutes ? { apiRoutes: opts.http.apiRoutes } : {}),
      ...(opts.http.publicRoutes ? { publicRoutes: opts.http.publicRoutes } : {}),
    });
    const address = await server.listen({ port: opts.http.port, host: opts.http.host });
    running.server = server;
    running.httpUrl = address.replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
    closers.push(async () => {
      await server.close();
      await Promise.all(queues.map((q) => q.queue.close()));
      queueConn.disconnect();
    });
    log.info({ url: running.httpUrl }, 'http server listening');
  }
  running.close = async () => {
    for (const c of closers.reverse()) await c().catch((err: Error) => log.warn({ err: err.message }, 'error while stopping'));
  };
  return running;
}
