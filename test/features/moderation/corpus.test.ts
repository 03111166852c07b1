/**
 * A corpus of hostile inputs through the whole pipeline (moderation + router + a stand-in for later features):
 * nothing crashes, no good message is lost, and whatever the bot echoes is clean, bounded, plain text.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionSchema } from '../../../src/core/actions.js';
import { MAX_TEXT_CHARS, parseChatEvent, type ChatEventInput } from '../../../src/core/events.js';
import { ev, join, modRig, type ModRig, type Person } from './harness.js';

let rig: ModRig;
before(async () => {
  rig = await modRig();
});
after(async () => {
  await rig?.close();
});

/** Deterministic pseudo-random code units, lone surrogates included. */
function randomUnits(n: number, seed = 7): string {
  let x = seed;
  let s = '';
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += String.fromCharCode(x % 0xffff);
  }
  return s;
}

const admin: Person = { id: '1', name: 'Ada', username: 'ada', admin: true };
const known: Person = { id: '2', name: 'Known <b>User</b>\u202E', username: 'known_user' };

const HOSTILE_TEXTS: string[] = [
  'A'.repeat(MAX_TEXT_CHARS),
  randomUnits(MAX_TEXT_CHARS),
  Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u007F\u0080\u009F text',
  '\u200B'.repeat(5000) + 'hi' + '\uFEFF\u200D\u200C\u2060'.repeat(1000),
  '\u202Eevil\u202C txt.exe \u2066isolate\u2069 \u200F\u200E',
  '\uD800\uD800\uDC00\uDFFF lone surrogates \uDBFF',
  '@a '.repeat(5000),
  'Z' + '\u0336\u0334\u0337'.repeat(1500),
  '👨‍👩‍👧‍👦🏳️‍🌈🇺🇦'.repeat(500),
  '<b>bold</b> <script>alert(1)</script> *md* _it_ [link](http://evil.example) `code` ```pre``` &amp; &lt; ||spoiler||',
  '',
  '   \n\t  ',
  '/',
  '//ban',
  '/ban',
  '/help' + ' x'.repeat(5000),
  '/unknowncommand@townhall_bot \u202E',
  'x'.repeat(3000) + ' https://' + 'a.'.repeat(3000) + 'com',
  '\u0000/ban @known_user',
];

/** Commands by a moderator whose answers echo user-controlled text. */
const HOSTILE_COMMANDS: string[] = [
  '/ban @known_user <b>x</b> *y* [z](tg://user?id=1) @everyone \u202Ereversed\u202C \uD800',
  '/mute @known_user 10m <script>alert(1)</script> @here ' + 'w'.repeat(2000),
  '/warn @known_user ' + '\u200B'.repeat(100) + '`code` **bold** ||spoiler||',
  '/ban @' + 'a'.repeat(64),
  '/ban @nobody<b>',
  '/filter add <b>bad</b>',
  '/filter add /<i>(/',
  '/filter add "' + '\u202E'.repeat(50) + 'x"',
  '/modset links.allow <a href="javascript:alert(1)">x</a>',
  '/modset modlog.chat telegram:-1\u202E',
  '/mute @known_user ' + '9'.repeat(400) + 'd',
  '/purge -1',
  '/slowmode 99999999999999999999',
  '/quiet on \u202E10m',
  '/modlog undo ../../etc',
  '/modlog ' + '9'.repeat(50),
];

const HOSTILE_NAMES: string[] = ['\u202Eadmin\u202C', '<b>Ada</b> *Admin*', '\u200B'.repeat(200), '\u0301'.repeat(256), '@everyone', 'a\u0000b', '\uD800'];

