import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { isolatedRedis, TEST_REDIS_URL } from '../helpers/redis.js';
import { waitFor } from '../helpers/core.js';
import { TOWNHALL } from '../helpers/cli.js';
import { sharedData } from '../helpers/data.js';

const run = promisify(execFile);
const iso = await isolatedRedis();
const dir = mkdtempSync(path.join(tmpdir(), 'townhall-cli-'));
const configFile = path.join(dir, 'townhall.yaml');
writeFileSync(configFile, `redis:\n  prefix: "${iso.keys.prefix}"\n`);
const env = { ...process.env, REDIS_URL: TEST_REDIS_URL, TOWNHALL_CONFIG: configFile, LOG_LEVEL: 'warn' };
const dev = () => sharedData('irc-disentanglement/ubuntu.dev.jsonl');

const worker = spawn(process.execPath, [...TOWNHALL, 'worker', '--role', 'core'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
after(async () => {
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  await iso.cleanup();
});

test('townhall replay feeds every message of an IRC log through the pipeline and status --json shows them handled', { timeout: 120_000 }, async () => {
  const { stdout } = await run(process.execPath, [...TOWNHALL, 'replay', dev(), '--format', 'irc'], { env, maxBuffer: 1 << 24 });
  const replayed = Number(/replayed (\d+) messages/.exec(stdout)?.[1]);
  assert.ok(replayed > 10_000, `replayed ${replayed}`);
  let status: { queues: Record<string, { waiting: number; active: number; failed: number }>; handled: number; deadLetter: number } | undefined;
  await waitFor(
    async () => {
      const out = await run(process.execPath, [...TOWNHALL, 'status', '--json'], { env });
      status = JSON.parse(out.stdout.trim().split('\n').pop()!);
      return status!.handled >= replayed;
    },
    'every replayed message handled',
    120_000,
    1000,
  );
  assert.equal(status!.handled, replayed);
  assert.equal(status!.queues.inbound!.waiting, 0);
  assert.equal(status!.queues.inbound!.failed, 0);
  for (const name of ['inbound', 'outbound:telegram', 'outbound:discord', 'outbound:x']) assert.ok(status!.queues[name], `status lists ${name}`);
  assert.equal(typeof status!.deadLetter, 'number');
});

test('an unknown sub-command option or missing file fails with one line, not a stack trace', async () => {
  await assert.rejects(run(process.execPath, [...TOWNHALL, 'replay', path.join(dir, 'missing.jsonl'), '--format', 'jsonl'], { env }), (e: { stderr: string }) => {
    const lines = e.stderr.trim().split('\n');
    assert.equal(lines.length, 1, e.stderr);
    assert.match(lines[0]!, /^townhall: .*missing\.jsonl/);
    return true;
  });
});
