/** Pure parts of the AMA engine: ranking, time parsing and display, text splitting, intake helpers, quality, CSV. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScheduleArgs } from '../../../src/features/ama/commands.js';
import { isPlusOne, isUpvoteEmoji, stripAddressing } from '../../../src/features/ama/intake.js';
import { parseStart } from '../../../src/features/ama/lifecycle.js';
import { cardRef, parseRef, parseVoteData, voteData } from '../../../src/features/ama/model.js';
import { RANK_DOUBLING_MS, rankScore } from '../../../src/features/ama/rank.js';
import { toCsv } from '../../../src/features/ama/recap.js';
import { heuristicQuality } from '../../../src/features/ama/rewards.js';
import { formatDuration, formatWhen, inWords, notice, splitText } from '../../../src/features/ama/text.js';
import { questionNumber } from '../../../src/features/ama/service.js';

const T = Date.UTC(2026, 0, 5, 12);

test('rank: more votes rank higher; a question asked one doubling time later ties with twice the (1 + votes)', () => {
  assert.ok(rankScore(10, T, T) > rankScore(9, T, T));
  const early = rankScore(7, T, T); // log2(8) = 3
  const later = rankScore(3, T + RANK_DOUBLING_MS, T); // log2(4) + 1 = 3
  assert.ok(Math.abs(early - later) < 1e-9);
  // Early questions do not sit on top forever: two hours later, 2 votes beat 30.
  assert.ok(rankScore(2, T + 2 * 3_600_000, T) > rankScore(30, T, T));
});

test('times: zone-less input is read in the AMA zone (DST included), explicit zones win, and display names the zone', () => {
  assert.equal(parseStart('2026-07-01 15:00', 'Europe/Berlin', T), Date.UTC(2026, 6, 1, 13));
  assert.equal(parseStart('2026-01-15 15:00', 'Europe/Berlin', T), Date.UTC(2026, 0, 15, 14));
  assert.equal(parseStart('2026-01-15 15:00 +05:30', 'Europe/Berlin', T), Date.UTC(2026, 0, 15, 9, 30));
  assert.equal(parseStart('2026-01-15T15:00:00Z', 'Asia/Tokyo', T), Date.UTC(2026, 0, 15, 15));
  assert.equal(parseStart('in 2h', 'UTC', T), T + 7_200_000);
  assert.throws(() => parseStart('next tuesday-ish', 'UTC', T));
  assert.equal(formatWhen(Date.UTC(2026, 0, 15, 14), 'UTC'), 'Thu, 15 Jan 2026, 14:00 UTC');
  assert.match(formatWhen(Date.UTC(2026, 0, 15, 14), 'Europe/Berlin'), /15:00 CET \(14:00 UTC\)$/);
  assert.equal(formatDuration(90 * 60_000), '1h 30m');
});

test('long answers split per platform limit on sentence borders, losing nothing', () => {
  const text = Array.from({ length: 120 }, (_, i) => `Sentence number ${i} explains one more detail of the tokenomics.`).join(' ');
  for (const limit of [2000, 4096]) {
    const parts = splitText(text, limit);
    assert.ok(parts.length > 1);
    assert.ok(parts.every((p) => p.length <= limit));
    assert.ok(parts.slice(0, -1).every((p) => p.endsWith('.')), 'cut after a sentence');
    assert.equal(parts.join(' ').replace(/\s+/g, ' '), text);
  }
  assert.deepEqual(splitText('short', 2000), ['short']);
});

test('votes in words and emoji: +1 replies and 👍 reactions (any skin tone) count, other replies do not', () => {
  for (const t of ['+1', '+ 1', '👍', '👍🏽', 'same', 'Same question!', 'me too', '++']) assert.ok(isPlusOne(t), t);
  for (const t of ['+100 this is great', 'no', 'I disagree', '1']) assert.ok(!isPlusOne(t), t);
  for (const e of ['👍', '👍🏻', '⬆️', '🔼']) assert.ok(isUpvoteEmoji(e), e);
  assert.ok(!isUpvoteEmoji('❤'));
  assert.equal(stripAddressing('@townhall_bot #AMA7 when is the launch?', 'AMA7'), 'when is the launch?');
  assert.equal(stripAddressing('#AMA70 stays', 'AMA7'), '#AMA70 stays');
});

test('/ama schedule arguments: quoted or spread times, a duration, a title and flags', () => {
  const a = parseScheduleArgs(['2026-12-01', '14:00', 'UTC', '1h', 'Roadmap', 'AMA'], 'telegram:-1', T);
  assert.equal(a.startsAt, Date.UTC(2026, 11, 1, 14));
  assert.equal(a.durationMinutes, 60);
  assert.equal(a.title, 'Roadmap AMA');
  assert.deepEqual(a.chats, ['telegram:-1']);
  const b = parseScheduleArgs(['2026-12-01 15:00', '90m', 'Deep', 'dive', '--tz', 'Europe/Berlin', '--hosts', '@a,@b', '--every', '7d', '--count', '4', '--premod'], 'discord:1', T);
  assert.equal(b.startsAt, Date.UTC(2026, 11, 1, 14));
  assert.deepEqual(b.hosts, ['@a', '@b']);
  assert.deepEqual(b.recurrence, { every: '7d', count: 4 });
  assert.equal(b.premoderation, true);
  assert.equal(parseScheduleArgs(['in', '2h', '30m', 'Quick', 'one'], 'x:1', T).startsAt, T + 7_200_000);
  assert.throws(() => parseScheduleArgs(['soon', 'Title'], 'x:1', T), /Usage/);
});

test('reward quality: a clear specific question scores above spam, shouting and one-word asks', () => {
  const good = heuristicQuality('How will the token unlock schedule change for early investors after the mainnet launch?');
  assert.ok(good > 0.7, String(good));
  assert.ok(heuristicQuality('AIRDROP ME PLS t.me/xyz') < 0.2);
  assert.ok(heuristicQuality('WHEN MOON WHEN LAMBO WHEN WHEN WHEN???') < good / 2);
  assert.ok(heuristicQuality('wen?') < good / 2);
});

test('CSV cells are quoted where needed and formulas are defused', () => {
  assert.equal(toCsv([['a', 'b,c', 'say "hi"', '=SUM(A1)', 'two\nlines']]), 'a,"b,c","say ""hi""","\'=SUM(A1)","two\nlines"\r\n');
});

test('refs, vote data and question ids read back what was written', () => {
  assert.deepEqual(parseRef(cardRef('a3', 12, 'telegram:-100:5')), { kind: 'card', amaId: 'a3', n: 12, chat: 'telegram:-100:5' });
  assert.equal(parseRef('digest:whatever'), null);
  assert.deepEqual(parseVoteData(voteData('a3', 12)), { amaId: 'a3', n: 12 });
  assert.equal(parseVoteData('th:v:up:a3:12'), null);
  assert.equal(questionNumber('Q12'), 12);
  assert.equal(questionNumber('a3-q12'), 12);
  assert.equal(questionNumber('12'), 12);
});

test('notices speak the AMA language and fall back to English', () => {
  assert.match(notice('ru', 'remind', { title: 'X', in: 'in 1 hour', when: 'w', hashtag: 'h' }), /начнётся/);
  assert.match(notice('tr', 'open', { title: 'X', end: 'e', hashtag: 'h' }), /canlı/);
  assert.match(notice('xx', 'open', { title: 'X', end: 'e', hashtag: 'h' }), /is live/);
});

test('rank: questions sent in before the start are not buried by their early time', () => {
  assert.equal(rankScore(5, T - 86_400_000, T), rankScore(5, T, T));
  assert.ok(rankScore(6, T - 86_400_000, T) > rankScore(5, T, T));
});

test('relative times and dates follow the notice language, the zone always named', () => {
  assert.equal(inWords(T + 3_600_000, T, 'es'), 'en 60 minutos');
  assert.equal(inWords(T + 3 * 86_400_000, T, 'tr'), '3 gün sonra');
  assert.equal(inWords(T + 2 * 3_600_000, T, 'zh'), '2小时后');
  assert.equal(inWords(T + 2 * 3_600_000, T, 'xx'), 'in 2 hours');
  assert.match(formatWhen(Date.UTC(2026, 0, 15, 14), 'Europe/Madrid', 'es'), /ene.*15:00.*CET.*\(14:00 UTC\)/);
});
