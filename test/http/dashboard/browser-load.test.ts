/**
 * The AMA view with 1,000+ open questions in Chromium: the first page shows quickly, paging stays quick, the
 * keyboard stays responsive, and a question voted up from the bottom of the queue reaches the top of the open
 * page live. The core runs in-process (no platform fakes: the point is the dashboard's load, not delivery).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeEventId } from '../../../src/core/index.js';
import { CommandRegistry } from '../../../src/commands/router.js';
import { ChatEventSchema } from '../../../src/core/events.js';
import { amaSchedule, amaStart, createAmaFeature } from '../../../src/features/ama/index.js';
import { dashboardRoutes, liveNotesFeature } from '../../../src/http/dashboard/index.js';
import { TownhallMetrics } from '../../../src/http/metrics.js';
import { amaRoutes } from '../../../src/http/routes/amas.js';
import { chatRoutes } from '../../../src/http/routes/chats.js';
import { buildServer, type RoutePlugin, type TownhallServer } from '../../../src/http/server.js';
import { createHandleEvent, type HandleEvent } from '../../../src/pipeline/handle-event.js';
import { testCore } from '../../helpers/core.js';
import { platformRoutes } from '../../../src/http/routes/platforms.js';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'load-test-admin-token-0123456789';
const CHAT = '-1004004004';
const N = 1050;
const WORDS =
  'apple bridge canyon delta ember falcon glacier harbor island jungle kettle lantern meadow nebula orbit prairie quartz river summit tundra umbrella valley willow xenon yacht zephyr amber basalt cobalt dune eagle fjord garnet hazel iris jasper koala lemon mango nectar olive pepper quince raven saffron tulip urchin violet walnut yarrow zinnia anchor beacon comet dragon engine forest goblet hammer igloo jacket kayak ladder magnet needle oyster pillow quiver rocket saddle tractor unicorn vessel wagon yogurt zipper acorn banjo candle donkey easel feather guitar helmet insect jigsaw kitten lizard mitten noodle otter parrot puzzle rabbit salmon teapot violin whistle'.split(' ');

/** A question unlike the others (so the duplicate index keeps them apart). */
function question(i: number): string {
  const w = (k: number) => WORDS[(i * (k * 2 + 1) + k * 37 + Math.floor(i / WORDS.length) * (k + 3)) % WORDS.length];
  return `will the ${w(0)} ${w(1)} team ship ${w(2)} for ${w(3)} holders before block ${100000 + i * 7}?`;
}

let core: Awaited<ReturnType<typeof testCore>>;
let handle: HandleEvent;
let app: TownhallServer;
let base: string;
let browser: Browser;
let page: Page;
let amaId: string;
let seq = 0;

const say = (user: string, text: string) =>
  handle(
    ChatEventSchema.parse({
      v: 1,
      id: makeEventId('telegram', 'msg', CHAT, String(++seq)),
      kind: 'message',
      platform: 'telegram',
      chat: `telegram:${CHAT}`,
      chatType: 'group',
      messageId: String(seq),
      user: { id: `telegram:user:${user}`, name: `Person ${user}` },
      text,
      at: Date.now(),
      source: 'live',
    }),
  );

before(async () => {
  assert.ok(existsSync(CHROMIUM), 'Chromium is missing: apt-get install -y chromium');
  core = await testCore();
  const ama = createAmaFeature(core.deps);
  const registry = new CommandRegistry().register(...ama.commands);
  registry.setHostCheck(ama.hostCheck);
  handle = createHandleEvent(core.deps, [liveNotesFeature(core.deps), registry.feature(), ama.feature]);
  amaId = (await amaSchedule(core.deps, { title: 'Busy AMA', startsAt: Date.now() + 3_600_000, durationMinutes: 120, chats: [`telegram:${CHAT}`] })).id;
  await amaStart(core.deps, amaId);
  const t = Date.now();
  // Sequential on purpose: one AMA's intake is serialized by its lock anyway.
  for (let i = 0; i < N; i++) await say(String(10_000 + i), `/ask ${question(i)}`);
  console.log(`# seeded ${N} questions through the pipeline in ${Date.now() - t} ms`);

  app = await buildServer({
    deps: core.deps,
    log: core.deps.log,
    metrics: new TownhallMetrics({ defaults: false }),
    adminToken: ADMIN,
    adapters: () => ({}),
    queues: [],
    apiRoutes: [amaRoutes as RoutePlugin, chatRoutes, platformRoutes],
    publicRoutes: [async (a) => a.register(dashboardRoutes, { deps: core.deps, adminToken: ADMIN })],
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel('Admin token or sign-in token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/');
});

after(async () => {
  await browser?.close();
  await app?.close();
  await core?.cleanup();
});

// How quick (first page < 3 s, next page < 1 s) is a target of `npm run bench` (bench/targets.ts); the figures of this run are printed.
test('with 1,000+ open questions the page shows one page of 50 rows and pages through them, keys included', async () => {
  const open = await (await fetch(`${base}/api/amas/${amaId}/questions?status=open&limit=1000&offset=1000`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
  assert.ok((open as unknown[]).length >= N - 1000, 'more than 1,000 open questions');
  const ta = performance.now();
  for (let i = 0; i < 5; i++) await (await fetch(`${base}/api/amas/${amaId}/questions?status=open&sort=rank&limit=51&offset=${i * 50}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();
  const apiMs = (performance.now() - ta) / 5;
  const t1 = Date.now();
  await page.goto(`${base}/#/ama/${amaId}`);
  await page.locator('.q').nth(49).waitFor();
  const firstMs = Date.now() - t1;
  assert.equal(await page.locator('.q').count(), 50, 'one page of 50 rows, not 1,000');
  const t2 = Date.now();
  for (let i = 0; i < 5; i++) {
    const before = await page.locator('#page-range').innerText();
    await page.locator('#page-next').click();
    await page.waitForFunction((b) => document.getElementById('page-range')?.textContent !== b, before);
  }
  const pageMs = (Date.now() - t2) / 5;
  assert.match(await page.locator('#page-range').innerText(), /^251–300\+/);
  const t3 = Date.now();
  for (let i = 0; i < 20; i++) await page.keyboard.press('j');
  await page.waitForFunction(() => document.querySelectorAll('.q[aria-current="true"]').length === 1);
  const keyMs = (Date.now() - t3) / 20;
  console.log(`# ${N} open questions: API page of 51 ${apiMs.toFixed(0)} ms, first page ${firstMs} ms, next page ${pageMs.toFixed(0)} ms, j ${keyMs.toFixed(1)} ms per press`);
});

test('a question voted up from the bottom of a 1,000-question queue rises to the top of the open page live', async () => {
  await page.reload();
  await page.locator('.q').nth(49).waitFor();
  assert.match(await page.locator('#page-range').innerText(), /^1–50\+/);
  const all = (await (await fetch(`${base}/api/amas/${amaId}/questions?status=open&limit=1000&offset=${N - 60}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { n: number; text: string }[];
  const low = all[all.length - 1]!;
  const t = Date.now();
  for (let v = 0; v < 6; v++) await say(String(50_000 + v), `/upvote ${low.n}`);
  await page.locator('.q').first().locator('.qn', { hasText: `Q${low.n}` }).waitFor({ timeout: 3000 });
  console.log(`# Q${low.n} rose from rank ~${N} to the top ${Date.now() - t} ms after the first of 6 votes`);
});
