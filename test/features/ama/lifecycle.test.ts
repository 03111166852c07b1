/** The AMA lifecycle on a controllable clock: announce, remind, open and close on time, recurring series, time zones. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { amaGet, amaSchedule, startAmaScheduler } from '../../../src/features/ama/index.js';
import { amaHarness, T0, type AmaHarness } from './harness.js';
import { waitFor } from '../../helpers/core.js';

const H = 3_600_000;
const TG = 'telegram:-1001';
const DC = 'discord:777';
let h: AmaHarness;

before(async () => {
  h = await amaHarness();
});
after(() => h.cleanup());

/** Texts of the sends on both platforms whose action id contains `part`. */
async function sends(part: string): Promise<string[]> {
  const all = [...(await h.jobs('telegram')), ...(await h.jobs('discord'))];
  return all.filter((a) => a.type === 'send' && a.id.includes(part)).map((a) => a.id);
}

test('a scheduled AMA announces at once, reminds 24 h, 1 h and 10 min before, opens and closes on time, each exactly once', async () => {
  const start = T0 + 2 * 24 * H;
  const ama = await amaSchedule(h.deps, { title: 'Launch AMA', startsAt: new Date(start).toISOString(), durationMinutes: 60, chats: [TG, DC], tz: 'Europe/Berlin', hosts: ['telegram:@founder'] });
  await h.runDue();
  assert.equal((await sends(`${ama.id}/announce/`)).length, 2, 'announced in both chats');
  const tgAnnounce = (await h.jobs('telegram')).find((a) => a.id.includes('/announce/'))!;
  assert.match(tgAnnounce.text!, /CET.*\(\d\d:\d\d UTC\)/, 'the time is shown in the AMA zone with UTC alongside');
  assert.equal(tgAnnounce.ref, `ama:${ama.id}:announce:${TG}`);

  const step = async (to: number) => {
    h.setClock(to);
    await h.runDue();
    await h.runDue(); // a second pass at the same moment must add nothing
  };
  await step(start - 24 * H - 60_000);
  assert.equal((await sends(`/remind/`)).length, 0, 'nothing before its time');
  await step(start - 24 * H);
  assert.equal((await sends(`/remind/${24 * H}/`)).length, 2);
  await step(start - H);
  assert.equal((await sends(`/remind/${H}/`)).length, 2);
  await step(start - 10 * 60_000);
  assert.equal((await sends(`/remind/${10 * 60_000}/`)).length, 2);
  assert.equal((await amaGet(h.deps, ama.id)).status, 'scheduled');
  await step(start);
  assert.equal((await amaGet(h.deps, ama.id)).status, 'live');
  assert.equal((await sends(`${ama.id}/open/`)).length, 2);
  assert.equal(await h.redis.get(h.env.k.live(TG)), ama.id);
  await step(start + 59 * 60_000);
  assert.equal((await amaGet(h.deps, ama.id)).status, 'live');
  await step(start + 60 * 60_000);
  const closed = await amaGet(h.deps, ama.id);
  assert.equal(closed.status, 'closed');
  assert.equal((await sends(`${ama.id}/close/`)).length, 2);
  assert.equal((await sends(`${ama.id}/recap/`)).length, 2, 'the recap goes to every linked chat');
  assert.equal(await h.redis.get(h.env.k.live(TG)), null);
  // Every action id appears once on the queues: nothing was posted twice.
  const ids = [...(await h.jobs('telegram')), ...(await h.jobs('discord'))].map((a) => a.id);
  assert.equal(new Set(ids).size, ids.length);
});

test('an AMA started early by a moderator skips its remaining reminders and still closes a duration after its scheduled start', async () => {
  h.setClock(T0);
  const ama = await amaSchedule(h.deps, { title: 'Early', startsAt: T0 + 3 * H, durationMinutes: 30, chats: ['telegram:-5'] });
  await h.runDue();
  await h.say({ platform: 'telegram', id: '1', admin: true }, '-5', '/ama start');
  assert.equal((await amaGet(h.deps, ama.id)).status, 'live');
  h.setClock(T0 + 3 * H - H);
  await h.runDue();
  assert.equal((await sends(`${ama.id}/remind/`)).length, 0, 'no reminder for an AMA already live');
  h.setClock(T0 + 3 * H + 30 * 60_000);
  await h.runDue();
  assert.equal((await amaGet(h.deps, ama.id)).status, 'closed');
});

