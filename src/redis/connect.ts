/** Redis connections: discovery of a server (contract §4) and connection options BullMQ needs. */
import { Redis } from 'ioredis';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The REDIS_URL used when none is configured. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * A new ioredis connection; `forWorker` sets what BullMQ's blocking connections require (and no auto-pipelining);
 * `keyPrefix` puts every key the connection names under it (an adapter's own store).
 */
export function createRedis(url: string, opts: { forWorker?: boolean; name?: string; autoPipelining?: boolean; keyPrefix?: string } = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    // Auto-pipelining batches the many small commands of concurrent handlers into few socket writes. Not on BullMQ's
    // worker connections: BullMQ sends one script per job step and waits for it, so batching only adds a turn of
    // the event loop and, per flush, a pipeline that copies BullMQ's ~50 defined scripts (measured: a no-op worker
    // drains 25,000 jobs/s without it, 15,500 with it).
    enableAutoPipelining: opts.autoPipelining ?? !opts.forWorker,
    // Blocking worker connections must retry forever (BullMQ's requirement); others fail fast per command.
    maxRetriesPerRequest: opts.forWorker ? null : 20,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...(opts.name ? { connectionName: opts.name } : {}),
    ...(opts.keyPrefix ? { keyPrefix: opts.keyPrefix } : {}),
  });
  // ioredis reconnects by itself; without a listener a Redis restart prints "Unhandled error event" per retry.
  // Callers that must react (health, readiness) ask the connection, and commands still fail as usual.
  redis.on('error', () => undefined);
  return redis;
}

/** True when a Redis answers PING at the url within the timeout. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** A redis-server this process started; stop it when done. */
export interface SpawnedRedis {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The message shown when no Redis answers and none can be started. */
export const NO_REDIS_HELP =
  'No Redis answers and no redis-server is on the PATH. Install one (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`), or set REDIS_URL to a running Redis.';

/** Starts redis-server on a free port: `persistent` keeps an append-only file under `dir`, otherwise nothing touches disk. */
export async function spawnRedis(opts: { persistent?: boolean; dir?: string; port?: number } = {}): Promise<SpawnedRedis> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error(NO_REDIS_HELP);
  const port = opts.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (opts.persistent) {
    const dir = path.resolve(opts.dir ?? 'data/redis');
    mkdirSync(dir, { recursive: true });
    args.push('--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir);
  } else {
    args.push('--appendonly', 'no');
  }
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(url, 300))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Finds Redis as contract §4 says: REDIS_URL, else the default address, else a spawned local server. */
export async function discoverRedis(opts: {
  url?: string | undefined;
  persistent?: boolean;
  dir?: string;
}): Promise<{ url: string; spawned?: SpawnedRedis }> {
  const url = opts.url ?? DEFAULT_REDIS_URL;
  if (await redisAnswers(url)) return { url };
  if (url !== DEFAULT_REDIS_URL) throw new Error(`No Redis answers at REDIS_URL=${redactUrl(url)}. Start it, or unset REDIS_URL to let Townhall start a local redis-server.`);
  const spawned = await spawnRedis({ persistent: opts.persistent ?? false, ...(opts.dir ? { dir: opts.dir } : {}), ...(opts.persistent ? { port: 6379 } : {}) });
  return { url: spawned.url, spawned };
}

/** The url with any password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable url)';
  }
}
