/**
 * Language-agnostic text preparation for question merging: normalisation, tokenisation,
 * stop words, light stemming, number and ticker canonicalisation, and the "question type"
 * (when / where / why …) that keeps "When is X?" and "Where is X?" apart.
 *
 * Everything here is pure and synchronous so a caller can compute features once per message.
 */

import { createRequire } from 'node:module';

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

// Scripts written without spaces between words: we index overlapping character bigrams there,
// which needs no dictionary and still matches reordered or reworded phrases.
const BIGRAM_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const BIGRAM_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{M}ー]+/gu;

const URL_RE = /\b(?:https?:\/\/|www\.|t\.me\/)\S+/giu;
// Telegram/X/Discord mentions carry who is asked, not what is asked.
const MENTION_RE = /(?:^|(?<=[\s(]))@[\p{L}\p{N}_.]+|<@!?&?\d+>|<#\d+>/gu;
const DISCORD_EMOJI_RE = /<a?:\w+:\d+>/gu;

// English contractions, expanded before punctuation is dropped so "what's" == "what is".
const IS_CONTRACTION = new Set(['it', 'what', 'when', 'where', 'who', 'how', 'that', 'there', 'here', 'he', 'she', 'why', 'which', 'this', 'wen']);
function expandApostrophes(s: string): string {
  return s.replace(/([\p{L}\p{N}]+)'([\p{L}]+)/gu, (_m, a: string, b: string) => {
    if (b === 't') {
      if (a === 'can') return 'can not';
      if (a === 'won') return 'will not';
      if (a === 'shan') return 'shall not';
      if (a.endsWith('n')) return `${a.slice(0, -1)} not`;
      return `${a} ${b}`;
    }
    if (b === 's') return IS_CONTRACTION.has(a) ? `${a} is` : a; // otherwise possessive
    if (b === 're') return `${a} are`;
    if (b === 'll') return `${a} will`;
    if (b === 've') return `${a} have`;
    if (b === 'd') return `${a} would`;
    if (b === 'm') return `${a} am`;
    // French/Italian elision (l'homme, qu'est): keep the word after the apostrophe.
    if (a.length <= 2 || a === 'qu') return `${a} ${b}`;
    // Turkish case suffix after a proper noun (Binance'e, Türkiye'nin): keep the noun.
    return a;
  });
}

const NUMBER_WORDS: Readonly<Record<string, string>> = {
  __proto__: null as unknown as string, // no inherited keys: "constructor" is a word, not a number
  zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
  eleven: '11', twelve: '12', twenty: '20', thirty: '30', fifty: '50', hundred: '100',
};
const MAGNITUDE: Readonly<Record<string, number>> = {
  __proto__: null as unknown as number,
  k: 1e3, thousand: 1e3, m: 1e6, mm: 1e6, mn: 1e6, mil: 1e6, million: 1e6, millions: 1e6, b: 1e9, bn: 1e9, billion: 1e9, billions: 1e9,
  t: 1e12, trillion: 1e12,
};

