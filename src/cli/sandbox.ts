/**
 * `townhall sandbox` / `npm run demo`: every registered platform's fake on 127.0.0.1, the real client libraries wired
 * to them, the whole bot, the dashboard, and the sandbox control routes of contract §7. The fakes and adapters are
 * handed in (`platforms`): src/ never imports them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config/schema.js';
import type { PlatformAdapter } from '../core/adapter.js';
import { isPlatform, PLATFORMS, type Platform } from '../core/ids.js';
import type { SandboxPlatform, SandboxUser } from '../core/sandbox.js';
import { runRoles, type Running } from '../app/roles.js';
import { openRuntime, type Runtime } from '../app/runtime.js';
import { apiRoutes } from '../http/routes/index.js';
import { createLogger, quietLogger } from '../log.js';
import { dashboardPlugins } from '../http/dashboard-mount.js';
import type { PlatformModules } from './main.js';

/** A running sandbox. */
export interface Sandbox {
  /** The HTTP server: dashboard, API and /sandbox routes. */
  url: string;
  adminToken: string;
  fakes: Record<Platform, SandboxPlatform>;
  runtime: Runtime;
  running: Running;
  /** Resolves when the replay (if any) has been fed in. */
  replayDone: Promise<number>;
  close(): Promise<void>;
}

/** Options of startSandbox. */
export interface SandboxOptions {
  port: number;
  replay?: string | undefined;
  rate?: number;
  configFile?: string | undefined;
  print?: boolean;
  /** Tests: an isolated key prefix and quiet logs. */
  prefix?: string;
  quiet?: boolean;
  overrides?: Partial<Config>;
  now?: () => number;
  /** Every platform's fake and adapter factory (townhall.ts hands in fakes/ and adapters/). */
  platforms: PlatformModules;
}

/** Starts the fakes, the bot on them and the HTTP server. */
export async function startSandbox(o: SandboxOptions): Promise<Sandbox> {
  const log = o.quiet ? quietLogger() : createLogger();
  const rt = await openRuntime({ configFile: o.configFile, spawn: 'throwaway', log, ...(o.prefix ? { prefix: o.prefix } : {}), ...(o.overrides ? { overrides: o.overrides } : {}), ...(o.now ? { now: o.now } : {}) });
  const adminToken = rt.env.TOWNHALL_ADMIN_TOKEN ?? randomBytes(18).toString('base64url');
  const started = await Promise.all(PLATFORMS.map((p) => o.platforms.fakes[p]()));
  const fakes = Object.fromEntries(PLATFORMS.map((p, i) => [p, started[i]!])) as Record<Platform, SandboxPlatform>;
  const adapters: PlatformAdapter[] = [];
  for (const p of PLATFORMS) adapters.push((await o.platforms.adapters[p]()).forSandbox(fakes[p], rt.adapterDeps(p)));
  const running = await runRoles(rt, {
    roles: ['core', 'outbound', 'scheduler', 'inbound', 'http'],
    adapters,
    http: { port: o.port, host: '127.0.0.1', apiRoutes: await apiRoutes(), publicRoutes: [sandboxRoutes(fakes), ...(await dashboardPlugins(rt.deps, adminToken))] },
    adminToken,
  });
  const url = running.httpUrl!;
  const replayDone = o.replay ? replayIntoFakes(fakes, o.replay, o.rate ?? 20) : Promise.resolve(0);
  if (o.print) {
    const first = PLATFORMS[0];
    const fakeUrls = PLATFORMS.map((p) => `${p} ${fakes[p].url}`).join('  ');
    console.log(`\nTownhall sandbox is running (no tokens needed)\n  dashboard:  ${url}/   (admin token: ${adminToken})\n  API:        ${url}/api/amas   (Authorization: Bearer ${adminToken})\n  sandbox:    POST ${url}/sandbox/${first}/messages  {"chat":"-1001","user":{"id":"1","name":"Ann"},"text":"/ask When is the listing?"}\n              GET  ${url}/sandbox/${first}/outbox\n  fakes:      ${fakeUrls}\n  health:     ${url}/healthz  ${url}/readyz  ${url}/metrics\n${o.replay ? `  replaying ${o.replay} at ${o.rate ?? 20} msg/s\n` : ''}Stop with Ctrl-C.\n`);
  }
  return {
    url,
    adminToken,
    fakes,
    runtime: rt,
    running,
    replayDone,
    close: async () => {
      await running.close();
      await Promise.allSettled(Object.values(fakes).map((f) => f.close()));
      await rt.close();
    },
  };
}

