/**
 * Finding 5 (Medium): bearer checks had no limit (~1,300 guesses/s); /login read its failure count and incremented it
 * later (60 parallel guesses all checked); both keyed on the socket address, so behind a reverse proxy ten bad
 * guesses locked everyone out, the admin included. Now one atomic limiter takes a point before anything is compared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { securityRig, type SecurityRig } from './harness.js';

const wrong = (i: number) => `wrong-token-${i}-${'x'.repeat(24)}`;

describe('credential guessing', { timeout: 60_000 }, () => {
  let rig: SecurityRig;
  before(async () => {
    rig = await securityRig();
  });
  after(async () => rig?.close());

  test('200 wrong bearer tokens in parallel: all but a few refused before comparison; the admin token from another address still works', async () => {
    const res = await Promise.all(
      Array.from({ length: 200 }, (_, i) => rig.app.inject({ method: 'GET', url: '/api/amas', headers: { authorization: `Bearer ${wrong(i)}` }, remoteAddress: '203.0.113.10' })),
    );
    const checked = res.filter((r) => r.statusCode === 401).length;
    const refused = res.filter((r) => r.statusCode === 429).length;
    assert.equal(checked + refused, 200);
    assert.ok(checked <= 10, `${checked} guesses were compared; the per-address bucket holds 10`);
    assert.ok(res.find((r) => r.statusCode === 429)?.headers['retry-after'], 'a refusal says when to come back');
    const admin = await rig.app.inject({ method: 'GET', url: '/api/amas', headers: { authorization: `Bearer ${rig.adminToken}` }, remoteAddress: '198.51.100.20' });
    assert.equal(admin.statusCode, 200);
  });

  test('60 parallel sign-ins with wrong tokens: at most the bucket is checked, and the admin signs in from elsewhere', async () => {
    const res = await Promise.all(Array.from({ length: 60 }, (_, i) => rig.app.inject({ method: 'POST', url: '/login', payload: { token: wrong(i) }, remoteAddress: '203.0.113.11' })));
    assert.ok(res.filter((r) => r.statusCode === 401).length <= 10);
    assert.equal(res.filter((r) => r.statusCode === 429).length + res.filter((r) => r.statusCode === 401).length, 60);
    assert.equal((await rig.signIn(rig.adminToken, '198.51.100.21')).status, 200);
  });

  test('a correct token costs nothing: a busy dashboard is never locked out by its own requests', async () => {
    for (let i = 0; i < 30; i++) {
      const r = await rig.app.inject({ method: 'GET', url: '/api/amas', headers: { authorization: `Bearer ${rig.adminToken}` }, remoteAddress: '198.51.100.22' });
      assert.equal(r.statusCode, 200, `request ${i}`);
    }
  });
});

describe('behind a reverse proxy (http.trustProxy)', { timeout: 60_000 }, () => {
  let rig: SecurityRig;
  before(async () => {
    rig = await securityRig({ config: { http: { trustProxy: ['10.0.0.1'] } } });
  });
  after(async () => rig?.close());

  test("one client's lock-out does not lock out the admin behind the same proxy", async () => {
    const viaProxy = (client: string, token: string) => rig.app.inject({ method: 'POST', url: '/login', payload: { token }, remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': client } });
    for (let i = 0; i < 15; i++) await viaProxy('203.0.113.30', wrong(i));
    assert.equal((await viaProxy('203.0.113.30', wrong(99))).statusCode, 429, 'the guessing client is locked out');
    assert.equal((await viaProxy('198.51.100.31', rig.adminToken)).statusCode, 200, 'the admin behind the same proxy is not');
  });

  test('X-Forwarded-For from anyone but the configured proxy is not believed', async () => {
    for (let i = 0; i < 12; i++) {
      await rig.app.inject({ method: 'POST', url: '/login', payload: { token: wrong(i) }, remoteAddress: '203.0.113.40', headers: { 'x-forwarded-for': `192.0.2.${i}` } });
    }
    const again = await rig.app.inject({ method: 'POST', url: '/login', payload: { token: wrong(50) }, remoteAddress: '203.0.113.40', headers: { 'x-forwarded-for': '192.0.2.200' } });
    assert.equal(again.statusCode, 429, 'rotating a forged header does not earn fresh guesses');
  });
});

describe('the global bucket', { timeout: 60_000 }, () => {
  let rig: SecurityRig;
  before(async () => {
    rig = await securityRig();
  });
  after(async () => rig?.close());

  test('many addresses guessing together are capped, and the admin token still gets in', async () => {
    const { buildServer } = await import('../../src/http/server.js');
    const { TownhallMetrics } = await import('../../src/http/metrics.js');
    const { apiRoutes } = await import('../../src/http/routes/index.js');
    const app = await buildServer({
      deps: rig.deps,
      log: rig.deps.log,
      metrics: new TownhallMetrics({ defaults: false }),
      adminToken: rig.adminToken,
      adapters: () => ({}),
      queues: [],
      apiRoutes: await apiRoutes(),
      credentialLimits: { perSource: { points: 10, seconds: 600 }, global: { points: 20, seconds: 60 } },
    });
    try {
      const res = await Promise.all(Array.from({ length: 60 }, (_, i) => app.inject({ method: 'GET', url: '/api/amas', headers: { authorization: `Bearer ${wrong(i)}` }, remoteAddress: `203.0.113.${100 + i}` })));
      assert.ok(res.filter((r) => r.statusCode === 401).length <= 20, 'no more lookups than the global bucket holds');
      assert.equal((await app.inject({ method: 'GET', url: '/api/amas', headers: { authorization: `Bearer ${rig.adminToken}` }, remoteAddress: '198.51.100.50' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});
