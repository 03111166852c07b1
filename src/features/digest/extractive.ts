/**
 * Extractive chat summarizer that needs no network or model: picks the few most central, informative utterances,
 * cleans them (attachments, emoticons, fillers) and rewrites first person into the speaker's name so the result
 * reads like a summary ("Amanda: I baked cookies" -> "Amanda baked cookies."). Lead-3 and Longest-3 baselines share
 * the same output normalization so comparisons measure selection, not formatting.
 */
import { rougeTokenize } from './rouge.js';

/** One chat line: who said it and what. */
export interface ChatLine {
  user: string;
  text: string;
}

/** Knobs for the extractive summarizer; the defaults were tuned on SAMSum validation and DialogSum dev. */
export interface ExtractiveOptions {
  /** Word budget for the whole summary; the first pick is always kept even if longer (default 40). */
  maxWords?: number;
  /** Most utterances to keep (default 3). */
  maxUtterances?: number;
  /** Rewrite first person into the speaker's name (default true). */
  thirdPerson?: boolean;
  /** Keep at most this many words of each picked utterance, cutting at a sentence/clause end when possible (default 22). */
  maxWordsPerUtterance?: number;
  /** Render questions as reported speech ("Anna asks Ben if ..."); off by default: it reads well but costs ROUGE. */
  reportQuestions?: boolean;
}

const DEFAULTS: Required<ExtractiveOptions> = {
  maxWords: 40,
  maxUtterances: 3,
  thirdPerson: true,
  maxWordsPerUtterance: 22,
  reportQuestions: false,
};

// Hedges and discourse markers: removing them shortens output without losing content.
const HEDGE_RE = /\b(?:just|really|actually|basically|literally|totally|honestly|you know|i mean)\b,?\s*/gi;

// Function words and chat filler: they carry no topic, so they must not make an utterance look central.
const STOP = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there these ' +
    'they this those through to too under until up very was we were what when where which while who whom why will with would ' +
    'you your yours yourself yourselves ok okay yeah yes yep yup nope hi hey hello bye thanks thank thx lol haha hahaha xd ' +
    'oh ah well sure right really like know think get got go going gonna wanna im ive ill dont didnt cant wont its thats ' +
    'also one would let lets much many maybe still even though u ur pls please good great fine cool nice wow omg'
  ).split(' '),
);
const STOP_STEMS = new Set([...STOP].map((w) => rougeTokenize(w)[0] ?? w));

