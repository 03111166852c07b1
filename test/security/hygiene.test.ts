/**
 * Findings 8–10 (Low): a CSV cell like `Wen moon;=1+2+3` stayed unquoted (a formula in `;`-separator locales); the
 * sandbox's loopback guard checked the raw URL while the router matched the decoded one (`/%73andbox/...`); the YAML
 * secret check went by key name only (`digest.llm.key: sk-…`, credentials inside URLs were accepted).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { toCsv } from '../../src/features/ama/recap.js';
import { startStack } from '../helpers/stack.js';

test('CSV: a cell with a separator and a formula after it is quoted and prefixed', { timeout: 10_000 }, () => {
  assert.equal(toCsv([['Wen moon;=1+2+3']]), `"'Wen moon;=1+2+3"\r\n`);
  assert.equal(toCsv([['a\t@SUM(1)']]), `"'a\t@SUM(1)"\r\n`);
  assert.equal(toCsv([['+1 from me']]), `"'+1 from me"\r\n`);
  assert.equal(toCsv([['When, and where?']]), `"When, and where?"\r\n`, 'a separator alone is only quoted');
  assert.equal(toCsv([['plain']]), 'plain\r\n');
});

describe('the sandbox guard', { timeout: 60_000 }, () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  before(async () => {
    stack = await startStack();
  });
  after(async () => stack?.close());

  test('judges the path the router matches: an encoded /sandbox path from another machine is refused', async () => {
    const server = stack.running.server!;
    for (const url of ['/sandbox/telegram/outbox', '/%73andbox/telegram/outbox', '/%73%61ndbox/telegram/outbox?chat=1']) {
      assert.equal((await server.inject({ method: 'GET', url, remoteAddress: '203.0.113.80' })).statusCode, 403, url);
    }
    assert.equal((await server.inject({ method: 'GET', url: '/%73andbox/telegram/outbox', remoteAddress: '127.0.0.1' })).statusCode, 200);
  });
});

describe('secrets in the YAML', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'townhall-sec-config-'));
  const load = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return () => loadConfig({ file: f, env: {} });
  };
  const refused = (key: RegExp, value: string) => (e: unknown) => e instanceof ConfigError && key.test(e.message) && /environment/.test(e.message) && !e.message.includes(value);

  test('a secret-looking value is refused with its key named (and never echoed), whatever the key is called', { timeout: 10_000 }, () => {
    const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345';
    assert.throws(load('llm-key.yaml', `digest:\n  llm:\n    baseUrl: https://llm.example/v1\n    model: m\n    key: ${key}\n`), refused(/digest\.llm\.key/, key));
    const bot = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
    assert.throws(load('bot.yaml', `moderation:\n  modLogChat: "${bot}"\n`), refused(/moderation\.modLogChat/, bot));
  });

  test('credentials inside a URL are refused', { timeout: 10_000 }, () => {
    assert.throws(load('url.yaml', 'digest:\n  llm:\n    baseUrl: https://me:hunter22@llm.example/v1\n    model: m\n'), refused(/digest\.llm\.baseUrl/, 'hunter22'));
    assert.throws(load('query.yaml', 'x:\n  apiRoot: https://api.example/v2?api_key=abcdef123456\n'), refused(/x\.apiRoot/, 'abcdef123456'));
  });

  test('ordinary values pass', { timeout: 10_000 }, () => {
    assert.doesNotThrow(load('ok.yaml', 'digest:\n  llm:\n    baseUrl: http://127.0.0.1:11434/v1\n    model: llama3.1-8b-instruct\nmoderation:\n  modLogChat: telegram:-1001234567890\n  linkAllowlist: [example.com, t.me/townhall]\n'));
  });
});
