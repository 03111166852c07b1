/** Moderator commands through the real pipeline (moderation hook + router) on a real Redis, asserting on the outbound queue. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatEventSchema } from '../../../src/core/events.js';
import { createModeration } from '../../../src/features/moderation/index.js';
import { modKeys } from '../../../src/features/moderation/keys.js';
import { createHandleEvent } from '../../../src/pipeline/handle-event.js';
import { ev, modRig, type ModRig, type Person } from './harness.js';

let rig: ModRig;
before(async () => {
  rig = await modRig();
});
after(async () => {
  await rig?.close();
});

const GROUP = 'telegram:-1001';
const admin: Person = { id: '1', name: 'Ada Admin', username: 'ada', admin: true };
const bob: Person = { id: '2', name: 'Bob', username: 'bob_b' };
const carol: Person = { id: '3', name: 'Carol', username: 'carol' };

/** Actions enqueued by one handled event (ids derive from the event id). */
async function actionsOf(eventId: string, platform: 'telegram' | 'discord' = 'telegram') {
  return (await rig.actions(platform)).filter((a) => a.id.startsWith(`${eventId}#`));
}

test("a non-moderator's /ban is refused in one line, logged, and no ban is enqueued", async () => {
  await rig.send(ev(rig, bob, 'hello')); // bob is known by username now
  const e = ev(rig, carol, '/ban @bob_b spamming');
  await rig.send(e);
  const acts = await actionsOf(e.id);
  assert.equal(acts.filter((a) => a.type === 'ban').length, 0);
  const replies = acts.filter((a) => a.type === 'send');
  assert.equal(replies.length, 1);
  assert.equal(replies[0]!.text, 'Only moderators can use /ban.');
  assert.ok(!replies[0]!.text!.includes('\n'));
  const refused = (await rig.audit(GROUP)).find((x) => x.action === 'refused' && x.by === 'telegram:user:3');
  assert.ok(refused, 'the attempt is in the audit log');
  assert.match(refused.content ?? '', /\/ban @bob_b/);
});

test("a moderator's /mute @user 10m mutes on Telegram until now + 10 minutes, at moderation priority", async () => {
  await rig.send(ev(rig, bob, 'hi again'));
  const e = ev(rig, admin, '/mute @bob_b 10m too loud');
  await rig.send(e);
  const acts = await actionsOf(e.id);
  const mute = acts.find((a) => a.type === 'mute');
  assert.ok(mute, 'a mute action is enqueued');
  assert.equal(mute.user, 'telegram:user:2');
  assert.equal(mute.chat, GROUP);
  assert.equal(mute.until, rig.clock.t + 10 * 60_000);
  assert.equal(mute.priority, 'moderation');
  assert.equal(acts.find((a) => a.type === 'send')?.text, 'Muted @bob_b for 10m: too loud.');
  const entry = (await rig.audit(GROUP)).find((x) => x.action === 'mute' && x.target === 'telegram:user:2');
  assert.ok(entry);
  assert.equal(entry.by, 'telegram:user:1');
  assert.equal(entry.reason, 'too loud');
  assert.equal(entry.meta?.until, rig.clock.t + 600_000);
});

test('a Discord /mute becomes a timeout action of the same length', async () => {
  const dAdmin: Person = { id: '900', name: 'Mod', admin: true };
  const e = ev(rig, dAdmin, '/mute <@901> 2h', { platform: 'discord', chatId: '555' });
  await rig.send(e);
  const mute = (await actionsOf(e.id, 'discord')).find((a) => a.type === 'mute');
  assert.ok(mute);
  assert.equal(mute.user, 'discord:user:901');
  assert.equal(mute.chat, 'discord:555');
  assert.equal(mute.until, rig.clock.t + 2 * 3_600_000);
});

