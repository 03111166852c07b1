import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommand, parseDuration, parseTime, parseUserArg, parseQuestionNumber, splitArgs } from '../../src/commands/parser.js';

test('parseCommand accepts /cmd@botname, quotes and mentions; ignores other bots and plain text', () => {
  assert.deepEqual(parseCommand('/ask@townhall_bot When "is the" launch?'), { name: 'ask', args: ['When', 'is the', 'launch?'], rest: 'When "is the" launch?' });
  assert.deepEqual(parseCommand('/Mute @alice 10m')?.args, ['@alice', '10m']);
  assert.equal(parseCommand('/ask@other_bot hi'), null);
  assert.equal(parseCommand('hello /ask'), null);
  assert.equal(parseCommand('/'), null);
  assert.equal(parseCommand('/help')?.name, 'help');
});

test('splitArgs keeps straight, single and curly quoted runs together', () => {
  assert.deepEqual(splitArgs(`a "b c" 'd e' “f g”`), ['a', 'b c', 'd e', 'f g']);
});

test('parseDuration reads 10m, 2h, 1d, 1h30m and refuses the rest', () => {
  const table: [string, number | null][] = [['10m', 600_000], ['2h', 7_200_000], ['1d', 86_400_000], ['1h30m', 5_400_000], ['90s', 90_000], ['0m', null], ['soon', null], ['10', null], ['5y', null]];
  for (const [input, want] of table) assert.equal(parseDuration(input), want, input);
});

test('parseTime reads absolute UTC times, offsets, "in 2h" and clock times', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0);
  assert.equal(parseTime('2026-12-01 14:00 UTC', now), Date.UTC(2026, 11, 1, 14, 0));
  assert.equal(parseTime('2026-12-01T14:00+02:00', now), Date.UTC(2026, 11, 1, 12, 0));
  assert.equal(parseTime('in 2h', now), now + 7_200_000);
  assert.equal(parseTime('13:30 UTC', now), Date.UTC(2026, 10, 26, 13, 30));
  assert.equal(parseTime('11:00 UTC', now), Date.UTC(2026, 10, 27, 11, 0), 'a clock time already past means tomorrow');
  assert.equal(parseTime('2026-13-01 10:00', now), null);
  assert.equal(parseTime('tomorrow-ish', now), null);
});

test('parseUserArg understands @usernames, prefixed ids, Discord mentions and numeric ids', () => {
  assert.deepEqual(parseUserArg('@Alice'), { username: 'alice' });
  assert.deepEqual(parseUserArg('telegram:user:5'), { id: 'telegram:user:5' });
  assert.deepEqual(parseUserArg('<@!123>'), { id: 'discord:user:123' });
  assert.deepEqual(parseUserArg('777'), { id: '777' });
  assert.equal(parseUserArg('not a user!'), null);
});

test('parseQuestionNumber reads Q12, #12 and 12', () => {
  assert.equal(parseQuestionNumber('Q12'), 12);
  assert.equal(parseQuestionNumber('#7'), 7);
  assert.equal(parseQuestionNumber('3'), 3);
  assert.equal(parseQuestionNumber('x3'), null);
});
