import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(path.join(tmpdir(), 'townhall-config-'));
const yaml = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

test('the documented example config validates', () => {
  const { config } = loadConfig({ file: 'config/townhall.example.yaml', env: {} });
  assert.equal(config.redis.prefix, '{townhall}');
});

test('an invalid setting stops start-up with the key named', () => {
  const f = yaml('bad.yaml', 'core:\n  concurrency: -3\n');
  assert.throws(() => loadConfig({ file: f, env: {} }), (e: Error) => e instanceof ConfigError && /core\.concurrency/.test(e.message));
});

test('an unknown key is refused by name', () => {
  const f = yaml('unknown.yaml', 'moderaton:\n  flood: {}\n');
  assert.throws(() => loadConfig({ file: f, env: {} }), (e: Error) => e instanceof ConfigError && /moderaton/.test(e.message));
});

test('a secret in the YAML is refused: secrets come only from the environment', () => {
  const f = yaml('secret.yaml', 'telegram:\n  botToken: "123:abc"\n');
  assert.throws(() => loadConfig({ file: f, env: {} }), (e: Error) => /telegram\.botToken/.test(e.message) && /environment/.test(e.message));
});

test('an invalid environment variable is named', () => {
  assert.throws(() => loadConfig({ file: 'config/townhall.example.yaml', env: { TOWNHALL_HTTP_PORT: 'eighty' } }), (e: Error) => /TOWNHALL_HTTP_PORT/.test(e.message));
  assert.throws(() => loadConfig({ file: 'config/townhall.example.yaml', env: { TELEGRAM_WEBHOOK_URL: 'https://example.test/hook' } }), (e: Error) => /TELEGRAM_WEBHOOK_SECRET/.test(e.message));
});

test('TOWNHALL_HTTP_PORT overrides the YAML port', () => {
  const { config } = loadConfig({ file: 'config/townhall.example.yaml', env: { TOWNHALL_HTTP_PORT: '9191' } });
  assert.equal(config.http.port, 9191);
});
