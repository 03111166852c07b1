/** The question queue on a real Redis through the real pipeline: intake, merging across platforms, votes, moderation. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { amaAnswer, amaSchedule, amaQuestions, amaStart } from '../../../src/features/ama/index.js';
import { ingestQuestion } from '../../../src/features/ama/questions.js';
import { amaEnv, getAma } from '../../../src/features/ama/store.js';
import { amaHarness, eventId, T0, type AmaHarness, type Person } from './harness.js';

const TG = 'telegram:-1001';
const DC = 'discord:555';
const alice: Person = { platform: 'telegram', id: '1', name: 'Alice' };
const bob: Person = { platform: 'discord', id: '2', name: 'Bob' };
const carol: Person = { platform: 'telegram', id: '3', name: 'Carol' };
const dave: Person = { platform: 'discord', id: '4', name: 'Dave' };

let h: AmaHarness;
let amaId: string;

before(async () => {
  h = await amaHarness();
  const ama = await amaSchedule(h.deps, { title: 'Roadmap', startsAt: T0 + 3_600_000, durationMinutes: 60, chats: [TG, DC], hosts: ['telegram:@thehost'] });
  amaId = ama.id;
  await amaStart(h.deps, amaId);
});
after(() => h.cleanup());

const questions = (status?: 'open' | 'all' | 'answered' | 'pending' | 'rejected') => amaQuestions(h.deps, amaId, status ? { status, sort: 'number' } : {});

test('the same question asked on Telegram and Discord in different words merges into one with both asks and both supporters', async () => {
  await h.say(alice, '-1001', '/ask When will the mainnet launch?');
  await h.say(bob, '555', '/ask what is the launch date for mainnet?');
  const qs = await questions('all');
  const q = qs.find((x) => /mainnet/i.test(x.text))!;
  assert.equal(q.asks.length, 2, JSON.stringify(qs));
  assert.deepEqual(q.asks.map((a) => a.platform).sort(), ['discord', 'telegram']);
  assert.equal(q.votes, 2);
  assert.equal(qs.filter((x) => /mainnet/i.test(x.text)).length, 1);
});

test('a different question gets its own number and each accepted ask a quiet reaction', async () => {
  await h.say(carol, '-1001', '/ask Will staking rewards change after the halving?');
  const qs = await questions('all');
  assert.ok(qs.some((q) => /staking/.test(q.text)));
  const tg = await h.jobs('telegram');
  const reacts = tg.filter((a) => a.type === 'react');
  assert.ok(reacts.length >= 2, 'a reaction per Telegram ask');
  assert.ok(reacts.every((a) => a.priority === 'ack'));
  assert.equal(tg.filter((a) => a.type === 'send' && /received/i.test(a.text ?? '')).length, 0, 'no acknowledgement messages in the group');
});

test('votes from buttons, reactions, +1 replies and /upvote count one per person, summed across platforms', async () => {
  const [q] = (await questions('all')).filter((x) => /mainnet/i.test(x.text));
  const n = q!.n;
  // Dave presses the upvote button twice (Discord component), Carol reacts 👍 on Alice's ask, and sends /upvote too.
  for (let i = 0; i < 2; i++) {
    await h.feed({ v: 1, id: eventId('vote'), kind: 'vote', platform: 'discord', chat: DC, user: { id: 'discord:user:4', name: 'Dave' }, vote: { target: `up:${amaId}:${n}`, added: true }, replyHandle: 'h1', at: T0 });
  }
  const askMsg = q!.asks.find((a) => a.platform === 'telegram')!.messageId!;
  await h.feed({ v: 1, id: eventId('react'), kind: 'reaction', platform: 'telegram', chat: TG, messageId: askMsg, user: { id: 'telegram:user:3', name: 'Carol' }, reaction: { emoji: '👍', added: true }, at: T0 });
  await h.say(carol, '-1001', `/upvote ${n}`);
  await h.say({ platform: 'telegram', id: '7' }, '-1001', '+1', { replyTo: askMsg });
  const [after1] = (await questions('all')).filter((x) => x.n === n);
  // Alice and Bob asked, Dave, Carol and user 7 voted: five distinct people.
  assert.equal(after1!.votes, 5);
  const dc = await h.jobs('discord');
  assert.ok(dc.some((a) => a.type === 'answer' && /already/.test(a.text ?? '')), 'the second press is answered as already counted');
});

test('a redelivered ask is taken in once', async () => {
  const ev = { v: 1 as const, id: eventId('dup'), kind: 'message' as const, platform: 'telegram' as const, chat: TG, messageId: '777', user: { id: 'telegram:user:8', name: 'Eve' }, text: '/ask Is there a bug bounty for the bridge contracts?', at: T0, source: 'live' as const };
  await h.feed(ev);
  // The pipeline's seen mark stops a plain redelivery; clear it to prove intake itself is idempotent.
  await h.redis.del(h.keys.k('seen', ev.id));
  await h.feed(ev);
  const qs = (await questions('all')).filter((q) => /bug bounty/.test(q.text));
  assert.equal(qs.length, 1);
  assert.equal(qs[0]!.asks.length, 1);
});

test('questions are detected without a command while live, in several languages, but not replies to other people', async () => {
  await h.say(carol, '-1001', '¿Cuándo habrá una versión móvil de la billetera?');
  await h.say(carol, '-1001', '什么时候上线安卓应用');
  await h.say(carol, '-1001', 'gm everyone, great project');
  await h.say(carol, '-1001', 'Why is the sky blue?', { replyToUser: 'telegram:user:1', replyTo: '1' });
  const texts = (await questions('all')).map((q) => q.text);
  assert.ok(texts.some((t) => t.includes('billetera')));
  assert.ok(texts.some((t) => t.includes('安卓')));
  assert.ok(!texts.some((t) => t.includes('great project')));
  assert.ok(!texts.some((t) => t.includes('sky')));
});

test('the hashtag and replies to the announcement are questions too', async () => {
  const tag = (await h.env.deps.redis.hget(h.env.k.ama(amaId), 'hashtag'))!;
  await h.say(dave, '555', `#${tag} Do you plan an audit of the lending pool by a second firm?`);
  // What the outbound runner records when it posts the announcement: the message id maps back to its ref.
  await h.redis.set(h.keys.k('sent', 'telegram', TG, '4242'), `ama:${amaId}:announce:${TG}`);
  await h.say(carol, '-1001', 'Will the validator set be opened to the community', { replyTo: '4242' });
  await h.say(carol, '-1001', '+1', { replyTo: '4242' });
  const qs = (await questions('all')).map((q) => q.text);
  assert.ok(qs.some((t) => t.startsWith('Do you plan an audit')), qs.join(' | '));
  assert.ok(qs.some((t) => t.startsWith('Will the validator set')), 'a reply to the announcement, even without a question mark');
  assert.ok(!qs.includes('+1'));
});

test('moderators merge by hand (supporters summed, asks moved) and split an ask back out', async () => {
  const all = await questions('all');
  const a = all.find((q) => /staking/.test(q.text))!;
  const b = all.find((q) => /bug bounty/.test(q.text))!;
  const admin: Person = { platform: 'telegram', id: '50', admin: true };
  await h.say(admin, '-1001', `/merge ${b.n} ${a.n}`);
  const merged = (await questions('all')).find((q) => q.n === a.n)!;
  assert.equal(merged.asks.length, a.asks.length + b.asks.length);
  assert.equal(merged.votes, a.votes + b.votes);
  assert.ok(!(await questions('all')).some((q) => q.n === b.n), 'the merged question leaves the list');
  await h.say(admin, '-1001', `/split ${a.n} 2`);
  const after2 = await questions('all');
  assert.equal(after2.find((q) => q.n === a.n)!.asks.length, a.asks.length);
  assert.ok(after2.some((q) => /bug bounty/.test(q.text) && q.n > b.n));
});

test('a non-moderator cannot reject, and the attempt is logged', async () => {
  const [q] = await questions('open');
  await h.say(carol, '-1001', `/reject ${q!.n} spam`);
  assert.equal((await questions('all')).find((x) => x.n === q!.n)!.status, 'open');
  const log = await h.redis.xrevrange(h.keys.k('modlog', TG), '+', '-', 'COUNT', 5);
  assert.ok(log.some(([, f]) => /refused/.test(f[1] ?? '')));
});

test('pre-moderation holds new questions until /approve', async () => {
  const pre = await amaSchedule(h.deps, { title: 'Moderated', startsAt: T0, durationMinutes: 30, chats: ['telegram:-2002'], premoderation: true });
  await amaStart(h.deps, pre.id);
  await h.say(alice, '-2002', '/ask How will the treasury be governed?');
  assert.equal((await amaQuestions(h.deps, pre.id)).length, 0, 'nothing in the ranked queue yet');
  const [pending] = await amaQuestions(h.deps, pre.id, { status: 'pending' });
  assert.equal(pending!.status, 'pending');
  await h.say({ platform: 'telegram', id: '60', admin: true }, '-2002', `/approve ${pending!.n}`);
  const [open] = await amaQuestions(h.deps, pre.id);
  assert.equal(open!.n, pending!.n);
});

test('ranking: a newer question with fewer votes overtakes an old one once enough time passed', async () => {
  const r = await amaSchedule(h.deps, { title: 'Rank', startsAt: T0, durationMinutes: 120, chats: ['telegram:-3003'] });
  await amaStart(h.deps, r.id);
  await h.say(alice, '-3003', '/ask What is the token unlock schedule for investors?');
  for (let i = 0; i < 6; i++) await h.say({ platform: 'telegram', id: `v${i}` }, '-3003', '/upvote 1');
  try {
    h.advance(30 * 60_000);
    await h.say({ platform: 'telegram', id: 'late1' }, '-3003', '/ask Which wallets support the governance module?');
    await h.say({ platform: 'telegram', id: 'w1' }, '-3003', '/upvote 2');
    let ranked = await amaQuestions(h.deps, r.id, { sort: 'rank' });
    assert.deepEqual(ranked.map((q) => q.n), [1, 2], 'half an hour later, 2 votes do not beat 7');
    h.advance(60 * 60_000);
    await h.say({ platform: 'telegram', id: 'late2' }, '-3003', '/ask Is there a grants program for developers?');
    await h.say({ platform: 'telegram', id: 'w2' }, '-3003', '/upvote 3');
    ranked = await amaQuestions(h.deps, r.id, { sort: 'rank' });
    assert.equal(ranked[0]!.n, 3, 'an hour and a half later, a question with 2 votes overtakes the early one with 7');
  } finally {
    h.setClock(T0);
  }
});

test('many asks of the same question at once from many workers end in one question', async () => {
  const r = await amaSchedule(h.deps, { title: 'Burst', startsAt: T0, durationMinutes: 60, chats: ['telegram:-4004'] });
  await amaStart(h.deps, r.id);
  const variants = ['When is the airdrop snapshot?', 'when is the airdrop snapshot', 'When will the airdrop snapshot be?', 'airdrop snapshot when?'];
  await Promise.all(Array.from({ length: 24 }, (_, i) => h.say({ platform: 'telegram', id: `b${i}` }, '-4004', `/ask ${variants[i % variants.length]}`)));
  const qs = await amaQuestions(h.deps, r.id, { status: 'all' });
  assert.equal(qs.length, 1, qs.map((q) => q.text).join(' | '));
  assert.equal(qs[0]!.asks.length, 24);
  assert.equal(qs[0]!.votes, 24);
});

test('intake takes no lock: asks from several connections at once merge where the same, and new questions get gapless numbers', async () => {
  const r = await amaSchedule(h.deps, { title: 'Parallel', startsAt: T0, durationMinutes: 60, chats: ['telegram:-4005'] });
  await amaStart(h.deps, r.id);
  // Four connections, each with its own script and index caches: what four worker processes would be.
  const conns = Array.from({ length: 4 }, () => h.deps.redis.duplicate());
  try {
    const envs = conns.map((redis) => amaEnv({ ...h.deps, redis }));
    const ama = (await getAma(envs[0]!, r.id))!;
    const distinct = ['How do I stake on the new chain?', 'What are the withdrawal fees now?', 'Is the mobile app getting a dark mode?', 'Which wallets support the token?', 'Will there be a bug bounty program?', 'Where can I read the audit report?'];
    const same = ['When is the listing on the exchange?', 'when will it be listed on the exchange', 'When is the exchange listing?'];
    const asks = [...distinct.map((t, i) => ({ t, i })), ...Array.from({ length: 18 }, (_, i) => ({ t: same[i % same.length]!, i: 100 + i }))];
    const results = await Promise.all(
      asks.map(({ t, i }) =>
        ingestQuestion(envs[i % envs.length]!, ama, { platform: 'telegram', chat: 'telegram:-4005', user: `telegram:user:p${i}`, userName: `P${i}`, text: t, at: T0, via: 'ask', messageId: String(5000 + i), opId: `op-${i}` }),
      ),
    );
    const qs = await amaQuestions(h.deps, r.id, { status: 'all', sort: 'number' });
    assert.equal(qs.length, distinct.length + 1, qs.map((q) => q.text).join(' | '));
    assert.deepEqual(qs.map((q) => q.n), Array.from({ length: qs.length }, (_, i) => i + 1), 'numbers without gaps');
    const listing = qs.filter((q) => /list/i.test(q.text));
    assert.equal(listing.length, 1);
    assert.equal(listing[0]!.asks.length, 18);
    assert.equal(listing[0]!.votes, 18);
    assert.equal(results.filter((x) => !x.merged).length, distinct.length + 1);
    // The same asks again (redeliveries, on other connections): nothing changes.
    const again = await Promise.all(asks.map(({ t, i }) => ingestQuestion(envs[(i + 1) % envs.length]!, ama, { platform: 'telegram', chat: 'telegram:-4005', user: `telegram:user:p${i}`, userName: `P${i}`, text: t, at: T0, via: 'ask', messageId: String(5000 + i), opId: `op-${i}` })));
    assert.ok(again.every((x) => x.repeat));
    const after2 = await amaQuestions(h.deps, r.id, { status: 'all', sort: 'number' });
    assert.equal(after2.length, qs.length);
    assert.equal(after2.find((q) => /list/i.test(q.text))!.asks.length, 18);
  } finally {
    for (const c of conns) c.disconnect();
  }
});

test('on X, a post that mentions the bot during a live AMA spanning X is a question, and its answer is a reply to that post', async () => {
  const x = await amaSchedule(h.deps, { title: 'X AMA', startsAt: T0, durationMinutes: 60, chats: ['x:1700000000000000001'] });
  await amaStart(h.deps, x.id);
  const post = await h.say({ platform: 'x', id: '77', name: 'Xavier' }, '1800000000000000002', '@townhall_bot will you list on Coinbase this year?');
  await h.say({ platform: 'x', id: '78' }, '1800000000000000003', '@townhall_bot love this project');
  const qs = await amaQuestions(h.deps, x.id, { status: 'all' });
  assert.equal(qs.length, 1);
  assert.equal(qs[0]!.text, 'will you list on Coinbase this year?');
  await amaAnswer(h.deps, x.id, String(qs[0]!.n), 'No listing news to share today.', { id: 'admin', name: 'The team' });
  const reply = (await h.jobs('x')).find((a) => a.type === 'send' && a.replyTo === post);
  assert.ok(reply, 'a reply under the X post');
  assert.equal(reply!.chat, 'x:1800000000000000002');
});

test('a Discord slash /ask (an interaction without a message) is answered in place', async () => {
  await h.feed({ v: 1, id: eventId('slash'), kind: 'command', platform: 'discord', chat: DC, user: { id: 'discord:user:9', name: 'Sly' }, text: '/ask Is there a testnet faucet for developers?', replyHandle: 'handle-9', at: T0, source: 'live' });
  const ack = (await h.jobs('discord')).find((a) => a.type === 'answer' && a.replyHandle === 'handle-9');
  assert.match(ack?.text ?? '', /^Q\d+ received\.$/);
});
