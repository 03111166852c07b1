/**
 * The dashboard's server side without a browser: sign-in, session cookies, CSRF, what is reachable signed out,
 * the /dashboard link, live nudges over SSE, the activity chart's numbers and the quiet-mode switch.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { ConfigSchema } from '../../../config/schema.js';
import { CommandRegistry } from '../../../src/commands/router.js';
import { ChatEventSchema } from '../../../src/core/events.js';
import { amaSchedule, createAmaFeature } from '../../../src/features/ama/index.js';
import { createHistory } from '../../../src/features/history/index.js';
import { createModeration, modKeys } from '../../../src/features/moderation/index.js';
import { issueToken } from '../../../src/http/auth.js';
import { dashboardCommand, dashboardRoutes, liveNotesFeature, publishLive } from '../../../src/http/dashboard/index.js';
import { nudgesFor } from '../../../src/http/dashboard/live.js';
import { TownhallMetrics } from '../../../src/http/metrics.js';
import { amaRoutes } from '../../../src/http/routes/amas.js';
import { chatRoutes } from '../../../src/http/routes/chats.js';
import { modlogRoutes } from '../../../src/http/routes/modlog.js';
import { buildServer, type RoutePlugin, type TownhallServer } from '../../../src/http/server.js';
import { createHandleEvent, type HandleEvent } from '../../../src/pipeline/handle-event.js';
import { readAudit } from '../../../src/pipeline/audit.js';
import { testCore, waitFor, queuedActions, type AnyAction } from '../../helpers/core.js';
import { messageEvent } from '../../helpers/events.js';

const ADMIN = 'admin-token-for-dashboard-tests-0123456789';
type Core = Awaited<ReturnType<typeof testCore>>;

let core: Core;
let app: TownhallServer;
let base: string;
let handle: HandleEvent;
let board: Queue;

before(async () => {
  core = await testCore({ config: ConfigSchema.parse({}) });
  const registry = new CommandRegistry();
  const ama = createAmaFeature(core.deps);
  const mod = createModeration(core.deps);
  const history = createHistory(core.deps);
  registry.register(...ama.commands, ...mod.commands, dashboardCommand({ baseUrl: 'https://townhall.example.org/' }));
  registry.setHostCheck(ama.hostCheck);
  handle = createHandleEvent(core.deps, [liveNotesFeature(core.deps), mod.feature, history.feature, registry.feature(), ama.feature]);
  board = new Queue('inbound', { connection: core.redis, prefix: core.keys.prefix });
  app = await buildServer({
    deps: core.deps,
    log: core.deps.log,
    metrics: new TownhallMetrics({ defaults: false }),
    adminToken: ADMIN,
    adapters: () => ({}),
    queues: [board],
    apiRoutes: [amaRoutes as RoutePlugin, chatRoutes, modlogRoutes],
    publicRoutes: [async (a) => a.register(dashboardRoutes, { deps: core.deps, adminToken: ADMIN, heartbeatMs: 200, maxFailedLogins: 5 })],
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
  await board?.close();
  await core?.cleanup();
});

/** Signs in and returns the cookie header and the CSRF token. */
async function signIn(token: string, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url: '/login', payload: { token }, headers });
  assert.equal(res.statusCode, 200, res.body);
  const session = res.cookies.find((c) => c.name === 'townhall_session')!;
  const csrf = res.cookies.find((c) => c.name === 'townhall_csrf')!;
  return { cookie: `townhall_session=${session.value}; townhall_csrf=${csrf.value}`, csrf: csrf.value, cookies: res.cookies };
}

