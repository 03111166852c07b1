#!/usr/bin/env node
// `npm run build`: tsc (incremental: only what changed) to dist/, then the files tsc does not emit — the dashboard's
// static files, the thread model's weights, the demo chat — copied beside the compiled code that reads them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const started = Date.now();

/** The newest modification time among the files the build reads (0 when a path is missing). */
function newest(rel) {
  const p = path.join(root, rel);
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(p)) max = Math.max(max, newest(path.join(rel, name)));
  return max;
}

// `npm start` and `npm run demo` build first: when nothing changed since the last build, skip even tsc's own check.
const inputs = ['townhall.ts', 'src', 'adapters', 'fakes', 'config', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const built = statSync(path.join(dist, '.tsbuildinfo'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (Math.max(...inputs.map(newest)) > built) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
  // tsc leaves its build info alone when nothing it emits changed (a touched file): mark this check as done.
  const now = new Date();
  utimesSync(path.join(dist, '.tsbuildinfo'), now, now);
}

/** Copies every file under `dir` that is neither TypeScript nor documentation, when it is newer than its copy. */
function copyAssets(dir) {
  let n = 0;
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) n += copyAssets(rel);
    else if (!/\.(ts|md)$/.test(entry.name)) {
      const from = path.join(root, rel);
      const to = path.join(dist, rel);
      const old = statSync(to, { throwIfNoEntry: false });
      if (!old || old.mtimeMs < statSync(from).mtimeMs) {
        mkdirSync(path.dirname(to), { recursive: true });
        copyFileSync(from, to);
        n++;
      }
    }
  }
  return n;
}
const copied = copyAssets('src') + copyAssets('fakes');
if (process.stdout.isTTY || process.env.TOWNHALL_BUILD_VERBOSE) console.log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s (${copied} assets copied)`);
