/**
 * Slack end to end, the whole bot (`townhall sandbox`: fakes, the real Slack and Telegram libraries, core, runners,
 * HTTP) driven through the contract's sandbox routes: /help answered; an AMA spanning Slack and Telegram where the
 * same question asked on both merges, a vote from Slack counts, and the host's one answer reaches both; /catchup by
 * DM; the moderation Slack does not give apps refused in one line that says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SlackFake } from '../../../fakes/slack/index.js';
import { waitFor } from '../../helpers/core.js';
import { startStack } from '../../helpers/stack.js';

type Outbox = { type: string; chat: string; thread?: string; replyTo?: string; messageId?: string; text?: string; user?: string }[];
type Question = { id: string; n: number; text: string; status: string; votes: number; asks: { platform: string; messageId?: string }[] };

describe('slack end to end in the sandbox', { timeout: 90_000 }, () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let slack: SlackFake;
  const outbox = async (platform: string, chat: string) => (await stack.get(`/sandbox/${platform}/outbox?chat=${chat}`)).body as Outbox;
  const say = async (platform: string, chat: string, user: { id: string; name: string; admin?: boolean }, text: string) => {
    const r = await stack.post(`/sandbox/${platform}/messages`, { chat, user, text });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body as { id: string }).id;
  };

  before(async () => {
    stack = await startStack();
    slack = stack.fakes.slack as SlackFake;
  });
  after(async () => stack?.close());

  test('/help in a Slack channel is answered in its thread; the slash command /help ephemerally', async () => {
    const asked = await say('slack', 'C0HELP', { id: 'U0ANN', name: 'Ann' }, '/help');
    let reply: Outbox[number] | undefined;
    await waitFor(async () => (reply = (await outbox('slack', 'C0HELP')).find((o) => o.type === 'send' && o.replyTo === asked)) !== undefined, 'the answer', 20_000, 100);
    assert.match(reply!.text ?? '', /\/ask/);
    assert.equal(reply!.thread, asked, 'in the thread of the question, not a new message in the channel');

    const cmd = slack.injectSlashCommand({ chat: 'C0HELP', user: { id: 'U0BEN', name: 'Ben' }, command: '/help', text: '' });
    await waitFor(async () => (await outbox('slack', 'C0HELP')).some((o) => o.type === 'send' && o.user === 'U0BEN' && /\/ask/.test(o.text ?? '')), 'the ephemeral answer', 20_000, 100);
    assert.ok(cmd.envelope?.ackedAt, 'the slash command was acknowledged');
    assert.equal(slack.messagesIn('C0HELP').filter((m) => m.user === slack.botUserId && !m.threadTs).length, 0, 'nothing new in the channel itself');
  });

  test('an AMA on Slack and Telegram: one question asked on both merges, a Slack vote counts, the host answers once and both places get it', async () => {
    const tgChat = '-1007001';
    const slChat = 'C0AMA';
    // The channel exists, with the bot in it, before the AMA announces itself there (a post to an unknown channel
    // is channel_not_found: the runner would stop sending there).
    slack.createChannel(slChat);
    const created = await stack.post('/api/amas', { title: 'Token launch', startsAt: Date.now() + 60_000, durationMinutes: 60, hosts: ['telegram:user:700'], chats: [`telegram:${tgChat}`, `slack:${slack.teamId}:${slChat}`] }, stack.adminToken);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const ama = (created.body as { id: string }).id;
    assert.equal((await stack.post(`/api/amas/${ama}/start`, {}, stack.adminToken)).status, 200);

    const tgAsk = await say('telegram', tgChat, { id: '701', name: 'Tara' }, '/ask When will the mainnet launch?');
    const slAsk = await say('slack', slChat, { id: 'U0SAM', name: 'Sam' }, '/ask what is the launch date for mainnet?');
    let q: Question | undefined;
    await waitFor(async () => {
      const r = await stack.get(`/api/amas/${ama}/questions?status=all`, stack.adminToken);
      q = (r.body as Question[]).find((x) => /mainnet/i.test(x.text));
      return (q?.asks.length ?? 0) === 2;
    }, 'both asks merged into one question', 20_000, 100);
    assert.deepEqual(q!.asks.map((a) => a.platform).sort(), ['slack', 'telegram']);
    assert.equal(q!.asks.find((a) => a.platform === 'slack')?.messageId, slAsk);
    // The Slack ask got a quiet 👀 (a reaction), not a message.
    await waitFor(async () => (await outbox('slack', slChat)).some((o) => o.type === 'react' && o.messageId === slAsk), 'the quiet acknowledgement', 20_000, 100);

    // The host posts the question card everywhere; a Slack member upvotes with the card's button.
    await say('telegram', tgChat, { id: '700', name: 'Host' }, '/next');
    let card: Outbox[number] | undefined;
    await waitFor(async () => (card = (await outbox('slack', slChat)).find((o) => o.type === 'send' && /Q1/.test(o.text ?? '') && !o.thread)) !== undefined, 'the card on Slack', 20_000, 100);
    const before = q!.votes;
    slack.injectButton({ chat: slChat, message: card!.messageId!, user: { id: 'U0VIC', name: 'Vic' }, actionId: 'townhall_upvote' });
    await waitFor(async () => {
      const r = await stack.get(`/api/amas/${ama}/questions?status=all`, stack.adminToken);
      return ((r.body as Question[]).find((x) => x.n === q!.n)?.votes ?? 0) === before + 1;
    }, 'the Slack vote counted', 20_000, 100);

    await say('telegram', tgChat, { id: '700', name: 'Host' }, `/answer ${q!.n} Mainnet launches on March 3.`);
    await waitFor(async () => (await outbox('telegram', tgChat)).some((o) => o.type === 'send' && o.replyTo === tgAsk && /March 3/.test(o.text ?? '')), 'the answer under the Telegram ask', 20_000, 100);
    await waitFor(async () => (await outbox('slack', slChat)).some((o) => o.type === 'send' && o.thread === slAsk && /March 3/.test(o.text ?? '')), 'the answer in the Slack ask’s thread', 20_000, 100);
    // Slack's answers place: one pinned message, edited as answers come.
    await waitFor(async () => {
      const box = await outbox('slack', slChat);
      const pin = box.find((o) => o.type === 'pin');
      return !!pin && box.some((o) => o.type === 'edit' && o.messageId === pin.messageId && /March 3/.test(o.text ?? ''));
    }, 'the pinned answers message, edited', 20_000, 100);
    const answers = (await outbox('slack', slChat)).filter((o) => /March 3/.test(o.text ?? '') && o.type === 'send');
    assert.equal(answers.length, 1, 'the answer went to the Slack ask once');
  });

  test('/catchup in a Slack channel is answered by DM', async () => {
    for (const [i, text] of ['Is the bridge open?', 'yes since 10:00', 'thanks'].entries()) await say('slack', 'C0CATCH', { id: `U0P${i}`, name: `P${i}` }, text);
    await say('slack', 'C0CATCH', { id: 'U0LATE', name: 'Late' }, '/catchup 1h');
    let dm: Outbox[number] | undefined;
    await waitFor(async () => {
      const all = (await stack.get('/sandbox/slack/outbox')).body as Outbox;
      dm = all.find((o) => o.type === 'send' && o.user === 'U0LATE' && o.chat.startsWith('D'));
      return dm !== undefined;
    }, 'the DM', 20_000, 100);
    assert.equal(slack.state.dms.get('U0LATE'), dm!.chat);
    assert.equal((await outbox('slack', 'C0CATCH')).filter((o) => o.type === 'send').length, 0, 'nothing in the channel');
  });

  test("a moderator's /mute and /slowmode are refused in one line that says Slack has neither", async () => {
    const mod = { id: 'U0MOD', name: 'Mod', admin: true };
    await say('slack', 'C0MODS', { id: 'U0TROLL', name: 'Troll' }, 'hello');
    const mute = await say('slack', 'C0MODS', mod, '/mute <@U0TROLL> 10m');
    const slow = await say('slack', 'C0MODS', mod, '/slowmode 30');
    const replyTo = async (id: string) => (await outbox('slack', 'C0MODS')).find((o) => o.type === 'send' && o.replyTo === id)?.text;
    await waitFor(async () => !!(await replyTo(mute)) && !!(await replyTo(slow)), 'both refusals', 20_000, 100);
    assert.equal(await replyTo(mute), 'Muting is not available on Slack: Slack gives apps no way to mute or time out a member; /ban removes them from the channel.');
    assert.equal(await replyTo(slow), 'Slow mode is not available on Slack: Slack has no slow mode.');
  });
});
