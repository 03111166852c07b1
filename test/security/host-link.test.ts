/**
 * Finding 1 (High): a host's /dashboard link gave a role-less token scoped to the chat, with which a host who is not
 * a moderator read the mod log, lifted a ban, switched quiet mode and scheduled and cancelled AMAs. Now the link
 * carries the host role: its AMAs' questions, read and answered, and nothing else, until the AMA ends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { securityRig, type Person, type SecurityRig } from './harness.js';

const CHAT = '-5001';
const GROUP = `telegram:${CHAT}`;
const mod: Person = { id: '500', name: 'Mod', admin: true };
const host: Person = { id: '501', name: 'Hosty', username: 'hosty', admin: false };
const fan: Person = { id: '502', name: 'Fan', admin: false };

let rig: SecurityRig;
let amaId = '';
let cookie = '';
let csrf = '';
let banEntry = '';

const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
  rig.app.inject({ method, url, headers: { cookie, ...(method === 'POST' ? { 'x-csrf-token': csrf } : {}) }, ...(payload ? { payload } : {}) });
const asAdmin = (method: 'GET' | 'POST', url: string, payload?: object) =>
  rig.app.inject({ method, url, headers: { authorization: `Bearer ${rig.adminToken}` }, ...(payload ? { payload } : {}) });

describe('a host link is a host link', { timeout: 60_000 }, () => {
  before(async () => {
    rig = await securityRig();
    const made = await asAdmin('POST', '/api/amas', { title: 'Host AMA', startsAt: Date.now() + 3_600_000, durationMinutes: 60, hosts: ['telegram:@hosty'], chats: [GROUP] });
    assert.equal(made.statusCode, 201, made.body);
    amaId = made.json().id;
    await rig.say(CHAT, fan, '/ask When does staking open?');
    await rig.say(CHAT, mod, '/ban 503 spam');
    const log = (await asAdmin('GET', `/api/modlog?chat=${GROUP}`)).json() as { entries: { id: string; action: string }[] };
    banEntry = log.entries.find((e) => e.action === 'ban')!.id;
    // The host of a merely scheduled AMA asks for a link.
    const code = await rig.dashboardLink(CHAT, host);
    assert.ok(code, 'the host gets a private link');
    ({ cookie, csrf } = await rig.signIn(code));
    assert.ok(cookie, 'the link signs the host in');
  });
  after(async () => rig?.close());

  test('the host cannot read the mod log or reverse a ban (403)', async () => {
    assert.equal((await api('GET', `/api/modlog?chat=${GROUP}`)).statusCode, 403);
    assert.equal((await api('POST', `/api/modlog/${banEntry}/reverse`, { chat: GROUP })).statusCode, 403);
    const log = (await asAdmin('GET', `/api/modlog?chat=${GROUP}`)).json() as { entries: { action: string }[] };
    assert.ok(!log.entries.some((e) => e.action === 'unban'), 'the ban stands');
  });

  test('the host cannot switch quiet mode, read chat views, or schedule, start, end or cancel AMAs', async () => {
    assert.equal((await api('POST', '/dashboard/quiet', { chat: GROUP, on: true })).statusCode, 403);
    assert.equal((await api('GET', `/dashboard/quiet?chat=${GROUP}`)).statusCode, 403);
    assert.equal((await api('GET', '/dashboard/activity?window=30m')).statusCode, 403);
    assert.equal((await api('GET', `/api/chats/${GROUP}/digest?window=2h`)).statusCode, 403);
    assert.equal((await api('POST', '/api/amas', { title: 'Mine now', startsAt: Date.now() + 7_200_000, durationMinutes: 30, chats: [GROUP] })).statusCode, 403);
    for (const what of ['start', 'end', 'cancel']) assert.equal((await api('POST', `/api/amas/${amaId}/${what}`)).statusCode, 403, what);
    assert.equal((await api('GET', `/api/amas/${amaId}/recap?format=csv&table=participants`)).statusCode, 403);
    assert.equal((await asAdmin('GET', `/api/amas/${amaId}`)).json().status, 'scheduled', 'nothing changed');
  });

  test('the host reads its AMA and its questions and answers them, and moderates none of them', async () => {
    assert.equal((await api('GET', `/api/amas/${amaId}`)).statusCode, 200);
    const qs = await api('GET', `/api/amas/${amaId}/questions`);
    assert.equal(qs.statusCode, 200);
    const q = (qs.json() as { id: string }[])[0]!;
    assert.equal((await api('POST', `/api/amas/${amaId}/questions/${q.id}/reject`, { reason: 'no' })).statusCode, 403);
    assert.equal((await asAdmin('POST', `/api/amas/${amaId}/start`)).statusCode, 200);
    const answered = await api('POST', `/api/amas/${amaId}/questions/${q.id}/answer`, { text: 'Staking opens in April.' });
    assert.equal(answered.statusCode, 200, answered.body);
    const session = (await api('GET', '/dashboard/session')).json() as { role: string; admin: boolean };
    assert.equal(session.role, 'host');
    assert.equal(session.admin, false);
  });

  test('another AMA in the same chat is not the host’s', async () => {
    const other = await asAdmin('POST', '/api/amas', { title: 'Not theirs', startsAt: Date.now() + 86_400_000, durationMinutes: 60, chats: [GROUP] });
    assert.equal((await api('GET', `/api/amas/${other.json().id}`)).statusCode, 404);
  });

  test('the host link ends when the AMA ends', async () => {
    assert.equal((await asAdmin('POST', `/api/amas/${amaId}/end`)).statusCode, 200);
    assert.equal((await api('GET', `/api/amas/${amaId}/questions`)).statusCode, 401);
    assert.equal((await api('GET', '/dashboard/session')).statusCode, 401);
  });
});
