/**
 * The dashboard in a real browser (playwright-core driving Debian's Chromium) against the sandbox: sign in, a
 * question asked on Telegram and its paraphrase on Discord become one live row without a reload, an answer typed
 * in the page is posted as a reply on both platforms, a signed-out browser sees only the sign-in page and the API
 * answers 401, and the queue stays quick with 1,000+ open questions. Screenshots go to test-results/ for review.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { waitFor } from '../../helpers/core.js';
import { startStack } from '../../helpers/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SHOTS = path.join(ROOT, 'test-results');
const TG_CHAT = '-1002003004005';
const DC_CHAT = '930000000000000001';
const alice = { id: '7001', name: 'Alice' };
const bob = { id: '830000000000000002', name: 'Bob' };
const host = { id: '7000', name: 'Hosting Hank', admin: true };

interface Sandbox {
  url: string;
  adminToken: string;
  close(): Promise<void>;
}
interface OutboxEntry {
  type: string;
  chat: string;
  user?: string;
  thread?: string;
  replyTo?: string;
  text?: string;
}

let sb: Sandbox;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let amaId: string;
const pageErrors: string[] = [];

/** The whole bot as `townhall sandbox` runs it, on an isolated Redis prefix. */
async function startTarget(): Promise<Sandbox> {
  return startStack();
}

async function call<T>(method: string, url: string, body?: unknown, auth = true): Promise<T> {
  const res = await fetch(`${sb.url}${url}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(auth ? { authorization: `Bearer ${sb.adminToken}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
const say = (platform: 'telegram' | 'discord', chat: string, user: object, text: string, extra: object = {}) =>
  call<{ id: string }>('POST', `/sandbox/${platform}/messages`, { chat, user, text, ...extra }, false);
const outbox = (platform: 'telegram' | 'discord', chat: string) => call<OutboxEntry[]>('GET', `/sandbox/${platform}/outbox?chat=${encodeURIComponent(chat)}`, undefined, false);

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is missing: apt-get install -y chromium (expected ${CHROMIUM})`);
  mkdirSync(SHOTS, { recursive: true });
  sb = await startTarget();
  // Playwright gives every launch a fresh temporary --user-data-dir (it refuses one in args).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ctx.newPage();
  page.setDefaultTimeout(5000);
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  // Script errors and CSP violations count; a failed request is the server's business (asserted where it matters).
  page.on('console', (m) => m.type() === 'error' && !/^Failed to load resource/.test(m.text()) && pageErrors.push(`console: ${m.text()}`));
  page.on('dialog', (d) => void d.accept());

  // The chats exist once someone spoke; the AMA spans both and is live.
  await say('telegram', TG_CHAT, host, 'Welcome everyone, the AMA starts soon');
  await say('discord', DC_CHAT, { ...host, id: '830000000000000001' }, 'Welcome to the AMA channel');
  const ama = await call<{ id: string }>('POST', '/api/amas', { title: 'Mainnet AMA', startsAt: Date.now() + 3_600_000, durationMinutes: 60, chats: [`telegram:${TG_CHAT}`, `discord:${DC_CHAT}`], hosts: [] });
  amaId = ama.id;
  await call('POST', `/api/amas/${amaId}/start`, {});
});

after(async () => {
  await browser?.close();
  await sb?.close();
});

test('a signed-out browser gets the sign-in page and the API answers 401', async () => {
  const anon = await browser.newContext();
  try {
    const p = await anon.newPage();
    await p.goto(`${sb.url}/`);
    assert.equal(new URL(p.url()).pathname, '/login');
    assert.ok(await p.getByLabel('Admin token or sign-in token').isVisible());
    // From inside the signed-out page, as the browser itself would ask.
    const status = (path: string) => p.evaluate((u) => fetch(u).then((r) => r.status), path);
    assert.equal(await status('/api/amas'), 401);
    assert.equal(await status('/dashboard/static/app.js'), 401, 'the app itself is not served signed out');
    assert.equal(await status('/dashboard/live'), 401);
  } finally {
    await anon.close();
  }
});

test('signing in with the admin token opens the AMA view on the live AMA', async () => {
  await page.goto(`${sb.url}/`);
  await page.getByLabel('Admin token or sign-in token').fill(sb.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/' && u.hash.startsWith('#/ama'));
  await page.locator('#ama-status', { hasText: 'live' }).waitFor();
  assert.equal(await page.locator('#ama-select').inputValue(), amaId);
  const cookies = await ctx.cookies();
  const session = cookies.find((c) => c.name === 'townhall_session');
  assert.ok(session?.httpOnly && session.sameSite === 'Strict');
});

let tgAsk: string;
let dcAsk: string;

test('a question on Telegram and its paraphrase on Discord appear as one merged row within 2 s, without a reload', async () => {
  await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
  const row = page.locator('.q', { hasText: 'mainnet' });

  let t = Date.now();
  tgAsk = (await say('telegram', TG_CHAT, alice, '/ask When will the mainnet launch?')).id;
  await row.first().waitFor({ timeout: 2000 });
  const firstMs = Date.now() - t;

  t = Date.now();
  dcAsk = (await say('discord', DC_CHAT, bob, '/ask what is the launch date for mainnet?')).id;
  await row.locator('.q-head .pf-discord').waitFor({ timeout: 2000 });
  const mergedMs = Date.now() - t;

  assert.equal(await row.count(), 1, 'one merged row');
  assert.ok(await row.locator('.q-head .pf-telegram').isVisible());
  // Badge colours come from the registry through GET /api/platforms (Telegram's light-theme #1c8ad6), not from the CSS.
  assert.equal(await row.locator('.q-head .pf-telegram').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(28, 138, 214)');
  assert.match(await row.locator('.votes').innerText(), /2/);
  assert.match(await row.locator('.asks summary').innerText(), /2 asks/);
  assert.equal(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere), true, 'the page was not reloaded');
  await row.locator('.asks summary').click();
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-ama.png'), fullPage: true });
  console.log(`# live row: first ask shown after ${firstMs} ms, merged Discord ask after ${mergedMs} ms`);
});

