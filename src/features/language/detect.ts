/**
 * Language of a short chat text, as an ISO 639-1 code ('und' when there is too little to tell).
 *
 * The script decides first, because it is certain and free: Han without kana is Chinese, Cyrillic Russian, Arabic
 * script Arabic, and so on. Latin-script text goes to `eld` (Nito-ELD, n-gram detector, Apache-2.0), whose
 * smallest database (~30 MB of heap, ~30 µs a call) is exact on the AMA dev questions and keeps Spanish,
 * Portuguese, French, Turkish and Vietnamese apart on one-line questions. Shared by question merging and,
 * later, the bot's own language choice (i18n).
 */

/** What the Latin-script detector must offer (the `eld` API). */
interface LatinDetector {
  detect(text: string): { language: string; isReliable(): boolean };
}

let latin: LatinDetector | null = null;
let loading: Promise<void> | null = null;

/** Loads the Latin-script detector once per process (~150 ms); `detectLanguage` uses scripts only until then. */
export function loadLanguageDetector(): Promise<void> {
  loading ??= import('eld/extrasmall').then((m) => {
    latin = m.eld;
  });
  return loading;
}

/** True once `loadLanguageDetector` has finished. */
export function languageDetectorReady(): boolean {
  return latin !== null;
}

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
  if (!latin) return 'und';
  const r = latin.detect(s);
  return r.language && (r.isReliable() || latinLetters >= 12) ? r.language : 'und';
}
