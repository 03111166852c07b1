/**
 * Text preprocessing for the reply-link model: hashing, tokenising and the once-per-message
 * `prepare` step. Everything the per-candidate scorer needs from the text is reduced here to
 * small typed arrays of 32-bit hashes so scoring never touches strings.
 */
import type { ChatMessage, PreparedMessage } from './types.js';

/** Number of hash bits of the IDF table (65,536 buckets, 64 KiB as Uint8). */
export const IDF_BITS = 16;
const IDF_MASK = (1 << IDF_BITS) - 1;
/** IDF used when no table is loaded (and for words never seen in training). */
export const DEFAULT_IDF = 6;

/** Surface flag: contains a question mark. */
export const FLAG_QUESTION = 1;
/** Surface flag: opens with a greeting or "anyone". */
export const FLAG_GREETING = 2;
/** Surface flag: a bot command (`!factoid`). */
export const FLAG_BANG = 4;
/** Surface flag: the author looks like a bot. */
export const FLAG_BOT = 8;
/** Surface flag: contains a URL. */
export const FLAG_URL = 16;
/** Surface flag: says thanks. */
export const FLAG_THANKS = 32;
/** Surface flag: opens with yes/no/ok-style acknowledgement (after an optional address). */
export const FLAG_ACK = 64;
/** Surface flag: looks like a command, path or config. */
export const FLAG_CODE = 128;

/** FNV-1a 32-bit hash of a string, as a signed int (fits Int32Array). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

// Words so frequent that sharing them says nothing; the IDF table handles the long tail.
const STOP = new Set(
  ('a an the and or but if of to in on at by for with from as is are was were be been being am i me my mine you your ' +
    'yours he him his she her it its we us our they them their this that these those there here what which who whom ' +
    'whose when where why how do does did done doing have has had having can could would should will shall may might ' +
    'must not no yes so just than then too very also about into over under up down out off again all any some such ' +
    'only own same other more most few both each s t im dont its ill ive youre thats whats lol ok okay oh hmm well ' +
    'now get got like know think want need use using one still really yeah yep nope u ur r thanks thx ty hi hello hey')
    .split(' '),
);
const GREET = new Set(['hi', 'hello', 'hey', 'hiya', 'howdy', 'greetings', 'yo', 'anyone', 'anybody', 'someone', 'somebody', 'hola', 'morning', 'evening']);
const THANKS = new Set(['thanks', 'thank', 'thx', 'ty', 'thanx', 'cheers', 'tnx', 'tx']);
const ACK = new Set(['yes', 'no', 'yeah', 'yep', 'nope', 'ok', 'okay', 'sure', 'np', 'right', 'k', 'ah', 'oh', 'cool', 'great', 'nice', 'indeed', 'exactly', 'correct']);

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || c > 127;
}

/** Strip non-alphanumerics from both ends (input already lower-cased). */
export function stripPunct(t: string): string {
  let a = 0;
  let b = t.length;
  while (a < b && !isAlnum(t.charCodeAt(a))) a++;
  while (b > a && !isAlnum(t.charCodeAt(b - 1))) b--;
  return a === 0 && b === t.length ? t : t.slice(a, b);
}

/** Key under which a user is addressed: hash of the lower-cased nick. */
export function userKeyOf(user: string): number {
  return hash32(user.toLowerCase());
}

/** Key of the nick's core (`|trey|` -> `trey`), so addressing without decoration still matches. */
export function coreKeyOf(user: string): number {
  const low = user.toLowerCase();
  const core = stripPunct(low);
  return hash32(core.length > 0 ? core : low);
}

/** Decode a base64 IDF table to per-bucket floats. */
export function decodeIdf(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float32Array(1 << IDF_BITS);
  if (bytes.length !== out.length) return out.fill(DEFAULT_IDF);
  for (let i = 0; i < out.length; i++) out[i] = (bytes[i] ?? 0) / 16;
  return out;
}

/** Encode per-bucket IDF floats to the base64 form stored in weights.json. */
export function encodeIdf(idf: Float32Array): string {
  const bytes = new Uint8Array(idf.length);
  for (let i = 0; i < idf.length; i++) bytes[i] = Math.max(0, Math.min(255, Math.round((idf[i] ?? 0) * 16)));
  return Buffer.from(bytes).toString('base64');
}

/** Bucket of a word hash in the IDF table. */
export function idfBucket(h: number): number {
  return h & IDF_MASK;
}

/** Lower-cased whitespace tokens of a message. */
export function rawTokens(text: string): string[] {
  const low = text.toLowerCase().trim();
  return low.length === 0 ? [] : low.split(/\s+/);
}

