/** Host flow, roles, private asks, rewards and claims through the real pipeline on a real Redis. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { amaEnd, amaQuestions, amaSchedule, amaStart } from '../../../src/features/ama/index.js';
import { amaHarness, T0, type AmaHarness, type Person } from './harness.js';

const G = '-1009';
const CHAT = `telegram:${G}`;
const admin: Person = { platform: 'telegram', id: '1', name: 'Admin', admin: true };
const ed: Person = { platform: 'telegram', id: '2', name: 'Ed' };
const hostP: Person = { platform: 'telegram', id: '3', name: 'Hanna', username: 'hanna' };
const user: Person = { platform: 'telegram', id: '4', name: 'Uma' };
const other: Person = { platform: 'telegram', id: '5', name: 'Otto' };

let h: AmaHarness;
let amaId: string;

before(async () => {
  h = await amaHarness();
  const ama = await amaSchedule(h.deps, { title: 'Roles AMA', startsAt: T0, durationMinutes: 60, chats: [CHAT], hosts: ['telegram:@hanna'], rewards: 2 });
  amaId = ama.id;
  await amaStart(h.deps, amaId);
});
after(() => h.cleanup());

const replies = async () => (await h.jobs('telegram')).filter((a) => a.chat === CHAT && a.type === 'send').map((a) => a.text ?? '');
const questions = () => amaQuestions(h.deps, amaId, { status: 'all', sort: 'number' });

test('roles: an admin makes someone editor; nobody changes their own role or grants one at their own level', async () => {
  await h.say(user, G, '/role editor', { replyToUser: 'telegram:user:4' });
  assert.ok((await replies()).some((t) => /Nobody can change their own role/.test(t)));
  await h.say(admin, G, '/role telegram:user:2 editor');
  assert.equal(await h.redis.hget(h.keys.k('roles', CHAT), 'telegram:user:2'), 'editor');
  await h.say(ed, G, '/role telegram:user:5 editor');
  assert.ok((await replies()).some((t) => /cannot give the editor role/.test(t)));
  await h.say(admin, G, '/role telegram:user:9 admin');
  await h.say(ed, G, '/role telegram:user:9 none');
  assert.ok((await replies()).some((t) => /cannot change the role of someone at or above your level/.test(t)));
  assert.equal(await h.redis.hget(h.keys.k('roles', CHAT), 'telegram:user:5'), null);
  assert.equal(await h.redis.hget(h.keys.k('roles', CHAT), 'telegram:user:9'), 'admin');
  const log = await h.redis.xrevrange(h.keys.k('modlog', CHAT), '+', '-', 'COUNT', 10);
  assert.ok(log.some(([, f]) => /"action":"role"/.test(f[1] ?? '')));
});

test('an editor moderates questions; a plain member cannot answer; the host answers with /answer and by replying to the card', async () => {
  await h.say(user, G, '/ask When will the DAO vote on the treasury?');
  await h.say(other, G, '/ask Is there a referral program?');
  const [q1, q2] = await questions();
  await h.say(user, G, `/answer ${q1!.n} I think soon`);
  assert.ok((await replies()).some((t) => /Only the AMA host or a moderator can use \/answer/.test(t)));
  await h.say(ed, G, `/reject ${q2!.n} duplicate of the FAQ`);
  assert.equal((await questions()).find((q) => q.n === q2!.n)!.status, 'rejected');

  await h.say(hostP, G, '/next');
  const card = (await h.jobs('telegram')).find((a) => a.ref === `ama:${amaId}:q:${q1!.n}:card:${CHAT}`)!;
  assert.deepEqual(card.buttons, [{ label: '▲ Upvote', data: `up:${amaId}:${q1!.n}` }]);
  // What the outbound runner records once the card is sent: the message id maps back to the card.
  await h.redis.set(h.keys.k('sent', 'telegram', CHAT, '9001'), card.ref!);
  await h.say(user, G, '+1', { replyTo: '9001' });
  assert.equal((await questions()).find((q) => q.n === q1!.n)!.votes, 1, 'the asker replying +1 adds nothing');
  await h.say(other, G, '+1', { replyTo: '9001' });
  assert.equal((await questions()).find((q) => q.n === q1!.n)!.votes, 2);
  await h.say(hostP, G, 'The vote opens next Monday.', { replyTo: '9001' });
  const q = (await questions()).find((x) => x.n === q1!.n)!;
  assert.equal(q.status, 'answered');
  assert.equal(q.answer, 'The vote opens next Monday.');
  const under = (await h.jobs('telegram')).filter((a) => a.id.includes(`/q${q1!.n}/ans/`));
  assert.equal(under.length, 1);
  assert.equal(under[0]!.replyTo, q.asks[0]!.messageId);
});

test('a late duplicate of an answered question gets the answer under it at once', async () => {
  const late = await h.say({ platform: 'telegram', id: '6' }, G, '/ask when does the DAO vote on the treasury');
  const q = (await questions()).find((x) => x.status === 'answered')!;
  assert.equal(q.asks.length, 2);
  const under = (await h.jobs('telegram')).filter((a) => a.replyTo === late && a.text?.includes('next Monday'));
  assert.equal(under.length, 1);
});

test('an ask from a forum topic is answered in that topic, as a reply', async () => {
  const mid = await h.say({ platform: 'telegram', id: '12' }, G, '/ask Which languages will the docs be translated into?', { chat: `${CHAT}:55` });
  const q = (await questions()).find((x) => /translated/.test(x.text))!;
  assert.equal(q.asks[0]!.chat, `${CHAT}:55`);
  await h.say(hostP, G, `/answer ${q.n} Spanish, Turkish and Vietnamese first.`);
  const reply = (await h.jobs('telegram')).find((a) => a.id.includes(`/q${q.n}/ans/`))!;
  assert.equal(reply.chat, `${CHAT}:55`);
  assert.equal(reply.replyTo, mid);
});

test('a private /ask is anonymous unless the asker opts in', async () => {
  const dm = (id: string, text: string) =>
    h.feed({ v: 1, id: `dm-${id}-${text.length}`, kind: 'message', platform: 'telegram', chat: `telegram:${id}`, chatType: 'private', messageId: `${text.length}`, user: { id: `telegram:user:${id}`, name: `P${id}` }, text, at: T0, source: 'live' });
  await dm('70', '/ask What is the max supply of the token?');
  await dm('71', '/ask --public Which exchanges list the token?');
  const qs = await questions();
  assert.equal(qs.find((q) => /max supply/.test(q.text))!.asks[0]!.user, 'anonymous');
  assert.equal(qs.find((q) => /exchanges/.test(q.text))!.asks[0]!.user, 'telegram:user:71');
  const ack = (await h.jobs('telegram')).find((a) => a.chat === 'telegram:70' && a.type === 'send')!;
  assert.match(ack.text!, /Q\d+ received.*anonymous/);
});

test('rewards at close: winners by votes and quality, skipping a recent winner; DMs; a private /claim claims once', async () => {
  // Otto won another AMA last week: inside the 30-day cooldown.
  await h.redis.zadd(h.env.k.wins(), T0 - 7 * 86_400_000, 'telegram:user:5');
  await h.say(other, G, '/ask How will the roadmap change after the merger with the partner chain?');
  const spam = await h.say({ platform: 'telegram', id: '8' }, G, '/ask AIRDROP ME PLS!!!!!! t.me/spam?');
  void spam;
  await amaEnd(h.deps, amaId);
  const winners = JSON.parse((await h.redis.get(h.env.k.winners(amaId)))!) as { user: string; n: number }[];
  assert.equal(winners.length, 2);
  assert.ok(!winners.some((w) => w.user === 'telegram:user:5'), 'the recent winner is skipped');
  assert.ok(!winners.some((w) => w.user === 'telegram:user:8'), 'spam does not win');
  const out = await h.jobs('telegram');
  assert.ok(out.some((a) => a.type === 'send' && a.chat === CHAT && /Reward winners/.test(a.text ?? '')));
  const dms = out.filter((a) => a.type === 'dm' && /won a reward/.test(a.text ?? ''));
  assert.deepEqual(dms.map((a) => a.user).sort(), winners.map((w) => w.user).sort());
  const winner = winners[0]!.user.split(':')[2]!;
  const claim = (n: number) =>
    h.feed({ v: 1, id: `claim-${n}`, kind: 'message', platform: 'telegram', chat: `telegram:${winner}`, chatType: 'private', messageId: `c${n}`, user: { id: winners[0]!.user, name: 'W' }, text: '/claim', at: T0, source: 'live' });
  await claim(1);
  await claim(2);
  const texts = (await h.jobs('telegram')).filter((a) => a.chat === `telegram:${winner}`).map((a) => a.text ?? '');
  assert.equal(texts.filter((t) => /^Claimed: Q\d+ in "Roles AMA"/.test(t)).length, 1);
  assert.ok(texts.some((t) => /no unclaimed rewards/.test(t)));
  const recap = (await h.jobs('telegram')).filter((a) => a.id.includes(`/${amaId}/recap/`));
  assert.ok(recap.length >= 1 && /Recap · Roles AMA/.test(recap[0]!.text ?? ''));
});
