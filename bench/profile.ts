/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and says where the time went: self time per function and per
 * area (our code by folder, each dependency, Node internals, GC, idle). Run alone:
 *   node --import tsx bench/profile.ts FILE.cpuprofile... [top]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the system a script URL belongs to. */
export function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native (program)';
  if (!url) return 'native';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const m = /\/(src|adapters|bench|config)\/((?:[^/]+\/)?)/.exec(url);
  if (m) return `${m[1]}/${m[2]!.replace(/\/$/, '')}`;
  return path.basename(url);
}

/** Self time (ms) per function and per area, biggest first; plus the total. */
export function profileTotals(file: string): { totalMs: number; functions: [string, number][]; areas: [string, number][] } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000));
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const area = areaOf(url, functionName);
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|src|adapters|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + ms);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    total += ms;
  }
  const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, functions: sort(fns), areas: sort(areas) };
}

/** Readable lines: the areas, then the `top` hottest functions by self time. */
export function summarizeProfile(file: string, top = 20): string[] {
  const t = profileTotals(file);
  const pct = (ms: number) => `${((100 * ms) / t.totalMs).toFixed(1).padStart(5)}%`;
  const busy = t.totalMs - (t.areas.find(([a]) => a === 'idle')?.[1] ?? 0);
  const out = [`${(t.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy; self time by area:`];
  for (const [a, ms] of t.areas.slice(0, 12)) out.push(`  ${pct(ms)}  ${a}`);
  out.push(`hottest functions (self time):`);
  for (const [f, ms] of t.functions.filter(([f]) => !f.startsWith('(idle)')).slice(0, top)) out.push(`  ${pct(ms)}  ${f}`);
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Files and an optional count, in any order: a shell glob may name several profiles (Node writes one per thread).
  const args = process.argv.slice(2);
  const files = args.filter((a) => !/^\d+$/.test(a));
  const top = Number(args.find((a) => /^\d+$/.test(a)) ?? 25);
  if (!files.length) {
    console.error('usage: node --import tsx bench/profile.ts FILE.cpuprofile... [top]');
    process.exit(2);
  }
  for (const file of files) {
    if (files.length > 1) console.log(`== ${file}`);
    for (const line of summarizeProfile(file, top)) console.log(line);
  }
}