// Utterances made only of these add nothing to a summary.
const FILLER_RE =
  /^(?:(?:ok(?:ay)?|k|yeah|yes|yep|yup|no|nope|sure|right|thanks?|thank you|thx|ty|lol|haha+|hehe+|xd+|omg|wow|cool|nice|great|fine|good|hi|hey|hello|bye|see you|see ya|cu|cya|np|no problem|you'?re welcome|alright|all right|oh|ah|hm+|mhm|uh|ugh|awesome|perfect|sounds good|of course|me too|why|what|really|indeed|exactly|true)\b[\s!.,?]*)+$/i;

/** Parses `Speaker: text` lines (SAMSum, DialogSum, exports); a line without a speaker continues the previous one. */
export function parseDialogue(dialogue: string): ChatLine[] {
  const out: ChatLine[] = [];
  for (const raw of dialogue.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^([^:]{1,60}?):\s*(.*)$/.exec(line);
    if (m && m[1] !== undefined && m[2] !== undefined && !/^https?$/i.test(m[1])) {
      out.push({ user: m[1].trim(), text: m[2] });
    } else {
      const last = out[out.length - 1];
      if (last) last.text += ' ' + line;
      else out.push({ user: '', text: line });
    }
  }
  return out;
}

/** Removes attachment placeholders, URLs, emoticons/emoji and repeated punctuation; collapses whitespace. */
export function cleanText(text: string): string {
  return text
    .replace(/<[a-z_ ]*(?:file|photo|video|gif|link|picture|image)[a-z_: ]*>/gi, ' ')
    .replace(/https?:\/\/\S+/gi, ' ')
    .replace(/\p{Extended_Pictographic}|[\u{1F1E6}-\u{1F1FF}]|\u{FE0F}|\u{200D}/gu, ' ')
    .replace(/(^|\s)(?:[:;=8xX][-'^o]?[()[\]DPpOo3*|\\/@$]+|[()[\]]+[-'^]?[:;=]|<3+|\^\^|\^_\^|o_O|O_o|xD+|XD+|:'\(|T_T)(?=\s|$|[.,!?])/g, '$1 ')
    .replace(/\((?:[^()\p{L}\p{N}]){1,12}\)/gu, ' ') // kaomoji such as (＾▽＾)
    .replace(/([!?.])\1+/g, '$1')
    .replace(/([!?])\.+/g, '$1')
    .replace(/([A-Za-z]) ' ([A-Za-z])/g, "$1'$2") // "I ' Ve", "haven ' t" in some exports
    .replace(/\s+/g, ' ')
    .replace(/ ([.,!?;:])(?=\s|$)/g, '$1')
    .trim();
}

// Leading interjections add words without content; strip them from the rendered sentence.
const LEAD_FILLER_RE =
  /^(?:(?:ok(?:ay)?|yeah|yes|yep|no|well|oh|ah|so|hmm+|hm|haha+|lol|um+|uh|wow|sure|right|alright|hey|hi|hello|dear|honey|sorry|but|and)\b[\s,.!:-]*)+/i;
const TRAIL_FILLER_RE = /(?:[\s,]+(?:haha+|hehe+|lol|xd+|:\)|;\)|:d))+[\s.!]*$/i;

// Present-tense verbs for "I <verb>" -> "<Name> <verb>s"; anything not listed (past tense, modals, adverbs) stays.
const VERB_3SG: Record<string, string> = {
  am: 'is', have: 'has', do: 'does', go: 'goes', want: 'wants', need: 'needs', think: 'thinks', know: 'knows',
  like: 'likes', love: 'loves', hate: 'hates', hope: 'hopes', feel: 'feels', guess: 'guesses', see: 'sees',
  mean: 'means', agree: 'agrees', prefer: 'prefers', plan: 'plans', work: 'works', live: 'lives', get: 'gets',
  buy: 'buys', take: 'takes', make: 'makes', remember: 'remembers', forget: 'forgets', wish: 'wishes',
  miss: 'misses', believe: 'believes', understand: 'understands', suppose: 'supposes', bet: 'bets', say: 'says',
  try: 'tries', play: 'plays', watch: 'watches', study: 'studies', look: 'looks', come: 'comes', leave: 'leaves',
  wonder: 'wonders', promise: 'promises', tend: 'tends', enjoy: 'enjoys', send: 'sends', bring: 'brings',
  call: 'calls', pay: 'pays', eat: 'eats', drink: 'drinks', read: 'reads', write: 'writes', ask: 'asks',
  wanna: 'wants to', gotta: 'has to',
  "don't": "doesn't", dont: "doesn't", "haven't": "hasn't", havent: "hasn't",
};

function capitalize(s: string): string {
  return s.length > 0 ? (s[0] as string).toUpperCase() + s.slice(1) : s;
}

const SUBJ = '(you|i|we|they|he|she|it|this|that|there|[A-Z#][\\w#]*)';
const AUX = '(can|could|would|will|should|shall|may|might|must|are|is|was|were|have|has|had|am)';

/** Turns a direct question into reported speech ("Can you come?" -> "asks if you can come"); null when it is not one. */
export function questionToIndirect(sentence: string): string | null {
  const q = sentence.trim().replace(/\?+$/, '').trim();
  if (q === '') return null;
  let m = new RegExp(`^(?:do|does|did)\\s+${SUBJ}\\s+(.+)$`, 'i').exec(q);
  if (m) return `asks if ${m[1]} ${m[2]}`;
  m = new RegExp(`^${AUX}\\s+${SUBJ}\\s+(.+)$`, 'i').exec(q);
  if (m) return `asks if ${m[2]} ${(m[1] as string).toLowerCase()} ${m[3]}`;
  m = new RegExp(`^(what|where|when|why|who|which|how(?:\\s+(?:much|many|long|often|about))?)\\s+(?:do|does|did)\\s+${SUBJ}\\s+(.+)$`, 'i').exec(q);
  if (m) return `asks ${(m[1] as string).toLowerCase()} ${m[2]} ${m[3]}`;
  m = new RegExp(`^(what|where|when|why|who|which|how(?:\\s+(?:much|many|long|often))?)\\s+${AUX}\\s+${SUBJ}\\s+(.+)$`, 'i').exec(q);
  if (m) return `asks ${(m[1] as string).toLowerCase()} ${m[3]} ${(m[2] as string).toLowerCase()} ${m[4]}`;
  m = /^(what|where|when|why|who|which|how)\b(.*)$/i.exec(q);
  if (m) return `asks ${(m[1] as string).toLowerCase()}${m[2]}`;
  return null;
}

// After these the verb stays bare ("can I go" -> "can Anna go", not "can Anna goes").
const BARE_AFTER = new Set(['do', 'does', 'did', 'can', 'could', 'will', 'would', 'should', 'shall', 'may', 'might', 'must', 'to', 'let', 'make', 'help', "don't", "didn't", "can't", "won't"]);

function wordBefore(str: string, offset: number): string {
  const m = /(\S+)\s*$/.exec(str.slice(Math.max(0, offset - 20), offset + 1));
  return (m?.[1] ?? '').toLowerCase().replace(/[^a-z']/g, '');
}

// "<subject> <verb>" with the verb agreeing with a third-person subject, unless an auxiliary precedes the subject.
function subjectVerb(subject: string, verb: string, before: string): string {
  if (BARE_AFTER.has(before)) return `${subject} ${verb}`;
  const v = verb.toLowerCase();
  // hasOwn: chat text can contain "constructor" and friends, which plain indexing would find on the prototype.
  return `${subject} ${Object.hasOwn(VERB_3SG, v) ? VERB_3SG[v] : verb}`;
}

/** Rewrites first person into `speaker` ("I'm" -> "Anna is", "my" -> "Anna's"); `addressee` replaces "you" when given. */
export function toThirdPerson(text: string, speaker: string, addressee?: string): string {
  if (speaker === '') return text;
  const S = speaker;
  let t = ' ' + text.replace(/[’‘`]/g, "'") + ' ';
  t = t
    .replace(/([\s,(])i'?m\s+not\b/gi, `$1${S} is not`)
    .replace(/([\s,(])(?:i'm|im|i\s+am)\b/gi, `$1${S} is`)
    .replace(/([\s,(])am\s+i\b/gi, `$1is ${S}`)
    .replace(/([\s,(])i(?:'ll|\s+will)\b/gi, `$1${S} will`)
    .replace(/([\s,(])i've\b/gi, `$1${S} has`)
    .replace(/([\s,(])i'd\b/gi, `$1${S} would`)
    .replace(/([\s,(])i\s+([a-z']+)/gi, (_m, pre: string, verb: string, off: number, str: string) => pre + subjectVerb(S, verb, wordBefore(str, off)))
    .replace(/([\s,(])i([\s,.!?)])/gi, `$1${S}$2`)
    .replace(/([\s,(])(?:my|mine)\b/gi, `$1${S}'s`)
    // Emphatic "myself" adds nothing once the name is there.
    .replace(/\s+myself\b/gi, '')
    .replace(/([\s,(])me\b/gi, `$1${S}`);
  if (addressee !== undefined && addressee !== '') {
    const A = addressee;
    const both = `${S} and ${A}`;
    t = t
      .replace(/([\s,(])thank\s+you\b/gi, '$1thanks')
      // "we" names both sides: summaries say "Anna and Ben will meet", and names are what readers scan for.
      .replace(/([\s,(])we(?:'re|\s+are)\b/gi, `$1${both} are`)
      .replace(/([\s,(])we've\b/gi, `$1${both} have`)
      .replace(/([\s,(])we'll\b/gi, `$1${both} will`)
      .replace(/([\s,(])we'd\b/gi, `$1${both} would`)
      .replace(/([\s,(])we\b/gi, `$1${both}`)
      .replace(/([\s,(])(are|were|have|do)\s+you\b/gi, (_m, pre: string, aux: string) => {
        const v = ({ are: 'is', were: 'was', have: 'has', do: 'does' } as Record<string, string>)[aux.toLowerCase()] ?? aux;
        return `${pre}${aux[0] === aux[0]?.toUpperCase() ? capitalize(v) : v} ${A}`;
      })
      .replace(/([\s,(])you(?:'re|\s+are)\b/gi, `$1${A} is`)
      .replace(/([\s,(])you\s+were\b/gi, `$1${A} was`)
      .replace(/([\s,(])you'll\b/gi, `$1${A} will`)
      .replace(/([\s,(])you've\b/gi, `$1${A} has`)
      .replace(/([\s,(])you'd\b/gi, `$1${A} would`)
      .replace(/([\s,(])you\s+([a-z']+)/gi, (_m, pre: string, verb: string, off: number, str: string) =>
        pre + (verb.toLowerCase() === 'am' ? `${A} ${verb}` : subjectVerb(A, verb, wordBefore(str, off))))
      .replace(/([\s,(])yours\b/gi, `$1${A}'s`)
      .replace(/([\s,(])your\b/gi, `$1${A}'s`)
      .replace(/([\s,(])(?:you|yourself)\b/gi, `$1${A}`);
  }
  return t.trim();
}

function words(s: string): string[] {
  return s.split(/\s+/).filter((w) => w !== '');
}

// Keeps an utterance short: the longest prefix ending on a sentence/clause boundary within the budget, else a hard cut.
function clip(text: string, maxWords: number): string {
  const w = words(text);
  if (w.length <= maxWords) return text;
  let cut = -1;
  for (let i = Math.min(maxWords, w.length) - 1; i >= Math.floor(maxWords / 3); i--) {
    if (/[.!?;]$/.test(w[i] as string)) {
      cut = i;
      break;
    }
  }
  if (cut < 0) {
    for (let i = Math.min(maxWords, w.length) - 1; i >= Math.floor(maxWords / 2); i--) {
      if (/,$/.test(w[i] as string)) {
        cut = i;
        break;
      }
    }
  }
  return cut >= 0 ? w.slice(0, cut + 1).join(' ').replace(/[,;]$/, '.') : w.slice(0, maxWords).join(' ');
}

/** Renders one utterance in the shared output form: cleaned, fillers trimmed, questions reported, first person rewritten. */
export function renderUtterance(
  line: ChatLine,
  opts: { thirdPerson?: boolean; addressee?: string; maxWords?: number; reportQuestions?: boolean } = {},
): string {
  let t = cleanText(line.text).replace(LEAD_FILLER_RE, '').replace(TRAIL_FILLER_RE, '').trim();
  if (t === '') return '';
  t = t.replace(HEDGE_RE, '').trim();
  if (t === '') return '';
  if (opts.maxWords !== undefined) t = clip(t, opts.maxWords);
  const third = opts.thirdPerson ?? true;
  const S = line.user;
  if (third && S !== '' && (opts.reportQuestions ?? false)) {
    // "Can you come?" -> "Anna asks if Ben can come." Reads like a summary and names both people.
    const sentences = t.match(/[^.!?]+[.!?]*/g) ?? [t];
    t = sentences
      .map((sen) => {
        if (!/\?\s*$/.test(sen)) return sen.trim();
        const ind = questionToIndirect(sen);
        if (ind === null) return sen.trim();
        const who = opts.addressee !== undefined && opts.addressee !== '' ? `${S} ${ind.replace(/^asks/, `asks ${opts.addressee}`)}` : `${S} ${ind}`;
        return who + '.';
      })
      .join(' ');
  }
  if (third) t = toThirdPerson(t, S, opts.addressee);
  t = capitalize(t);
  if (!/[.!?]$/.test(t)) t += '.';
  // When the rewrite already starts with the speaker's name, a "Name:" prefix would only repeat it.
  if (S === '' || t.startsWith(S + ' ') || t.startsWith(S + "'")) return t;
  return `${S}: ${t}`;
}

// The other participant a line is most likely addressed to: in a two-person chat the other one, else the nearest
// earlier other speaker (or the next one for the opening lines). Linear, so long windows in the LLM fallback stay cheap.
function addressees(lines: readonly ChatLine[]): (string | undefined)[] {
  const speakers = [...new Set(lines.map((l) => l.user).filter((u) => u !== ''))];
  if (speakers.length === 2) return lines.map((l) => (speakers[0] === l.user ? speakers[1] : speakers[0]));
  const out: (string | undefined)[] = new Array<string | undefined>(lines.length).fill(undefined);
  for (let i = 1; i < lines.length; i++) {
    const prev = lines[i - 1] as ChatLine;
    out[i] = prev.user !== (lines[i] as ChatLine).user ? prev.user : out[i - 1];
  }
  let next: string | undefined;
  for (let i = lines.length - 2; i >= 0; i--) {
    const nxt = lines[i + 1] as ChatLine;
    if (nxt.user !== (lines[i] as ChatLine).user) next = nxt.user;
    if (out[i] === undefined) out[i] = next;
  }
  return out;
}

function joinRendered(lines: readonly ChatLine[], picks: readonly number[], o: Required<ExtractiveOptions>): string {
  const adr = addressees(lines);
  return picks
    .map((i) => {
      const opts: { thirdPerson: boolean; maxWords: number; addressee?: string; reportQuestions: boolean } = {
        reportQuestions: o.reportQuestions,
        thirdPerson: o.thirdPerson,
        maxWords: o.maxWordsPerUtterance,
      };
      const a = adr[i];
      if (a !== undefined) opts.addressee = a;
      return renderUtterance(lines[i] as ChatLine, opts);
    })
    .filter((s) => s !== '')
    .join(' ');
}

function isFiller(text: string): boolean {
  const t = cleanText(text);
  return t === '' || FILLER_RE.test(t);
}

/** Lead-3 baseline: the first three non-empty utterances, in the shared output normalization. */
export function lead3(lines: readonly ChatLine[], opts: ExtractiveOptions = {}): string {
  const o = { ...DEFAULTS, maxWordsPerUtterance: 1000, ...opts };
  const picks: number[] = [];
  for (let i = 0; i < lines.length && picks.length < 3; i++) if (cleanText((lines[i] as ChatLine).text) !== '') picks.push(i);
  return joinRendered(lines, picks, o);
}

/** Longest-3 baseline: the three longest utterances (by words), in dialogue order, in the shared output normalization. */
export function longest3(lines: readonly ChatLine[], opts: ExtractiveOptions = {}): string {
  const o = { ...DEFAULTS, maxWordsPerUtterance: 1000, ...opts };
  const order = lines
    .map((l, i) => ({ i, n: words(cleanText(l.text)).length }))
    .sort((a, b) => b.n - a.n || a.i - b.i)
    .slice(0, 3)
    .map((x) => x.i)
    .sort((a, b) => a - b);
  return joinRendered(lines, order, o);
}

interface Scored {
  i: number;
  stems: Set<string>;
  len: number;
  score: number;
}

/** Extractive summary of a chat: central, informative utterances under a word budget, rendered in third person. */
export function summarizeExtractive(lines: readonly ChatLine[], opts: ExtractiveOptions = {}): string {
  const o: Required<ExtractiveOptions> = { ...DEFAULTS };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  if (lines.length === 0) return '';

  // Content stems per utterance and their document frequency across the chat.
  const perLine = lines.map((l) => {
    const clean = cleanText(l.text);
    const toks = rougeTokenize(clean);
    const stems = new Set(toks.filter((t) => !STOP_STEMS.has(t) && !STOP.has(t) && t.length > 1));
    return { clean, toks, stems };
  });
  const df = new Map<string, number>();
  for (const p of perLine) for (const s of p.stems) df.set(s, (df.get(s) ?? 0) + 1);

  const scored: Scored[] = [];
  perLine.forEach((p, i) => {
    const text = (lines[i] as ChatLine).text;
    if (p.toks.length === 0 || isFiller(text)) return;
    let s = 0;
    for (const w of p.stems) {
      // Words several lines repeat are the topic (log keeps one chatty word from dominating); a rare content word still
      // counts a little as new information, and numbers (times, prices, dates) are what summaries keep.
      s += 0.2 + Math.log(df.get(w) ?? 1) + (/^\d/.test(w) ? 0.5 : 0);
    }
    // Sub-linear length normalisation: long rants should not win on length alone, full sentences should not lose.
    const len = p.toks.length;
    s = s / Math.pow(Math.max(len, 4), 0.45);
    // Opening lines usually state the topic in chat (why Lead-3 is a strong baseline).
    s *= 1 + 3 / (1 + i);
    scored.push({ i, stems: p.stems, len, score: s });
  });
  if (scored.length === 0) return lead3(lines, o);

  // Greedy selection with redundancy penalty (MMR-like) under the word budget.
  const picked: Scored[] = [];
  const covered = new Set<string>();
  let used = 0;
  // Only the best few dozen lines can win; capping the pool keeps selection linear for multi-thousand-line windows.
  const pool = [...scored].sort((a, b) => b.score - a.score).slice(0, 64);
  while (pool.length > 0 && picked.length < o.maxUtterances) {
    let best = -1;
    let bestVal = -Infinity;
    for (let k = 0; k < pool.length; k++) {
      const c = pool[k] as Scored;
      let overlap = 0;
      for (const w of c.stems) if (covered.has(w)) overlap++;
      // A line whose content words are all already covered is worth nothing more.
      const v = c.score * (1 - (c.stems.size === 0 ? 0 : overlap / c.stems.size));
      if (v > bestVal) {
        bestVal = v;
        best = k;
      }
    }
    const c = pool.splice(best, 1)[0] as Scored;
    const cost = Math.min(c.len, o.maxWordsPerUtterance);
    if (picked.length > 0 && used + cost > o.maxWords) continue;
    picked.push(c);
    used += cost;
    for (const w of c.stems) covered.add(w);
  }
  const order = picked.map((p) => p.i).sort((a, b) => a - b);
  return joinRendered(lines, order, o);
}
