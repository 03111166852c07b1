import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildCore } from '../../../src/app/core.js';
import { replayLog } from '../../../src/cli/replay.js';
import { parseChatEvent, type ChatEventInput } from '../../../src/core/events.js';
import { chatDigest } from '../../../src/features/history/service.js';
import { startInboundWorker } from '../../../src/queue/inbound-worker.js';
import { quietLogger } from '../../../src/log.js';
import { messageEvent } from '../../helpers/events.js';
import { parsedHandler, testCore, waitFor } from '../../helpers/core.js';
import { sharedData } from '../../helpers/data.js';

const t = await testCore();
after(t.cleanup);
const core = buildCore(t.deps);
const handle = parsedHandler(core);
const outboundJobs = async () => (await t.outbound.queue('telegram').getJobs(['waiting', 'prioritized', 'delayed'])).map((j) => j.data as { type: string; text?: string; user?: string; chat: string; replyTo?: string });

test('a digest of a replayed IRC log lists open questions and links every point back to its source message', { timeout: 60_000 }, async () => {
  // One log of the dev file, replayed through the inbound queue into the real core.
  const dir = mkdtempSync(path.join(tmpdir(), 'townhall-hist-'));
  const first = (await import('node:fs')).readFileSync(sharedData('irc-disentanglement/ubuntu.dev.jsonl'), 'utf8').split('\n')[0]!;
  const file = path.join(dir, 'one.jsonl');
  writeFileSync(file, first + '\n');
  const w = startInboundWorker({ url: t.url, keys: t.keys, handle: core.handleEvent, log: quietLogger() });
  try {
    const n = await replayLog(t.inbound, { file, format: 'irc', platform: 'telegram', chat: 'irc1', rate: 0, source: 'replay', progress: false });
    await waitFor(async () => Number(await t.redis.get(t.keys.k('stats', 'handled'))) >= n, 'replay handled', 60_000);
  } finally {
    await w.close();
  }
  const { digest, messages } = await chatDigest(t.redis, t.keys, 'telegram:irc1', 0, Date.now() + 1);
  assert.ok(messages.length > 1000, `history holds the log (${messages.length})`);
  assert.ok(digest.openQuestions.length > 0, 'open questions listed');
  const ids = new Set(messages.map((m) => m.id));
  for (const q of digest.openQuestions) assert.ok(ids.has(q.question.source.id), 'question links to a real message');
  for (const c of digest.conversations) assert.ok(ids.has(c.source.id), 'conversation links to a real message');
  assert.ok(new Set(messages.map((m) => m.thread)).size > 10, 'threads were assigned');
});

test('a deleted message never appears in a digest', async () => {
  const secret = messageEvent({ chatId: 'del', messageId: 's1', text: 'my seed phrase is alpha bravo charlie, what now?' });
  await handle(secret);
  await handle(messageEvent({ chatId: 'del', messageId: 's2', text: 'When does the token listing happen?' }));
  await handle({ ...messageEvent({ chatId: 'del', messageId: 's1' }), id: 'telegram/delete/del/s1', kind: 'delete', text: undefined } as ChatEventInput);
  const { digest } = await chatDigest(t.redis, t.keys, 'telegram:del', 0, Date.now() + 1);
  const all = JSON.stringify(digest);
  assert.ok(!all.includes('seed phrase'), 'deleted text absent');
  assert.ok(all.includes('token listing'), 'other messages present');
});

test('/summary answers in the chat and /catchup answers privately with what was missed', async () => {
  const now = Date.now();
  await handle(messageEvent({ chatId: 'cu', userId: '7', messageId: 'c0', text: 'hi all', at: now - 3 * 3600_000 }));
  await handle(messageEvent({ chatId: 'cu', userId: '8', messageId: 'c1', text: 'Is the staking contract audited?', at: now - 60_000 }));
  await handle(messageEvent({ chatId: 'cu', userId: '9', messageId: 'c2', text: 'yes, the audit report is at https://example.org/audit', at: now - 30_000, replyTo: 'c1' }));
  await handle(messageEvent({ chatId: 'cu', userId: '7', messageId: 'c3', text: '/catchup' }));
  await handle(messageEvent({ chatId: 'cu', userId: '8', messageId: 'c4', text: '/summary 1h' }));
  const jobs = await outboundJobs();
  const dm = jobs.find((j) => j.type === 'dm' && j.user === 'telegram:user:7');
  assert.ok(dm, 'catch-up went out as a private message');
  assert.match(dm.text ?? '', /audited/);
  assert.ok(!jobs.some((j) => j.type === 'send' && j.chat === 'telegram:cu' && /Catch-up/.test(j.text ?? '')), 'not posted in the group');
  const summary = jobs.find((j) => j.type === 'send' && j.replyTo === 'c4');
  assert.ok(summary, '/summary replied in the chat');
  assert.match(summary.text ?? '', /Digest of the last 1h/);
  assert.match(summary.text ?? '', /example\.org\/audit/);
});

test('/summary with a malformed window answers with one line', async () => {
  await handle(messageEvent({ chatId: 'bad', messageId: 'b1', text: '/summary forever' }));
  const reply = (await outboundJobs()).find((j) => j.replyTo === 'b1');
  assert.match(reply?.text ?? '', /^"forever" is not a window/);
  assert.equal(reply?.text?.split('\n').length, 1);
});

test('history keeps its cap per chat within a few messages, with an expiry and the chat in the chat index', async () => {
  const capped = await testCore({ config: { core: { history: { maxMessages: 100, maxAge: '7d' } } } as never });
  try {
    const c = buildCore(capped.deps);
    for (let i = 0; i < 260; i++) {
      const p = parseChatEvent(messageEvent({ chatId: '-3030', userId: String(1000 + i), messageId: `cap-${i}`, text: `message number ${i}` }));
      if (!p.ok) throw new Error(p.reason);
      await c.handleEvent(p.event);
    }
    const list = capped.keys.k('hist', 'telegram:-3030');
    const kept = await capped.redis.llen(list);
    assert.ok(kept >= 100 && kept < 100 + 16, `kept ${kept}: the cap (100), trimmed every 16 messages`);
    const newest = JSON.parse((await capped.redis.lindex(list, -1))!) as { t: string };
    assert.equal(newest.t, 'message number 259', 'the newest are kept');
    assert.ok((await capped.redis.pttl(list)) > 6 * 86_400_000, 'the list expires after the retention age');
    assert.notEqual(await capped.redis.zscore(capped.keys.k('chats'), 'telegram:-3030'), null);
  } finally {
    await capped.cleanup();
  }
});