test('targets resolve by reply, numeric id and an adapter-resolved mention; an unknown username is refused', async () => {
  const byReply = ev(rig, admin, '/ban', { replyTo: '777', replyToUser: 'telegram:user:50' });
  await rig.send(byReply);
  const acts = await actionsOf(byReply.id);
  assert.equal(acts.find((a) => a.type === 'ban')?.user, 'telegram:user:50');
  assert.equal(acts.find((a) => a.type === 'delete')?.messageId, '777', 'a ban by reply also removes the message');

  const byId = ev(rig, admin, '/ban 51 bot account');
  await rig.send(byId);
  assert.equal((await actionsOf(byId.id)).find((a) => a.type === 'ban')?.user, 'telegram:user:51');

  const byMention = ev(rig, admin, '/mute Dave 1h', { mentions: ['telegram:user:52'] });
  await rig.send(byMention);
  assert.equal((await actionsOf(byMention.id)).find((a) => a.type === 'mute')?.user, 'telegram:user:52');

  const unknown = ev(rig, admin, '/ban @nobody_here');
  await rig.send(unknown);
  const u = await actionsOf(unknown.id);
  assert.equal(u.filter((a) => a.type === 'ban').length, 0);
  assert.match(u[0]?.text ?? '', /^I don't know ＠nobody_here yet/);

  const wrongPlatform = ev(rig, admin, '/ban discord:user:5');
  await rig.send(wrongPlatform);
  assert.equal((await actionsOf(wrongPlatform.id)).filter((a) => a.type === 'ban').length, 0);
});

test('a moderator cannot ban another admin, a community moderator or the bot; each attempt is logged', async () => {
  const other: Person = { id: '60', name: 'Other Admin', username: 'other_admin', admin: true };
  await rig.send(ev(rig, other, 'gm')); // seen as admin
  await rig.redis.hset(rig.keys.k('roles', GROUP), 'telegram:user:61', 'moderator');
  for (const text of ['/ban @other_admin', '/mute 61 1h', '/ban @townhall_bot']) {
    const e = ev(rig, admin, text);
    if (text.includes('townhall_bot')) await rig.redis.set(rig.keys.k('mod', 'uname', 'telegram', 'townhall_bot'), 'telegram:user:7000000001');
    await rig.send(e);
    const acts = await actionsOf(e.id);
    assert.equal(acts.filter((a) => a.type === 'ban' || a.type === 'mute').length, 0, text);
    assert.equal(acts.filter((a) => a.type === 'send').length, 1, text);
  }
  const refused = (await rig.audit(GROUP)).filter((x) => x.action === 'refused' && x.by === 'telegram:user:1');
  assert.equal(refused.length, 3);
  // Replying to the bot's own message is refused too (the outbound runner records what the bot sent).
  await rig.redis.set(rig.keys.k('sent', 'telegram', GROUP, '4242'), 'card');
  const e = ev(rig, admin, '/ban', { replyTo: '4242', replyToUser: 'telegram:user:7000000001' });
  await rig.send(e);
  assert.equal((await actionsOf(e.id)).filter((a) => a.type === 'ban').length, 0);
});

test('three warnings mute for 24 hours and the count starts over', async () => {
  const eve: Person = { id: '70', name: 'Eve', username: 'eve70' };
  await rig.send(ev(rig, eve, 'hey'));
  const replies: string[] = [];
  for (let i = 0; i < 4; i++) {
    const e = ev(rig, admin, `/warn @eve70 rude ${i + 1}`);
    await rig.send(e);
    const acts = await actionsOf(e.id);
    replies.push(acts.find((a) => a.type === 'send')!.text!);
    const mute = acts.find((a) => a.type === 'mute');
    if (i === 2) {
      assert.ok(mute, 'the third warning mutes');
      assert.equal(mute.until, rig.clock.t + 24 * 3_600_000);
    } else {
      assert.equal(mute, undefined);
    }
  }
  assert.deepEqual(replies, [
    'Warned @eve70 (1/3): rude 1.',
    'Warned @eve70 (2/3): rude 2.',
    'Warned @eve70 (3/3): rude 3 — muted for 1d.',
    'Warned @eve70 (1/3): rude 4.',
  ]);
});

test('/purge 10 deletes the command and the ten messages before it', async () => {
  const e = ev(rig, admin, '/purge 10');
  await rig.send(e);
  const purge = (await actionsOf(e.id)).find((a) => a.type === 'purge');
  assert.ok(purge);
  assert.equal(purge.count, 11);
  assert.equal(purge.priority, 'moderation');
  const bad = ev(rig, admin, '/purge 100000');
  await rig.send(bad);
  assert.match((await actionsOf(bad.id))[0]?.text ?? '', /^Usage: \/purge <count> \(1 to 500\)$/);
});

test('/slowmode sets Discord slow mode; on Telegram the hook deletes a second message sent too soon', async () => {
  const d = ev(rig, { id: '900', name: 'Mod', admin: true }, '/slowmode 30', { platform: 'discord', chatId: '556' });
  await rig.send(d);
  const sm = (await actionsOf(d.id, 'discord')).find((a) => a.type === 'slowmode');
  assert.equal(sm?.seconds, 30);

  const chatId = '-1002';
  await rig.send(ev(rig, admin, '/slowmode 30', { chatId }));
  const first = ev(rig, carol, 'first', { chatId });
  const second = ev(rig, carol, 'second', { chatId });
  await rig.send(first);
  await rig.send(second);
  assert.equal((await actionsOf(first.id)).length, 0);
  assert.equal((await actionsOf(second.id)).find((a) => a.type === 'delete')?.messageId, second.messageId);
  assert.ok(rig.passed.some((p) => p.id === first.id));
  assert.ok(!rig.passed.some((p) => p.id === second.id), 'a removed message reaches no later feature');
  await rig.send(ev(rig, admin, '/slowmode off', { chatId }));
});

test('/filter add removes matching messages and edits (look-alike letters included); /filter remove restores', async () => {
  const chatId = '-1003';
  const add = ev(rig, admin, '/filter add moonshot', { chatId });
  await rig.send(add);
  assert.match((await actionsOf(add.id))[0]?.text ?? '', /^Filter added: moonshot\./);

  const clean = ev(rig, carol, 'what a nice day', { chatId });
  const dirty = ev(rig, carol, 'join the MOONSHOT now', { chatId });
  const disguised = ev(rig, bob, 'join the mооnshоt now', { chatId }); // Cyrillic о
  const glued = ev(rig, bob, 'moonshots are fine', { chatId });
  for (const e of [clean, dirty, disguised, glued]) await rig.send(e);
  assert.ok(rig.passed.some((p) => p.id === clean.id));
  assert.ok(rig.passed.some((p) => p.id === glued.id), 'a longer word is not the filtered word');
  for (const e of [dirty, disguised]) {
    assert.equal((await actionsOf(e.id)).find((a) => a.type === 'delete')?.messageId, e.messageId);
    assert.ok(!rig.passed.some((p) => p.id === e.id));
  }

  const edit = ev(rig, carol, 'edited into moonshot', { chatId, kind: 'edit', messageId: clean.messageId! });
  await rig.send(edit);
  assert.equal((await actionsOf(edit.id)).find((a) => a.type === 'delete')?.messageId, clean.messageId, 'filters apply to edits');

  rig.clock.t += 1000;
  const rx = ev(rig, admin, '/filter add /free\\s+nitro/', { chatId });
  await rig.send(rx);
  assert.match((await actionsOf(rx.id))[0]?.text ?? '', /^Filter added: \/free\\s\+nitro\//);
  const nitro = ev(rig, bob, 'FREE   nitro here', { chatId });
  await rig.send(nitro);
  assert.ok((await actionsOf(nitro.id)).some((a) => a.type === 'delete'));

  const list = ev(rig, admin, '/filter list', { chatId });
  await rig.send(list);
  assert.equal((await actionsOf(list.id))[0]?.text, 'Filters (2):\n1. moonshot\n2. /free\\s+nitro/');

  await rig.send(ev(rig, admin, '/filter remove moonshot', { chatId }));
  const again = ev(rig, carol, 'moonshot again', { chatId });
  await rig.send(again);
  assert.ok(rig.passed.some((p) => p.id === again.id));
});

test('/quiet on mutes each new member and suppresses the join; /quiet off lets them in', async () => {
  const chatId = '-1004';
  await rig.send(ev(rig, admin, '/quiet on 20m', { chatId }));
  const j = ev(rig, { id: '80', name: 'Newbie' }, undefined, { chatId, kind: 'join' });
  delete j.messageId;
  await rig.send(j);
  const mute = (await actionsOf(j.id)).find((a) => a.type === 'mute');
  assert.equal(mute?.user, 'telegram:user:80');
  assert.ok(!rig.passed.some((p) => p.id === j.id), 'no welcome: later features never see the join');
  await rig.send(ev(rig, admin, '/quiet off', { chatId }));
  const j2 = ev(rig, { id: '81', name: 'Later' }, undefined, { chatId, kind: 'join' });
  delete j2.messageId;
  await rig.send(j2);
  assert.equal((await actionsOf(j2.id)).length, 0);
  assert.ok(rig.passed.some((p) => p.id === j2.id));
});

test('/modlog lists recent actions without their content, and /modlog undo reverses a mute exactly once', async () => {
  const chatId = '-1005';
  const m = ev(rig, admin, '/mute 90 1h posted http://scam.example', { chatId });
  await rig.send(m);
  const log = ev(rig, admin, '/modlog 5', { chatId });
  await rig.send(log);
  const text = (await actionsOf(log.id))[0]!.text!;
  assert.match(text, /^Moderation log \(newest first, UTC\):\n\d+-\d+ 11-26 12:00 mute telegram:user:90 by telegram:user:1 — posted http:\/\/scam\.example \[undo\]$/);
  const entryId = /\n(\d+-\d+) /.exec(text)![1]!;

  const undo = ev(rig, admin, `/modlog undo ${entryId}`, { chatId });
  await rig.send(undo);
  assert.equal((await actionsOf(undo.id))[0]?.text, `Done: unmute user 90 (reverses ${entryId}).`);
  const unmute = (await rig.actions()).find((a) => a.type === 'unmute' && a.user === 'telegram:user:90');
  assert.ok(unmute, 'the unmute is enqueued');
  assert.equal(unmute.chat, 'telegram:-1005');

  const again = ev(rig, admin, `/modlog undo ${entryId}`, { chatId });
  await rig.send(again);
  assert.match((await actionsOf(again.id))[0]?.text ?? '', /already reversed/);
  assert.equal((await rig.actions()).filter((a) => a.type === 'unmute' && a.user === 'telegram:user:90').length, 1);
});

test('/modlog undo takes a warning back: it no longer counts toward the mute, and is reversed once', async () => {
  const chatId = '-1015';
  const group = 'telegram:-1015';
  const mk = modKeys(rig.keys);
  const w1 = ev(rig, admin, '/warn 91 spam', { chatId });
  await rig.send(w1);
  await rig.send(ev(rig, admin, '/warn 91 spam again', { chatId }));
  assert.equal(await rig.redis.scard(mk.warns(group, 'telegram:user:91')), 2);
  const first = (await rig.audit(group)).filter((x) => x.action === 'warn').at(-1)!;
  assert.equal(first.meta?.event, w1.id, 'the entry names the event that gave the warning');

  const undo = ev(rig, admin, `/modlog undo ${first.id}`, { chatId });
  await rig.send(undo);
  assert.equal((await actionsOf(undo.id))[0]?.text, `Done: unwarn user 91 (reverses ${first.id}).`);
  assert.deepEqual(await rig.redis.sismember(mk.warns(group, 'telegram:user:91'), w1.id), 0);
  assert.ok((await rig.audit(group)).some((x) => x.action === 'unwarn' && x.meta?.reverses === first.id), 'the undo is logged');

  // Two warnings again, not three: the third /warn of the default max 3 does not mute.
  const w3 = ev(rig, admin, '/warn 91 third', { chatId });
  await rig.send(w3);
  assert.equal((await actionsOf(w3.id)).filter((a) => a.type === 'mute').length, 0);

  const again = ev(rig, admin, `/modlog undo ${first.id}`, { chatId });
  await rig.send(again);
  assert.match((await actionsOf(again.id))[0]?.text ?? '', /already reversed/);
});

test('/modset changes the flood limit, and another process picks the change up on its next event', async () => {
  const chatId = '-1006';
  const set = ev(rig, admin, '/modset flood.messages 3', { chatId });
  await rig.send(set);
  assert.equal((await actionsOf(set.id))[0]?.text, 'flood.messages is now 3.');
  const bad = ev(rig, admin, '/modset flood.mute soon', { chatId });
  await rig.send(bad);
  assert.equal((await actionsOf(bad.id))[0]?.text, 'flood.mute: a duration like 30s, 10m, 2h or 1d.');
  const show = ev(rig, admin, '/modset', { chatId });
  await rig.send(show);
  assert.match((await actionsOf(show.id))[0]?.text ?? '', /flood\.messages 3 · flood\.seconds 10 · flood\.mute 10m/);

  // A second "process": its own moderation instance, with its own policy cache, on the same Redis.
  const second = createModeration(rig.deps);
  const handle2 = createHandleEvent(rig.deps, [second.feature]);
  const flooder: Person = { id: '95', name: 'Fast' };
  await handle2(ChatEventSchema.parse(ev(rig, flooder, 'one', { chatId })));
  await rig.send(ev(rig, admin, '/modset flood.messages 2', { chatId })); // changed by "process 1" after process 2 cached the policy
  const msgs = [ev(rig, flooder, 'two', { chatId }), ev(rig, flooder, 'three', { chatId })];
  for (const m of msgs) await handle2(ChatEventSchema.parse(m));
  assert.ok((await actionsOf(msgs[1]!.id)).some((a) => a.type === 'delete'), 'the third message breaks the new limit of 2 in process 2');
});

test('/filter add refuses a pattern no linear-time engine can run, or one that removes every message, and says why', async () => {
  for (const [pattern, why] of [
    ['(?=x)y', /look-ahead/],
    ['(a|a)*$', /matches an empty message/],
    ['(\\w+)\\1', /back-references/],
    ['[unclosed', /not a valid pattern/],
  ] as const) {
    const e = ev(rig, admin, `/filter add /${pattern}/`, { chatId: '-1007' });
    await rig.send(e);
    assert.match((await actionsOf(e.id))[0]?.text ?? '', why, pattern);
  }
  assert.equal(await rig.redis.hlen(rig.keys.k('mod', 'filters', 'telegram:-1007')), 0);
  assert.ok((await rig.audit('telegram:-1007')).filter((x) => x.action === 'refused').length >= 2);
});

test('/hidden tells anyone how many messages were hidden today and why, without content', async () => {
  const chatId = '-1008';
  await rig.send(ev(rig, admin, '/filter add rugpull', { chatId }));
  await rig.send(ev(rig, carol, 'total rugpull incoming', { chatId }));
  await rig.send(ev(rig, bob, 'DM me for support', { chatId }));
  const h = ev(rig, { id: '99', name: 'Curious' }, '/hidden', { chatId });
  await rig.send(h);
  const text = (await actionsOf(h.id))[0]?.text ?? '';
  assert.equal(text, 'Hidden today (UTC): 2 messages — 1 filtered words, 1 scams. Members: 1 warned.');
  assert.ok(!/rugpull|support/i.test(text));
});

test('a flood across the edge of two counting windows is still a flood (the window before counts too)', async () => {
  const chatId = '-1016';
  await rig.send(ev(rig, admin, '/modset flood.messages 5', { chatId }));
  const fast: Person = { id: '96', name: 'Edge' };
  const t0 = rig.clock.t;
  const windowMs = 10_000; // flood.seconds defaults to 10
  try {
    // Four messages just before a window ends and three just after: neither window alone goes past 5, the two do.
    rig.clock.t = (Math.floor(t0 / windowMs) + 1) * windowMs - 500;
    for (let i = 0; i < 4; i++) await rig.send(ev(rig, fast, `before ${i}`, { chatId }));
    rig.clock.t += 1000;
    const after = [0, 1, 2].map((i) => ev(rig, fast, `after ${i}`, { chatId }));
    for (const m of after) await rig.send(m);
    assert.ok((await actionsOf(after[2]!.id)).some((a) => a.type === 'delete'), 'the seventh message within a second is removed');
  } finally {
    rig.clock.t = t0;
  }
});
