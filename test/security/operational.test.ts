/**
 * Finding 7 (Low): /readyz and /metrics needed no auth while the server binds 0.0.0.0 by default, and a /metrics
 * flood slowed /healthz. Now `http.metrics` (default loopback) guards /metrics and the detail of /readyz.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { securityRig, type SecurityRig } from './harness.js';

const REMOTE = '203.0.113.70';

describe('operational endpoints', { timeout: 60_000 }, () => {
  let rig: SecurityRig;
  before(async () => {
    rig = await securityRig();
  });
  after(async () => rig?.close());
  const get = (url: string, remoteAddress: string, token?: string, server = rig.app) =>
    server.inject({ method: 'GET', url, remoteAddress, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });

  test('by default /metrics answers this machine and the admin token, nobody else', async () => {
    assert.equal((await get('/metrics', REMOTE)).statusCode, 403);
    assert.equal((await get('/metrics', REMOTE, 'wrong-token-wrong-token-wrong')).statusCode, 401);
    assert.equal((await get('/metrics', REMOTE, rig.adminToken)).statusCode, 200);
    assert.equal((await get('/metrics', '127.0.0.1')).statusCode, 200);
  });

  test('/readyz tells anyone ready or not, and only operators which adapter has which problem', async () => {
    const open = await get('/readyz', REMOTE);
    assert.equal(open.statusCode, 200);
    assert.deepEqual(open.json(), { ready: true });
    const detail = (await get('/readyz', '127.0.0.1')).json() as { adapters?: Record<string, { problems: string[] }> };
    assert.match(detail.adapters?.telegram?.problems[0] ?? '', /not an administrator/);
  });

  test('/healthz stays open', async () => {
    assert.equal((await get('/healthz', REMOTE)).statusCode, 200);
  });

  test('http.metrics: token needs the admin token even on this machine; public needs nothing', async () => {
    const tokenOnly = await securityRig({ config: { http: { metrics: 'token' } } });
    const open = await securityRig({ config: { http: { metrics: 'public' } } });
    try {
      assert.equal((await get('/metrics', '127.0.0.1', undefined, tokenOnly.app)).statusCode, 403);
      assert.equal((await get('/metrics', '127.0.0.1', tokenOnly.adminToken, tokenOnly.app)).statusCode, 200);
      assert.equal((await get('/metrics', REMOTE, undefined, open.app)).statusCode, 200);
    } finally {
      await tokenOnly.close();
      await open.close();
    }
  });
});