test('j/k move through the queue and the answer box follows the selection', async () => {
  await say('telegram', TG_CHAT, { id: '7002', name: 'Carol' }, '/ask Will staking rewards change after the halving?');
  await page.locator('.q', { hasText: 'staking' }).waitFor({ timeout: 3000 });
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  const selected = () => page.locator('.q[aria-current="true"] .q-text').innerText();
  const first = await selected();
  await page.keyboard.press('j');
  const second = await selected();
  assert.notEqual(second, first);
  assert.match(await page.locator('#answer-q').innerText(), new RegExp(second.slice(0, 20).replace(/[?.*+()]/g, '.')));
  await page.keyboard.press('k');
  assert.equal(await selected(), first);
});

test('an answer typed in the page is posted as a reply under the ask on Telegram and on Discord', async () => {
  const answer = 'Mainnet launches on March 3rd, right after the audit.';
  await page.locator('.q', { hasText: 'mainnet' }).locator('.q-text').click();
  await page.keyboard.press('a');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'answer-text', '"a" focuses the answer box');
  await page.keyboard.type(answer);
  await page.keyboard.press('Control+Enter');
  await page.locator('#delivered-places li').nth(1).waitFor({ timeout: 3000 });
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-ama-answered.png'), fullPage: true });

  // A reply to the ask: Telegram quotes it (replyTo); Discord answers in the thread started on the ask message.
  const replied = async (platform: 'telegram' | 'discord', chat: string, ask: string) =>
    (await outbox(platform, chat)).some((e) => e.type === 'send' && (e.replyTo === ask || e.thread === ask) && (e.text ?? '').includes('Mainnet launches on March 3rd'));
  await waitFor(async () => (await replied('telegram', TG_CHAT, tgAsk)) && (await replied('discord', DC_CHAT, dcAsk)), 'the answer in both outboxes as replies', 10_000);
  await page.locator('.tabs button', { hasText: 'Answered' }).click();
  await page.locator('.q', { hasText: 'mainnet' }).locator('.q-answer').waitFor();
});