describe('signed out', () => {
  test('the dashboard redirects to the sign-in page, and only the sign-in page and its assets are served', async () => {
    const root = await app.inject({ method: 'GET', url: '/' });
    assert.equal(root.statusCode, 303);
    assert.equal(root.headers.location, '/login');
    const login = await app.inject({ method: 'GET', url: '/login' });
    assert.equal(login.statusCode, 200);
    assert.match(login.body, /<form id="login-form"/);
    assert.match(String(login.headers['content-security-policy']), /default-src 'self'/);
    for (const f of ['login.js', 'style.css', 'theme.js', 'icon.svg']) assert.equal((await app.inject({ method: 'GET', url: `/dashboard/static/${f}` })).statusCode, 200, f);
    for (const f of ['app.js', 'ama.js', 'chats.js', 'uplot.js']) assert.equal((await app.inject({ method: 'GET', url: `/dashboard/static/${f}` })).statusCode, 401, f);
    assert.equal((await app.inject({ method: 'GET', url: '/dashboard/static/index.html' })).statusCode, 404, 'the app shell only at /');
  });

  test('the API, the session, the live stream and the activity data answer 401', async () => {
    for (const url of ['/api/amas', '/api/chats', '/api/modlog', '/dashboard/session', '/dashboard/live', '/dashboard/activity', '/dashboard/quiet?chat=telegram:-1']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 401, url);
    }
    assert.equal((await app.inject({ method: 'POST', url: '/api/amas', payload: {} })).statusCode, 401);
  });

  test('a browser opening the queue board is sent to sign in and back; an API client gets 401', async () => {
    const browser = await app.inject({ method: 'GET', url: '/admin/queues', headers: { accept: 'text/html' } });
    assert.equal(browser.statusCode, 303);
    assert.equal(browser.headers.location, '/login?next=/admin/queues');
    assert.equal((await app.inject({ method: 'GET', url: '/admin/queues/api/queues' })).statusCode, 401);
  });
});

describe('sign-in and sessions', () => {
  test('a wrong token is refused; the admin token gets an http-only SameSite=Strict session cookie, Secure over https', async () => {
    const bad = await app.inject({ method: 'POST', url: '/login', payload: { token: 'nope-nope-nope' }, remoteAddress: '10.0.0.9' });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.cookies.length, 0);
    const { cookies } = await signIn(ADMIN);
    const s = cookies.find((c) => c.name === 'townhall_session')!;
    assert.equal(s.httpOnly, true);
    assert.equal(s.sameSite, 'Strict');
    assert.equal(s.path, '/');
    assert.ok(!s.secure, 'not Secure over plain http (the browser would drop it)');
    const c = cookies.find((x) => x.name === 'townhall_csrf')!;
    assert.ok(!c.httpOnly, 'the CSRF cookie is readable by the page (double submit)');
    const https = await signIn(ADMIN, { 'x-forwarded-proto': 'https' });
    assert.ok(https.cookies.every((x) => x.secure), 'Secure when the request came over https');
  });

  test('a signed-in browser reads the API, but a write without the CSRF header or from another origin is refused', async () => {
    const { cookie, csrf } = await signIn(ADMIN);
    assert.equal((await app.inject({ method: 'GET', url: '/api/amas', headers: { cookie } })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/', headers: { cookie } })).statusCode, 200);
    const body = { title: 'CSRF check', startsAt: Date.now() + 3_600_000, durationMinutes: 30, chats: ['telegram:-5001'] };
    const noHeader = await app.inject({ method: 'POST', url: '/api/amas', headers: { cookie }, payload: body });
    assert.equal(noHeader.statusCode, 403);
    const wrong = await app.inject({ method: 'POST', url: '/api/amas', headers: { cookie, 'x-csrf-token': 'x'.repeat(32) }, payload: body });
    assert.equal(wrong.statusCode, 403);
    const crossSite = await app.inject({ method: 'POST', url: '/api/amas', headers: { cookie, 'x-csrf-token': csrf, origin: 'https://evil.example', host: '127.0.0.1' }, payload: body });
    assert.equal(crossSite.statusCode, 403);
    const ok = await app.inject({ method: 'POST', url: '/api/amas', headers: { cookie, 'x-csrf-token': csrf }, payload: body });
    assert.equal(ok.statusCode, 201, ok.body);
    // API clients with a bearer token are not a browser: no CSRF token needed.
    const bearer = await app.inject({ method: 'POST', url: '/api/amas', headers: { authorization: `Bearer ${ADMIN}` }, payload: { ...body, title: 'Bearer' } });
    assert.equal(bearer.statusCode, 201, bearer.body);
  });

  test('signing out ends the session on the server, not just in the browser', async () => {
    const { cookie, csrf } = await signIn(ADMIN);
    assert.equal((await app.inject({ method: 'POST', url: '/logout', headers: { cookie } })).statusCode, 403, 'sign-out needs the CSRF token too');
    const out = await app.inject({ method: 'POST', url: '/logout', headers: { cookie, 'x-csrf-token': csrf } });
    assert.equal(out.statusCode, 204);
    assert.equal((await app.inject({ method: 'GET', url: '/api/amas', headers: { cookie } })).statusCode, 401);
  });

  test('a sign-in posted from another site is refused (login CSRF)', async () => {
    const res = await app.inject({ method: 'POST', url: '/login', payload: { token: ADMIN }, headers: { origin: 'https://evil.example', host: '127.0.0.1' } });
    assert.equal(res.statusCode, 403);
  });

  test('repeated failed sign-ins from one address are slowed down with 429', async () => {
    const ip = '10.9.9.9';
    for (let i = 0; i < 5; i++) assert.equal((await app.inject({ method: 'POST', url: '/login', payload: { token: `guess-${i}` }, remoteAddress: ip })).statusCode, 401);
    assert.equal((await app.inject({ method: 'POST', url: '/login', payload: { token: ADMIN }, remoteAddress: ip })).statusCode, 429);
  });

  test('the admin session reaches the queue board', async () => {
    const { cookie } = await signIn(ADMIN);
    assert.equal((await app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie } })).statusCode, 200);
  });
});

