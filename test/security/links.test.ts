/**
 * Finding 6 (Low-Med): sign-in links were reusable for 24 h, doubled as API bearer tokens, survived logout, and sat
 * in plain text in the outbound job; sessions outlived a moderator's demotion and a change of the admin token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../helpers/core.js';
import { securityRig, type Person, type SecurityRig } from './harness.js';

const CHAT = '-6101';
const GROUP = `telegram:${CHAT}`;

describe('sign-in links and sessions', { timeout: 60_000 }, () => {
  let rig: SecurityRig;
  before(async () => {
    rig = await securityRig();
  });
  after(async () => rig?.close());

  const get = (url: string, headers: Record<string, string>, server = rig.app) => server.inject({ method: 'GET', url, headers });

  test('a used link cannot sign in again, and the code in the outbound job is not an API token', async () => {
    const code = await rig.dashboardLink(CHAT, { id: '610', admin: true });
    assert.ok(code);
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { authorization: `Bearer ${code}` })).statusCode, 401, 'the link is not a bearer token');
    const first = await rig.signIn(code);
    assert.equal(first.status, 200);
    assert.equal((await rig.signIn(code)).status, 401, 'a used link signs nobody in');
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { cookie: first.cookie })).statusCode, 200, 'the session it was exchanged for works');
  });

  test('signing out ends the session and the API tokens it minted', async () => {
    const code = await rig.dashboardLink(CHAT, { id: '611', admin: true });
    const s = await rig.signIn(code!);
    const minted = await rig.app.inject({ method: 'POST', url: '/dashboard/token', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    assert.equal(minted.statusCode, 200, minted.body);
    const token = minted.json().token as string;
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { authorization: `Bearer ${token}` })).statusCode, 200);
    assert.equal((await rig.app.inject({ method: 'POST', url: '/logout', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } })).statusCode, 204);
    assert.equal((await get('/dashboard/session', { cookie: s.cookie })).statusCode, 401);
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { authorization: `Bearer ${token}` })).statusCode, 401, 'its token is revoked with it');
  });

  test("a demoted moderator's session and tokens end as soon as an adapter reports them as no longer admin", async () => {
    const who: Person = { id: '612', admin: true };
    const s = await rig.signIn((await rig.dashboardLink(CHAT, who))!);
    const minted = (await rig.app.inject({ method: 'POST', url: '/dashboard/token', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } })).json().token as string;
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { cookie: s.cookie })).statusCode, 200);
    // They speak again; the platform no longer lists them as an administrator.
    await rig.say(CHAT, { ...who, admin: false }, 'just chatting');
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { cookie: s.cookie })).statusCode, 401);
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { authorization: `Bearer ${minted}` })).statusCode, 401);
  });

  test('a community role taken away ends the session at once', async () => {
    await rig.redis.hset(rig.keys.k('roles', GROUP), 'telegram:user:613', 'moderator');
    const s = await rig.signIn((await rig.dashboardLink(CHAT, { id: '613' }))!);
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { cookie: s.cookie })).statusCode, 200);
    await rig.redis.hdel(rig.keys.k('roles', GROUP), 'telegram:user:613');
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { cookie: s.cookie })).statusCode, 401);
  });

  test('a new admin token ends every session and token issued before it', async () => {
    const adminSession = await rig.signIn(rig.adminToken);
    const modSession = await rig.signIn((await rig.dashboardLink(CHAT, { id: '614', admin: true }))!);
    assert.equal((await get('/api/amas', { cookie: adminSession.cookie })).statusCode, 200);
    // The operator restarts the server with a rotated TOWNHALL_ADMIN_TOKEN (same Redis).
    const rotated = await rig.serve('rotated-admin-token-0123456789abcdef');
    assert.equal((await get('/api/amas', { cookie: adminSession.cookie }, rotated)).statusCode, 401);
    assert.equal((await get(`/api/modlog?chat=${GROUP}`, { cookie: modSession.cookie }, rotated)).statusCode, 401);
    assert.equal((await get('/api/amas', { authorization: `Bearer ${rig.adminToken}` }, rotated)).statusCode, 401, 'the old admin token is no longer the admin');
    assert.equal((await get('/api/amas', { authorization: 'Bearer rotated-admin-token-0123456789abcdef' }, rotated)).statusCode, 200);
  });
});

describe("a silent demoted admin's standing lapses after http.standingMaxAge", { timeout: 60_000 }, () => {
  let rig: SecurityRig;
  before(async () => {
    rig = await securityRig({ config: { http: { standingMaxAge: '1s' } } });
  });
  after(async () => rig?.close());

  test('without a fresh report from the adapters the session ends', async () => {
    const s = await rig.signIn((await rig.dashboardLink(CHAT, { id: '620', admin: true }))!);
    assert.equal((await rig.app.inject({ method: 'GET', url: `/api/modlog?chat=${GROUP}`, headers: { cookie: s.cookie } })).statusCode, 200);
    await waitFor(async () => (await rig.app.inject({ method: 'GET', url: `/api/modlog?chat=${GROUP}`, headers: { cookie: s.cookie } })).statusCode === 401, 'the standing to lapse', 10_000, 100);
  });
});
