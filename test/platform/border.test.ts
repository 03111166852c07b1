/**
 * The border, checked on the source files themselves (the eslint rule keeps it too, this test says it in words):
 * platforms are named only in the registry, the adapters and the fakes; src/ imports no adapter, no fake and no
 * platform SDK; nothing outside test/ imports test/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PLATFORMS } from '../../src/platform/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Source files (TypeScript and the dashboard's JavaScript) under a folder of the project, as paths from the root. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(ROOT, rel))) {
      const p = path.join(rel, name);
      if (statSync(path.join(ROOT, p)).isDirectory()) walk(p);
      else if (/\.(ts|js|css|html)$/.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const PRODUCT = ['src', 'adapters', 'fakes', 'bench', 'config', 'scripts', 'bin'].flatMap(sources).concat('townhall.ts');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');
const importsOf = (text: string) => [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);

test('platforms are listed only in the registry, the adapters and the fakes: no alternation, no comparison with a platform id', { timeout: 30_000 }, () => {
  const ids = PLATFORMS.join('|');
  const alternation = new RegExp(`\\b(${ids})['"]?\\s*\\|\\s*['"]?(${ids})\\b`);
  const comparison = new RegExp(`platform\\w*\\s*[!=]==\\s*'(${ids})'|'(${ids})'\\s*[!=]==\\s*\\w*platform|startsWith\\('(${ids}):'\\)`, 'i');
  const allowed = (p: string) => p.startsWith(`src${path.sep}platform${path.sep}`) || p.startsWith(`adapters${path.sep}`) || p.startsWith(`fakes${path.sep}`);
  const offenders: string[] = [];
  for (const p of PRODUCT.filter((f) => !allowed(f))) {
    read(p)
      .split('\n')
      .forEach((line, i) => {
        if (alternation.test(line) || comparison.test(line)) offenders.push(`${p}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
  }
  assert.deepEqual(offenders, []);
});

test('src/ imports no adapter, no fake and no platform SDK; adapters import Townhall only through the border', { timeout: 30_000 }, () => {
  const offenders: string[] = [];
  for (const p of sources('src')) {
    for (const spec of importsOf(read(p))) {
      if (/(^|\/)(adapters|fakes)\//.test(spec) || /^(telegraf|discord\.js|twitter-api-v2|twitter-text|@telegraf\/|@discordjs\/|@slack\/)/.test(spec)) offenders.push(`${p} imports ${spec}`);
    }
  }
  for (const p of sources('adapters')) {
    for (const spec of importsOf(read(p))) {
      if (/(^|\/)src\//.test(spec) && !spec.endsWith('src/core/index.js')) offenders.push(`${p} imports ${spec}`);
      if (/(^|\/)fakes\//.test(spec)) offenders.push(`${p} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('nothing outside test/ imports test/', { timeout: 30_000 }, () => {
  const offenders = PRODUCT.flatMap((p) => importsOf(read(p)).filter((spec) => /(^|\/)test\//.test(spec)).map((spec) => `${p} imports ${spec}`));
  assert.deepEqual(offenders, []);
});
