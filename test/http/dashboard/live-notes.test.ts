/** Live notes: one per chat per quiet period from a process, sent only once the event's state is committed. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ChatEventSchema } from '../../../src/core/events.js';
import { CHAT_NOTE_MS, liveChannel, liveNotesFeature, parseNote } from '../../../src/http/dashboard/live.js';
import { createHandleEvent } from '../../../src/pipeline/handle-event.js';
import { testCore } from '../../helpers/core.js';
import { messageEvent } from '../../helpers/events.js';

const t = await testCore();
const sub = t.redis.duplicate();
after(async () => {
  sub.disconnect();
  await t.cleanup();
});

test('a burst in one chat makes a leading and one trailing note, each after the commit; a quiet chat makes one', async () => {
  const notes: { chat: string; committed: boolean }[] = [];
  const first = messageEvent({ chatId: '-2020', messageId: 'burst-0' });
  await sub.subscribe(liveChannel(t.keys));
  const pending: Promise<void>[] = [];
  sub.on('message', (_channel, raw) => {
    const n = parseNote(raw);
    if (n?.type !== 'chat') return;
    // The first note of the burst must find the first event's state already written.
    pending.push(t.redis.exists(t.keys.k('seen', first.id)).then((x) => void notes.push({ chat: n.chat, committed: x === 1 })));
  });
  const handle = createHandleEvent(t.deps, [liveNotesFeature(t.deps)]);
  await handle(ChatEventSchema.parse(first));
  await Promise.all(Array.from({ length: 30 }, (_, i) => handle(ChatEventSchema.parse(messageEvent({ chatId: '-2020', messageId: `burst-${i + 1}` })))));
  await handle(ChatEventSchema.parse(messageEvent({ chatId: '-2021', messageId: 'quiet-1' })));
  await new Promise((r) => setTimeout(r, CHAT_NOTE_MS * 2 + 100));
  await Promise.all(pending);
  const burst = notes.filter((n) => n.chat === 'telegram:-2020');
  assert.equal(burst.length, 2, JSON.stringify(notes));
  assert.ok(burst.every((n) => n.committed));
  assert.equal(notes.filter((n) => n.chat === 'telegram:-2021').length, 1);
});
