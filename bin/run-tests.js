#!/usr/bin/env node
// `npm test`: finds (or starts) a Redis as contract §4 says, then runs every test file with node's test runner.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function ping(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.connect({ port, host }, () => s.write('PING\r\n'));
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
    s.on('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
    s.on('error', () => resolve(false));
  });
}

async function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

let spawned;
if (!process.env.REDIS_URL) {
  if (await ping(6379)) {
    process.env.REDIS_URL = 'redis://127.0.0.1:6379';
  } else {
    if (spawnSync('redis-server', ['--version']).error) {
      console.error('No Redis at 127.0.0.1:6379 and no redis-server on the PATH. Install one (apt-get install -y redis-server) or set REDIS_URL.');
      process.exit(1);
    }
    const port = await freePort();
    spawned = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 50));
    process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    console.log(`started a throwaway redis-server on port ${port}`);
  }
}

const only = process.argv.slice(2);
const files = (only.length ? only.map((f) => path.resolve(f)) : findTests(path.join(root, 'test'))).sort();
// Every file (and every test in it) fails after this long instead of holding CI: a leaked handle (a timer, a socket)
// keeps a file's process alive after its last test, and the runner would wait for it for ever.
const timeoutMs = Number(process.env.TOWNHALL_TEST_TIMEOUT_MS ?? 300_000);
const args = ['--import', 'tsx', '--test', '--test-concurrency=' + (process.env.TEST_CONCURRENCY ?? '3'), `--test-timeout=${timeoutMs}`, '--test-reporter=spec', ...files];
const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: root, env: process.env });
child.on('exit', (code, signal) => {
  spawned?.kill('SIGTERM');
  process.exit(code ?? (signal ? 1 : 0));
});
