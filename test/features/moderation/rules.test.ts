/** Table tests of the pure rules: folding, impersonation, scam detection, pattern safety, settings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema } from '../../../config/schema.js';
import { findImpersonation, protectedNames } from '../../../src/features/moderation/impersonation.js';
import { checkPatternStatic, validatePattern } from '../../../src/features/moderation/safe-regex.js';
import { detectScam, extractHosts, findLookalike, KNOWN_DOMAINS, KNOWN_WORD_DOMAINS } from '../../../src/features/moderation/scam.js';
import { checkSetting, defaultSettings, resolveSettings } from '../../../src/features/moderation/settings.js';
import { describeTally } from '../../../src/features/moderation/commands.js';
import { foldText, hasMixedScriptWord, safeEcho, skeleton, stripInvisible, wellFormed } from '../../../src/features/moderation/unicode.js';

test('skeletons of homoglyph, zero-width and fullwidth disguises equal the original name', () => {
  const same: [string, string][] = [
    ['Ꮯhangpeng Zhao', 'Changpeng Zhao'], // Cherokee TLI
    ['C\u200BZ', 'CZ'], // zero-width space
    ['C\u2060Z\uFE0F', 'CZ'], // word joiner, variation selector
    ['ＣＺ', 'CZ'], // fullwidth
    ['Vіtalik Buterin', 'Vitalik Buterin'], // Cyrillic і
    ['ᴠitalik', 'vitalik'],
    ['Vitalik\u202E', 'Vitalik'], // right-to-left override
    ['rnetamask', 'metamask'], // rn looks like m
    ['Ethan\u3164', 'Ethan'], // Hangul filler
    ['C. Z.', 'CZ'],
  ];
  for (const [a, b] of same) assert.equal(skeleton(a), skeleton(b), `${JSON.stringify(a)} vs ${b}`);
  assert.notEqual(skeleton('Chang Li'), skeleton('Changpeng Zhao'));
  assert.notEqual(skeleton('Alice'), skeleton('Alicia'));
});

test('folded text keeps ASCII words readable and maps look-alike letters to them', () => {
  assert.equal(foldText('DM me for SUPPORT'), 'dm me for support');
  assert.equal(foldText('DМ mе fоr suppоrt'), 'dm me for support'); // Cyrillic М, е, о
  assert.equal(foldText('s\u200Be\u200Be\u200Bd phrase'), 'seed phrase');
  assert.equal(foldText('ｓｅｅｄ  ｐｈｒａｓｅ'), 'seed phrase');
  assert.equal(foldText('séed'), 'seed');
});

test('mixed scripts inside one word are told apart from text in two scripts', () => {
  assert.equal(hasMixedScriptWord('Ꮯhangpeng Zhao'), true);
  assert.equal(hasMixedScriptWord('pаypal'), true);
  assert.equal(hasMixedScriptWord('Привет world'), false);
  assert.equal(hasMixedScriptWord('東京 Tokyo'), false);
});

test('echoed text loses controls, bidi overrides, zero-width and broken surrogates, and cannot ping', () => {
  const dirty = 'a\u0000b\u202Ec\u200Bd\uD800e\n\tf @everyone @here';
  const out = safeEcho(dirty, 200);
  assert.equal(out, 'abcd\uFFFDe f ＠everyone ＠here');
  assert.equal(wellFormed('x\uDC00y\uD83D\uDE00'), 'x\uFFFDy\uD83D\uDE00', 'a valid pair survives');
  assert.equal(safeEcho('x'.repeat(500), 10).length, 10);
  assert.equal(Array.from(safeEcho('😀'.repeat(20), 5)).length, 5, 'truncation never splits a surrogate pair');
  assert.equal(stripInvisible('line1\nline2'), 'line1\nline2');
});

test('impersonation matches admins and the bot, not their owners or unrelated names', () => {
  const names = protectedNames([
    { id: 'telegram:user:1', name: 'Changpeng Zhao', username: 'cz_binance' },
    { id: 'telegram:user:2', name: 'CZ' },
  ]);
  const hit = (name: string, username?: string, id = 'telegram:user:99') => findImpersonation({ id, name, ...(username ? { username } : {}) }, names)?.owner ?? null;
  assert.equal(hit('Ꮯhangpeng Zhao'), 'telegram:user:1');
  assert.equal(hit('C\u200BZ'), 'telegram:user:2');
  assert.equal(hit('anything', 'cz_blnance'), 'telegram:user:1');
  assert.equal(hit('Townhall Support'), 'bot');
  assert.equal(hit('Changpeng Zhao', undefined, 'telegram:user:1'), null, 'the admin themself');
  assert.equal(hit('Changpeng Fan Club'), null);
  assert.equal(hit('Cz'), 'telegram:user:2', 'short names: same skeleton only');
  assert.equal(hit('CZT'), null, 'short names are not matched inside longer ones');
});

test('scam rules: lures and requests are caught, ordinary talk is not', () => {
  const verdict = (text: string, links: string[] = [], allowlist: string[] = []) =>
    detectScam({ folded: foldText(text), clean: stripInvisible(text), links, allowlist })?.kind ?? null;
  const table: [string, string | null, string[]?, string[]?][] = [
    ['DM me for support', 'support-lure'],
    ['For any issues please inbox me', 'support-lure'],
    ['contact @Binance_Support_Desk on telegram', 'support-lure'],
    ['I have sent you a DM', 'support-lure'],
    ['check your dms', 'support-lure'],
    ['Send me your seed phrase to verify', 'seed-request'],
    ['please enter your 24 words at the link', 'seed-request'],
    ['your private key is required to sync', 'seed-request'],
    ['Never share your seed phrase', null],
    ['Do not give your private key to anyone', null],
    ['what is a seed phrase and where do I keep it?', null],
    ['go to metamаsk.io to restore', 'lookalike-domain'], // Cyrillic а
    ['https://binance.com@login-check.xyz', 'lookalike-domain'],
    ['trade on uniswap.app', 'lookalike-domain'], // swapped TLD
    ['get it at metamaskk.io', 'lookalike-domain'], // one letter off
    ['Iedger.com firmware', 'lookalike-domain'], // capital I for l
    ['airdrop live: https://claim-token.site', 'drainer-link'],
    ['connect your wallet at http://nft-mint.fun', 'drainer-link'],
    ['click', 'lookalike-domain', ['https://xn--metamsk-6fg.io/x']],
    ['see https://metamask.io/download and app.uniswap.org', null],
    ['the docs are at https://ethereum.org, compare bitcoin.com', null],
    ['gm, wagmi, v2.0 is out, e.g. faster', null],
    ['see foo.com', 'link-not-allowed', [], ['example.org']],
    ['see blog.example.org', null, [], ['example.org']],
  ];
  for (const [text, want, links, allow] of table) assert.equal(verdict(text, links ?? [], allow ?? []), want, text);
});

test('hosts are found by tokens (linear), IDN decoded, with disguises noted', () => {
  assert.deepEqual(extractHosts('visit https://WWW.Example.com:8080/x?y, or t.me/foo!').map((h) => h.host), ['www.example.com', 't.me']);
  assert.equal(extractHosts('https://a.com@b.io/x')[0]?.disguise, 'a.com');
  assert.deepEqual(extractHosts('x'.repeat(16_000)), []);
  assert.deepEqual(extractHosts('a.'.repeat(8000)), []);
  assert.equal(findLookalike('opensea.io', KNOWN_DOMAINS, KNOWN_WORD_DOMAINS), null);
  assert.match(findLookalike('0pensea.io', KNOWN_DOMAINS, KNOWN_WORD_DOMAINS) ?? '', /imitates opensea\.io/);
});

test('pattern safety: what needs backtracking, what matches every message and what is too large are refused; nested repetition runs in linear time', async () => {
  for (const p of ['(\\w+)\\1', '(?<=a)b', '(?=a)b', 'x'.repeat(201), '(a|a)*$', '\\s*\\s*', '[a-z]{300}[0-9]{200}']) assert.equal(checkPatternStatic(p).ok, false, p);
  for (const p of ['free\\s+nitro', 't\\.me/\\w+', '(foo|bar)+baz', '^\\$[A-Z]{3,6}\\b', '(a+)+$', '(x+x+)+y', '\\s*\\s*x$']) assert.equal((await validatePattern(p)).ok, true, p);
});

test('per-chat settings validate what moderators type and fall back to the config', () => {
  const d = defaultSettings(ConfigSchema.parse({}));
  assert.deepEqual(d.flood, { messages: 8, seconds: 10, muteMs: 600_000 });
  assert.deepEqual(d.raid, { joins: 30, seconds: 10, quietMs: 1_800_000 });
  assert.deepEqual(checkSetting('flood.mute', '15m'), { ok: true, stored: '15m' });
  assert.equal(checkSetting('flood.messages', '-1').ok, false);
  assert.equal(checkSetting('scam', 'nuke').ok, false);
  assert.deepEqual(checkSetting('links.allow', 'https://Example.org/, docs.example.net'), { ok: true, stored: 'example.org,docs.example.net' });
  const s = resolveSettings(d, { 'flood.messages': '3', 'raid.quiet': '1h', scam: 'ban', 'links.allow': 'example.org', 'modlog.chat': 'discord:123', bogus: 'x', 'flood.seconds': 'NaN' });
  assert.equal(s.flood.messages, 3);
  assert.equal(s.flood.seconds, 10, 'an invalid stored value is ignored');
  assert.equal(s.raid.quietMs, 3_600_000);
  assert.equal(s.scam, 'ban');
  assert.deepEqual(s.linkAllowlist, ['example.org']);
  assert.equal(s.modLogChat, 'discord:123');
});

test('the public tally names reasons and counts, never content', () => {
  assert.equal(describeTally({}), 'Nothing was hidden today (UTC).');
  assert.equal(
    describeTally({ 'msg:flood': '7', 'msg:scam': '3', 'act:mute': '2', 'act:quiet-mute': '30' }),
    'Hidden today (UTC): 10 messages — 7 flooding, 3 scams. Members: 2 muted, 30 new members muted during a raid.',
  );
});