describe('/dashboard link for moderators', () => {
  const GROUP = 'telegram:-1007001';

  async function jobs(): Promise<AnyAction[]> {
    return queuedActions(core.redis, core.keys, 'telegram');
  }

  test('a moderator gets a private link; it signs in with a session limited to their chat that ends with the token', async () => {
    await handle(ChatEventSchema.parse(messageEvent({ chatId: '-1007001', userId: '77', admin: true, text: '/dashboard' })));
    const dm = (await jobs()).find((a) => a.type === 'dm' && a.user === 'telegram:user:77');
    assert.ok(dm, 'a private message to the moderator');
    const m = /https:\/\/townhall\.example\.org\/login\?token=([A-Za-z0-9_-]+)/.exec(dm.text ?? '');
    assert.ok(m, dm.text);
    assert.ok(!(await jobs()).some((a) => a.type === 'send' && /login\?token=/.test(a.text ?? '')), 'the link never goes to the group');

    const { cookie } = await signIn(m[1]!);
    const me = JSON.parse((await app.inject({ method: 'GET', url: '/dashboard/session', headers: { cookie } })).body);
    assert.equal(me.subject, 'telegram:user:77');
    assert.equal(me.admin, false);
    assert.deepEqual(me.chats, [GROUP]);
    assert.ok(me.expiresAt <= Date.now() + 24 * 3600_000 + 1000, 'no longer than the link');
    assert.equal((await app.inject({ method: 'GET', url: '/dashboard/quiet?chat=telegram:-999', headers: { cookie } })).statusCode, 403, 'another community is off limits');
    assert.equal((await app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie } })).statusCode, 401, 'the queue board is admin only');
  });

  test('someone who is neither moderator nor host is refused /dashboard and gets no link', async () => {
    await handle(ChatEventSchema.parse(messageEvent({ chatId: '-1007001', userId: '78', text: '/dashboard' })));
    assert.ok(!(await jobs()).some((a) => a.type === 'dm' && a.user === 'telegram:user:78'));
  });

  test('a link whose token expired no longer signs in', async () => {
    const token = await issueToken(core.redis, core.keys, 'telegram:user:79', [GROUP], 50);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal((await app.inject({ method: 'POST', url: '/login', payload: { token } })).statusCode, 401);
  });
});

