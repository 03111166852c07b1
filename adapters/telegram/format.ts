/**
 * Outgoing text for Telegram. Formatting travels as `entities` (UTF-16 offsets) rather than parse_mode markup,
 * so user text inside a message can never break the markup: there is nothing to escape.
 */
import type { MessageEntity } from '@telegraf/types';

/** Telegram's limit on one message's text, counted after formatting is removed. */
export const MAX_MESSAGE_CHARS = 4096;

/** Plain text plus formatting entities, as sendMessage takes them. */
export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

/** Plain text: sent as is, nothing interpreted. */
export function plainText(text: string): FormattedText {
  return { text, entities: [] };
}

const LINK_SCHEMES = /^(https?:\/\/|tg:\/\/|mailto:)/i;
/** How far back a closer looks for its opener: keeps the parse linear on hostile input. */
const MAX_LOOKBACK = 64;

const isWord = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);
const isSpace = (c: string | undefined) => c === undefined || /\s/.test(c);

type Delim = '**' | '_' | '[';
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'delim'; delim: Delim; text: string; canOpen: boolean; canClose: boolean; pair?: number; used?: boolean }
  | { kind: 'linkEnd'; text: string; url: string; pair?: number; used?: boolean };

/** Index of the next `ch` at or after each position (or -1), computed once so lookups stay linear. */
function nextIndex(src: string, ch: string): Int32Array {
  const next = new Int32Array(src.length + 1).fill(-1);
  for (let i = src.length - 1; i >= 0; i--) next[i] = src[i] === ch ? i : next[i + 1]!;
  return next;
}

/**
 * Townhall's markdown subset -> entities: **bold**, _italic_, [text](url), `code`, and `\` escapes.
 * Anything unmatched stays literal text, so no input can produce a broken message. Linear time: a delimiter
 * stack (as CommonMark parsers use) instead of backtracking.
 */
export function renderMarkdown(src: string): FormattedText {
  const nextTick = nextIndex(src, '`');
  const nextParen = nextIndex(src, ')');
  const nodes: Node[] = [];
  let text = '';
  const flush = () => {
    if (text) nodes.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < src.length; ) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < src.length && '\\*_[]()`'.includes(src[i + 1]!)) {
      text += src[i + 1];
      i += 2;
    } else if (c === '`') {
      const close = nextTick[i + 1] ?? -1;
      if (close > i + 1) {
        flush();
        nodes.push({ kind: 'code', text: src.slice(i + 1, close) });
        i = close + 1;
      } else {
        text += c;
        i++;
      }
    } else if (c === '*' && src[i + 1] === '*') {
      flush();
      nodes.push({ kind: 'delim', delim: '**', text: '**', canOpen: !isSpace(src[i + 2]), canClose: !isSpace(src[i - 1]) });
      i += 2;
    } else if (c === '_') {
      flush();
      // "snake_case_name" is not italic: an underscore opens or closes only at a word edge.
      nodes.push({ kind: 'delim', delim: '_', text: '_', canOpen: !isWord(src[i - 1]) && !isSpace(src[i + 1]), canClose: !isSpace(src[i - 1]) && !isWord(src[i + 1]) });
      i++;
    } else if (c === '[') {
      flush();
      nodes.push({ kind: 'delim', delim: '[', text: '[', canOpen: true, canClose: false });
      i++;
    } else if (c === ']' && src[i + 1] === '(' && (nextParen[i + 2] ?? -1) > 0) {
      const close = nextParen[i + 2]!;
      const url = src.slice(i + 2, close).trim();
      if (LINK_SCHEMES.test(url) && !/\s/.test(url)) {
        flush();
        nodes.push({ kind: 'linkEnd', text: src.slice(i, close + 1), url });
        i = close + 1;
      } else {
        text += c;
        i++;
      }
    } else {
      text += c;
      i++;
    }
  }
  flush();

  // Pair closers with the nearest matching opener; openers skipped over stay literal.
  const stack: number[] = [];
  nodes.forEach((node, idx) => {
    if (node.kind === 'code' || node.kind === 'text') return;
    const want: Delim = node.kind === 'linkEnd' ? '[' : node.delim;
    const closes = node.kind === 'linkEnd' || (node.delim !== '[' && node.canClose);
    if (closes) {
      for (let s = stack.length - 1; s >= Math.max(0, stack.length - MAX_LOOKBACK); s--) {
        const opener = nodes[stack[s]!] as Extract<Node, { kind: 'delim' }>;
        // Adjacent markers ("****") would make an empty entity: leave them as text.
        if (opener.delim !== want || stack[s]! === idx - 1) continue;
        opener.pair = idx;
        opener.used = true;
        node.pair = stack[s]!;
        node.used = true;
        stack.length = s;
        return;
      }
    }
    if (node.kind === 'delim' && node.canOpen) stack.push(idx);
  });

  let out = '';
  const entities: MessageEntity[] = [];
  const starts = new Map<number, number>();
  const depth = { n: 0 };
  const codes: MessageEntity[] = [];
  nodes.forEach((node, idx) => {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'code') {
      // Telegram allows no entity around or inside code: code only outside bold, italic and links.
      if (depth.n === 0) codes.push({ type: 'code', offset: out.length, length: node.text.length });
      out += node.text;
    } else if (!node.used) out += node.text;
    else if (node.kind === 'delim' && node.pair! > idx) {
      starts.set(idx, out.length);
      depth.n++;
    } else {
      depth.n--;
      const start = starts.get(node.pair!)!;
      const length = out.length - start;
      if (length > 0) {
        const opener = nodes[node.pair!] as Extract<Node, { kind: 'delim' }>;
        if (node.kind === 'linkEnd') entities.push({ type: 'text_link', offset: start, length, url: node.url });
        else entities.push({ type: opener.delim === '**' ? 'bold' : 'italic', offset: start, length });
      }
    }
  });
  return { text: out, entities: sortEntities([...entities, ...codes]) };
}

