/** The Bot API's text formatting: parse_mode HTML / MarkdownV2 / Markdown into text + entities, with its errors. */
import type { MessageEntity } from '@telegraf/types';

/** A formatted text as Telegram stores it: plain text and UTF-16 offset entities. */
export interface Formatted {
  text: string;
  entities: MessageEntity[];
}

/** Thrown on bad markup; the server answers `400 Bad Request: can't parse entities: <message>`. */
export class ParseEntitiesError extends Error {
  override name = 'ParseEntitiesError';
}

const byteOffset = (s: string, i: number) => Buffer.byteLength(s.slice(0, i));

/** Parses `text` according to parse_mode (undefined = plain). */
export function parseWithMode(text: string, mode: string | undefined): Formatted {
  if (mode === undefined || mode === '') return { text, entities: [] };
  switch (mode.toLowerCase()) {
    case 'html':
      return parseHtml(text);
    case 'markdownv2':
      return parseMarkdownV2(text);
    case 'markdown':
      return parseMarkdownLegacy(text);
    default:
      throw new ParseEntitiesError(`Unsupported parse_mode`);
  }
}

type Open = { type: MessageEntity['type']; start: number; tag: string; url?: string; language?: string; userId?: number; src: number };

function entityOf(o: Open, end: number): MessageEntity | null {
  const length = end - o.start;
  if (length <= 0) return null;
  if (o.type === 'text_link') return { type: 'text_link', offset: o.start, length, url: o.url ?? '' };
  if (o.type === 'text_mention') return { type: 'text_mention', offset: o.start, length, user: { id: o.userId ?? 0, is_bot: false, first_name: '' } };
  if (o.type === 'pre') return o.language ? { type: 'pre', offset: o.start, length, language: o.language } : { type: 'pre', offset: o.start, length };
  return { type: o.type, offset: o.start, length } as MessageEntity;
}

const HTML_TAGS: Record<string, MessageEntity['type']> = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline',
  s: 'strikethrough', strike: 'strikethrough', del: 'strikethrough', 'tg-spoiler': 'spoiler',
  code: 'code', pre: 'pre', a: 'text_link', blockquote: 'blockquote', span: 'spoiler', 'tg-emoji': 'custom_emoji',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** parse_mode=HTML: the tag set the Bot API documents; unknown or unbalanced tags are errors, as in Telegram. */
export function parseHtml(src: string): Formatted {
  let out = '';
  const stack: Open[] = [];
  const entities: MessageEntity[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '&') {
      const m = /^&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/.exec(src.slice(i, i + 12));
      if (m) {
        const name = m[1]!;
        let decoded: string | undefined;
        if (name.startsWith('#x')) decoded = String.fromCodePoint(parseInt(name.slice(2), 16));
        else if (name.startsWith('#')) decoded = String.fromCodePoint(parseInt(name.slice(1), 10));
        else decoded = NAMED_ENTITIES[name.toLowerCase()];
        if (decoded !== undefined) {
          out += decoded;
          i += m[0].length;
          continue;
        }
      }
      out += c;
      i++;
      continue;
    }
    if (c !== '<') {
      out += c;
      i++;
      continue;
    }
    const close = src.indexOf('>', i);
    if (close < 0) throw new ParseEntitiesError(`Unclosed start tag at byte offset ${byteOffset(src, i)}`);
    const inner = src.slice(i + 1, close);
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim().toLowerCase();
      const top = stack.pop();
      if (!top) throw new ParseEntitiesError(`Unexpected end tag at byte offset ${byteOffset(src, i)}`);
      if (top.tag !== name) {
        throw new ParseEntitiesError(`Unmatched end tag at byte offset ${byteOffset(src, i)}, expected "</${top.tag}>", found "</${name}>"`);
      }
      const e = entityOf(top, out.length);
      if (e) entities.push(e);
      i = close + 1;
      continue;
    }
    const m = /^([a-zA-Z][a-zA-Z0-9-]*)\s*(.*)$/s.exec(inner);
    const name = m?.[1]?.toLowerCase() ?? '';
    const type = HTML_TAGS[name];
    if (!m || !type) throw new ParseEntitiesError(`Unsupported start tag "${name}" at byte offset ${byteOffset(src, i)}`);
    const attrs = m[2] ?? '';
    const attr = (a: string) => new RegExp(`${a}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
    const open: Open = { type, start: out.length, tag: name, src: i };
    if (name === 'a') {
      const href = attr('href');
      const url = decodeHtml(href?.[1] ?? href?.[2] ?? href?.[3] ?? '');
      const user = /^tg:\/\/user\?id=(\d+)$/.exec(url);
      if (user) {
        open.type = 'text_mention';
        open.userId = Number(user[1]);
      } else {
        open.url = url;
      }
    } else if (name === 'span') {
      const cls = attr('class');
      if ((cls?.[1] ?? cls?.[2] ?? cls?.[3]) !== 'tg-spoiler') throw new ParseEntitiesError(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(src, i)}`);
    } else if (name === 'code') {
      const parent = stack[stack.length - 1];
      const cls = attr('class');
      const lang = /^language-(.+)$/.exec(cls?.[1] ?? cls?.[2] ?? cls?.[3] ?? '')?.[1];
      if (parent?.tag === 'pre' && lang) parent.language = lang;
      if (parent?.tag === 'pre') open.type = 'code'; // code inside pre only carries the language
    } else if (name === 'blockquote' && /\bexpandable\b/i.test(attrs)) {
      open.type = 'expandable_blockquote' as MessageEntity['type']; // Bot API 7.3; newer than these typings
    }
    stack.push(open);
    i = close + 1;
  }
  const open = stack.pop();
  if (open) throw new ParseEntitiesError(`Can't find end tag corresponding to start tag "${open.tag}"`);
  // code nested in pre is not a separate entity in Telegram.
  const pres = entities.filter((e) => e.type === 'pre');
  return {
    text: out,
    entities: sortEntities(entities.filter((e) => !(e.type === 'code' && pres.some((p) => p.offset <= e.offset && p.offset + p.length >= e.offset + e.length)))),
  };
}