/** Opens an SSE stream with a cookie; collects events until closed. */
function openStream(path: string, cookie: string): Promise<{ events: { event: string; data: string }[]; status: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      const events: { event: string; data: string }[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
          if (ev) events.push({ event: ev, data });
        }
      });
      res.on('error', () => undefined);
      resolve({ events, status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

describe('live updates over server-sent events', () => {
  let amaId: string;
  before(async () => {
    amaId = (await amaSchedule(core.deps, { title: 'Live', startsAt: Date.now() + 3_600_000, durationMinutes: 60, chats: ['telegram:-1008001', 'discord:8002'] })).id;
  });

  test("an AMA's page is nudged by notes about the AMA and by chat news in its chats, coalesced, and by nothing else", async () => {
    const { cookie } = await signIn(ADMIN);
    const s = await openStream(`/dashboard/live?ama=${amaId}`, cookie);
    assert.equal(s.status, 200);
    await waitFor(() => s.events.some((e) => e.event === 'ready'), 'the stream to be ready', 3000);
    publishLive(core.redis, core.keys, { type: 'ama', amaId: 'someone-else' });
    publishLive(core.redis, core.keys, { type: 'chat', chat: 'telegram:-42' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.events.filter((e) => e.event === 'ama').length, 0, 'news elsewhere is not sent');
    for (let i = 0; i < 50; i++) publishLive(core.redis, core.keys, { type: 'chat', chat: i % 2 ? 'discord:8002' : 'telegram:-1008001:5' });
    publishLive(core.redis, core.keys, { type: 'ama', amaId });
    await waitFor(() => s.events.some((e) => e.event === 'ama'), 'an ama nudge', 2000);
    await new Promise((r) => setTimeout(r, 300));
    const nudges = s.events.filter((e) => e.event === 'ama').length;
    assert.ok(nudges >= 1 && nudges <= 3, `51 notes in a burst make 1-3 nudges, got ${nudges}`);
    s.close();
  });

  test('a message handled by the pipeline reaches a watching chats page', async () => {
    const { cookie } = await signIn(ADMIN);
    const s = await openStream('/dashboard/live?chats=', cookie);
    await waitFor(() => s.events.some((e) => e.event === 'ready'), 'ready', 3000);
    await handle(ChatEventSchema.parse(messageEvent({ chatId: '-1009001', userId: '5', text: 'anyone here?' })));
    await waitFor(() => s.events.some((e) => e.event === 'chat' && e.data.includes('telegram:-1009001')), 'a chat nudge', 2000);
    s.close();
  });

  test('a stream whose session ended is told so and closed', async () => {
    const { cookie, csrf } = await signIn(ADMIN);
    const s = await openStream('/dashboard/live?chats=', cookie);
    await waitFor(() => s.events.some((e) => e.event === 'ready'), 'ready', 3000);
    await app.inject({ method: 'POST', url: '/logout', headers: { cookie, 'x-csrf-token': csrf } });
    await waitFor(() => s.events.some((e) => e.event === 'signedout'), 'signedout', 3000);
    s.close();
  });

  test('a chat note reaches an AMA page only through chats the AMA spans (or X, or a private ask)', () => {
    const interest = { ama: { id: 'a1', groups: new Set(['telegram:-1']), addressed: new Set(['x']) }, maySee: () => true };
    assert.equal(nudgesFor(interest, { type: 'chat', chat: 'telegram:-1:77' }).ama, true);
    assert.equal(nudgesFor(interest, { type: 'chat', chat: 'telegram:-2' }).ama, false);
    assert.equal(nudgesFor(interest, { type: 'chat', chat: 'x:123' }).ama, true);
    assert.equal(nudgesFor(interest, { type: 'chat', chat: 'discord:9', dm: true }).ama, true);
    const mod = { chats: new Set<string>(), maySee: (g: string) => g === 'telegram:-1' };
    assert.equal(nudgesFor(mod, { type: 'chat', chat: 'telegram:-2' }).chat, null, "a moderator never hears of another community's chats");
  });
});

describe('chats view data and quiet mode', () => {
  test('activity counts messages per minute per platform and questions per minute', async () => {
    const now = Date.now();
    const at = now - 3 * 60_000;
    for (let i = 0; i < 4; i++) await handle(ChatEventSchema.parse(messageEvent({ chatId: '-1010001', userId: String(i), text: i === 0 ? 'how do I stake my tokens?' : `gm ${i}`, at })));
    for (let i = 0; i < 3; i++) await handle(ChatEventSchema.parse(messageEvent({ platform: 'discord', chatId: '1010002', userId: String(i), text: `hello ${i}`, at })));
    const { cookie } = await signIn(ADMIN);
    const res = await app.inject({ method: 'GET', url: '/dashboard/activity?window=30m', headers: { cookie } });
    assert.equal(res.statusCode, 200, res.body);
    const a = JSON.parse(res.body) as { minutes: number[]; messages: Record<string, number[]>; questions: number[] };
    const b = a.minutes.indexOf(Math.floor(at / 60_000) * 60);
    assert.ok(b >= 0);
    assert.equal(a.messages.telegram![b], 4);
    assert.equal(a.messages.discord![b], 3);
    assert.equal(a.questions[b], 1);
    assert.equal(a.minutes.length, 31);
  });

  test('the quiet switch turns quiet mode on and off for a chat and logs who did it', async () => {
    const { cookie, csrf } = await signIn(ADMIN);
    const on = await app.inject({ method: 'POST', url: '/dashboard/quiet', headers: { cookie, 'x-csrf-token': csrf }, payload: { chat: 'telegram:-1011001', on: true, minutes: 15 } });
    assert.equal(on.statusCode, 200, on.body);
    assert.ok(await core.redis.get(modKeys(core.keys).quiet('telegram:-1011001')));
    const pttl = await core.redis.pttl(modKeys(core.keys).quiet('telegram:-1011001'));
    assert.ok(pttl > 14 * 60_000 && pttl <= 15 * 60_000);
    const status = JSON.parse((await app.inject({ method: 'GET', url: '/dashboard/quiet?chat=telegram:-1011001', headers: { cookie } })).body);
    assert.equal(status.on, true);
    assert.equal((await app.inject({ method: 'POST', url: '/dashboard/quiet', headers: { cookie }, payload: { chat: 'telegram:-1011001', on: false } })).statusCode, 403, 'CSRF');
    const off = await app.inject({ method: 'POST', url: '/dashboard/quiet', headers: { cookie, 'x-csrf-token': csrf }, payload: { chat: 'telegram:-1011001', on: false } });
    assert.equal(off.statusCode, 200);
    assert.equal(await core.redis.get(modKeys(core.keys).quiet('telegram:-1011001')), null);
    const log = await readAudit(core.redis, core.keys, 'telegram:-1011001');
    assert.deepEqual(log.map((e) => [e.action, e.by, e.meta?.on]), [['quiet', 'dashboard:admin', false], ['quiet', 'dashboard:admin', true]]);
  });
});

test('closing the server ends open live streams instead of waiting for them', async () => {
  const other = await buildServer({
    deps: core.deps,
    log: core.deps.log,
    metrics: new TownhallMetrics({ defaults: false }),
    adminToken: ADMIN,
    adapters: () => ({}),
    queues: [],
    publicRoutes: [async (a) => a.register(dashboardRoutes, { deps: core.deps, adminToken: ADMIN })],
  });
  const url = await other.listen({ port: 0, host: '127.0.0.1' });
  const login = await other.inject({ method: 'POST', url: '/login', payload: { token: ADMIN } });
  const sid = login.cookies.find((c) => c.name === 'townhall_session')!.value;
  const ended = new Promise<void>((resolve, reject) => {
    http
      .get(`${url}/dashboard/live?chats=`, { headers: { cookie: `townhall_session=${sid}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      })
      .on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 150));
  // The stream ends when the server closes (a stream left open would hold this test until its timeout).
  await other.close();
  await ended;
});
