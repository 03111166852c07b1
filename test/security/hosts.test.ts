/**
 * Finding 3 (Medium): a host given as `@name` matched that username on any platform, so a different person named
 * "hosty" on Discord answered as the host and got a dashboard link. Hosts are platform-qualified now, and a name is
 * resolved once to an id on the platform it was given for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { securityRig, type Person, type SecurityRig } from './harness.js';

const TG = '-7101';
const DC = '7102';

describe('hosts are platform-qualified', { timeout: 60_000 }, () => {
  let rig: SecurityRig;
  const asAdmin = (method: 'GET' | 'POST', url: string, payload?: object) =>
    rig.app.inject({ method, url, headers: { authorization: `Bearer ${rig.adminToken}` }, ...(payload ? { payload } : {}) });
  const schedule = (hosts: string[], title = 'Hosts AMA', chats = [`telegram:${TG}`, `discord:${DC}`]) => asAdmin('POST', '/api/amas', { title, startsAt: Date.now() + 3_600_000, durationMinutes: 60, hosts, chats });

  before(async () => {
    rig = await securityRig();
  });
  after(async () => rig?.close());

  test('a bare name is refused with one line saying how to write a host', async () => {
    for (const bare of ['@hosty', 'hosty']) {
      const res = await schedule([bare]);
      assert.equal(res.statusCode, 400, bare);
      const error = res.json().error as string;
      assert.match(error, /telegram:user:<id> or telegram:@name/);
      assert.ok(!error.includes('\n'), 'one line');
    }
  });

  test('@name in a chat command means that name on the chat’s platform', async () => {
    await rig.say(TG, { id: '710', admin: true }, '/ama schedule in 2h 30m Chat AMA --hosts @cmdhost');
    const list = (await asAdmin('GET', '/api/amas')).json() as { title: string; hosts: string[] }[];
    assert.deepEqual(list.find((a) => a.title === 'Chat AMA')?.hosts, ['telegram:@cmdhost']);
  });

  test('a namesake on another platform is not the host and gets no dashboard link', async () => {
    assert.equal((await schedule(['telegram:@hosty'])).statusCode, 201);
    const namesake: Person = { platform: 'discord', id: '711', name: 'hosty', username: 'hosty', admin: false };
    assert.equal(await rig.dashboardLink(DC, namesake), undefined);
    const refusal = (await rig.actions('discord')).filter((a) => a.type === 'send' || a.type === 'answer').map((a) => a.text ?? '');
    assert.ok(refusal.some((t) => /Only the AMA host or a moderator/.test(t)), 'told in one line');
    const real: Person = { id: '712', name: 'Hosty', username: 'hosty', admin: false };
    assert.ok(await rig.dashboardLink(TG, real), 'the host on the platform the name was given for gets one');
  });

  test('a name is resolved once: whoever takes the username later is not the host', async () => {
    const made = await schedule(['telegram:@founder'], 'Resolve once', ['telegram:-7103']);
    assert.equal(made.statusCode, 201);
    assert.ok(await rig.dashboardLink('-7103', { id: '713', username: 'founder', admin: false }), 'first seen: resolved to this id');
    const ama = (await asAdmin('GET', `/api/amas/${made.json().id}`)).json() as { id: string };
    assert.equal(await rig.redis.hget(rig.keys.k('ama', ama.id), 'hostId:telegram:@founder'), 'telegram:user:713');
    assert.equal(await rig.dashboardLink('-7103', { id: '714', username: 'founder', admin: false }), undefined, 'a later holder of the name is nobody');
  });

  test('a name the bot already knows is resolved when the AMA is scheduled', async () => {
    await rig.say(TG, { id: '715', username: 'knownhost', admin: false }, 'hello, I am around');
    const made = await schedule(['telegram:@knownhost'], 'Known host');
    assert.equal(await rig.redis.hget(rig.keys.k('ama', made.json().id), 'hostId:telegram:@knownhost'), 'telegram:user:715');
  });
});