function decodeHtml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot);/gi, (_, n: string) => NAMED_ENTITIES[n.toLowerCase()] ?? _);
}

const MDV2_RESERVED = new Set('_*[]()~`>#+-=|{}.!'.split(''));
const MDV2_NAMES: Partial<Record<MessageEntity['type'], string>> = {
  bold: 'Bold', italic: 'Italic', underline: 'Underline', strikethrough: 'Strikethrough', spoiler: 'Spoiler', code: 'Code', pre: 'Pre', text_link: 'TextUrl',
};

/** parse_mode=MarkdownV2: every reserved character outside an entity must be escaped, or Telegram refuses the text. */
export function parseMarkdownV2(src: string): Formatted {
  let out = '';
  const stack: Open[] = [];
  const entities: MessageEntity[] = [];
  let i = 0;
  let quoteStart = -1;
  const toggle = (type: MessageEntity['type'], tag: string, width: number) => {
    const top = stack[stack.length - 1];
    if (top && top.type === type) {
      stack.pop();
      const e = entityOf(top, out.length);
      if (e) entities.push(e);
    } else if (stack.some((o) => o.type === type)) {
      throw new ParseEntitiesError(`Can't find end of ${MDV2_NAMES[type] ?? type} entity at byte offset ${byteOffset(src, stack.find((o) => o.type === type)!.src)}`);
    } else {
      stack.push({ type, start: out.length, tag, src: i });
    }
    i += width;
  };
  while (i < src.length) {
    const c = src[i]!;
    const atLineStart = i === 0 || src[i - 1] === '\n';
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) throw new ParseEntitiesError(`Character '\\' is reserved and must be escaped with the preceding '\\'`);
      out += n;
      i += 2;
      continue;
    }
    if (atLineStart && c === '>') {
      if (quoteStart < 0) quoteStart = out.length;
      i++;
      continue;
    }
    if (atLineStart && quoteStart >= 0 && c !== '>' && i > 0) {
      // The quote ended with the previous line (its newline is not part of the entity).
      const end = out.endsWith('\n') ? out.length - 1 : out.length;
      if (end > quoteStart) entities.push({ type: 'blockquote', offset: quoteStart, length: end - quoteStart });
      quoteStart = -1;
    }
    if (c === '`') {
      const pre = src.startsWith('```', i);
      const fence = pre ? '```' : '`';
      let j = i + fence.length;
      let language: string | undefined;
      if (pre) {
        const nl = src.indexOf('\n', j);
        const firstLine = nl >= 0 ? src.slice(j, nl) : '';
        if (nl >= 0 && /^[\w+#-]*$/.test(firstLine)) {
          if (firstLine) language = firstLine;
          j = nl + 1;
        }
      }
      const start = out.length;
      let closed = false;
      while (j < src.length) {
        if (src[j] === '\\' && j + 1 < src.length) {
          out += src[j + 1];
          j += 2;
          continue;
        }
        if (src.startsWith(fence, j)) {
          closed = true;
          break;
        }
        out += src[j];
        j++;
      }
      if (!closed) throw new ParseEntitiesError(`Can't find end of ${pre ? 'Pre' : 'Code'} entity at byte offset ${byteOffset(src, i)}`);
      if (out.length > start) entities.push(pre ? (language ? { type: 'pre', offset: start, length: out.length - start, language } : { type: 'pre', offset: start, length: out.length - start }) : { type: 'code', offset: start, length: out.length - start });
      i = j + fence.length;
      continue;
    }
    if (c === '*') {
      toggle('bold', '*', 1);
      continue;
    }
    if (c === '_') {
      if (src[i + 1] === '_') toggle('underline', '__', 2);
      else toggle('italic', '_', 1);
      continue;
    }
    if (c === '~') {
      toggle('strikethrough', '~', 1);
      continue;
    }
    if (c === '|' && src[i + 1] === '|') {
      toggle('spoiler', '||', 2);
      continue;
    }
    if (c === '[') {
      stack.push({ type: 'text_link', start: out.length, tag: '[', src: i });
      i++;
      continue;
    }
    if (c === ']') {
      const top = stack[stack.length - 1];
      if (!top || top.type !== 'text_link' || src[i + 1] !== '(') {
        throw new ParseEntitiesError(`Character ']' is reserved and must be escaped with the preceding '\\'`);
      }
      let j = i + 2;
      let url = '';
      while (j < src.length && src[j] !== ')') {
        if (src[j] === '\\' && j + 1 < src.length) {
          url += src[j + 1];
          j += 2;
          continue;
        }
        url += src[j];
        j++;
      }
      if (j >= src.length) throw new ParseEntitiesError(`Can't find end of a URL at byte offset ${byteOffset(src, i + 1)}`);
      stack.pop();
      const user = /^tg:\/\/user\?id=(\d+)$/.exec(url);
      const e = entityOf(user ? { ...top, type: 'text_mention', userId: Number(user[1]) } : { ...top, url }, out.length);
      if (e) entities.push(e);
      i = j + 1;
      continue;
    }
    if (MDV2_RESERVED.has(c)) throw new ParseEntitiesError(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
    out += c;
    i++;
  }
  if (quoteStart >= 0 && out.length > quoteStart) entities.push({ type: 'blockquote', offset: quoteStart, length: out.length - quoteStart });
  const open = stack[0];
  if (open) throw new ParseEntitiesError(`Can't find end of ${MDV2_NAMES[open.type] ?? open.type} entity at byte offset ${byteOffset(src, open.src)}`);
  return { text: out, entities: sortEntities(entities) };
}

