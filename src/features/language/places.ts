/**
 * Countries, regions and months named in a text, in any of the supported languages, as language-neutral codes
 * ("India", "la India", "印度" -> `@in`; "Europe", "Europa" -> `@150`; "March", "marzo" -> `#m3`). The names come
 * from the CLDR data built into Node's ICU (`Intl.DisplayNames`, `Intl.DateTimeFormat`), not from a hand list,
 * so two questions about different places or months can be told apart whatever language each is in.
 */

const LOCALES = ['en', 'es', 'pt', 'fr', 'tr', 'ru', 'ar', 'vi', 'zh', 'zh-Hant', 'ja', 'ko', 'de', 'it', 'id'];
// UN M.49 areas people name in questions ("in Europe", "Latin America") besides ISO 3166 countries.
const AREAS = ['001', '002', '009', '019', '021', '142', '150', '419', 'EU'];
// Names that are also everyday words in some language and would mark places that are not there.
const AMBIGUOUS = new Set(['chad', 'jordan', 'georgia', 'turkey', 'guinea', 'niger', 'chile', 'china', 'jersey', 'may', 'march']);

interface Lexicon {
  /** Lower-case name (space separated words) -> code. */
  names: Map<string, string>;
  /** Most words a name has. */
  maxWords: number;
  /** Names written without spaces (Han, kana, Hangul), matched as substrings. */
  unspaced: [string, string][];
}

let lexicon: Lexicon | null = null;

function regionCodes(): string[] {
  const out: string[] = [];
  const en = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      const name = en.of(code);
      // Unknown or private-use codes come back undefined or as the code itself.
      if (name && name !== code && !/^(?:Unknown|Pseudo)/u.test(name)) out.push(code);
    }
  }
  return [...out, ...AREAS];
}

function build(): Lexicon {
  const names = new Map<string, string>();
  const unspaced: [string, string][] = [];
  let maxWords = 1;
  const codes = regionCodes();
  const add = (name: string, code: string): void => {
    const n = name.normalize('NFKC').toLowerCase().replace(/[().,’']/gu, ' ').replace(/\s+/gu, ' ').trim();
    if (n.length < 2) return;
    if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(n)) {
      unspaced.push([n, code]);
      return;
    }
    if (!names.has(n)) names.set(n, code);
    maxWords = Math.max(maxWords, n.split(' ').length);
  };
  for (const locale of LOCALES) {
    const dn = new Intl.DisplayNames([locale], { type: 'region', fallback: 'none' });
    for (const code of codes) {
      const name = dn.of(code);
      if (name) add(name, `@${code.toLowerCase()}`);
    }
    const month = new Intl.DateTimeFormat(locale, { month: 'long' });
    for (let m = 0; m < 12; m++) add(month.format(new Date(Date.UTC(2021, m, 15))), `#m${m + 1}`);
  }
  // Longest first, so "hong kong" is found before a shorter name inside it.
  unspaced.sort((a, b) => b[0].length - a[0].length);
  return { names, maxWords, unspaced };
}

/** Codes of the places and months a text names (`@jp`, `@150`, `#m3`), in order of first mention. */
export function placesAndMonths(text: string): string[] {
  lexicon ??= build();
  const lx = lexicon;
  const out: string[] = [];
  const s = text.normalize('NFKC').toLowerCase();
  const words = s.split(/[^\p{L}\p{M}\p{N}-]+/u).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    for (let n = Math.min(lx.maxWords, words.length - i); n >= 1; n--) {
      const name = words.slice(i, i + n).join(' ');
      const code = lx.names.get(name);
      // A lower-case one-word name that is also a common word only counts when written with a capital.
      if (code && !(n === 1 && AMBIGUOUS.has(name) && !new RegExp(`(?:^|[^\\p{L}])${name[0]!.toUpperCase()}${name.slice(1)}`, 'u').test(text))) {
        if (!out.includes(code)) out.push(code);
        i += n - 1;
        break;
      }
    }
  }
  if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(s)) {
    let rest = s;
    for (const [name, code] of lx.unspaced) {
      if (rest.includes(name)) {
        if (!out.includes(code)) out.push(code);
        rest = rest.split(name).join(' ');
      }
    }
  }
  return out;
}
