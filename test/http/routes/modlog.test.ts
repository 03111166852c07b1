/** GET /api/modlog, the hidden tally and reversal over HTTP (fastify inject), on a real Redis. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Principal } from '../../../src/http/auth.js';
import { modlogRoutes } from '../../../src/http/routes/modlog.js';
import { ev, modRig, type ModRig, type Person } from '../../features/moderation/harness.js';

let rig: ModRig;
let app: FastifyInstance;
const admin: Person = { id: '1', name: 'Ada', admin: true };

before(async () => {
  rig = await modRig();
  app = Fastify();
  // Stands in for the server's auth hook: the test says who is calling.
  await app.register(
    async (api) => {
      api.addHook('onRequest', async (req) => {
        const p = req.headers['x-test-principal'];
        if (typeof p === 'string') req.principal = JSON.parse(p) as Principal;
      });
      await api.register(modlogRoutes, { deps: rig.deps });
    },
    { prefix: '/api' },
  );
  await app.ready();
  await rig.send(ev(rig, admin, '/mute 40 1h spamming links', { chatId: '-3001' }));
  await rig.send(ev(rig, admin, '/ban 41 scam bot', { chatId: '-3001' }));
  await rig.send(ev(rig, { id: '42', name: 'S' }, 'DM me for support', { chatId: '-3001' }));
  await rig.send(ev(rig, admin, '/mute 43 1h', { chatId: '-3002' }));
});
after(async () => {
  await app?.close();
  await rig?.close();
});

const asAdmin = { 'x-test-principal': JSON.stringify({ subject: 'admin', role: 'admin', admin: true, chats: [], amas: [] }) };
const asMod = { 'x-test-principal': JSON.stringify({ subject: 'telegram:user:1', role: 'moderator', admin: false, chats: ['telegram:-3001'], amas: [] }) };

test('GET /api/modlog?chat= lists who did what to whom, why, when, where and the content, newest first', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/modlog?chat=telegram:-3001', headers: asAdmin });
  assert.equal(res.statusCode, 200);
  const body = res.json() as { chat: string; entries: { id: string; action: string; by: string; target?: string; reason?: string; content?: string; chat: string; at: number; reversible: boolean }[] };
  assert.equal(body.chat, 'telegram:-3001');
  const actions = body.entries.map((e) => e.action);
  assert.deepEqual(actions.slice(0, 4), ['warn', 'delete', 'ban', 'mute']);
  const del = body.entries.find((e) => e.action === 'delete')!;
  assert.equal(del.by, 'townhall');
  assert.equal(del.target, 'telegram:user:42');
  assert.equal(del.content, 'DM me for support');
  assert.equal(del.chat, 'telegram:-3001');
  assert.match(del.reason ?? '', /^scam \(support-lure\)/);
  assert.equal(del.reversible, false);
  assert.equal(body.entries.find((e) => e.action === 'mute')?.reversible, true);

  const all = (await app.inject({ method: 'GET', url: '/api/modlog?limit=2', headers: asAdmin })).json() as { entries: unknown[]; next: string | null };
  assert.equal(all.entries.length, 2);
  assert.ok(all.next);
  const page2 = (await app.inject({ method: 'GET', url: `/api/modlog?limit=50&before=${all.next}`, headers: asAdmin })).json() as { entries: { id: string }[] };
  assert.ok(page2.entries.length >= 3 && page2.entries.every((e) => e.id < all.next!));
});

test('a moderator token sees only its chats', async () => {
  assert.equal((await app.inject({ method: 'GET', url: '/api/modlog?chat=telegram:-3001', headers: asMod })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/api/modlog?chat=telegram:-3002', headers: asMod })).statusCode, 403);
  assert.equal((await app.inject({ method: 'GET', url: '/api/modlog', headers: asMod })).statusCode, 400);
  assert.equal((await app.inject({ method: 'GET', url: '/api/modlog?chat=nonsense', headers: asAdmin })).statusCode, 400);
  assert.equal((await app.inject({ method: 'GET', url: '/api/modlog?chat=telegram:-3001' })).statusCode, 401, 'no principal, no log');
});

test('POST /api/modlog/:id/reverse unmutes once, refuses what cannot be reversed, and logs who reversed it', async () => {
  const list = (await app.inject({ method: 'GET', url: '/api/modlog?chat=telegram:-3001', headers: asMod })).json() as { entries: { id: string; action: string }[] };
  const mute = list.entries.find((e) => e.action === 'mute')!;
  const del = list.entries.find((e) => e.action === 'delete')!;

  const ok = await app.inject({ method: 'POST', url: `/api/modlog/${mute.id}/reverse`, headers: asMod, payload: { chat: 'telegram:-3001' } });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { ok: true, reversed: mute.id, action: 'unmute', user: 'telegram:user:40', chat: 'telegram:-3001' });
  const unmutes = (await rig.actions()).filter((a) => a.type === 'unmute' && a.user === 'telegram:user:40');
  assert.equal(unmutes.length, 1);
  assert.equal(unmutes[0]!.priority, 'moderation');

  assert.equal((await app.inject({ method: 'POST', url: `/api/modlog/${mute.id}/reverse`, headers: asMod, payload: { chat: 'telegram:-3001' } })).statusCode, 409);
  // The same entry reached through the all-chats stream is the same entry: still only one unmute.
  const allList = (await app.inject({ method: 'GET', url: '/api/modlog?limit=500', headers: asAdmin })).json() as { entries: { id: string; action: string; target?: string; reversed: boolean }[] };
  const twin = allList.entries.find((e) => e.action === 'mute' && e.target === 'telegram:user:40')!;
  assert.equal(twin.reversed, true);
  assert.equal((await app.inject({ method: 'POST', url: `/api/modlog/${twin.id}/reverse`, headers: asAdmin })).statusCode, 409);

  assert.equal((await app.inject({ method: 'POST', url: `/api/modlog/${del.id}/reverse`, headers: asMod, payload: { chat: 'telegram:-3001' } })).statusCode, 400);
  assert.equal((await app.inject({ method: 'POST', url: '/api/modlog/1-0/reverse', headers: asMod, payload: { chat: 'telegram:-3001' } })).statusCode, 404);
  assert.equal((await app.inject({ method: 'POST', url: `/api/modlog/${mute.id}/reverse`, headers: asMod, payload: { chat: 'telegram:-3002' } })).statusCode, 403);

  const log = (await app.inject({ method: 'GET', url: '/api/modlog?chat=telegram:-3001&limit=1', headers: asMod })).json() as { entries: { action: string; by: string; meta?: { reverses?: string } }[] };
  assert.deepEqual([log.entries[0]?.action, log.entries[0]?.by, log.entries[0]?.meta?.reverses], ['unmute', 'telegram:user:1', mute.id]);
});

test('GET /api/modlog/hidden gives the public tally without content', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/modlog/hidden?chat=telegram:-3001', headers: asMod });
  assert.equal(res.statusCode, 200);
  const body = res.json() as { counts: Record<string, number>; text: string; day: string };
  assert.equal(body.day, '2026-11-26');
  assert.equal(body.counts['msg:scam'], 1);
  assert.equal(body.text, 'Hidden today (UTC): 1 message — 1 scams. Members: 1 muted, 1 banned, 1 warned.');
});
