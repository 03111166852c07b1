/**
 * Finding 2 (High): `/filter add /(\u0100|\u0100)*$/` passed safe-regex2 and the timed probe (which never expanded
 * `\u` escapes); one 27-character message froze the core and /healthz for 10–17 s, doubling per character, and every
 * community on the instance stopped. Patterns now run in RE2 (linear time, a fixed budget per message).
 *
 * The bot runs in a child process (the sandbox: fakes, real client libraries, core, HTTP), driven over HTTP as the
 * review did, so a hang is seen from outside. The waits below are generous on purpose: they separate "answers"
 * from "hangs" (a backtracking engine needs 2^40 steps here, hours), not fast from slow; the speed targets
 * (/healthz within 100 ms, another chat's /help within 2 s) are measured by `npx tsx bench/filters.ts`.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../helpers/core.js';
import { isolatedRedis } from '../helpers/redis.js';
import { checkPatternStatic, PatternSet } from '../../src/features/moderation/safe-regex.js';

const ANSWER_MS = 5_000;
type Outbox = { type: string; chat: string; replyTo?: string; text?: string; messageId?: string }[];

describe('a moderator pattern cannot hang the bot', { timeout: 120_000 }, () => {
  const prefix = `{townhall-test-${randomUUID().slice(0, 8)}}`;
  let child: ChildProcess | undefined;
  let url = '';
  let iso: Awaited<ReturnType<typeof isolatedRedis>> | undefined;
  const handled = async () => Number((await iso!.redis.get(iso!.keys.k('stats', 'handled'))) ?? 0);
  /** Posts a message and waits until the core handled it, asking /healthz all the while (a hang fails the call). */
  const postAndWatch = async (chat: string, user: { id: string; name: string }, text: string) => {
    const before = await handled();
    const posted = await post(chat, user, text);
    await waitFor(async () => {
      assert.equal((await call('GET', '/healthz')).status, 200);
      return (await handled()) > before;
    }, 'the message to be handled', 30_000, 100);
    return posted;
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, { method, signal: AbortSignal.timeout(ANSWER_MS), ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const post = async (chat: string, user: { id: string; name: string; admin?: boolean }, text: string) => (await call('POST', '/sandbox/telegram/messages', { chat, user, text })).body as { id: string };
  const outbox = async (chat: string) => (await call('GET', `/sandbox/telegram/outbox?chat=${chat}`)).body as Outbox;
  const replyTo = async (chat: string, id: string) => {
    let found: Outbox[number] | undefined;
    await waitFor(async () => Boolean((found = (await outbox(chat)).find((o) => o.type === 'send' && o.replyTo === id))), `the bot's answer in ${chat}`, 30_000, 100);
    return found!;
  };

  before(async () => {
    iso = await isolatedRedis();
    Object.assign(iso.keys, { prefix });
    child = fork(new URL('./sandbox-child.ts', import.meta.url).pathname, [prefix], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    url = await new Promise<string>((resolve, reject) => {
      child!.once('message', (m) => resolve((m as { url: string }).url));
      child!.once('exit', (code) => reject(new Error(`sandbox exited (${code})`)));
    });
  });
  after(async () => {
    // SIGKILL: a process stuck in a regular expression never handles SIGTERM.
    child?.kill('SIGKILL');
    await iso?.cleanup();
  });

  test('the review’s pattern, then a 40-character message: /healthz answers and another chat’s /help is answered', async () => {
    const mod = { id: '900', name: 'Mod', admin: true };
    const add = await post('-9101', mod, '/filter add /(\\u0100|\\u0100)*$/');
    const said = await replyTo('-9101', add.id);
    // 40 characters that the pattern's group matches but its `$` does not: a backtracking engine tries 2^39 ways.
    await postAndWatch('-9101', { id: '901', name: 'Spammer' }, `${'\u0100'.repeat(39)}!`);
    const help = await post('-9102', { id: '902', name: 'Ann' }, '/help');
    assert.match((await replyTo('-9102', help.id)).text ?? '', /\/summary/);
    // RE2 would match it in linear time; it matches the empty string, i.e. every message, so it is refused as such.
    assert.match(said.text ?? '', /Refused: it matches an empty message/);
  });

  test('the same shape that must match a character is added, matched in linear time, and removes what it matches', async () => {
    const mod = { id: '910', name: 'Mod', admin: true };
    const add = await post('-9111', mod, '/filter add /(\\u0100|\\u0100)*\\u0102/');
    assert.match((await replyTo('-9111', add.id)).text ?? '', /^Filter added/);
    await postAndWatch('-9111', { id: '911', name: 'Spammer' }, '\u0100'.repeat(40));
    const help = await post('-9112', { id: '912', name: 'Ann' }, '/help');
    await replyTo('-9112', help.id);
    const hit = await post('-9111', { id: '913', name: 'Spammer' }, `${'\u0100'.repeat(40)}\u0102`);
    await waitFor(async () => (await outbox('-9111')).some((o) => o.type === 'delete' && o.messageId === hit.id), 'the matching message to be removed', 30_000, 100);
  });
});

test('every pattern runs in RE2 within a fixed budget per message', { timeout: 10_000 }, () => {
  const check = checkPatternStatic('(\\u0100|\\u0100)*\\u0102');
  assert.ok(check.ok);
  const set = new PatternSet([check.re2]);
  assert.ok(set.size * set.scanChars <= 1_000_000, 'characters × instructions per message');
  assert.equal(set.firstMatch('\u0100'.repeat(16_000)), -1);
  assert.equal(set.firstMatch(`${'\u0100'.repeat(100)}\u0102`), 0);
  // Patterns written to grow big are refused, so no chat's set can scan less than the first 500 characters.
  assert.equal(checkPatternStatic('[\\s\\S]{0,500}x').ok, false);
});