/** Feeds a JSONL chat log into the fakes as people writing, paced at `rate` messages per second. */
async function replayIntoFakes(fakes: Record<Platform, SandboxPlatform>, file: string, rate: number): Promise<number> {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const started = Date.now();
  let n = 0;
  for (const line of lines) {
    const r = JSON.parse(line) as { platform?: Platform; chat: string; user: SandboxUser | string; text: string; replyTo?: string };
    const platform = r.platform && isPlatform(r.platform) ? r.platform : PLATFORMS[0];
    const user = typeof r.user === 'string' ? { id: r.user, name: r.user } : r.user;
    await fakes[platform].injectMessage({ chat: String(r.chat), user, text: r.text });
    n++;
    const wait = started + (n / Math.max(0.1, rate)) * 1000 - Date.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }
  return n;
}

/** A path under /sandbox/, however it is cased. */
function isSandboxPath(path: string): boolean {
  return /^\/+sandbox(?:\/|$)/i.test(path);
}

/** The request path percent-decoded (an undecodable one is kept as sent, which the router will not match either). */
export function decodedPath(url: string): string {
  const path = url.split('?')[0] ?? '';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Loopback-only control routes of contract §7. */
function sandboxRoutes(fakes: Record<Platform, SandboxPlatform>): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onRequest', async (req, reply) => {
      // Judged on the path the router matched (and the decoded URL), never the raw one: /%73andbox/... is /sandbox/...
      if (!isSandboxPath(req.routeOptions.url ?? '') && !isSandboxPath(decodedPath(req.url))) return;
      if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.ip)) return reply.code(403).send({ error: 'the sandbox answers loopback only' });
    });
    const fakeOf = (p: string) => (isPlatform(p) ? fakes[p] : undefined);
    const bad = (reply: { code: (n: number) => { send: (b: unknown) => unknown } }, msg: string) => reply.code(400).send({ error: msg });
    const isUser = (u: unknown): u is SandboxUser => !!u && typeof u === 'object' && typeof (u as SandboxUser).id === 'string' && typeof (u as SandboxUser).name === 'string';

    app.post<{ Params: { platform: string }; Body: { chat?: unknown; user?: unknown; text?: unknown; replyTo?: unknown; thread?: unknown } }>('/sandbox/:platform/messages', async (req, reply) => {
      const fake = fakeOf(req.params.platform);
      if (!fake) return reply.code(404).send({ error: `unknown platform ${req.params.platform}: ${PLATFORMS.join(', ')}` });
      const b = req.body ?? {};
      if (typeof b.chat !== 'string' || !b.chat) return bad(reply, 'chat: a string is required');
      if (!isUser(b.user)) return bad(reply, 'user: {id, name, admin?} is required');
      if (typeof b.text !== 'string' || !b.text) return bad(reply, 'text: a non-empty string is required');
      return fake.injectMessage({ chat: b.chat, user: b.user, text: b.text, ...(typeof b.replyTo === 'string' ? { replyTo: b.replyTo } : {}), ...(typeof b.thread === 'string' ? { thread: b.thread } : {}) });
    });
    app.post<{ Params: { platform: string }; Body: { chat?: unknown; message?: unknown; user?: unknown; emoji?: unknown } }>('/sandbox/:platform/reactions', async (req, reply) => {
      const fake = fakeOf(req.params.platform);
      if (!fake) return reply.code(404).send({ error: `unknown platform ${req.params.platform}` });
      const b = req.body ?? {};
      if (typeof b.chat !== 'string' || typeof b.message !== 'string' || typeof b.emoji !== 'string') return bad(reply, 'chat, message and emoji are required strings');
      if (!isUser(b.user) && typeof b.user !== 'string') return bad(reply, 'user: {id, name} or an id is required');
      try {
        await fake.injectReaction({ chat: b.chat, message: b.message, user: b.user, emoji: b.emoji });
      } catch (err) {
        return bad(reply, `reaction refused: ${(err as Error).message.split('\n')[0]}`);
      }
      return { ok: true };
    });
    app.post<{ Params: { platform: string }; Body: { chat?: unknown; user?: unknown } }>('/sandbox/:platform/joins', async (req, reply) => {
      const fake = fakeOf(req.params.platform);
      if (!fake) return reply.code(404).send({ error: `unknown platform ${req.params.platform}` });
      const b = req.body ?? {};
      if (typeof b.chat !== 'string' || !isUser(b.user)) return bad(reply, 'chat and user {id, name} are required');
      await fake.injectJoin({ chat: b.chat, user: b.user });
      return { ok: true };
    });
    app.get<{ Params: { platform: string }; Querystring: { chat?: string } }>('/sandbox/:platform/outbox', async (req, reply) => {
      const fake = fakeOf(req.params.platform);
      if (!fake) return reply.code(404).send({ error: `unknown platform ${req.params.platform}` });
      return fake.outbox(req.query.chat);
    });
  };
}