/** parse_mode=Markdown (legacy): bold, italic, code, pre, links; no nesting. */
export function parseMarkdownLegacy(src: string): Formatted {
  let out = '';
  const entities: MessageEntity[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\' && '_*`['.includes(src[i + 1] ?? '')) {
      out += src[i + 1];
      i += 2;
      continue;
    }
    if (c === '*' || c === '_' || c === '`') {
      const fence = c === '`' && src.startsWith('```', i) ? '```' : c;
      const end = src.indexOf(fence, i + fence.length);
      if (end < 0) throw new ParseEntitiesError(`Can't find end of the entity starting at byte offset ${byteOffset(src, i)}`);
      const body = src.slice(i + fence.length, end);
      if (body.length > 0) {
        const type: MessageEntity['type'] = fence === '```' ? 'pre' : c === '`' ? 'code' : c === '*' ? 'bold' : 'italic';
        entities.push({ type, offset: out.length, length: body.length } as MessageEntity);
      }
      out += body;
      i = end + fence.length;
      continue;
    }
    if (c === '[') {
      const m = /^\[([^\]]*)\]\(([^)]*)\)/.exec(src.slice(i));
      if (!m) throw new ParseEntitiesError(`Can't find end of the entity starting at byte offset ${byteOffset(src, i)}`);
      if (m[1]!.length > 0) entities.push({ type: 'text_link', offset: out.length, length: m[1]!.length, url: m[2]! });
      out += m[1];
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return { text: out, entities: sortEntities(entities) };
}

function sortEntities(list: MessageEntity[]): MessageEntity[] {
  return list.sort((a, b) => a.offset - b.offset || b.length - a.length);
}

/** Entities Telegram finds by itself in any text: bot commands, @mentions, URLs, hashtags. */
export function detectEntities(text: string, taken: MessageEntity[] = []): MessageEntity[] {
  const found: MessageEntity[] = [];
  const overlaps = (o: number, l: number) => [...taken, ...found].some((e) => o < e.offset + e.length && e.offset < o + l);
  const patterns: [RegExp, MessageEntity['type']][] = [
    [/(?<![\w/])\/[A-Za-z][A-Za-z0-9_]{0,31}(?:@[A-Za-z][A-Za-z0-9_]{4,31})?(?![\w/])/g, 'bot_command'],
    [/(?<![\w@])@[A-Za-z][A-Za-z0-9_]{4,31}(?!\w)/g, 'mention'],
    [/\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/gi, 'url'],
    [/(?<![\w#])#[\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*/gu, 'hashtag'],
  ];
  for (const [re, type] of patterns) {
    for (const m of text.matchAll(re)) {
      const offset = m.index;
      const length = m[0].length;
      if (!overlaps(offset, length)) found.push({ type, offset, length } as MessageEntity);
    }
  }
  return sortEntities(found);
}
