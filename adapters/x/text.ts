/** Post text for X: length as X counts it (twitter-text), Townhall markdown to plain text, threads split on sentence borders. */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

/** The part of twitter-text Townhall uses (the package ships no type declarations). */
interface TwitterTextApi {
  parseTweet(text: string): { weightedLength: number; valid: boolean };
  /** UTF-16 indices, overlaps removed (a URL wins over a mention inside it). */
  extractEntitiesWithIndices(text: string): ({ indices: [number, number] } & ({ screenName: string } | { url: string } | { hashtag: string } | { cashtag: string }))[];
}

// twitter-text is CommonJS without types; a typed require keeps the declaration local instead of a global `declare module`.
const twitterText = createRequire(import.meta.url)('twitter-text') as TwitterTextApi;

/** X's limit for one post, in weighted characters. */
export const MAX_POST_WEIGHT = 280;

/** The weighted length X gives a text: emoji and CJK count double, any URL counts 23. */
export function weightedLength(text: string): number {
  return twitterText.parseTweet(text).weightedLength;
}

/** True when X would accept the text as one post. */
export function fitsOnePost(text: string): boolean {
  const p = twitterText.parseTweet(text);
  return p.valid && p.weightedLength <= MAX_POST_WEIGHT;
}

/**
 * The same post marked as another one, for when X refuses it as duplicate content (the account already posted these
 * words: two people asked the same thing, or someone ran /help twice). A short tag from `seed` (the action id, so a
 * retry posts the same variant); the text is shortened when the tag would not fit in one post.
 */
export function distinctVariant(text: string, seed: string): string {
  const tag = ` [${createHash('sha1').update(seed).digest('hex').slice(0, 4)}]`;
  const chars = Array.from(text.trimEnd());
  while (chars.length && !fitsOnePost(chars.join('') + tag)) chars.splice(-Math.max(1, Math.floor(chars.length / 50)));
  const body = chars.join('');
  return body.length < text.trimEnd().length ? `${body.replace(/\s+\S*$/, '')}…${tag}` : `${body}${tag}`;
}

/**
 * Townhall's markdown subset to X's plain text: X renders no formatting, so **bold**, _italic_ and `code`
 * lose their markers and [text](url) becomes "text url" (X turns the url into a link itself).
 */
export function markdownToPlain(md: string): string {
  return md
    .replace(/\[([^\]\n]{1,500})\]\((https?:\/\/[^\s)]{1,2000})\)/g, (_m, label: string, url: string) =>
      label.trim() === url ? url : `${label} ${url}`,
    )
    .replace(/\*\*([^*\n]+)\*\*/g, '$1')
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,!?:;])/g, '$1$2')
    .replace(/`([^`\n]+)`/g, '$1');
}

/** U+2060 WORD JOINER: invisible, breaks X's mention detection, valid in a post. */
const WORD_JOINER = '\u2060';

/**
 * Keeps the bot from notifying strangers: an "@name" echoed from user text would ping that account,
 * so a word joiner goes after every '@' that X would read as a mention (URLs such as
 * https://host/@name are left whole). The reply chain itself needs no mentions.
 */
export function neutralizeMentions(text: string): string {
  if (!text.includes('@') && !text.includes('＠')) return text;
  // X's own entity extraction decides what is a mention; overlaps with URLs are resolved in the URL's favour.
  const mentions = twitterText
    .extractEntitiesWithIndices(text)
    .filter((e) => 'screenName' in e)
    .sort((a, b) => b.indices[0] - a.indices[0]);
  let out = text;
  for (const m of mentions) {
    const at = m.indices[0];
    out = `${out.slice(0, at + 1)}${WORD_JOINER}${out.slice(at + 1)}`;
  }
  return out;
}

/** Options for splitting a long answer into a thread. */
export interface SplitOptions {
  /** Max weighted length of one post (X: 280). */
  maxWeight?: number;
  /** Adds " i/n" to each post when there is more than one. */
  numbered?: boolean;
  /** Locale for sentence borders (Intl.Segmenter). */
  locale?: string;
}

/**
 * Splits a text into posts of at most `maxWeight` weighted characters, on sentence borders where possible
 * (then words, then graphemes), numbered " 1/n" when there are several. Deterministic: the same text always
 * gives the same posts, which is what lets a half-sent thread resume after a retry.
 */
export function splitThread(text: string, opts: SplitOptions = {}): string[] {
  const max = opts.maxWeight ?? MAX_POST_WEIGHT;
  const numbered = opts.numbered ?? true;
  const clean = text.replace(/\r\n?/g, '\n').trim();
  if (clean === '') return [];
  if (weightedLength(clean) <= max) return [clean];
  // The suffix length depends on the post count; pack, and repack if the count gained a digit.
  let guess = 2;
  for (let attempt = 0; attempt < 6; attempt++) {
    const reserve = numbered ? weightedLength(` ${guess}/${guess}`) : 0;
    const posts = pack(clean, max - reserve, opts.locale);
    if (!numbered) return posts;
    if (String(posts.length).length <= String(guess).length) {
      return posts.map((p, i) => `${p} ${i + 1}/${posts.length}`);
    }
    guess = posts.length;
  }
  throw new Error('thread split did not converge');
}

/** Greedy packing of sentence pieces into posts of at most `budget` weighted characters. */
function pack(text: string, budget: number, locale?: string): string[] {
  const posts: string[] = [];
  let current = '';
  const flush = () => {
    const t = current.trim();
    if (t) posts.push(t);
    current = '';
  };
  for (const piece of pieces(text, budget, locale)) {
    const candidate = current + piece;
    if (weightedLength(candidate.trim()) <= budget) {
      current = candidate;
    } else {
      flush();
      current = piece.trimStart();
    }
  }
  flush();
  return posts;
}

/** Sentences, with those too long for one post broken into words and, failing that, graphemes. */
function* pieces(text: string, budget: number, locale?: string): Generator<string> {
  const sentences = new Intl.Segmenter(locale, { granularity: 'sentence' });
  for (const { segment } of sentences.segment(text)) {
    if (weightedLength(segment.trim()) <= budget) {
      yield segment;
      continue;
    }
    // Whitespace-separated words keep URLs whole (a URL always weighs 23, however long).
    for (const word of segment.split(/(?<=\s)/)) {
      if (weightedLength(word.trim()) <= budget) {
        yield word;
        continue;
      }
      // One "word" longer than a post (CJK runs have no spaces): fall back to whole graphemes, never half an emoji.
      const graphemes = new Intl.Segmenter(locale, { granularity: 'grapheme' });
      let chunk = '';
      for (const { segment: g } of graphemes.segment(word)) {
        if (weightedLength((chunk + g).trim()) > budget) {
          yield chunk;
          chunk = '';
        }
        chunk += g;
      }
      if (chunk) yield chunk;
    }
  }
}
