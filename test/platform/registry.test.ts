/** The platform registry: its entries are consistent, and the id patterns and helpers derived from it behave as ids did. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChatKey } from '../../src/core/ids.js';
import { CHAT_ID_PATTERN, type Capabilities, isChatId, isUserId, nativeMention, PLATFORMS, platformNames, platformsForClients, REGISTRY, USER_ID_PATTERN } from '../../src/platform/index.js';

test('every entry is complete and says consistent things about itself', { timeout: 5000 }, () => {
  assert.equal(new Set(PLATFORMS).size, REGISTRY.length, 'ids are unique');
  for (const p of REGISTRY) {
    assert.match(p.id, /^[a-z][a-z0-9]{0,15}$/, `${p.id}: an id is a short lower-case word (it prefixes every id and key)`);
    assert.ok(p.short.length >= 1 && p.short.length <= 3, `${p.id}: a badge label of 1-3 letters`);
    assert.match(p.colour.light, /^#[0-9a-f]{6}$/);
    assert.match(p.colour.dark, /^#[0-9a-f]{6}$/);
    for (const src of [p.ids.chat, p.ids.thread ?? '', p.ids.user]) assert.ok(!/\((?!\?)/.test(src), `${p.id}: id patterns have no capturing groups`);
    const c: Capabilities = p.capabilities;
    if (c.bulkDelete || c.slowMode === 'enforced') assert.ok(c.moderation.includes('delete'), `${p.id}: bulk delete and enforced slow mode delete messages`);
    if (c.slowMode === 'api') assert.ok(c.moderation.includes('slowmode'), `${p.id}: slow mode through the API is a moderation verb`);
    assert.ok(p.text.digestChars > 0 && p.text.digestChars <= p.text.maxChars);
  }
});

test('chat and user id patterns accept every platform prefix and nothing else', { timeout: 5000 }, () => {
  for (const ok of ['telegram:-100123', 'telegram:-100123:7', 'discord:1:2', 'x:123']) assert.ok(isChatId(ok), ok);
  for (const bad of ['myspace:1', 'telegram:', 'telegram:a b', 'telegram:1:2:3', ':1', 'TELEGRAM:1']) assert.ok(!isChatId(bad), bad);
  for (const ok of ['telegram:user:5', 'x:user:abc']) assert.ok(isUserId(ok), ok);
  for (const bad of ['telegram:5', 'myspace:user:1', 'x:user:', 'x:user:1:2']) assert.ok(!isUserId(bad), bad);
  assert.ok(new RegExp(CHAT_ID_PATTERN).test('discord:9'));
  assert.ok(new RegExp(USER_ID_PATTERN).test('discord:user:9'));
});

test('parseChatKey splits by the platform pattern and refuses user ids and unknown platforms', { timeout: 5000 }, () => {
  assert.deepEqual(parseChatKey('telegram:-100:7'), { platform: 'telegram', chatId: '-100', threadId: '7' });
  assert.deepEqual(parseChatKey('x:55'), { platform: 'x', chatId: '55' });
  assert.throws(() => parseChatKey('telegram:user:5'), /not a chat id/);
  assert.throws(() => parseChatKey('myspace:1'), /not a chat id/);
});

test('the pattern clients get finds a chat\'s group on every platform (group 1 the chat, group 2 the thread)', { timeout: 5000 }, () => {
  // A chat part with more than one segment (Slack's `<team>:<channel>`, threads named by a ts) gets its own sample.
  const samples: Record<string, [chat: string, thread: string]> = { slack: ['T1:C1', '1700000000.000100'] };
  for (const p of platformsForClients()) {
    const [chat, thread] = samples[p.id] ?? ['100', '7'];
    const m = new RegExp(p.chatPattern).exec(`${p.id}:${chat}:${thread}`);
    assert.deepEqual([m?.[1], m?.[2]], [chat, thread], p.id);
  }
});

test('a platform-native mention in a command argument becomes that platform\'s user id', { timeout: 5000 }, () => {
  assert.equal(nativeMention('<@123456>'), 'discord:user:123456');
  assert.equal(nativeMention('<@!42>'), 'discord:user:42');
  assert.equal(nativeMention('@alice'), null);
  assert.equal(platformNames(), 'Telegram, Discord, X and Slack');
});
