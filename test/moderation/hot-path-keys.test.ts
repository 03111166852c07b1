/**
 * The moderation hook's per-message script builds its key names in Lua (fewer bytes per message): they must be the
 * names `modKeys` gives, or a /slowmode off, an unmute's flood reset or the cross-chat paste cleanup would act on keys
 * the hook never wrote.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { modKeys } from '../../src/features/moderation/keys.js';
import { ev, modRig, type ModRig, type Person } from './harness.js';

let rig: ModRig;
before(async () => {
  rig = await modRig();
});
after(async () => {
  await rig.close();
});

const admin: Person = { id: '1', name: 'Ada Admin', username: 'ada', admin: true };

test('the hot-path script writes exactly the flood, recent, slow-mode and paste keys modKeys names', async () => {
  const mk = modKeys(rig.keys);
  const chatId = '-7001';
  const group = `telegram:${chatId}`;
  await rig.send(ev(rig, admin, '/slowmode 30', { chatId }));
  const dan: Person = { id: '77', name: 'Dan' };
  const e = ev(rig, dan, 'the release notes for this version are at https://docs.example.org/notes', { chatId });
  await rig.send(e);

  const windowMs = 10_000; // the default flood window (config/schema: flood.seconds 10)
  const bucket = Math.floor(e.at / windowMs);
  const user = `telegram:user:77`;
  const [flood, recent, slow] = await Promise.all([
    rig.redis.get(mk.flood(group, user, bucket)),
    rig.redis.lrange(mk.recent(group, user), 0, -1),
    rig.redis.get(mk.slow(group, user)),
  ]);
  assert.equal(flood, '1', 'the flood counter of this bucket');
  assert.deepEqual(recent, [`${group}|${e.messageId}`], 'the recent-ids list');
  assert.equal(slow, '1', 'the slow-mode gate');
  assert.ok((await rig.redis.pttl(mk.slow(group, user))) > 29_000, 'the gate lasts the slow-mode interval');

  // Nothing else under the flood/recent/slow/paste families: no key under a name modKeys does not give.
  const all = await rig.redis.keys(`${rig.keys.prefix}:mod:*:${user}*`);
  const pasteKeys = await rig.redis.keys(`${rig.keys.prefix}:mod:paste:${user}:*`);
  assert.equal(pasteKeys.length, 1, 'a text with a link is remembered for the cross-chat check');
  const pasted = await rig.redis.hgetall(pasteKeys[0]!);
  assert.deepEqual(JSON.parse(pasted[group]!), { chat: group, messageId: e.messageId });
  const expected = new Set([mk.flood(group, user, bucket), mk.recent(group, user), mk.slow(group, user), pasteKeys[0]!, mk.who(user)]);
  assert.deepEqual(all.filter((k) => !expected.has(k)), []);
});
