/**
 * Finding 4 (Medium): callback data `up:<ama>:<n>` from a chat the AMA does not span was counted (5 users of an
 * unrelated chat moved a question from 1 to 6 votes); Telegram clients can send any callback data. A vote now
 * counts only from a chat the AMA spans, on that AMA's card of that question.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChatEventInput } from '../../src/core/events.js';
import { securityRig, type SecurityRig } from './harness.js';

const CHAT = '-8101';
const GROUP = `telegram:${CHAT}`;
const ELSEWHERE = 'telegram:-8999';

describe('votes check the place', { timeout: 60_000 }, () => {
  let rig: SecurityRig;
  let amaId = '';
  let seq = 0;
  const votes = async (n: number) => {
    const res = await rig.app.inject({ method: 'GET', url: `/api/amas/${amaId}/questions?status=all`, headers: { authorization: `Bearer ${rig.adminToken}` } });
    return (res.json() as { n: number; votes: number }[]).find((q) => q.n === n)?.votes ?? -1;
  };
  const vote = (chat: string, user: string, n: number, messageId?: string) => {
    const e: ChatEventInput = {
      v: 1,
      id: `test/vote/${++seq}`,
      kind: 'vote',
      platform: 'telegram',
      chat,
      chatType: 'group',
      user: { id: `telegram:user:${user}`, name: `Voter ${user}` },
      vote: { target: `up:${amaId}:${n}`, added: true },
      replyHandle: `cb:${seq}`,
      at: Date.now(),
      source: 'live',
      ...(messageId ? { messageId } : {}),
    };
    return rig.handle(e);
  };

  before(async () => {
    rig = await securityRig();
    const made = await rig.app.inject({ method: 'POST', url: '/api/amas', headers: { authorization: `Bearer ${rig.adminToken}` }, payload: { title: 'Votes', startsAt: Date.now(), durationMinutes: 60, chats: [GROUP] } });
    amaId = made.json().id;
    await rig.app.inject({ method: 'POST', url: `/api/amas/${amaId}/start`, headers: { authorization: `Bearer ${rig.adminToken}` } });
    await rig.say(CHAT, { id: '810' }, '/ask When is the token listing on big exchanges?');
    await rig.say(CHAT, { id: '811' }, '/ask Is the team going to publish an audit report?');
    // The outbound runner recorded the card of Q2 it posted in the chat as message 900.
    await rig.redis.set(rig.keys.k('sent', 'telegram', GROUP, '900'), `ama:${amaId}:q:2:card:${GROUP}`);
  });
  after(async () => rig?.close());

  test('votes from an unrelated chat do not count', async () => {
    assert.equal(await votes(1), 1);
    for (let u = 0; u < 5; u++) await vote(ELSEWHERE, String(820 + u), 1);
    assert.equal(await votes(1), 1);
  });

  test("a button on one question's card cannot vote for another", async () => {
    await vote(GROUP, '830', 1, '900');
    assert.equal(await votes(1), 1, 'forged data on the card of Q2');
    await vote(GROUP, '831', 2, '900');
    assert.equal(await votes(2), 2, 'the card’s own question counts');
  });

  test('a vote from the AMA’s chat counts', async () => {
    await vote(GROUP, '840', 1);
    assert.equal(await votes(1), 2);
  });
});
