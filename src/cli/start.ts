/** `start`, `worker`, `replay`, `import` and `status`: the long-running and queue-facing sub-commands. */
import { runRoles, type Role, type Running } from '../app/roles.js';
import { openRuntime, type Runtime } from '../app/runtime.js';
import type { AdapterRegistry, PlatformAdapter } from '../core/adapter.js';
import { PLATFORMS } from '../core/ids.js';
import { apiRoutes } from '../http/routes/index.js';
import { dashboardPlugins } from '../http/dashboard-mount.js';
import { guessFormat, type LogFormat } from '../ingest/formats.js';
import type { Platform } from '../core/ids.js';
import { createLogger, quietLogger } from '../log.js';
import { formatStatus, readStatus } from './status.js';
import { replayLog } from './replay.js';
import { redactUrl } from '../redis/connect.js';

/**
 * One adapter per platform whose credentials are in the environment (contract §4); the rest stay off. Only the
 * factories of platforms with credentials keep their SDK loaded.
 */
export async function createAdapters(rt: Runtime, registry: AdapterRegistry): Promise<PlatformAdapter[]> {
  const out: PlatformAdapter[] = [];
  for (const platform of PLATFORMS) {
    const factory = await registry[platform]();
    const adapter = factory.create({ config: rt.config, env: rt.env }, rt.adapterDeps(platform));
    if (adapter) out.push(adapter);
  }
  return out;
}

/** `townhall start`: every role in one process, Redis started locally (append-only) when none answers. */
export async function startAll(opts: { configFile?: string | undefined; adapters: AdapterRegistry }): Promise<Running> {
  const rt = await openRuntime({ configFile: opts.configFile, spawn: 'persistent' });
  const adapters = await createAdapters(rt, opts.adapters);
  if (!adapters.length) rt.log.warn('no platform credentials set (see .env.example): running core, scheduler and HTTP only. Try `npm run demo` for a sandbox.');
  const running = await runRoles(rt, {
    roles: ['core', 'outbound', 'scheduler', 'inbound', 'http'],
    adapters,
    http: { port: rt.config.http.port, host: rt.config.http.host, apiRoutes: await apiRoutes(), publicRoutes: await dashboardPlugins(rt.deps, rt.env.TOWNHALL_ADMIN_TOKEN) },
  });
  rt.log.info({ redis: redactUrl(rt.url), http: running.httpUrl }, 'townhall started');
  const close = running.close;
  running.close = async () => {
    await close();
    await rt.close();
  };
  return running;
}

/** `townhall worker --role`: extra workers sharing the same Redis. */
export async function startWorker(opts: { role: 'core' | 'outbound' | 'scheduler' | 'all'; configFile?: string | undefined; adapters: AdapterRegistry }): Promise<Running> {
  const rt = await openRuntime({ configFile: opts.configFile, spawn: 'never' });
  const roles: Role[] = opts.role === 'all' ? ['core', 'outbound', 'scheduler'] : [opts.role];
  const adapters = roles.includes('outbound') ? await createAdapters(rt, opts.adapters) : [];
  const running = await runRoles(rt, { roles, adapters });
  rt.log.info({ roles, redis: redactUrl(rt.url) }, 'townhall worker started');
  const close = running.close;
  running.close = async () => {
    await close();
    await rt.close();
  };
  return running;
}

/** `townhall replay` / `townhall import`: publish a log into the inbound queue. */
export async function replayCommand(
  file: string,
  o: { format?: LogFormat | undefined; platform: Platform; chat?: string | undefined; rate: number; limit?: number | undefined; source: 'replay' | 'import' },
): Promise<void> {
  const rt = await openRuntime({ spawn: 'never', log: process.stderr.isTTY ? createLogger() : quietLogger() });
  try {
    const n = await replayLog(rt.inbound, {
      file,
      format: o.format ?? guessFormat(file),
      platform: o.platform,
      chat: o.chat,
      rate: o.rate,
      source: o.source,
      progress: Boolean(process.stderr.isTTY),
      limit: o.limit,
    });
    console.log(`${o.source === 'import' ? 'imported' : 'replayed'} ${n} messages into ${rt.keys.prefix} inbound`);
  } finally {
    await rt.close();
  }
}

/** `townhall status`. */
export async function statusCommand(json: boolean): Promise<void> {
  const rt = await openRuntime({ spawn: 'never', log: quietLogger() });
  try {
    const s = await readStatus(rt.redis, rt.keys);
    console.log(json ? JSON.stringify(s) : formatStatus(s));
  } finally {
    await rt.close();
  }
}
