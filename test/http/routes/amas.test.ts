/** The AMA part of the HTTP API (contract §6) behind the server's bearer-token check. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildServer, type TownhallServer } from '../../../src/http/server.js';
import { issueToken } from '../../../src/http/auth.js';
import { TownhallMetrics } from '../../../src/http/metrics.js';
import { amaRoutes } from '../../../src/http/routes/amas.js';
import { amaHarness, T0, type AmaHarness } from '../../features/ama/harness.js';

const ADMIN = 'admin-token-for-tests-0123456789';
let h: AmaHarness;
let app: TownhallServer;
let modToken: string;

before(async () => {
  h = await amaHarness();
  app = await buildServer({ deps: h.deps, log: h.deps.log, metrics: new TownhallMetrics({ defaults: false }), adminToken: ADMIN, adapters: () => ({}), queues: [], apiRoutes: [amaRoutes] });
  modToken = await issueToken(h.redis, h.keys, 'telegram:user:7', ['telegram:-1001'], 3_600_000);
});
after(async () => {
  await app?.close();
  await h?.cleanup();
});

const call = (method: 'GET' | 'POST', url: string, body?: unknown, token: string | null = ADMIN) =>
  app.inject({ method, url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(body !== undefined ? { payload: body as object } : {}) });

test('every AMA route refuses a request without a valid bearer token', async () => {
  for (const [m, u] of [['GET', '/api/amas'], ['POST', '/api/amas'], ['GET', '/api/amas/a1'], ['POST', '/api/amas/a1/start'], ['GET', '/api/amas/a1/questions'], ['POST', '/api/amas/a1/questions/1/answer']] as const) {
    assert.equal((await call(m, u, m === 'POST' ? {} : undefined, null)).statusCode, 401, `${m} ${u} without a token`);
    assert.equal((await call(m, u, m === 'POST' ? {} : undefined, 'wrong-token')).statusCode, 401, `${m} ${u} with a wrong token`);
  }
});

test('schedule, read, start, list questions, answer, approve, reject, merge, end and recap through the API', async () => {
  const bad = await call('POST', '/api/amas', { title: 'x', startsAt: 'tomorrow-ish', durationMinutes: 30, chats: ['telegram:-1001'] });
  assert.equal(bad.statusCode, 400);
  const created = await call('POST', '/api/amas', { title: 'API AMA', startsAt: new Date(T0 + 3_600_000).toISOString(), durationMinutes: 45, hosts: ['telegram:@cto'], chats: ['telegram:-1001', 'discord:9'], tz: 'Asia/Tokyo' });
  assert.equal(created.statusCode, 201, created.body);
  const ama = created.json() as { id: string; status: string; startsAt: number; when: string; chats: string[] };
  assert.equal(ama.status, 'scheduled');
  assert.equal(ama.startsAt, T0 + 3_600_000, 'stored in UTC');
  assert.match(ama.when, /GMT\+9|JST/, 'shown in its zone');
  assert.equal((await call('GET', `/api/amas/${ama.id}`)).json().title, 'API AMA');
  assert.ok((await call('GET', '/api/amas')).json().some((a: { id: string }) => a.id === ama.id));
  assert.equal((await call('POST', `/api/amas/${ama.id}/start`)).json().status, 'live');
  assert.equal((await call('POST', `/api/amas/${ama.id}/start`)).statusCode, 409, 'starting twice is a conflict');

  await h.say({ platform: 'telegram', id: '1' }, '-1001', '/ask When does staking open for everyone?');
  await h.say({ platform: 'discord', id: '2' }, '9', '/ask when will staking open to everyone');
  await h.say({ platform: 'discord', id: '3' }, '9', '/ask Is the team doxxed?');
  await h.say({ platform: 'telegram', id: '4' }, '-1001', '/ask What is the token ticker?');
  const qs = (await call('GET', `/api/amas/${ama.id}/questions?sort=rank`)).json() as { id: string; n: number; text: string; status: string; votes: number; asks: { platform: string; chat: string; user: string; messageId: string; text: string; at: number }[] }[];
  assert.equal(qs[0]!.asks.length, 2, 'the merged question, with both asks, ranks first');
  assert.deepEqual(Object.keys(qs[0]!.asks[0]!).sort(), ['at', 'chat', 'messageId', 'platform', 'text', 'user']);
  assert.equal(qs[0]!.votes, 2);

  const ans = await call('POST', `/api/amas/${ama.id}/questions/${qs[0]!.id}/answer`, { text: 'Staking opens to everyone in April.' });
  assert.equal(ans.statusCode, 200, ans.body);
  assert.equal(ans.json().status, 'answered');
  assert.equal((await call('POST', `/api/amas/${ama.id}/questions/${qs[0]!.n}/answer`, { text: 'Something else' })).statusCode, 409);
  const replies = [...(await h.jobs('telegram')), ...(await h.jobs('discord'))].filter((a) => a.text?.includes('Staking opens to everyone in April.') && a.id.includes('/ans/'));
  assert.equal(replies.length, 2, 'one reply under each ask');

  const doxxed = qs.find((q) => /doxxed/.test(q.text))!;
  const ticker = qs.find((q) => /ticker/.test(q.text))!;
  assert.equal((await call('POST', `/api/amas/${ama.id}/questions/${doxxed.n}/reject`, { reason: 'off topic' })).json().status, 'rejected');
  assert.equal((await call('POST', `/api/amas/${ama.id}/questions/Q${doxxed.n}/approve`)).json().status, 'open');
  const merged = await call('POST', `/api/amas/${ama.id}/questions/${doxxed.n}/merge`, { into: ticker.n });
  assert.equal(merged.json().n, ticker.n);
  assert.equal(merged.json().asks.length, 2);
  assert.equal((await call('POST', `/api/amas/${ama.id}/questions/999/approve`)).statusCode, 404);

  assert.equal((await call('POST', `/api/amas/${ama.id}/end`)).json().status, 'closed');
  const md = await call('GET', `/api/amas/${ama.id}/recap?format=md`);
  assert.match(md.headers['content-type'] as string, /markdown/);
  assert.match(md.body, /# AMA recap: API AMA/);
  assert.match(md.body, /Staking opens to everyone in April\./);
  const json = (await call('GET', `/api/amas/${ama.id}/recap?format=json`)).json();
  assert.equal(json.stats.answered, 1);
  assert.equal(json.stats.perPlatform.telegram.asks, 2);
  assert.equal(json.stats.perPlatform.discord.asks, 2);
  const csv = await call('GET', `/api/amas/${ama.id}/recap?format=csv&table=participants`);
  assert.match(csv.body.split('\r\n')[0]!, /^user,platform,name,questions_asked,votes_given$/);
});

test('a moderator token sees and manages only AMAs in its own chats', async () => {
  const other = await call('POST', '/api/amas', { title: 'Elsewhere', startsAt: T0 + 7_200_000, durationMinutes: 30, chats: ['discord:404'] });
  const mine = await call('POST', '/api/amas', { title: 'Mine', startsAt: T0 + 7_200_000, durationMinutes: 30, chats: ['telegram:-1001'] }, modToken);
  assert.equal(mine.statusCode, 201);
  assert.equal((await call('POST', '/api/amas', { title: 'Not mine', startsAt: T0 + 7_200_000, durationMinutes: 30, chats: ['discord:404'] }, modToken)).statusCode, 403);
  const list = (await call('GET', '/api/amas', undefined, modToken)).json() as { id: string }[];
  assert.ok(list.some((a) => a.id === mine.json().id));
  assert.ok(!list.some((a) => a.id === other.json().id));
  assert.equal((await call('GET', `/api/amas/${other.json().id}`, undefined, modToken)).statusCode, 404);
  assert.equal((await call('POST', `/api/amas/${other.json().id}/start`, undefined, modToken)).statusCode, 404);
});

test('a POST /api/amas retried with the same Idempotency-Key schedules one AMA', async () => {
  const body = { title: 'Retried', startsAt: T0 + 9_000_000, durationMinutes: 30, chats: ['telegram:-1001'] };
  const send = () => app.inject({ method: 'POST', url: '/api/amas', headers: { authorization: `Bearer ${ADMIN}`, 'idempotency-key': 'req-12345678' }, payload: body });
  const [a, b] = [await send(), await send()];
  assert.equal(a.json().id, b.json().id);
  const all = (await call('GET', '/api/amas?limit=1000')).json() as { title: string }[];
  assert.equal(all.filter((x) => x.title === 'Retried').length, 1);
});
