/** Automatic protection through the real pipeline on a real Redis: flood, raids, impersonation, scams, unsafe filters. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatEventSchema } from '../../../src/core/events.js';
import { compileFilters, matchFilters } from '../../../src/features/moderation/filters.js';
import { modKeys } from '../../../src/features/moderation/keys.js';
import { checkPatternStatic, PatternSet } from '../../../src/features/moderation/safe-regex.js';
import { ev, join, modRig, type ModRig, type Person } from './harness.js';

let rig: ModRig;
before(async () => {
  rig = await modRig();
});
after(async () => {
  await rig?.close();
});

const admin: Person = { id: '1', name: 'Ada Admin', username: 'ada', admin: true };

async function actionsOf(eventId: string) {
  return (await rig.actions('telegram')).filter((a) => a.id.startsWith(`${eventId}#`));
}

test('flood: the 9th message in 10 s is deleted with the 8 before it, the sender muted for 10 min, one notice', async () => {
  const chatId = '-2001';
  const fast: Person = { id: '10', name: 'Speedy' };
  const calm: Person = { id: '11', name: 'Calm' };
  const sent = [];
  for (let i = 0; i < 12; i++) {
    const e = ev(rig, fast, `spam ${i}`, { chatId });
    sent.push(e);
    await rig.send(e);
    if (i % 2 === 0) await rig.send(ev(rig, calm, `normal ${i}`, { chatId }));
    rig.clock.t += 300;
  }
  for (const e of sent.slice(0, 8)) assert.equal((await actionsOf(e.id)).length, 0, 'under the limit nothing happens');
  const ninth = await actionsOf(sent[8]!.id);
  assert.equal(ninth.find((a) => a.type === 'delete')?.messageId, sent[8]!.messageId);
  const purge = ninth.find((a) => a.type === 'purge');
  assert.deepEqual(new Set(purge?.messageIds), new Set(sent.slice(0, 8).map((e) => e.messageId)), 'the whole flood goes');
  const mute = ninth.find((a) => a.type === 'mute');
  assert.equal(mute?.user, 'telegram:user:10');
  assert.equal(mute?.until, rig.clock.t - 300 * 4 + 10 * 60_000);
  assert.equal(mute?.priority, 'moderation');
  assert.equal(ninth.filter((a) => a.type === 'send').length, 1);
  for (const e of sent.slice(9)) {
    const acts = await actionsOf(e.id);
    assert.deepEqual(acts.map((a) => a.type), ['delete'], 'later messages are deleted, with no second mute or notice');
  }
  const calmPassed = rig.passed.filter((p) => p.user.id === 'telegram:user:11').length;
  assert.equal(calmPassed, 6, 'no good message is lost');
  assert.equal(rig.passed.filter((p) => p.user.id === 'telegram:user:10').length, 8);
});

test('raid: 30 joins in 10 s turn quiet mode on, mute the joiners, and the bot sends exactly one notice', async () => {
  const chatId = '-2002';
  const joins = Array.from({ length: 45 }, (_, i) => join(rig, { id: String(3000 + i), name: `Bot ${i}` }, { chatId, at: rig.clock.t + i * 200 }));
  // Many workers at once: half the burst is handled concurrently.
  for (const e of joins.slice(0, 20)) await rig.send(e);
  await Promise.all(joins.slice(20, 35).map((e) => rig.send(e)));
  for (const e of joins.slice(35)) await rig.send(e);

  const all = await rig.actions('telegram');
  const ours = all.filter((a) => joins.some((j) => a.id.startsWith(`${j.id}#`)));
  const notices = ours.filter((a) => a.type === 'send');
  assert.equal(notices.length, 1, 'one notice, however many joins');
  assert.match(notices[0]!.text!, /^Raid detected \(\d+ joins in 10s\): quiet mode is on for 30m\./);
  const muted = new Set(ours.filter((a) => a.type === 'mute').map((a) => a.user));
  assert.equal(muted.size, 45, 'every joiner of the raid is muted');
  assert.ok(await rig.redis.exists(rig.keys.k('mod', 'quiet', 'telegram:-2002')));
  const passedJoins = rig.passed.filter((p) => p.kind === 'join' && p.chat === 'telegram:-2002').length;
  assert.equal(passedJoins, 29, 'joins before the raid was detected pass; none after (no welcome during quiet mode)');
  const quietEntry = (await rig.audit('telegram:-2002')).find((x) => x.action === 'quiet');
  assert.match(quietEntry?.reason ?? '', /^raid: 30 joins in 10s$/);

  await rig.send(ev(rig, admin, '/quiet off', { chatId }));
  const late = join(rig, { id: '3999', name: 'Late' }, { chatId, at: rig.clock.t + 60_000 });
  await rig.send(late);
  assert.equal((await actionsOf(late.id)).length, 0, 'after /quiet off new members are welcome again');
});

test("impersonation: 'Ꮯhangpeng Zhao' (Cherokee Ꮯ) and 'C\u200BZ' (zero-width space) next to admins are flagged", async () => {
  const chatId = '-2003';
  const group = 'telegram:-2003';
  await rig.send(ev(rig, { id: '20', name: 'Changpeng Zhao', username: 'cz_binance', admin: true }, 'hello all', { chatId }));
  await rig.send(ev(rig, { id: '21', name: 'CZ', admin: true }, 'gm', { chatId }));

  const fake1 = ev(rig, { id: '30', name: 'Ꮯhangpeng Zhao' }, 'DM me', { chatId, text: 'airdrop is live, reply here' });
  const fake2 = join(rig, { id: '31', name: 'C\u200BZ' }, { chatId });
  const fake3 = ev(rig, { id: '32', name: 'Changpeng Zhao | Support' }, 'hi', { chatId });
  const honest = ev(rig, { id: '33', name: 'Chang Li' }, 'hi', { chatId });
  for (const e of [fake1, fake2, fake3, honest]) await rig.send(e);

  const flags = (await rig.audit(group)).filter((x) => x.action === 'flag');
  const byTarget = new Map(flags.map((f) => [f.target, f]));
  assert.match(byTarget.get('telegram:user:30')?.reason ?? '', /imitates admin "Changpeng Zhao": same letters after folding look-alikes, mixed scripts/);
  assert.match(byTarget.get('telegram:user:31')?.reason ?? '', /imitates admin "CZ": same letters after folding look-alikes, invisible characters/);
  assert.match(byTarget.get('telegram:user:32')?.reason ?? '', /contains the name "Changpeng Zhao"/);
  assert.ok(!byTarget.has('telegram:user:33'));
  assert.ok(!byTarget.has('telegram:user:20') && !byTarget.has('telegram:user:21'), 'admins are not flagged for their own names');
  assert.equal(flags.length, 3);

  // Flagged once, not on every message.
  await rig.send(ev(rig, { id: '30', name: 'Ꮯhangpeng Zhao' }, 'still here', { chatId }));
  assert.equal((await rig.audit(group)).filter((x) => x.action === 'flag').length, 3);
  // 'flag' leaves the message up; a chat set to 'ban' removes the impersonator.
  assert.ok(rig.passed.some((p) => p.id === fake1.id));
  await rig.send(ev(rig, admin, '/modset impersonation ban', { chatId }));
  const fake4 = ev(rig, { id: '34', name: 'Changpeng Zhaο' }, 'send me a DM', { chatId }); // Greek ο
  await rig.send(fake4);
  const acts = await actionsOf(fake4.id);
  assert.ok(acts.some((a) => a.type === 'ban' && a.user === 'telegram:user:34'));
  assert.ok(acts.some((a) => a.type === 'delete' && a.messageId === fake4.messageId));
});

test('scams: a "DM me for support" lure and a seed-phrase request are removed; a warning about seed phrases is not', async () => {
  const chatId = '-2004';
  const scammer: Person = { id: '40', name: 'Helper' };
  const lure = ev(rig, scammer, 'Having trouble with your wallet? DM me for support', { chatId });
  const seed = ev(rig, { id: '41', name: 'Validator' }, 'To fix the sync error please send your 12 word recovery phrase to @wallet_fix', { chatId });
  const warning = ev(rig, { id: '42', name: 'Good citizen' }, 'Reminder: never share your seed phrase with anyone, admins will never DM you first', { chatId });
  const lookalike = ev(rig, { id: '43', name: 'Claims' }, 'new airdrop at https://uniswap-rewards.xyz/claim', { chatId });
  const hidden = ev(rig, { id: '44', name: 'Hidden link' }, 'click here', { chatId, links: ['https://metamаsk.io/restore'] });
  for (const e of [lure, seed, warning, lookalike, hidden]) await rig.send(e);

  for (const e of [lure, seed, lookalike, hidden]) {
    const acts = await actionsOf(e.id);
    assert.equal(acts.find((a) => a.type === 'delete')?.messageId, e.messageId, e.text);
    assert.ok(!rig.passed.some((p) => p.id === e.id), 'removed messages never reach AMA intake');
  }
  assert.ok(rig.passed.some((p) => p.id === warning.id));
  const log = await rig.audit('telegram:-2004');
  const kinds = log.filter((x) => x.action === 'delete').map((x) => x.meta?.scam);
  assert.deepEqual(new Set(kinds), new Set(['support-lure', 'seed-request', 'lookalike-domain']));
  const lureEntry = log.find((x) => x.action === 'delete' && x.target === 'telegram:user:40');
  assert.equal(lureEntry?.content, lure.text, 'the audit keeps the content that triggered it');
  assert.equal(lureEntry?.by, 'townhall');
  const notices = (await rig.actions()).filter((a) => a.chat === 'telegram:-2004' && a.type === 'send');
  assert.equal(notices.length, 1, 'one scam notice per minute, not one per scam');
});

test('scams: repeat offenders are muted by the warning escalation', async () => {
  const chatId = '-2005';
  const s: Person = { id: '50', name: 'Persistent' };
  const msgs = ['inbox me for support', 'dm me for help with refunds', 'contact @binance_helpdesk now'].map((t) => ev(rig, s, t, { chatId }));
  for (const m of msgs) await rig.send(m);
  assert.equal((await actionsOf(msgs[2]!.id)).find((a) => a.type === 'mute')?.until, rig.clock.t + 24 * 3_600_000);
  assert.equal((await actionsOf(msgs[1]!.id)).filter((a) => a.type === 'mute').length, 0);
});

test('scams: the same link pasted by one account into three chats is removed from all of them', async () => {
  const s: Person = { id: '55', name: 'Paster' };
  const text = 'Best presale of the year, 100x guaranteed: https://presale-moon.example.com/join';
  const copies = ['-2011', '-2012', '-2013'].map((chatId) => ev(rig, s, text, { chatId }));
  for (const c of copies) await rig.send(c);
  assert.ok(rig.passed.some((p) => p.id === copies[0]!.id) && rig.passed.some((p) => p.id === copies[1]!.id));
  const acts = await actionsOf(copies[2]!.id);
  const deleted = acts.filter((a) => a.type === 'delete').map((a) => `${a.chat}/${a.messageId}`);
  assert.deepEqual(new Set(deleted), new Set(copies.map((c) => `${c.chat}/${c.messageId}`)));
});

test('a chat link allowlist removes links to other sites and keeps allowed ones', async () => {
  const chatId = '-2006';
  await rig.send(ev(rig, admin, '/modset links.allow example.org, docs.example.net', { chatId }));
  const ok = ev(rig, { id: '60', name: 'A' }, 'see https://wiki.example.org/page and docs.example.net', { chatId });
  const bad = ev(rig, { id: '61', name: 'B' }, 'see https://other.io', { chatId });
  await rig.send(ok);
  await rig.send(bad);
  assert.ok(rig.passed.some((p) => p.id === ok.id));
  assert.ok((await actionsOf(bad.id)).some((a) => a.type === 'delete'));
});

test('moderators are never moderated automatically', async () => {
  const chatId = '-2007';
  for (let i = 0; i < 15; i++) await rig.send(ev(rig, admin, `announcement ${i}: DM me for support`, { chatId }));
  assert.equal(rig.passed.filter((p) => p.chat === 'telegram:-2007').length, 15);
});

test('a catastrophic pattern cannot hang the worker: matched in linear time, never compiled unverified from Redis, bounded on 50,000 characters', async () => {
  assert.equal(checkPatternStatic('(a+)+$').ok, true, 'no backtracking: nested repetition is harmless');
  const evil = 'a'.repeat(50_000) + '!';
  // Written into Redis around the command (no verification): it never runs.
  const compiled = compileFilters({
    'r:(a+)+$': JSON.stringify({ kind: 'regex', pattern: '(a+)+$', by: 'x', at: 0, verified: true }),
    'r:(a|a)*b': JSON.stringify({ kind: 'regex', pattern: '(a|a)*b', by: 'x', at: 0 }),
    'r:a+!': JSON.stringify({ kind: 'regex', pattern: 'a+!', by: 'x', at: 0, verified: true }),
  });
  assert.deepEqual(compiled.regexes.map((r) => r.pattern), ['(a+)+$', 'a+!']);
  // How fast (within 2 s for 50,000 characters) is a target of `npm run bench` (bench/targets.ts): here, that it ends.
  assert.equal(matchFilters(compiled, { folded: evil, clean: evil }), null, 'text past the matching cap is not scanned');
  const early = 'a'.repeat(10_000) + '!' + 'a'.repeat(40_000);
  assert.equal(matchFilters(compiled, { folded: early, clean: early })?.id, 'r:a+!');
  const quadratic = checkPatternStatic('[a-z]+@[a-z]+\\.com');
  assert.ok(quadratic.ok);
  assert.equal(new PatternSet([quadratic.re2]).firstMatch(evil), -1);

  // And through the pipeline: the longest text a ChatEvent may carry, with the unsafe filters stored in Redis.
  const chatId = '-2008';
  await rig.redis.hset(rig.keys.k('mod', 'filters', 'telegram:-2008'), 'r:(a+)+$', JSON.stringify({ kind: 'regex', pattern: '(a+)+$', by: 'x', at: 0, verified: true }));
  await rig.redis.hset(rig.keys.k('mod', 'filters', 'telegram:-2008'), 'r:(a|a)*$', JSON.stringify({ kind: 'regex', pattern: '(a|a)*$', by: 'x', at: 0 }));
  const big = ChatEventSchema.parse(ev(rig, { id: '70', name: 'Long' }, 'a'.repeat(16_383) + '!', { chatId }));
  await rig.send(big);
  assert.ok(rig.passed.some((p) => p.id === big.id));
});

test('a mod-log chat gets one line per action, on any platform', async () => {
  const chatId = '-2009';
  await rig.send(ev(rig, admin, '/modset modlog.chat discord:4242', { chatId }));
  const lure = ev(rig, { id: '80', name: 'Lurer', username: 'lurer' }, 'dm me for support', { chatId });
  await rig.send(lure);
  const lines = (await rig.actions('discord')).filter((a) => a.type === 'send' && a.chat === 'discord:4242');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!.text!, /^\[telegram:-2009\] removed a message from @lurer \(telegram:user:80\): scam \(support-lure\)/);
  assert.equal(lines[0]!.priority, 'digest');
});

test('on X (where the bot cannot delete or mute) a scam is kept out of the pipeline and logged, with no platform action', async () => {
  const scam = ev(rig, { id: '81', name: 'X scammer' }, '@townhall_bot send me your seed phrase to claim', { platform: 'x', chatId: '1800000000000000001' });
  await rig.send(scam);
  assert.ok(!rig.passed.some((p) => p.id === scam.id));
  assert.equal((await rig.actions('x')).filter((a) => a.id.startsWith(`${scam.id}#`)).length, 0);
  assert.ok((await rig.audit('x:1800000000000000001')).some((x) => x.action === 'delete' && x.meta?.scam === 'seed-request'));
});

// The hook's per-message script builds its key names in Lua (fewer bytes per message): they must be the names
// `modKeys` gives, or a /slowmode off, an unmute's flood reset or the cross-chat paste cleanup would act on keys the
// hook never wrote.
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
