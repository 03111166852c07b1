import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDigest, escapeHtml, escapeMarkdown, normalizeUrl, renderDigest } from '../../../src/features/digest/digest.js';
import type { Digest, DigestFormat, StoredMessage } from '../../../src/features/digest/digest.js';
import { syntheticMessages } from '../../../bench/targets.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const synthetic = (n: number) => syntheticMessages(n, T0);
const CHAT = 'telegram:-100123';

function msg(id: string, user: string, text: string, min: number, extra: Partial<StoredMessage> = {}): StoredMessage {
  return { id, chat: CHAT, platform: 'telegram', user, userName: user[0]?.toUpperCase() + user.slice(1), text, at: T0 + min * 60_000, url: `https://t.me/c/123/${id}`, lang: 'en', ...extra };
}

const fixture: StoredMessage[] = [
  msg('1', 'ann', 'When is the next community call?', 0, { thread: 'a' }),
  msg('2', 'bob', 'Next Thursday at 5pm UTC, see https://example.com/call?utm_source=tg', 1, { thread: 'a', reactions: 4 }),
  msg('3', 'cid', 'Does the API support webhooks?', 2, { thread: 'b' }),
  msg('4', 'dee', 'SECRET deleted text https://deleted.example.com', 3, { thread: 'b', deleted: true }),
  msg('5', 'eve', 'Who can review my PR?', 4, { thread: 'c', reactions: 2 }),
  msg('6', 'fay', 'I can, send the link', 5, { replyTo: '5' }),
  msg('7', 'host', 'We decided to launch v2 on Monday!', 6, { thread: 'd', reactions: 9 }),
  msg('8', 'bob', 'Same link again: https://EXAMPLE.com/call#top', 7, { thread: 'a', platform: 'discord', chat: 'discord:1:2', lang: 'de' }),
  msg('9', 'ann', 'Thanks, see you there', 8, { thread: 'a' }),
  msg('10', 'gus', 'Is <b>this</b> & "that" <a href="javascript:alert(1)">safe</a>?', 9, { thread: 'e' }),
  msg('11', 'old', 'outside the window?', 200, { thread: 'a' }),
];

function build(messages = fixture): Digest {
  return buildDigest(messages, { from: T0, to: T0 + 120 * 60_000, admins: ['host'] });
}

test('deleted messages never appear, in the digest or any rendering', () => {
  // Another stored version of a deleted message (e.g. an edit) must not resurrect it either.
  const d = build([...fixture, msg('4', 'dee', 'SECRET edited text', 3, { thread: 'b' })]);
  assert.ok(!JSON.stringify(d).includes('SECRET'));
  assert.ok(!JSON.stringify(d).includes('deleted.example.com'));
  for (const format of ['text', 'markdown', 'html'] as DigestFormat[]) {
    assert.ok(!renderDigest(d, { maxChars: 4096, format }).includes('SECRET'));
  }
  assert.ok(!JSON.stringify(d).includes('outside the window'));
});

test('open questions, and answered ones with their answer (reply or next message in the thread)', () => {
  const d = build();
  const open = d.openQuestions.map((q) => q.question.source.id);
  assert.ok(open.includes('3'), 'question whose only answer was deleted stays open');
  assert.ok(open.includes('10'));
  const byQ = new Map(d.answeredQuestions.map((q) => [q.question.source.id, q.answer?.source.id]));
  assert.equal(byQ.get('1'), '2', 'next message in the thread from another user');
  assert.equal(byQ.get('5'), '6', 'explicit reply');
  assert.equal(d.answeredQuestions.find((q) => q.question.source.id === '1')?.answer?.text.startsWith('Next Thursday'), true);
  assert.equal(d.totals.openQuestions, open.length);
});

test('links are deduplicated and carry source ids and urls; counts per platform and language', () => {
  const d = build();
  assert.equal(d.links.length, 1);
  const l = d.links[0];
  assert.equal(l?.url, 'https://example.com/call');
  assert.equal(l?.count, 2);
  assert.equal(l?.source.id, '2');
  assert.equal(l?.source.url, 'https://t.me/c/123/2');
  assert.deepEqual(d.totals.byPlatform, { telegram: 8, discord: 1 });
  assert.deepEqual(d.totals.byLang, { en: 8, de: 1 });
  assert.equal(d.decisions[0]?.source.id, '7');
  assert.equal(d.topReacted[0]?.source.id, '7');
  for (const p of [...d.decisions, ...d.topReacted, ...d.openQuestions.map((q) => q.question)]) assert.ok(p.source.id && p.source.chat);
  assert.equal(normalizeUrl('HTTPS://Example.com/a/?utm_medium=x#frag'), 'https://example.com/a');
});

test('main conversations are one line each with participants and source', () => {
  const d = build();
  const a = d.conversations.find((c) => c.source.id === '1');
  assert.ok(a, 'thread a is a main conversation');
  assert.deepEqual(a.participants.sort(), ['Ann', 'Bob']);
  assert.ok(a.what.length > 0);
});

test('rendering escapes user text and stays under maxChars for every platform limit', () => {
  const d = build();
  const html = renderDigest(d, { maxChars: 4096, format: 'html' });
  assert.ok(!html.includes('<b>this</b>'));
  assert.ok(!/<a href="javascript/i.test(html));
  assert.ok(html.includes('&lt;b&gt;this&lt;/b&gt; &amp; &quot;that&quot;'));
  // Only our own tags remain.
  for (const tag of html.match(/<[^>]+>/g) ?? []) assert.match(tag, /^<(?:\/?b|a href="https:\/\/[^"<>]+"|\/a)>$/);
  const md = renderDigest(d, { maxChars: 2000, format: 'markdown' });
  assert.ok(md.includes('\\<b\\>this\\</b\\>') || md.includes('<b\\>'), md);
  assert.equal(escapeHtml('<a>&"'), '&lt;a&gt;&amp;&quot;');
  assert.equal(escapeMarkdown('*x*_[y](z)'), '\\*x\\*\\_\\[y\\]\\(z\\)');
  assert.ok(!renderDigest(build([msg('1', 'x', 'hi @everyone look', 1), msg('2', 'y', 'ok', 2)]), { maxChars: 2000, format: 'text' }).includes('@everyone'));

  const big = synthetic(3000);
  const bd = buildDigest(big, { from: T0, to: T0 + 24 * 3600_000 });
  for (const [maxChars, format] of [[4096, 'html'], [2000, 'markdown'], [280, 'text'], [280, 'html'], [280, 'markdown'], [4096, 'text']] as [number, DigestFormat][]) {
    const out = renderDigest(bd, { maxChars, format });
    assert.ok(out.length <= maxChars, `${format}/${maxChars}: ${out.length}`);
    assert.match(out, /… \d+ more/);
  }
});

// Its speed (well under a second) is a target of `npm run bench` (bench/targets.ts), not an assertion here.
test('a 10,000-message digest counts every message but the deleted ones and lists none of their questions', () => {
  const d = buildDigest(synthetic(10_000), { from: T0, to: T0 + 1e9 });
  assert.equal(d.totals.messages, 10_000 - Math.ceil(10_000 / 31));
  assert.ok(!d.openQuestions.some((q) => Number(q.question.source.id) % 31 === 0));
});