/** Lower-cased NFKC text without zero-width/control characters, URLs, mentions or punctuation; `$BTC` becomes `btc`. */
export function normalize(text: string): string {
  let s = text.normalize('NFKC');
  // Each pass is guarded by a cheap test: most chat lines are short plain text and skip them all.
  const plainAscii = !/[^\x20-\x7e]/u.test(s);
  // Zero-width joiners, BOM, bidi marks (\p{Cf}) hide inside words; control characters split them.
  // Private-use characters (custom emoji) carry no words, and U+E000 marks decimal points below.
  if (!plainAscii) s = s.replace(/\p{Cf}/gu, '').replace(/[\p{Cc}\p{Co}]/gu, ' ');
  s = s.toLowerCase();
  if (s.includes('http') || s.includes('www.') || s.includes('t.me/')) s = s.replace(URL_RE, ' ');
  if (s.includes('<')) s = s.replace(DISCORD_EMOJI_RE, ' ');
  if (s.includes('@') || s.includes('<')) s = s.replace(MENTION_RE, ' ');
  if (!plainAscii) {
    // Turkish dotted capital I lower-cases to i + U+0307; the dot carries no meaning here.
    s = s.replace(/\u0307/gu, '').replace(/ё/gu, 'е').replace(/[\u2018\u2019\u02bc\u00b4]/gu, "'");
  }
  if (s.includes('`')) s = s.replace(/`/gu, "'");
  if (s.includes("'")) s = expandApostrophes(s);
  // $BTC and #BTC name the ticker; $5 and 5$ are just the number.
  if (s.includes('$') || s.includes('#')) s = s.replace(/[$#]([\p{L}][\p{L}\p{N}_]*)/gu, ' $1 ').replace(/\$\s?(\d)/gu, '$1');
  // 1,000,000 -> 1000000 (thousands separators only: exactly three digits after each comma).
  if (s.includes(',')) s = s.replace(/(\d),(?=\d{3}(?!\d))/gu, '$1');
  // Punctuation and symbols become spaces, except a decimal point between digits.
  const decimals = s.includes('.') && /\d\.\d/u.test(s);
  if (decimals) s = s.replace(/(\d)\.(?=\d)/gu, '$1\ue000');
  s = s.replace(/[\p{P}\p{S}\s]+/gu, ' ');
  if (decimals) s = s.replace(/\ue000/gu, '.');
  return s.trim();
}

/** Surface tokens of a text: whitespace words, with CJK/Thai runs split into overlapping character bigrams. */
export function tokenize(text: string): string[] {
  return tokensOfNormalized(normalize(text));
}

// Thai (U+0E00) is the lowest code point of the bigram scripts: skip the Unicode regex for the rest.
function hasBigramScript(w: string): boolean {
  for (let i = 0; i < w.length; i++) if (w.charCodeAt(i) >= 0x0e00) return BIGRAM_SCRIPT.test(w);
  return false;
}

function tokensOfNormalized(norm: string): string[] {
  const out: string[] = [];
  for (const word of norm.split(' ')) {
    if (!word) continue;
    if (!hasBigramScript(word)) {
      out.push(word);
      continue;
    }
    let last = 0;
    for (const m of word.matchAll(BIGRAM_RUN)) {
      if (m.index > last) out.push(word.slice(last, m.index));
      pushBigrams(m[0], out);
      last = m.index + m[0].length;
    }
    if (last < word.length) out.push(word.slice(last));
  }
  return out;
}

function pushBigrams(run: string, out: string[]): void {
  // Bigrams of grapheme clusters (a letter with its combining marks) so Thai tone marks stay on their letter.
  const cps = run.match(/\P{M}\p{M}*|\p{M}+/gu) ?? [];
  if (cps.length === 1) {
    out.push(run);
    return;
  }
  for (let i = 0; i + 1 < cps.length; i++) out.push(cps[i]! + cps[i + 1]!);
}

// ---------------------------------------------------------------------------------------------
// Stop words, question words, aliases
// ---------------------------------------------------------------------------------------------

// Function words of the supported languages. Question words are NOT here: they become the
// question type instead, so "when" vs "where" still separates two questions.
const STOP_LIST = [
  // English (plus chat filler that never changes which question is asked)
  'a an the and or but nor if then than so as of to in on at by for with from into onto about over under up down out off via per',
  'is are was were be been being am do does did done doing have has had having will would shall should can could may might must',
  'i me my mine myself you your yours u ur he him his she her hers it its we us our ours they them their theirs this that these those',
  'there here not no yes all any some such only own same other more most each both few just also too very really actually exactly',
  'again still even ever already yet now ok okay oh hi hello hey gm gn sir guys guy team admin admins mod mods dev devs bro fam',
  'please pls plz thanks thank thx ty lol lmao hmm well anyone anybody someone somebody everyone get got gets getting go going gonna',
  'wanna let lets know tell said say says like would just happen happens happened happening take place thing things stuff s t d ll re ve m',
  // Spanish
  'el la los las un una unos unas de del al y o u e ni que en con por para sin sobre entre es son era fue ser estar esta está están',
  'este esta estos estas ese esa eso lo le les se su sus mi mis tu tus nos vos ya muy más mas pero como hay ha han he hemos va van',
  'también tambien porque pues si sí no alguien hola gracias equipo',
  // Russian
  'и в во не на я он она оно они мы вы ты с со к ко а но да же ли бы что то это этот эта эти тот та те по за из у о об от до',
  'для при без над под про как так уже еще ещё или ни бы был была было были будет будут есть нет мне меня мой моя наш ваш их его ее её',
  'всем привет спасибо пожалуйста ребята команда админ',
  // Turkish
  've ile de da ki bu şu o bir için gibi ama fakat çok daha en mı mi mu mü mısınız misiniz ben sen biz siz onlar var yok olan olarak',
  'merhaba selam teşekkürler lütfen ekip',
  // Vietnamese (syllables)
  'là của có và được các những cho này thì với một đã sẽ đang bị rằng cũng như để từ trong khi ra vào lại nữa rồi thế vậy ạ nhé',
  'tôi bạn mình anh chị em chúng ta họ không chưa à hả nhỉ chứ xin chào cảm ơn admin ad',
  // Arabic
  'في من على إلى الى عن مع هذا هذه ذلك تلك التي الذي الذين و أو او ثم أن إن ان كان كانت قد لا لم لن ما هو هي هم نحن أنا انا أنت',
  'انت كل بعض عند لدى به بها له لها هناك هنا يا مرحبا شكرا الفريق',
  // Chinese/Japanese bigrams that carry no topic
  '我们 你们 他们 大家 这个 那个 一个 可以 请问 谢谢 你好 是的 就是 还是 已经 因为 所以 但是 如果 这样 那么 现在 です ます ください',
];

/** Function words (and chat filler) of the supported languages, lower-cased; question words are deliberately excluded. */
export const STOP_WORDS: ReadonlySet<string> = new Set(STOP_LIST.join(' ').split(/\s+/u).filter(Boolean));

/** The kind of answer a question asks for; two questions of different kinds are never the same question. */
export type QuestionType = 'when' | 'where' | 'why' | 'how' | 'what' | 'who' | 'quantity' | 'duration' | 'yesno';

// Multi-word phrases first (longest match wins). Keys are normalised token sequences.
const QWORDS: [string, QuestionType][] = [
  // English
  ['how much', 'quantity'], ['how many', 'quantity'], ['how big', 'quantity'], ['how large', 'quantity'], ['how high', 'quantity'],
  ['how low', 'quantity'], ['how often', 'quantity'], ['how long', 'duration'], ['how soon', 'when'], ['what time', 'when'],
  ['what date', 'when'], ['what day', 'when'], ['which day', 'when'], ['which date', 'when'], ['when', 'when'], ['wen', 'when'],
  ['where', 'where'], ['why', 'why'], ['how come', 'why'], ['how', 'how'], ['what', 'what'], ['which', 'what'], ['who', 'who'],
  ['whom', 'who'], ['whose', 'who'], ['eta', 'when'],
  // Spanish (with and without accents: chat often drops them)
  ['cuándo', 'when'], ['cuando', 'when'], ['dónde', 'where'], ['donde', 'where'], ['adónde', 'where'], ['por qué', 'why'],
  ['por que', 'why'], ['porqué', 'why'], ['cómo', 'how'], ['qué', 'what'], ['cuál', 'what'], ['cuáles', 'what'], ['quién', 'who'],
  ['quiénes', 'who'], ['cuánto', 'quantity'], ['cuánta', 'quantity'], ['cuántos', 'quantity'], ['cuántas', 'quantity'],
  // Russian
  ['когда', 'when'], ['где', 'where'], ['куда', 'where'], ['откуда', 'where'], ['почему', 'why'], ['зачем', 'why'],
  ['отчего', 'why'], ['как долго', 'duration'], ['как', 'how'], ['каким образом', 'how'], ['что', 'what'], ['какой', 'what'],
  ['какая', 'what'], ['какое', 'what'], ['какие', 'what'], ['какую', 'what'], ['каков', 'what'], ['кто', 'who'], ['чей', 'who'],
  ['сколько', 'quantity'],
  // Turkish
  ['ne zaman', 'when'], ['nerede', 'where'], ['nereye', 'where'], ['nereden', 'where'], ['neden', 'why'], ['niye', 'why'],
  ['niçin', 'why'], ['nasıl', 'how'], ['ne kadar', 'quantity'], ['kaç', 'quantity'], ['ne', 'what'], ['hangi', 'what'],
  ['hangisi', 'what'], ['kim', 'who'], ['kimin', 'who'],
  // Vietnamese
  ['khi nào', 'when'], ['bao giờ', 'when'], ['lúc nào', 'when'], ['ở đâu', 'where'], ['đâu', 'where'], ['tại sao', 'why'],
  ['vì sao', 'why'], ['như thế nào', 'how'], ['thế nào', 'how'], ['làm sao', 'how'], ['làm thế nào', 'how'], ['ra sao', 'how'],
  ['cái gì', 'what'], ['gì', 'what'], ['nào', 'what'], ['ai', 'who'], ['bao nhiêu', 'quantity'], ['bao lâu', 'duration'],
  ['mấy', 'quantity'],
  // Arabic (and the و/ف conjunction prefixes)
  ['متى', 'when'], ['ومتى', 'when'], ['أين', 'where'], ['اين', 'where'], ['لماذا', 'why'], ['ولماذا', 'why'], ['كيف', 'how'],
  ['وكيف', 'how'], ['ماذا', 'what'], ['ما هو', 'what'], ['ما هي', 'what'], ['كم', 'quantity'], ['هل', 'yesno'], ['وهل', 'yesno'],
  ['فهل', 'yesno'],
];
const QWORD_MAP = new Map(QWORDS);
const QWORD_FIRST = new Set(QWORDS.map(([k]) => k.split(' ')[0]!));
const QWORD_MAX = 3;

// Chinese/Japanese question words, matched inside a Han run before it is cut into bigrams.
const CJK_QWORDS: [string, QuestionType][] = [
  ['什么时候', 'when'], ['什麼時候', 'when'], ['啥时候', 'when'], ['何时', 'when'], ['何時', 'when'], ['几时', 'when'], ['幾時', 'when'],
  ['几点', 'when'], ['哪天', 'when'], ['いつ', 'when'], ['哪里', 'where'], ['哪裡', 'where'], ['哪儿', 'where'], ['在哪', 'where'],
  ['どこ', 'where'], ['为什么', 'why'], ['為什麼', 'why'], ['为何', 'why'], ['為何', 'why'], ['なぜ', 'why'], ['怎么样', 'how'],
  ['怎麼樣', 'how'], ['怎么', 'how'], ['怎麼', 'how'], ['怎样', 'how'], ['怎樣', 'how'], ['如何', 'how'], ['どう', 'how'],
  ['多久', 'duration'], ['多长时间', 'duration'], ['多少', 'quantity'], ['多少钱', 'quantity'], ['いくら', 'quantity'],
  ['什么', 'what'], ['什麼', 'what'], ['啥', 'what'], ['哪个', 'what'], ['哪個', 'what'], ['谁', 'who'], ['誰', 'who'],
  ['是不是', 'yesno'], ['有没有', 'yesno'], ['有沒有', 'yesno'], ['能不能', 'yesno'], ['会不会', 'yesno'], ['會不會', 'yesno'],
  ['可不可以', 'yesno'], ['要不要', 'yesno'], ['是否', 'yesno'], ['吗', 'yesno'], ['嗎', 'yesno'],
];
// Particles that split a Han run but carry no topic.
const CJK_PARTICLES = ['呢', '吧', '啊', '呀', '嘛', '的', '了', '请问', 'ですか', 'ますか', 'か'];
const CJK_SPLIT = new RegExp([...CJK_QWORDS.map(([w]) => w), ...CJK_PARTICLES].sort((a, b) => b.length - a.length).join('|'), 'gu');
const CJK_QWORD_MAP = new Map(CJK_QWORDS);

/** True for a Chinese/Japanese question word or particle ("什么时候", "吗"): it carries the question type, not the topic. */
export function isCjkFunctionWord(word: string): boolean {
  return CJK_QWORD_MAP.has(word) || CJK_PARTICLES.includes(word);
}

// Auxiliaries that open an English yes/no question ("Is …", "Will …", "Can …").
const EN_AUX_OPENERS = new Set(['is', 'are', 'was', 'were', 'will', 'would', 'can', 'could', 'should', 'shall', 'do', 'does', 'did', 'has', 'have', 'had', 'may', 'might', 'am']);

// Spelled-out assets and their tickers: "$BTC", "btc" and "bitcoin" are one term.
const ALIASES: Readonly<Record<string, string>> = {
  __proto__: null as unknown as string,
  bitcoin: 'btc', bitcoins: 'btc', xbt: 'btc', ethereum: 'eth', ether: 'eth', solana: 'sol', tether: 'usdt', dogecoin: 'doge',
  ripple: 'xrp', cardano: 'ada', polkadot: 'dot', litecoin: 'ltc', chainlink: 'link', avalanche: 'avax', polygon: 'matic',
  toncoin: 'ton', tron: 'trx', 'биткоин': 'btc', 'биткойн': 'btc', 'эфир': 'eth', 'эфириум': 'eth',
  '比特币': 'btc', '以太坊': 'eth', 'аирдроп': 'airdrop', 'эйрдроп': 'airdrop',
};

// ---------------------------------------------------------------------------------------------
// Stemming
// ---------------------------------------------------------------------------------------------

// Snowball's Porter2 English stemmer: it also folds derivations ("withdrawal" / "withdraw", "compensated" /
// "compensation"), which the paraphrases of one question use freely.
const english = (createRequire(import.meta.url)('snowball-stemmers') as { newStemmer(name: string): { stem(w: string): string } }).newStemmer('english');

/** Porter2 for English, plus light Spanish plural, Russian case-ending and Arabic article stripping. */
export function stem(word: string): string {
  if (word.length <= 3 || /\d/u.test(word)) return word;
  if (/^[a-z]+$/u.test(word)) return english.stem(word);
  if (/^[\p{Script=Cyrillic}]+$/u.test(word)) return stemRussian(word);
  if (/^[a-zñáéíóúü]+$/u.test(word) && /[ñáéíóú]/u.test(word)) return stemSpanish(word);
  if (/^[\p{Script=Arabic}]+$/u.test(word)) return stemArabic(word);
  return word;
}

const RU_ENDINGS = [
  'иями', 'ями', 'ами', 'ией', 'иях', 'ием', 'ого', 'его', 'ому', 'ему', 'ыми', 'ими', 'ется', 'ится', 'ться', 'тся', 'ешь', 'ишь',
  'ете', 'ите', 'ует', 'уют', 'ают', 'яют', 'ает', 'яет', 'ала', 'ила', 'ыла', 'ели', 'али', 'или', 'ых', 'их', 'ой', 'ей', 'ый',
  'ий', 'ая', 'яя', 'ое', 'ее', 'ые', 'ие', 'ую', 'юю', 'ом', 'ем', 'ам', 'ям', 'ах', 'ях', 'ов', 'ев', 'ия', 'ью', 'ть', 'ет',
  'ит', 'ут', 'ют', 'ат', 'ят', 'ла', 'ло', 'ли', 'а', 'я', 'ы', 'и', 'о', 'е', 'у', 'ю', 'ь', 'й',
];
function stemRussian(w: string): string {
  for (const e of RU_ENDINGS) if (w.endsWith(e) && w.length - e.length >= 3) return w.slice(0, -e.length);
  return w;
}

// Spelling variants (hamza forms of alef, ta marbuta, alef maqsura) and the article/conjunction
// prefixes (ال، وال، بال، لل …) are the bulk of surface variation in short Arabic questions.
function stemArabic(w: string): string {
  let s = w.replace(/[\u064B-\u0652\u0640]/gu, '').replace(/[أإآ]/gu, 'ا').replace(/ة/gu, 'ه').replace(/ى/gu, 'ي');
  const pre = /^(?:وال|بال|كال|فال|لل|ال)/u.exec(s);
  if (pre && s.length - pre[0].length >= 3) s = s.slice(pre[0].length);
  return s;
}

function stemSpanish(w: string): string {
  const s = w.normalize('NFD').replace(/\p{M}/gu, '').normalize('NFC');
  if (s.endsWith('ces') && s.length > 5) return `${s.slice(0, -3)}z`;
  if (s.endsWith('es') && s.length > 5) return s.slice(0, -2);
  if (s.endsWith('s') && s.length > 4) return s.slice(0, -1);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Terms
// ---------------------------------------------------------------------------------------------

/** Content terms and question type of a text, as used by similarity and the index. */
export interface TextFeatures {
  /** Normalised text (see `normalize`). */
  norm: string;
  /** Distinct content terms (stemmed, stop and question words removed, numbers and tickers canonical), in first-seen order. */
  terms: string[];
  /**
   * The first question word's kind (when/where/…; 'yesno' for 吗/هل/English auxiliary openers), or null.
   * Set even for statements ("the firm, which said …"): `prepareText` keeps it only when `isQuestion` agrees.
   */
  qtype: QuestionType | null;
  /** Terms that pin a question to one thing: numbers, versions ("v2", "q3"), tickers ("$SOL", "bitcoin"), venues and capitalised names. */
  specific: string[];
  /** The surface word each term came from (same order as `terms`), for dictionary look-ups such as WordNet. */
  words: string[];
}

function canonicalNumber(tok: string, next: string | undefined): { term: string; used: number } | null {
  const m = /^(\d+(?:\.\d+)?)([a-z]*)$/u.exec(tok);
  if (!m) return null;
  let v = Number(m[1]);
  let used = 1;
  const suf = m[2] ?? '';
  if (suf && MAGNITUDE[suf] !== undefined) v *= MAGNITUDE[suf];
  else if (suf && suf !== 'x' && suf !== '%') return { term: tok, used }; // "v2", "q3", "10x": keep verbatim
  else if (!suf && next !== undefined && MAGNITUDE[next] !== undefined && next.length > 1) {
    v *= MAGNITUDE[next];
    used = 2;
  }
  return { term: Number.isFinite(v) ? String(Number(v.toPrecision(12))) : tok, used };
}

const TICKERS = new Set(Object.values(ALIASES).filter((t) => t !== 'airdrop'));
// Exchanges, chains and wallets: "on Binance?" vs "on Coinbase?" are two questions even in lower case.
const VENUES = new Set(
  ('binance coinbase kraken okx bybit kucoin gate mexc htx huobi bitget bitfinex bitstamp upbit bithumb gemini uniswap pancakeswap ' +
    'sushiswap curve raydium jupiter orca arbitrum optimism base polygon avalanche bsc ton tron sui aptos near cosmos zksync starknet linea ' +
    'scroll blast mantle ledger trezor metamask phantom trustwallet rabby okxwallet tonkeeper keplr solflare')
    .split(' ')
    .map((w) => stem(w)),
);

// Capitalised words inside a sentence (names: "Arbitrum", "Ledger") and $cashtags, as lower-case
// surface words; `features` marks the terms they become as specific.
function namedWords(text: string): Set<string> {
  const out = new Set<string>();
  if (!/\p{Lu}|\$/u.test(text)) return out;
  text = text.normalize('NFKC');
  const letters = text.replace(/[^\p{L}]/gu, '');
  if (letters === letters.toUpperCase()) return out; // SHOUTING: case says nothing
  const words = text.split(/\s+/u);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const cashtag = w.charCodeAt(0) === 36; // '$'
    if (!cashtag && (i === 0 || !/^\p{Lu}[\p{L}\p{N}]/u.test(w) || /[.!?。！？:]$/u.test(words[i - 1]!))) continue;
    const core = w.toLowerCase().replace(/^[^\p{L}\p{N}]+|(?:['\u2019]s)?[^\p{L}\p{N}]*$/gu, '');
    if (core) out.add(core);
  }
  return out;
}

const TIME_TERMS = new Set(['date', 'time', 'day', 'deadline', 'timeline', 'schedule'].map((w) => stem(w)));

/** Features of a text: normalised form, content terms and question type. */
export function features(text: string): TextFeatures {
  const norm = normalize(text);
  const words = norm ? norm.split(' ') : [];
  const named = namedWords(text);
  const specific: string[] = [];
  const terms: string[] = [];
  const surface: string[] = [];
  const seen = new Set<string>();
  const add = (t: string, w: string = t): void => {
    if (t && !seen.has(t)) {
      seen.add(t);
      terms.push(t);
      surface.push(w);
    }
  };
  // A wh-word anywhere wins over a yes/no marker ("Can you tell me when …" asks when).
  const q: { wh: QuestionType | null; yesno: boolean } = { wh: null, yesno: false };
  const onType = (t: QuestionType): void => {
    if (t === 'yesno') q.yesno = true;
    else q.wh ??= t;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    // Question words (possibly multi-word) set the type once, from the first one met.
    let matched = 0;
    if (QWORD_FIRST.has(w)) for (let n = Math.min(QWORD_MAX, words.length - i); n >= 1; n--) {
      const t = QWORD_MAP.get(words.slice(i, i + n).join(' '));
      if (t) {
        onType(t);
        matched = n;
        break;
      }
    }
    if (matched) {
      i += matched - 1;
      continue;
    }
    if (i === 0 && EN_AUX_OPENERS.has(w)) q.yesno = true;
    if (hasBigramScript(w)) {
      for (const piece of splitCjk(w, onType)) add(piece);
      continue;
    }
    if (/^\d/u.test(w)) {
      const num = canonicalNumber(w, words[i + 1]);
      if (num) {
        add(num.term);
        i += num.used - 1;
        continue;
      }
    }
    const nw = NUMBER_WORDS[w];
    if (nw !== undefined) {
      add(nw);
      continue;
    }
    if (STOP_WORDS.has(w)) continue;
    // Words of one letter are noise (single CJK characters are handled above).
    if (w.length === 1 && !/\d/u.test(w)) continue;
    const alias = ALIASES[w];
    const st = alias ?? stem(w);
    const term = ALIASES[st] ?? st;
    add(term, w);
    if (named.has(w)) specific.push(term);
  }
  // "What is the launch date?" asks when.
  let qtype = q.wh ?? (q.yesno ? 'yesno' : null);
  if (qtype === 'what' && terms.some((t) => TIME_TERMS.has(t))) qtype = 'when';
  for (const t of terms) if ((/\d/u.test(t) || TICKERS.has(t) || VENUES.has(t)) && !specific.includes(t)) specific.push(t);
  return { norm, terms, qtype, specific, words: surface };
}

// Splits a word containing CJK/Thai runs: question words and particles cut the run (and set
// the type), the remaining pieces become character bigrams; any Latin part stays a word.
function splitCjk(word: string, onType: (t: QuestionType) => void): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of word.matchAll(BIGRAM_RUN)) {
    if (m.index > last) out.push(stem(word.slice(last, m.index)));
    const run = m[0];
    let p = 0;
    for (const q of run.matchAll(CJK_SPLIT)) {
      const t = CJK_QWORD_MAP.get(q[0]);
      if (t) onType(t);
      if (q.index > p) pushBigrams(run.slice(p, q.index), out);
      p = q.index + q[0].length;
    }
    if (p < run.length) pushBigrams(run.slice(p), out);
    last = m.index + run.length;
  }
  if (last < word.length) out.push(stem(word.slice(last)));
  return out.filter((t) => !STOP_WORDS.has(t));
}

/** Distinct content terms of a text (see `features`). */
export function terms(text: string): string[] {
  return features(text).terms;
}

// ---------------------------------------------------------------------------------------------
// Term weights
// ---------------------------------------------------------------------------------------------

// Frequent English content words (already stemmed): sharing them is weaker evidence than sharing
// a rare word, a name or a number. A fixed list keeps the score independent of the data scored.
const COMMON_WORDS =
  'new year time people way day man thing woman life child world school state family student group country problem hand part place case ' +
  'week company system program question work government number night point home water room mother area money story fact month lot right ' +
  'study book eye job word business issue side kind head house service friend father power hour game line end member law car city community ' +
  'name president minute idea kid body information back parent face other level office door health person art war history party result change ' +
  'morning reason research girl moment air teacher force education make take see come think look want give use find ask seem feel try leave ' +
  'call good first last long great little old big high different small large next early young important public bad able include continue set learn ' +
  'lead understand watch follow stop create speak read allow add spend grow open walk win offer remember love consider appear buy wait serve die ' +
  'send expect build stay fall cut reach kill remain suggest raise pass sell require report decide pull said told made went came took saw ' +
  'knew gave found thought wrote began kept held brought stood left led paid met run move live believe hold bring write provide sit ' +
  'show hear play turn start help talk put mean become keep begin need percent share market price stock close trade rose fell ' +
  'official according plan release announce today yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday second ' +
  'third million billion dollar cent';
const COMMON = new Set(COMMON_WORDS.split(' ').map(stem));

/** Weight of a term in similarity: numbers and rare words count most, frequent words less, short fragments least. */
export function termWeight(term: string): number {
  if (/^\d/u.test(term)) return 1.5; // a different number or version usually means a different question
  if (BIGRAM_SCRIPT.test(term)) return 1;
  if (COMMON.has(term)) return 0.5;
  if (term.length <= 2) return 0.6;
  return 1;
}