test('the scheduler runs on BullMQ ticks with the test clock, and a restarted scheduler posts nothing twice', async () => {
  h.setClock(T0);
  const ama = await amaSchedule(h.deps, { title: 'Ticked', startsAt: T0 + 20 * 60_000, durationMinutes: 15, chats: ['telegram:-6'], reminders: ['10m'] });
  let sched = await startAmaScheduler({ url: h.url, keys: h.keys, deps: h.deps, tickMs: 50 });
  try {
    await waitFor(async () => (await sends(`${ama.id}/announce/`)).length === 1, 'announcement via a BullMQ tick');
    h.setClock(T0 + 10 * 60_000);
    await waitFor(async () => (await sends(`${ama.id}/remind/`)).length === 1, 'reminder via a BullMQ tick');
    // Restart mid-way: a new scheduler process picks up where the old one stopped.
    await sched.close();
    sched = await startAmaScheduler({ url: h.url, keys: h.keys, deps: h.deps, tickMs: 50 });
    h.setClock(T0 + 20 * 60_000);
    await waitFor(async () => (await amaGet(h.deps, ama.id)).status === 'live', 'opened after the restart');
    h.setClock(T0 + 35 * 60_000);
    await waitFor(async () => (await amaGet(h.deps, ama.id)).status === 'closed', 'closed');
    await new Promise((r) => setTimeout(r, 200));
    const ids = (await h.jobs('telegram')).map((a) => a.id).filter((id) => id.includes(`/${ama.id}/`));
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(ids.filter((id) => id.includes('/remind/')).length, 1);
    assert.equal(ids.filter((id) => id.includes('/open/')).length, 1);
  } finally {
    await sched.close();
  }
});

test('a recurring AMA creates its next instances ahead of time, at the cron time in its zone, and stops after count', async () => {
  h.setClock(T0); // Monday 12:00 UTC
  const first = await amaSchedule(h.deps, {
    title: 'Weekly',
    startsAt: '2026-01-05 15:00',
    tz: 'Europe/Berlin',
    durationMinutes: 30,
    chats: ['discord:9'],
    recurrence: { pattern: '0 15 * * 1', count: 3 },
  });
  assert.equal(first.startsAt, Date.UTC(2026, 0, 5, 14, 0), '15:00 in Berlin in winter is 14:00 UTC');
  for (let day = 1; day <= 21; day++) {
    h.setClock(T0 + day * 24 * H);
    await h.runDue(50);
  }
  const series = await h.redis.zrange(h.env.k.all(), "0", "-1");
  const amas = await Promise.all(series.map((id) => amaGet(h.deps, id)));
  const weekly = amas.filter((a) => a.title === 'Weekly').map((a) => a.startsAt).sort();
  assert.deepEqual(weekly, [Date.UTC(2026, 0, 5, 14), Date.UTC(2026, 0, 12, 14), Date.UTC(2026, 0, 19, 14)]);
});

test('subscribers are told privately before each AMA, once, in the AMA language', async () => {
  h.setClock(T0);
  await h.feed({ v: 1, id: 'sub-1', kind: 'message', platform: 'telegram', chat: 'telegram:42', chatType: 'private', messageId: '1', user: { id: 'telegram:user:42', name: 'Sub' }, text: '/subscribe', at: T0, source: 'live' });
  await h.say({ platform: 'discord', id: '43' }, '10', '/subscribe');
  const ama = await amaSchedule(h.deps, { title: 'Nueva versión', startsAt: T0 + 5 * H, durationMinutes: 30, chats: ['discord:10'], lang: 'es' });
  h.setClock(T0 + 4 * H);
  await h.runDue();
  await h.runDue();
  const dms = [...(await h.jobs('telegram')), ...(await h.jobs('discord'))].filter((a) => a.type === 'dm' && a.id.includes(`/${ama.id}/notify/`));
  assert.deepEqual(dms.map((a) => a.user).sort(), ['discord:user:43', 'telegram:user:42']);
  assert.ok(dms.every((a) => /Próximo AMA/.test(a.text ?? '')));
});

test('/ama schedule in chat parses a time with zone, a duration and a title; non-moderators are refused', async () => {
  h.setClock(T0);
  await h.say({ platform: 'telegram', id: '5' }, '-77', '/ama schedule 2026-02-01 18:00 UTC 90m Not allowed');
  await h.say({ platform: 'telegram', id: '6', admin: true }, '-77', '/ama schedule 2026-02-01 18:00 UTC 90m Token economics deep dive --hosts @cto,@ceo');
  // The same event delivered again (a crash before it was marked handled) schedules nothing new.
  const ev = { v: 1 as const, id: 'redelivered-schedule', kind: 'message' as const, platform: 'telegram' as const, chat: 'telegram:-77', messageId: '900', user: { id: 'telegram:user:6', name: 'Mod', isAdmin: true }, text: '/ama schedule 2026-03-01 18:00 UTC 1h Once only', at: T0, source: 'live' as const };
  await h.feed(ev);
  await h.redis.del(h.keys.k('seen', ev.id));
  await h.feed(ev);
  const titles = await Promise.all((await h.redis.zrange(h.env.k.byChat('telegram:-77'), '0', '-1')).map((id) => amaGet(h.deps, id).then((a) => a.title)));
  assert.equal(titles.filter((t) => t === 'Once only').length, 1);
  const list = (await h.jobs('telegram')).filter((a) => a.chat === 'telegram:-77' && a.type === 'send').map((a) => a.text ?? '');
  assert.ok(list.some((t) => /Only moderators/.test(t)));
  assert.ok(list.some((t) => /Scheduled a\d+ · Token economics deep dive · Sun, 1 Feb 2026, 18:00 UTC · 1h 30m/.test(t)), list.join('\n'));
});