/** Content-word hashes of a text (unsorted, deduplicated) — shared by `prepare` and the IDF fit. */
export function contentWordKeys(tokens: readonly string[]): number[] {
  const seen = new Set<number>();
  for (const tok of tokens) {
    const w = stripPunct(tok);
    if (w.length < 2 || STOP.has(w)) continue;
    seen.add(hash32(w));
  }
  return [...seen];
}

const COMMON_NICK_IDF = 3; // words in >5% of messages are never taken as a mid-sentence nick

// Add the hashes of a token's nick-like forms ("nick:", "@nick", "|nick|,") to `out`. A module-level
// function rather than a closure: under tsx every closure creation also pays an esbuild `__name` call.
function addNickForms(out: number[], tok: string, minLen: number, requireRare: boolean, idf: Float32Array | undefined): void {
  // Forms: as written, minus one trailing mark ("matt|," -> "matt|"), and bare ("@|trey|:" -> "trey").
  const last = tok.charCodeAt(tok.length - 1);
  const chop = tok.length > 1 && !isAlnum(last) ? tok.slice(0, -1) : tok;
  const stripped = stripPunct(tok);
  for (let k = 0; k < 3; k++) {
    const f = k === 0 ? tok : k === 1 ? chop : stripped;
    if (f.length < minLen || (k > 0 && f === tok) || (k === 2 && f === chop)) continue;
    const h = hash32(f);
    if (requireRare && (STOP.has(f) || (idf !== undefined && (idf[h & IDF_MASK] ?? DEFAULT_IDF) < COMMON_NICK_IDF))) continue;
    if (!out.includes(h)) out.push(h);
  }
}

/**
 * Precompute everything the scorer needs from one message. Call once when the message arrives and
 * keep the result in the chat window; `idf` comes from the compiled weights.
 */
export function prepare(msg: ChatMessage, idf?: Float32Array): PreparedMessage {
  const toks = rawTokens(msg.text);
  const keys: number[] = [];
  let flags = 0;
  for (let i = 0; i < toks.length; i++) {
    const w = stripPunct(toks[i] as string);
    if (THANKS.has(w)) flags |= FLAG_THANKS;
    if (w.length < 2 || STOP.has(w)) continue;
    const h = hash32(w);
    if (!keys.includes(h)) keys.push(h);
  }
  keys.sort((x, y) => x - y);
  const words = Int32Array.from(keys);
  const wordIdf = new Float32Array(words.length);
  let mass = 0;
  for (let i = 0; i < words.length; i++) {
    const v = idf ? (idf[(words[i] as number) & IDF_MASK] ?? DEFAULT_IDF) : DEFAULT_IDF;
    wordIdf[i] = v;
    mass += v;
  }

  // Nick forms: explicit platform mentions and the first token count as addressing "at start".
  const nick: number[] = [];
  for (const m of msg.mentions ?? []) addNickForms(nick, m.toLowerCase().replace(/^@/, ''), 1, false, idf);
  const first = toks[0];
  if (first !== undefined && !msg.system) {
    // "ng: try this" — short nicks only count when clearly used as an address.
    const addressy = first.endsWith(':') || first.endsWith(',') || first.startsWith('@');
    addNickForms(nick, first, addressy ? 2 : 3, !addressy, idf);
  }
  const firstNickCount = nick.length;
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i] as string;
    if (t.length >= 3) addNickForms(nick, t, 3, t.charCodeAt(0) !== 64, idf);
  }

  const text = msg.text;
  if (text.includes('?')) flags |= FLAG_QUESTION;
  const w0 = first === undefined ? '' : stripPunct(first);
  if (GREET.has(w0)) flags |= FLAG_GREETING;
  if (text.charCodeAt(0) === 33) flags |= FLAG_BANG;
  if (BOT_NAME.test(msg.user)) flags |= FLAG_BOT;
  if (text.includes('http://') || text.includes('https://')) flags |= FLAG_URL;
  const w1 = toks.length > 1 ? stripPunct(toks[1] as string) : '';
  if (ACK.has(w0) || (firstNickCount > 0 && ACK.has(w1))) flags |= FLAG_ACK;
  if (CODE.test(text)) flags |= FLAG_CODE;

  return {
    id: msg.id,
    user: msg.user,
    userKey: userKeyOf(msg.user),
    coreKey: coreKeyOf(msg.user),
    at: msg.at,
    system: msg.system === true,
    replyTo: msg.replyTo,
    words,
    wordIdf,
    idfMass: mass,
    nickKeys: Int32Array.from(nick),
    firstNickCount,
    flags,
    nTokens: toks.length,
    parent: undefined,
  };
}

const BOT_NAME = /bot$|^ubot/i;
const CODE = /[/|$=]|\.conf|sudo|apt-get|\bls\b/;