function assertCleanAction(a: unknown): void {
  const action = ActionSchema.parse(a);
  if (!('text' in action) || action.text === undefined) return;
  const t = action.text;
  assert.equal(action.format, 'plain', 'echoes are plain text: the adapter escapes them');
  assert.ok(!/[\p{Cf}]/u.test(t), `no invisible/bidi characters in ${JSON.stringify(t.slice(0, 80))}`);
  assert.ok(!/(?![\n])\p{Cc}/u.test(t), 'no control characters');
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(t), 'well-formed UTF-16');
  assert.ok(!/@(everyone|here)\b/.test(t), 'no mass mention');
  assert.ok(t.length <= 4000, `bounded (${t.length})`);
}

test('hostile inputs pass through the whole pipeline without a crash, a lost good message or a dirty echo', async () => {
  await rig.send(ev(rig, known, 'hello, I exist'));
  const good: ChatEventInput[] = [];
  let u = 100;
  const goodAfter = async () => {
    const g = ev(rig, { id: String(++u), name: `Good ${u}` }, `an ordinary question number ${u}?`);
    good.push(g);
    await rig.send(g);
  };

  for (const text of HOSTILE_TEXTS) {
    const who: Person = { id: String(++u), name: 'Hostile' };
    const m = ev(rig, who, text);
    await rig.send(m);
    await rig.send({ ...ev(rig, who, text + ' edited'.slice(0, Math.max(0, MAX_TEXT_CHARS - text.length))), kind: 'edit', messageId: m.messageId! });
    await goodAfter();
  }
  for (const name of HOSTILE_NAMES) {
    const who: Person = { id: String(++u), name, username: `h${u}` };
    await rig.send(join(rig, who));
    await rig.send(ev(rig, who, 'hi from a strange name'));
    await goodAfter();
  }
  for (const text of HOSTILE_COMMANDS) {
    await rig.send(ev(rig, admin, text));
    await goodAfter();
  }
  // 10,000 mentions as the adapter reports them.
  const mentions = Array.from({ length: 10_000 }, (_, i) => `telegram:user:${900_000 + i}`);
  await rig.send(ev(rig, { id: String(++u), name: 'Mass' }, '@a '.repeat(5000), { mentions }));
  await rig.send(ev(rig, admin, '/ban Mass spam', { mentions }));
  await goodAfter();
  // A flood of hostile names: the notice names them cleanly.
  const flooder: Person = { id: String(++u), name: '\u202E<b>FLOOD</b>\u200B @everyone' };
  for (let i = 0; i < 10; i++) await rig.send(ev(rig, flooder, `flood ${i}`));
  await goodAfter();

  for (const g of good) assert.ok(rig.passed.some((p) => p.id === g.id), `good message ${g.id} was lost`);
  const actions = [...(await rig.actions('telegram'))];
  assert.ok(actions.length > 20);
  for (const a of actions) assertCleanAction(a);

  const banReply = actions.find((a) => a.type === 'send' && a.text?.startsWith('Banned @known_user'));
  assert.ok(banReply, 'the ban was answered');
  assert.match(banReply.text!, /^Banned @known_user: <b>x<\/b> \*y\* \[z\]\(tg:\/\/user\?id=1\) ＠everyone reversed \uFFFD\.$/);
  const floodNotice = actions.find((a) => a.type === 'send' && a.text?.endsWith(': flooding.'));
  assert.equal(floodNotice?.text, 'Muted <b>FLOOD</b> ＠everyone for 10m: flooding.');
});

test('what the queue border refuses (too long, malformed) is refused in one line, not thrown', () => {
  const tooLong = parseChatEvent(ev(rig, admin, 'x'.repeat(MAX_TEXT_CHARS + 1)));
  assert.equal(tooLong.ok, false);
  const noUser = parseChatEvent({ ...ev(rig, admin, 'x'), user: { id: 'nope', name: 'x' } });
  assert.equal(noUser.ok, false);
  const tooManyMentions = parseChatEvent(ev(rig, admin, 'x', { mentions: Array.from({ length: 10_001 }, () => '@a') }));
  assert.equal(tooManyMentions.ok, false);
});
