/**
 * The security suite's rig: the real core (every feature, as `townhall start` builds it) and the real HTTP server
 * (API, dashboard, queue board) on an isolated Redis prefix. Chat events go in through the queue border's parse;
 * what the bot would send is read back from the outbound queues.
 */
import { ConfigSchema } from '../../config/schema.js';
import { buildCore } from '../../src/app/core.js';
import type { ChatEventInput } from '../../src/core/events.js';
import type { Platform } from '../../src/core/ids.js';
import { dashboardPlugins } from '../../src/http/dashboard-mount.js';
import { TownhallMetrics } from '../../src/http/metrics.js';
import { apiRoutes } from '../../src/http/routes/index.js';
import { buildServer, type TownhallServer } from '../../src/http/server.js';
import { parsedHandler, queuedActions, testCore, type AnyAction } from '../helpers/core.js';
import { messageEvent } from '../helpers/events.js';

/** A person in a chat. `admin` is what the adapter reports (undefined: it did not say). */
export interface Person {
  platform?: Platform;
  id: string;
  name?: string;
  username?: string;
  admin?: boolean;
}

/** The rig. */
export type SecurityRig = Awaited<ReturnType<typeof securityRig>>;

/** Starts a core and a server; `close()` removes everything. */
export async function securityRig(opts: { adminToken?: string; config?: Record<string, unknown> } = {}) {
  const adminToken = opts.adminToken ?? 'admin-token-for-security-tests-0123456789';
  const core = await testCore({ config: ConfigSchema.parse(opts.config ?? {}) });
  const handle = parsedHandler(buildCore(core.deps, { publicUrl: 'https://townhall.example.org' }));
  const servers: TownhallServer[] = [];
  const serve = async (token: string | undefined = adminToken) => {
    const app = await buildServer({
      deps: core.deps,
      log: core.deps.log,
      metrics: new TownhallMetrics({ defaults: false }),
      adminToken: token,
      adapters: () => ({ telegram: { connected: true, problems: ['telegram:-1: the bot is not an administrator there'] } }),
      queues: [],
      apiRoutes: await apiRoutes(),
      publicRoutes: await dashboardPlugins(core.deps, token),
    });
    servers.push(app);
    return app;
  };
  const app = await serve();
  let seq = 0;

  /** A message from `who` in a group chat, handled by the core. */
  const say = async (chatId: string, who: Person, text: string, extra: Partial<ChatEventInput> = {}) => {
    const platform = who.platform ?? 'telegram';
    const e: ChatEventInput = { ...messageEvent({ platform, chatId, text, messageId: `m${++seq}` }), ...extra };
    e.user = { id: `${platform}:user:${who.id}`, name: who.name ?? `User ${who.id}`, ...(who.username ? { username: who.username } : {}), ...(who.admin !== undefined ? { isAdmin: who.admin } : {}) };
    await handle(e);
    return e;
  };

  /** Everything the bot asked a platform to do so far. */
  const actions = (platform: Platform = 'telegram'): Promise<AnyAction[]> => queuedActions(core.redis, core.keys, platform);

  /** Asks for a dashboard link as `who` in a chat; the link's token (code), or undefined when none was sent. */
  const dashboardLink = async (chatId: string, who: Person): Promise<string | undefined> => {
    const platform = who.platform ?? 'telegram';
    await say(chatId, who, '/dashboard');
    const dms = (await actions(platform)).filter((a) => a.type === 'dm' && a.user === `${platform}:user:${who.id}`);
    const m = /\/login\?token=([A-Za-z0-9_-]+)/.exec(dms[dms.length - 1]?.text ?? '');
    return m?.[1];
  };

  /** Signs in with a token at POST /login; the cookie header and CSRF token, or the refusal. */
  const signIn = async (token: string, remoteAddress = '127.0.0.1', server = app) => {
    const res = await server.inject({ method: 'POST', url: '/login', payload: { token }, remoteAddress });
    if (res.statusCode !== 200) return { status: res.statusCode, cookie: '', csrf: '' };
    const session = res.cookies.find((c) => c.name === 'townhall_session')!;
    const csrf = res.cookies.find((c) => c.name === 'townhall_csrf')!;
    return { status: 200, cookie: `townhall_session=${session.value}; townhall_csrf=${csrf.value}`, csrf: csrf.value };
  };

  return {
    ...core,
    adminToken,
    app,
    serve,
    handle,
    say,
    actions,
    dashboardLink,
    signIn,
    close: async () => {
      for (const s of servers) await s.close();
      await core.cleanup();
    },
  };
}
