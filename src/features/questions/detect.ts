/**
 * Question detection for chat messages in English, Chinese, Spanish, Russian, Turkish, Vietnamese
 * and Arabic (plus a few common phrases of Japanese, Korean, Portuguese, French, German, Indonesian,
 * Persian and Hindi). A question mark in any script decides at once; without one, each clause is
 * checked for its language's question forms with rules that keep look-alike statements out
 * ("When the token launches, I'll buy", "Can't wait", "什么都没有", "không sao", "neden oldu").
 */

// Question marks of all scripts, not inside a word ("wh?t" is mojibake). U+037E (Greek) must be
// matched before NFKC turns it into ';'.
const QMARK_AT_END_OF_WORD = /[?\uff1f\u061f\u037e\u055e\u1367\u2e2e\u203d\u2047\u2048\u2049\u2753\u2754\ufe56\ufe16\u2cfa\u2cfb](?![\p{L}\p{N}])/u;
// Spanish opens with ¿; Armenian puts ՞ on the stressed vowel, inside the word.
const INVERTED_QMARK = /[\u00bf\u055e]/u;

const URL_RE = /\b(?:https?:\/\/|www\.|t\.me\/)\S+/giu;
const MENTION_RE = /(?:^|(?<=[\s(]))@[\p{L}\p{N}_.]+|<@!?&?\d+>|<#\d+>|<a?:\w+:\d+>/gu;
const CODE_RE = /```[\s\S]*?```|`[^`]*`/gu;
const CONTENT = /[\p{L}\p{N}]/u;

// ---------------------------------------------------------------------------------------------
// English
// ---------------------------------------------------------------------------------------------

const EN_WH = new Set(['what', 'when', 'where', 'why', 'how', 'who', 'whom', 'whose', 'which', 'wen']);
const EN_AUX = new Set(['is', 'are', 'was', 'were', 'will', 'would', 'can', 'could', 'should', 'shall', 'do', 'does', 'did', 'has', 'have', 'had', 'may', 'might', 'am', 'must']);
const EN_PERSONAL = new Set(['i', 'you', 'we', 'they', 'he', 'she', 'it', 'there', 'u', 'yall', 'anyone', 'anybody', 'someone', 'somebody', 'everyone', 'everybody', 'ya']);
const EN_DET = new Set(['the', 'a', 'an', 'this', 'that', 'these', 'those', 'my', 'our', 'your', 'ur', 'his', 'her', 'their', 'its', 'any', 'some', 'all', 'every', 'each', 'no']);
// After a wh-word, these start a subordinate or relative clause ("When the launch happens …", "What I learned").
const EN_SUBORDINATE_NEXT = new Set(['the', 'a', 'an', 'this', 'that', 'these', 'those', 'my', 'our', 'your', 'his', 'her', 'their', 'its', 'i', 'we', 'you', 'he', 'she', 'they', 'it', 'there', 'if']);
const EN_HOW_EXCLAIM = new Set(['cool', 'great', 'nice', 'awesome', 'amazing', 'sweet', 'crazy', 'funny', 'lucky', 'beautiful', 'good', 'bad', 'sad', 'cute', 'wonderful', 'fun', 'exciting', 'bullish', 'insane', 'wild']);
const EN_FILLERS = new Set(['hi', 'hey', 'hello', 'gm', 'yo', 'ok', 'okay', 'so', 'and', 'but', 'also', 'btw', 'guys', 'team', 'sir', 'admin', 'admins', 'mods', 'dev', 'devs', 'bro', 'please', 'pls', 'plz', 'um', 'umm', 'well', 'then', 'quick', 'question', 'q', 'ser', 'fam', 'anon', 'oh', 'just', 'sorry', 'dear', 'hola', 'oye', 'y', 'pero', 'привет', 'ребята', 'админ', 'а', 'и', 'но', 'ну', 'так', 'merhaba', 'selam', 'arkadaşlar', 'xin', 'chào', 'cho', 'hỏi', 'ad', 'admin', 'مرحبا']);
const EN_ANY_NOUN = new Set(['update', 'updates', 'news', 'info', 'eta', 'idea', 'ideas', 'plan', 'plans', 'chance', 'word', 'timeline', 'date', 'progress', 'details', 'roadmap']);
const EN_ANYONE_VERB = new Set(['know', 'knows', 'tried', 'seen', 'have', 'has', 'got', 'heard', 'can', 'could', 'else', 'here', 'using', 'received', 'get', 'gets', 'managed']);
const EN_INDIRECT = /\b(?:i wonder|wondering|(?:would|i'd|id) (?:like|love) to know|(?:want|wanna|need) to know|curious (?:if|whether|about|what|when|how|why|to know)|(?:can|could) (?:someone|somebody|anyone|you|u) (?:explain|tell|clarify|share|confirm)|please (?:explain|clarify|confirm|tell)|is it true|tell (?:us|me) (?:about|how|what|when|why|more|if|whether))\b/u;
const EN_TAGS = new Set(['right', 'correct', 'yes or no', 'or not', 'is not it', 'are not they', 'do not you think', 'will not it', 'does not it']);
const NOT_AFTER_AUX = 'not';

function englishClause(words: string[], orig: string[], isLast: boolean, clauseIndex: number): boolean {
  const w0 = words[0];
  if (w0 === undefined) return false;
  const w1 = words[1];
  if (EN_WH.has(w0)) {
    if (w0 === 'wen' || w1 === undefined) return true;
    if (w0 === 'how' && EN_HOW_EXCLAIM.has(w1)) return false;
    if (w0 === 'what' && (w1 === 'a' || w1 === 'an')) return false;
    if (w0 === 'who' && (w1 === 'cares' || w1 === 'knows')) return false;
    if (w0 === 'which' && w1 === 'is' && words[2] === 'why') return false;
    if (w0 === 'how' && (w1 === 'to' || w1 === 'much' || w1 === 'many' || w1 === 'long' || w1 === 'often' || w1 === 'soon' || w1 === 'far' || w1 === 'come' || w1 === 'about')) return true;
    if (w0 === 'what' && w1 === 'about') return true;
    if (EN_AUX.has(w1)) return true;
    if (EN_SUBORDINATE_NEXT.has(w1)) return false;
    // Chat shorthand ("when listing", "what price", "how stake") — but only as the last clause:
    // "When launching, check the fees" is an instruction.
    return isLast;
  }
  if (EN_AUX.has(w0)) {
    if (words.length < 3) return false; // "Can't wait", "Did it" — too little to tell, and rarely a question without "?"
    let k = 1;
    if (words[1] === NOT_AFTER_AUX) k = 2;
    const next = words[k];
    const nextOrig = orig[k] ?? '';
    if (next === undefined) return false;
    if (w0 === 'have' || w0 === 'had') return EN_PERSONAL.has(next); // "Have a nice day" is not a question
    // "Do it now", "Do your own research": imperatives, unless a real subject follows.
    if (w0 === 'do') return (EN_PERSONAL.has(next) && next !== 'it') || ['the', 'any', 'all', 'these', 'those', 'some'].includes(next);
    if (EN_PERSONAL.has(next) || EN_DET.has(next)) return true;
    // A gerund as subject: "Is staking live yet" (but "Is going to be great" drops its subject).
    if ((w0 === 'is' || w0 === 'are' || w0 === 'was' || w0 === 'were') && /ing$/u.test(next) && next !== 'going' && next.length > 4) return true;
    // A proper noun, ticker or number as subject: "Is Binance listing it", "Will BTC hit 100k" ("May 5th" is a date).
    return w0 !== 'may' && /^[\p{Lu}$#\d]/u.test(nextOrig);
  }
  if (w0 === 'any' && w1 !== undefined && EN_ANY_NOUN.has(w1)) return true;
  if ((w0 === 'anyone' || w0 === 'anybody' || w0 === 'someone' || w0 === 'somebody') && w1 !== undefined && EN_ANYONE_VERB.has(w1)) return true;
  if (clauseIndex > 0 && isLast && EN_TAGS.has(words.join(' '))) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Spanish / Portuguese / French / German / Indonesian (clause-initial question words)
// ---------------------------------------------------------------------------------------------

const ES_WH = new Set(['qué', 'cómo', 'cuándo', 'dónde', 'adónde', 'quién', 'quiénes', 'cuál', 'cuáles', 'cuánto', 'cuánta', 'cuántos', 'cuántas', 'porqué']);
// Unaccented forms are also conjunctions ("cuando salga, compro"): only a one-clause sentence counts.
const ES_WH_PLAIN = new Set(['cuando', 'donde', 'quien', 'cual', 'cuanto', 'cuanta', 'cuantos', 'cuantas']);
const ES_EXCLAIM = new Set(['bueno', 'buena', 'bien', 'malo', 'mala', 'lindo', 'linda', 'genial', 'pena', 'suerte', 'bonito', 'rico', 'locura', 'increíble', 'horror', 'asco', 'raro', 'miedo', 'emoción', 'grande', 'gran']);
const ES_QUE_COMO_NEXT = new Set(['se', 'puedo', 'podemos', 'hago', 'hacemos', 'funciona', 'compro', 'es', 'son', 'está', 'esta', 'están', 'estan', 'va', 'van', 'pasa', 'paso', 'pasó', 'hay', 'significa', 'opinan', 'piensan', 'tal']);
const ES_PHRASES = /\b(?:alguien sabe|alguien me puede|me pregunto|(?:sabe|sabes|saben) si|se sabe (?:algo|cuándo|cuando))\b/u;
// Other languages, clause-initial; `true` marks words that are also conjunctions ("quand", "wie", "onde").
const OTHER_WH: Record<string, boolean> = {
  'por que': false, quando: true, onde: true, quem: false, qual: false, quanto: false, // Portuguese
  'est-ce': false, pourquoi: false, combien: false, quand: true, où: true, quel: false, quelle: false, // French
  warum: false, wieso: false, weshalb: false, wann: false, wie: true, wer: false, welche: false, welcher: false, welches: false, wieviel: false, // German
  apakah: false, kapan: false, mengapa: false, kenapa: false, bagaimana: false, berapa: false, siapa: false, dimana: false, // Indonesian
  'آیا': false, 'چرا': false, 'چطور': false, 'کجا': false, // Persian
  'क्या': false, 'कब': false, 'कहाँ': false, 'क्यों': false, 'कैसे': false, 'कौन': false, 'कितना': false, 'कितने': false, // Hindi
};

function spanishClause(words: string[], single: boolean): boolean {
  const w0 = words[0];
  if (w0 === undefined) return false;
  const w1 = words[1];
  if (w0 === 'por' && (w1 === 'qué' || (w1 === 'que' && single))) return true;
  if (ES_WH.has(w0)) return !(w0 === 'qué' && w1 !== undefined && ES_EXCLAIM.has(w1));
  if (ES_WH_PLAIN.has(w0)) return single && words.length >= 2;
  if ((w0 === 'que' || w0 === 'como') && w1 !== undefined && ES_QUE_COMO_NEXT.has(w1)) return single;
  return false;
}

function otherClause(words: string[], isLast: boolean): boolean {
  const w0 = words[0];
  if (w0 === undefined) return false;
  const two = `${w0} ${words[1] ?? ''}`;
  const ambiguous = OTHER_WH[two] ?? OTHER_WH[w0];
  if (ambiguous === undefined) return false;
  return !ambiguous || (isLast && words.length >= 2);
}

// ---------------------------------------------------------------------------------------------
// Russian
// ---------------------------------------------------------------------------------------------

const RU_WH = new Set(['что', 'как', 'когда', 'почему', 'зачем', 'где', 'куда', 'откуда', 'кто', 'какой', 'какая', 'какое', 'какие', 'каким', 'какую', 'каков', 'сколько', 'чей', 'чья', 'чьё', 'чье', 'разве', 'неужели', 'отчего', 'чем', 'кого', 'кому', 'чего']);
// These also open subordinate clauses ("Когда выйдет токен, я куплю"): a question only as the last clause.
const RU_AMBIGUOUS = new Set(['что', 'как', 'когда', 'где', 'куда', 'откуда', 'чем', 'кто']);
const RU_NOT_QUESTION_NEXT: Record<string, Set<string>> = {
  как: new Set(['всегда', 'и', 'будто', 'раз', 'обычно', 'только', 'минимум', 'максимум', 'правило', 'известно', 'говорится']),
  что: new Set(['ж', 'же', 'касается']),
};
const RU_PHRASES = /(?:^|\s)(?:подскажите|не подскажете|кто-нибудь знает|кто нибудь знает|кто-то знает|не знаете|интересно,? (?:когда|как|где|что|почему|сколько))(?![\p{L}-])/u;

// Vocatives and greetings that may stand as their own clause before a question ("Ребята, где …").
const RU_VOCATIVE = new Set(['подскажите', 'привет', 'ребята', 'админ', 'админы', 'друзья', 'народ', 'коллеги', 'команда', 'скажите', 'извините', 'всем', 'добрый', 'день', 'вечер', 'здравствуйте']);

function russianClause(words: string[], isLast: boolean, prev: string[] | null): boolean {
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 'ли' && i > 0 && !['вряд', 'едва', 'чуть'].includes(words[i - 1]!)) return true;
  }
  const w0 = words[0];
  if (w0 === undefined || !RU_WH.has(w0)) return false;
  const w1 = words[1];
  if (w1 !== undefined && RU_NOT_QUESTION_NEXT[w0]?.has(w1)) return false;
  if (RU_AMBIGUOUS.has(w0) && !isLast) return false;
  // After a full clause, "что/как/когда" is a conjunction ("Я думаю, что листинг скоро").
  if (RU_AMBIGUOUS.has(w0) && prev !== null && !prev.every((w) => RU_VOCATIVE.has(w))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Turkish
// ---------------------------------------------------------------------------------------------

// The question particle with its person/tense endings, written as a separate word: mı, misin, mudur, müydü …
const TR_PARTICLE = /^m[ıiuü](?:y[ıiuü]m|s[ıiuü]n|y[ıiuü]z|s[ıiuü]n[ıiuü]z|d[ıiuü]r|yd[ıiuü]|yd[ıiuü]m|yd[ıiuü]k|yd[ıiuü]n|ym[ıiuü]ş|yken|ler|lar)?$/u;
const TR_LETTERS = /[çğıöşü]/u;
const TR_WH = new Set(['nerede', 'nereye', 'nereden', 'neresi', 'niye', 'niçin', 'nasıl', 'hangi', 'hangisi', 'kim', 'kime', 'kimi', 'kimin', 'kimler', 'kaç', 'kaçta', 'acaba', 'neden', 'ne']);
const TR_NE_EXCLAIM = new Set(['güzel', 'harika', 'hoş', 'iyi', 'kötü', 'yazık', 'mutlu', 'de', 'güzeldi', 'ala', 'olursa']);
const FRENCH_NEGATION = /\b(?:pas|plus|jamais|rien|personne|je|tu|il|elle|nous|vous)\b/u;

function turkishSentence(words: string[], text: string): boolean {
  const turkishLetters = TR_LETTERS.test(text);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = words[i + 1];
    if (i > 0 && TR_PARTICLE.test(w)) {
      // Bare "mi" is also Spanish/Italian "my" ("mi token"), which is followed by its noun.
      if (w !== 'mi' || next === undefined || turkishLetters || next === 'acaba' || next === 'yoksa') return true;
    }
    if (!TR_WH.has(w)) continue;
    if (w === 'ne') {
      if (next === 'zaman' || next === 'kadar') return true;
      if (next === undefined ? i === 0 : TR_NE_EXCLAIM.has(next)) continue;
      if (words.filter((x) => x === 'ne').length > 1 || FRENCH_NEGATION.test(text)) continue; // "ne … ne" = neither … nor
      return true;
    }
    if (w === 'neden' && next !== undefined && /^ol/u.test(next)) continue; // "neden olmak" = to cause
    if (w === 'nasıl' && next === 'olsa') continue; // "anyway"
    if (w === 'kaç' && next === undefined) continue; // imperative "run away"
    if ((w === 'kim' || w === 'kime' || w === 'kimi') && !turkishLetters) continue; // "Kim" the name
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Vietnamese (words are syllables)
// ---------------------------------------------------------------------------------------------

const VI_LETTERS = /[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/u;
const VI_NEGATORS = new Set(['không', 'chẳng', 'chả', 'chưa', 'ko', 'k']);

function vietnameseSentence(words: string[], text: string): boolean {
  if (!VI_LETTERS.test(text)) return false;
  const s = ` ${words.join(' ')} `;
  const has = (p: string): boolean => s.includes(` ${p} `);
  const last = words[words.length - 1];
  const beforeLast = words[words.length - 2];
  // A final không/chưa is the question particle ("Có airdrop không"), not a negation.
  const body = last !== undefined && VI_NEGATORS.has(last) ? words.slice(0, -1) : words;
  const negated = body.some((w) => VI_NEGATORS.has(w));
  if (has('khi nào') || has('lúc nào') || has('bao nhiêu') || has('bao lâu') || has('tại sao') || has('vì sao') || has('làm sao') || has('thế nào') || has('ra sao') || has('ở đâu') || has('cái gì') || has('là gì') || has('có phải')) return true;
  if (has('bao giờ') && !has('chưa bao giờ') && !has('không bao giờ') && !has('chẳng bao giờ')) return true;
  if (last === 'chưa' && words.length >= 3) return true;
  if ((last === 'không' || last === 'ko' || last === 'k') && words.length >= 3) {
    if (beforeLast === 'phải' || beforeLast === 'đúng') return true;
    if (words.slice(0, -1).some((w) => ['có', 'đã', 'được', 'phải', 'sẽ', 'nên', 'muốn', 'còn', 'thể', 'đúng'].includes(w))) return true;
  }
  if (last === 'nhỉ' || last === 'hả' || last === 'hở' || last === 'chứ' || last === 'ư') return true;
  if (last === 'à' && words.length >= 2) return true;
  if (has('gì') && !has('gì cả') && !has('gì đâu') && !has('gì đó') && !negated) return true;
  if (has('ai') && !has('ai cũng') && !has('ai đó') && !has('ai ai') && !negated) return true;
  if (has('sao') && !has('không sao') && !has('sao cũng') && !has('ngôi sao') && !has('sao chép') && !has('sao kê') && !negated) return true;
  if (has('đâu') && !negated) return true;
  if (has('mấy') && !negated) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Arabic
// ---------------------------------------------------------------------------------------------

const AR_WH = new Set(['ماذا', 'متى', 'كيف', 'لماذا', 'أين', 'اين', 'كم', 'أي', 'اي', 'لمَ']);

function arabicClause(words: string[]): boolean {
  for (const w of words) if (w === 'هل' || w === 'وهل' || w === 'فهل' || w === 'أهل') return true;
  const w0 = words[0];
  if (w0 === undefined) return false;
  const bare = /^[وف]/u.test(w0) && AR_WH.has(w0.slice(1)) ? w0.slice(1) : w0;
  if (AR_WH.has(bare)) return words.length >= 2 || bare !== 'كم';
  if ((bare === 'ما' || bare === 'من') && (words[1] === 'هو' || words[1] === 'هي' || words[1] === 'هم')) return true; // ما هو / من هم
  return false;
}

// ---------------------------------------------------------------------------------------------
// Chinese, Japanese, Korean (no spaces: checked on the raw sentence)
// ---------------------------------------------------------------------------------------------

const ZH_WH = /什么|什麼|啥|为什么|為什麼|为何|為何|怎么|怎麼|怎样|怎樣|如何|何时|何時|哪|谁|誰|多少|几时|幾時|几点|幾點|几号|幾號|几个|幾個|是否|多久|多长时间|多長時間/gu;
const ZH_AFTER_NOT_QUESTION = /^[都也]/u; // 什么都, 谁也, 怎么也: "any/every", not a question
const ZH_BEFORE_NOT_QUESTION = /(?:不管|无论|無論|不论|不論|随便|隨便)$/u; // "no matter what"
const ZH_A_NOT_A = /(\p{Script=Han})[不没沒]\1/u;
const ZH_FINAL = /(?:吗|嗎|呢|么|麼)[啊呀哈嘛]?$/u;
const ZH_PROGRESSIVE = /在|着|著|正/u;
const JA_QUESTION = /(?:ですか|ますか|でしょうか|ませんか|のか|かな|かい)$|いつ|なぜ|どこ|どうして|どうやって|いくら|どれ|だれ/u;
const KO_QUESTION = /(?:까요?|나요|가요|습니까|냐|는지요?)$|언제|어디|왜|어떻게|무엇|누구|얼마/u;

function cjkSentence(sentence: string): boolean {
  const s = sentence.replace(/[\s\p{P}\p{S}]+/gu, '');
  if (!/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(s)) return false;
  for (const m of s.matchAll(ZH_WH)) {
    if (m[0] === '哪' && s.slice(m.index, m.index + 2) === '哪怕') continue; // "even if"
    if (m[0] === '多少' && /^[有会會]/u.test(s.slice(m.index + 2))) continue; // "more or less"
    if (ZH_AFTER_NOT_QUESTION.test(s.slice(m.index + m[0].length))) continue;
    if (ZH_BEFORE_NOT_QUESTION.test(s.slice(0, m.index))) continue;
    return true;
  }
  if (ZH_A_NOT_A.test(s)) return true;
  const fin = ZH_FINAL.exec(s);
  if (fin) {
    const ch = fin[0][0]!;
    if (ch === '么' || ch === '麼') {
      if (!/[什怎那这這多要]$/u.test(s.slice(0, fin.index))) return true;
    } else if (ch === '呢') {
      if (!ZH_PROGRESSIVE.test(s)) return true;
    } else return true;
  }
  return JA_QUESTION.test(s) || KO_QUESTION.test(s);
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

function expandEnglish(w: string): string {
  if (!w.includes("'")) return w;
  return w
    .replace(/^(can)'t$/u, '$1 not')
    .replace(/^won't$/u, 'will not')
    .replace(/^(\p{L}+)n't$/u, '$1 not')
    .replace(/^(what|when|where|who|how|why|which|it|that|there|wen)'s$/u, '$1 is')
    .replace(/^(\p{L}+)'(re|ll|ve|d|m)$/u, (_m, a: string, b: string) => `${a} ${({ re: 'are', ll: 'will', ve: 'have', d: 'would', m: 'am' } as Record<string, string>)[b]}`);
}

function clauseWords(clause: string): { words: string[]; orig: string[] } {
  const orig: string[] = [];
  for (const raw of clause.split(/[^\p{L}\p{N}\p{M}'$#-]+/u)) {
    const t = raw.replace(/^['-]+|['-]+$/gu, '');
    if (!t) continue;
    for (const part of expandEnglish(t.toLowerCase()).split(' ')) orig.push(part === t.toLowerCase() ? t : part);
  }
  const words = orig.map((w) => w.toLowerCase().replace(/^[$#]/u, ''));
  // Greetings, vocatives and discourse fillers before the question proper ("gm team, when …").
  let k = 0;
  while (k < words.length - 1 && EN_FILLERS.has(words[k]!)) k++;
  return { words: words.slice(k), orig: orig.slice(k) };
}

/** True when a chat message asks a question, in any of the supported languages. */
export function isQuestion(text: string): boolean {
  if (!text) return false;
  let s = text;
  if (s.includes('`')) s = s.replace(CODE_RE, ' ');
  if (/https?:|www\.|t\.me\//iu.test(s)) s = s.replace(URL_RE, ' ');
  if (s.includes('@') || s.includes('<')) s = s.replace(MENTION_RE, ' ');
  if (!CONTENT.test(s)) return false;
  if (QMARK_AT_END_OF_WORD.test(s) || INVERTED_QMARK.test(s)) return true;
  s = s.normalize('NFKC').replace(/\p{Cf}/gu, '').replace(/[\u2018\u2019\u02bc]/gu, "'");
  if (QMARK_AT_END_OF_WORD.test(s)) return true; // compatibility forms (small/vertical ?) after NFKC
  for (const sentence of s.split(/[.!。！…\n;؛]+/u)) {
    if (!CONTENT.test(sentence)) continue;
    if (cjkSentence(sentence)) return true;
    const clauses = sentence.split(/[,，、،:：]+/u).filter((c) => CONTENT.test(c));
    const all = clauseWords(sentence);
    const lower = all.words.join(' ');
    if (EN_INDIRECT.test(lower) || ES_PHRASES.test(lower) || RU_PHRASES.test(` ${sentence.toLowerCase()} `)) return true;
    if (turkishSentence(all.words, lower) || vietnameseSentence(all.words, lower)) return true;
    let prev: string[] | null = null;
    for (const [ci, clause] of clauses.entries()) {
      // A sentence without commas is its own only clause: its words are already split (pure function, same result).
      const { words, orig } = clause === sentence ? all : clauseWords(clause);
      const isLast = ci === clauses.length - 1;
      if (englishClause(words, orig, isLast, ci)) return true;
      if (spanishClause(words, clauses.length === 1)) return true;
      if (russianClause(words, isLast, prev)) return true;
      if (arabicClause(words)) return true;
      if (otherClause(words, isLast)) return true;
      prev = clause.toLowerCase().split(/[^\p{L}\p{N}-]+/u).filter(Boolean);
    }
  }
  return false;
}
