/**
 * The history's side tables (thread links, edits, reactions, deletions) stay as bounded as the capped list: without
 * pruning an active chat kept every link and edit it ever had, since their expiry is renewed by every write.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConfigSchema } from '../../../config/schema.js';
import { buildCore } from '../../../src/app/core.js';
import { chatThreads } from '../../../src/features/history/service.js';
import { historyKeys, pruneSideTables, sideTablesOverdue } from '../../../src/features/history/store.js';
import { messageEvent } from '../../helpers/events.js';
import { parsedHandler, testCore, waitFor } from '../../helpers/core.js';

const clock = { t: Date.UTC(2026, 10, 26, 12, 0, 0) };
const t = await testCore({ config: { core: ConfigSchema.parse({ core: { history: { maxMessages: 100 } } }).core }, now: () => clock.t });
after(t.cleanup);
const core = buildCore(t.deps);
const handle = parsedHandler(core);
let n = 0;

/**
 * `count` messages in a chat, 300 ms apart (1,500 of them stay inside one prune-check interval), each reacted to and
 * every third edited; threads brought up to date every 50.
 */
async function chatter(chatId: string, count: number): Promise<void> {
  const chat = `telegram:${chatId}`;
  for (let i = 0; i < count; i++) {
    const id = `m${++n}`;
    clock.t += 300;
    await handle(messageEvent({ chatId, userId: String(n % 5), messageId: id, text: `message ${n} about the listing`, at: clock.t }));
    await handle({ v: 1, id: `r/${id}`, kind: 'reaction', platform: 'telegram', chat, chatType: 'group', messageId: id, user: { id: 'telegram:user:9', name: 'R' }, reaction: { emoji: '👍', added: true }, at: clock.t, source: 'live' });
    if (n % 3 === 0) await handle({ v: 1, id: `e/${id}`, kind: 'edit', platform: 'telegram', chat, chatType: 'group', messageId: id, user: { id: `telegram:user:${n % 5}`, name: 'U' }, text: `message ${n}, edited`, at: clock.t, source: 'live' });
    if (i % 50 === 49) await chatThreads(t.redis, t.keys, chat, 0, clock.t + 1);
  }
}

const sizes = async (chat: string) => {
  const k = historyKeys(t.keys, chat);
  const res = (await t.redis.multi().llen(k.list).hlen(k.threads).hlen(k.edits).hlen(k.reactions).exec())!;
  const [list, threads, edits, reactions] = res.map(([, v]) => Number(v));
  return { list: list!, threads: threads!, edits: edits!, reactions: reactions! };
};

test('pruning drops the links, edits and reactions of messages past the cap and keeps those of the retained ones', async () => {
  const chat = 'telegram:-3001';
  await chatter('-3001', 1500);
  const before = await sizes(chat);
  assert.ok(before.list <= 100 + 16, `the list is capped (${before.list})`);
  assert.ok(before.threads > 1000 && before.reactions > 1000, `the side tables grew past it (${JSON.stringify(before)})`);
  assert.equal(await sideTablesOverdue(t.redis, t.keys, chat), true);

  const threadsBefore = await chatThreads(t.redis, t.keys, chat, 0, clock.t + 1);
  const removed = await pruneSideTables(t.redis, t.keys, chat);
  const afterPrune = await sizes(chat);
  assert.ok(removed > 2000, `removed ${removed}`);
  assert.ok(afterPrune.threads <= afterPrune.list && afterPrune.reactions <= afterPrune.list && afterPrune.edits <= afterPrune.list, JSON.stringify(afterPrune));
  assert.equal(await sideTablesOverdue(t.redis, t.keys, chat), false);
  // What the list holds is annotated as before: same conversations, edits applied.
  assert.deepEqual(await chatThreads(t.redis, t.keys, chat, 0, clock.t + 1), threadsBefore);
  assert.ok(threadsBefore.some((th) => th.messages.some((m) => m.text.endsWith(', edited'))), 'edits survive');
});

test('the core prunes a busy chat by itself, once per check interval, after an event', async () => {
  const chat = 'telegram:-3002';
  await chatter('-3002', 1500);
  clock.t += 11 * 60_000; // past the check interval since this chat's first message
  await handle(messageEvent({ chatId: '-3002', userId: '1', messageId: `m${++n}`, text: 'one more', at: clock.t }));
  await waitFor(async () => (await sizes(chat)).reactions <= (await sizes(chat)).list, 'side tables pruned', 10_000);
  const s = await sizes(chat);
  assert.ok(s.threads <= s.list && s.edits <= s.list, JSON.stringify(s));
});