function sortEntities(list: MessageEntity[]): MessageEntity[] {
  return list.sort((a, b) => a.offset - b.offset || b.length - a.length);
}

/** HTML-escapes text for parse_mode HTML (for callers that must use markup; the adapter itself sends entities). */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escapes every character MarkdownV2 reserves, for callers that must use parse_mode MarkdownV2. */
export function escapeMarkdownV2(s: string): string {
  return s.replace(/[\\_*[\]()~`>#+\-=|{}.!]/g, (c) => `\\${c}`);
}

/** Where a chunk may end, best first: paragraph, line, sentence, word. */
const BREAKS: RegExp[] = [/\n\s*\n/g, /\n/g, /[.!?…](?=\s)/g, /\s/g];

/** The best place to cut `text` at or before `max`: the end of the last paragraph, line, sentence or word in the second half. */
function cutPoint(text: string, from: number, max: number): number {
  const limit = from + max;
  const floor = from + Math.floor(max / 2);
  const window = text.slice(from, limit + 1);
  for (const re of BREAKS) {
    let best = -1;
    re.lastIndex = 0;
    for (let m = re.exec(window); m; m = re.exec(window)) {
      // Sentence marks stay with their sentence; white space is dropped at the cut.
      const end = from + m.index + (re === BREAKS[2] ? m[0].length : 0);
      if (end <= limit && end >= floor) best = end;
    }
    if (best > from) return best;
  }
  // No border: cut hard, but never between the halves of a surrogate pair.
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/** Splits a long text into messages of at most `max` UTF-16 units on paragraph, sentence or word borders; entities follow their text. */
export function splitFormatted(f: FormattedText, max = MAX_MESSAGE_CHARS): FormattedText[] {
  const out: FormattedText[] = [];
  const { text } = f;
  let start = 0;
  while (start < text.length) {
    // Leading white space would be trimmed by Telegram and shift every entity.
    while (start < text.length && /\s/.test(text[start]!)) start++;
    if (start >= text.length) break;
    let end = text.length - start <= max ? text.length : cutPoint(text, start, max);
    let chunkEnd = end;
    while (chunkEnd > start && /\s/.test(text[chunkEnd - 1]!)) chunkEnd--;
    if (chunkEnd <= start) {
      chunkEnd = Math.min(start + max, text.length);
      end = chunkEnd;
    }
    const entities: MessageEntity[] = [];
    for (const e of f.entities) {
      const s = Math.max(e.offset, start);
      const t = Math.min(e.offset + e.length, chunkEnd);
      if (t > s) entities.push({ ...e, offset: s - start, length: t - s });
    }
    out.push({ text: text.slice(start, chunkEnd), entities });
    start = end;
  }
  return out;
}

/** Shortens a text to one message (for edits, which cannot be split), ending with an ellipsis. */
export function truncateFormatted(f: FormattedText, max = MAX_MESSAGE_CHARS): FormattedText {
  if (f.text.length <= max) return f;
  let cut = max - 1;
  const code = f.text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  const entities = f.entities.filter((e) => e.offset < cut).map((e) => ({ ...e, length: Math.min(e.length, cut - e.offset) }));
  return { text: `${f.text.slice(0, cut)}…`, entities };
}
