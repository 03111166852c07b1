/**
 * Language of a short chat text, as an ISO 639-1 code ('und' when there is too little to tell).
 *
 * The script decides first, because it is certain and free: kana is Japanese, Han Chinese, Cyrillic Russian, Arabic
 * script Arabic, and so on. Latin-script text is told apart by its function words (the `stopwords-iso` lists: a
 * question always has some) plus the letters only one candidate language has (Vietnamese tone marks, Turkish ı ğ ş).
 * Measured on the AMA dev questions: no error, like `eld` (Nito-ELD), which was tried first and costs every core
 * worker ~30 MB of heap and ~80 MB of peak memory to load; `franc-min` misread 19 of the 96 Latin-script ones.
 * Shared by question merging and, later, the bot's own language choice (i18n).
 */
import { createRequire } from 'node:module';

// Scripts that name their language (or the language a chat question in them almost always is).
const SCRIPTS: [RegExp, string][] = [
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/gu, 'ja'],
  [/\p{Script=Hangul}/gu, 'ko'],
  [/\p{Script=Han}/gu, 'zh'],
  [/\p{Script=Cyrillic}/gu, 'ru'],
  [/\p{Script=Arabic}/gu, 'ar'],
  [/\p{Script=Thai}/gu, 'th'],
  [/\p{Script=Hebrew}/gu, 'he'],
  [/\p{Script=Greek}/gu, 'el'],
  [/\p{Script=Devanagari}/gu, 'hi'],
];
const LATIN = /\p{Script=Latin}/gu;
// Chat handles, links and cashtags say nothing about the language around them.
const NOISE = /(?:https?:\/\/|www\.)\S+|[@#$][\p{L}\p{N}_.]+|<[@#:][^>]*>/gu;
// Latin-script languages told apart, in the order that wins a tie (English first: chat's lingua franca).
const LATIN_LANGS = ['en', 'es', 'pt', 'fr', 'de', 'it', 'nl', 'id', 'tr', 'vi'];
// Letters that only one of them uses.
const VIETNAMESE = /[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/u;
const TURKISH = /[ığş]/u;

let stopSets: Map<string, Set<string>> | null = null;

function stops(): Map<string, Set<string>> {
  if (!stopSets) {
    const lists = createRequire(import.meta.url)('stopwords-iso') as Record<string, string[]>;
    stopSets = new Map(LATIN_LANGS.map((l) => [l, new Set(lists[l] ?? [])]));
  }
  return stopSets;
}

function count(re: RegExp, s: string): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(s)) n++;
  return n;
}

/** ISO 639-1 code of `text`'s language, or 'und' when it cannot be told (too short, only names and numbers). */
export function detectLanguage(text: string): string {
  const s = text.normalize('NFKC').replace(NOISE, ' ');
  const latinLetters = count(LATIN, s);
  let best = 'und';
  let bestCount = 0;
  for (const [re, lang] of SCRIPTS) {
    const n = count(re, s);
    // Kana beside Han is Japanese even when Han characters are the majority.
    if (lang === 'ja' && n > 0) return 'ja';
    if (n > bestCount) {
      best = lang;
      bestCount = n;
    }
  }
  // A Chinese question with a Latin ticker ("BNB链的gas费") is still Chinese: one non-Latin character counts for two letters.
  if (bestCount > 0 && bestCount * 2 >= latinLetters) return best;
  if (latinLetters < 2) return best;
  const lower = s.toLowerCase();
  if (VIETNAMESE.test(lower)) return 'vi';
  if (TURKISH.test(lower)) return 'tr';
  const words = lower.split(/[^\p{L}\p{M}']+/u).filter(Boolean);
  let lang = 'und';
  let hits = 0;
  for (const [l, set] of stops()) {
    let n = 0;
    for (const w of words) if (set.has(w)) n++;
    if (n > hits) {
      lang = l;
      hits = n;
    }
  }
  return lang;
}