test('merge and reject from the page: the merged question joins the other, the rejected one leaves the open queue', async () => {
  await page.locator('.tabs button', { hasText: 'Open' }).click();
  await say('telegram', TG_CHAT, { id: '7003', name: 'Dan' }, '/ask Is there a bug bounty program for the bridge contracts?');
  await page.locator('.q', { hasText: 'bug bounty' }).waitFor({ timeout: 3000 });
  // By number: after the merge the other row shows the merged ask's text too.
  const numberOf = async (text: string) => (await page.locator('.q', { hasText: text }).first().locator('.qn').innerText()).replace('Q', '');
  const bounty = page.locator(`#q-${await numberOf('bug bounty')}`);
  const stakingN = await numberOf('staking');
  const staking = page.locator(`#q-${stakingN}`);
  await bounty.getByRole('button', { name: 'Merge…' }).click();
  await page.getByLabel('Merge into question number').fill(stakingN);
  await page.getByRole('button', { name: 'Merge', exact: true }).click();
  await bounty.waitFor({ state: 'detached', timeout: 3000 });
  await staking.locator('.asks summary', { hasText: '2 asks' }).waitFor({ timeout: 3000 });
  await staking.getByRole('button', { name: 'Reject…' }).click();
  await page.getByLabel('Reason (optional, shown to the asker)').fill('off topic');
  await page.getByRole('button', { name: 'Reject', exact: true }).click();
  await staking.waitFor({ state: 'detached', timeout: 3000 });
  await page.locator('.tabs button', { hasText: 'Rejected' }).click();
  await page.locator('.q', { hasText: 'staking' }).locator('.badge.rejected').waitFor({ timeout: 3000 });
});

test('an AMA scheduled from the form appears in the AMA picker', async () => {
  await page.getByRole('button', { name: 'Schedule an AMA' }).click();
  await page.getByLabel('Title').fill('Quarterly roadmap');
  await page.getByLabel(`telegram:${TG_CHAT}`).check();
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();
  await page.locator('#ama-select option', { hasText: 'Quarterly roadmap' }).waitFor({ state: 'attached', timeout: 3000 });
  // The picker switches to the new AMA and then its status follows: wait for it rather than read it at once.
  await page.locator('#ama-status', { hasText: 'scheduled' }).waitFor({ timeout: 3000 });
  await page.locator('#ama-select').selectOption(amaId);
  await page.locator('#ama-status', { hasText: 'live' }).waitFor();
});

test('the moderation view reverses a ban in one click and the platform sees the unban', async () => {
  await say('telegram', TG_CHAT, { id: '7009', name: 'Spammer' }, 'buy cheap followers now');
  await say('telegram', TG_CHAT, host, '/ban telegram:user:7009 spam');
  await waitFor(async () => (await outbox('telegram', TG_CHAT)).some((e) => e.type === 'ban' && e.user === '7009'), 'the ban on Telegram', 5000);
  await page.goto(`${sb.url}/#/moderation`);
  const unban = page.getByRole('button', { name: /Reverse the ban of user 7009/ });
  await unban.click();
  await page.locator('#modlog-rows tr', { hasText: 'user 7009' }).locator('text=reversed').first().waitFor({ timeout: 3000 });
  await waitFor(async () => (await outbox('telegram', TG_CHAT)).some((e) => e.type === 'unban' && e.user === '7009'), 'the unban on Telegram', 5000);
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-moderation.png'), fullPage: true });
});

test('the chats view draws messages per minute per platform and shows the digest', async () => {
  await page.goto(`${sb.url}/#/chats`);
  await page.locator('#chart canvas').first().waitFor({ timeout: 5000 });
  await page.locator('#chat-list button').first().waitFor();
  await page.locator('#chat-list button', { hasText: TG_CHAT }).click();
  await page.locator('#digest-title', { hasText: TG_CHAT }).waitFor({ timeout: 5000 });
  const problem = await page.locator('#digest .error').allInnerTexts();
  assert.deepEqual(problem, [], 'the digest was built');
  assert.match(await page.locator('#digest .totals').innerText(), /messages/);
  assert.match(await page.locator('#chart-summary').innerText(), /Telegram [1-9]\d*, Discord [1-9]/);
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-chats.png'), fullPage: true });
});

test('the dark theme and a phone-sized screen both work', async () => {
  await page.locator('#theme-toggle').click(); // system -> dark
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.setViewportSize({ width: 390, height: 844 });
  await say('discord', DC_CHAT, { id: '830000000000000009', name: 'Erin' }, '/ask Could the validator requirements be lowered for small operators with long names and longer questions?');
  await page.goto(`${sb.url}/#/ama/${amaId}`);
  await page.locator('.q', { hasText: 'validator' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no sideways scrolling on a phone (overflow ${overflow}px)`);
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-ama-phone-dark.png'), fullPage: false });
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('the pages raised no script errors and no content-security-policy violations', () => {
  assert.deepEqual(pageErrors, []);
});
