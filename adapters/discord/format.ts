/** Outbound text for Discord: Townhall's markdown subset rendered, user text escaped, mass pings defused, long text split. */

/** Discord refuses message content longer than this. */
export const DISCORD_MAX_CHARS = 2000;

const URL_RE = /https?:\/\/[^\s<>]+[^\s<>.,;:!?'")\]]/g;
// Punctuation Discord's markdown treats specially anywhere in a line; a backslash before any of them shows it literally.
const INLINE_SPECIAL = /[\\*_~`|[\]]/g;
const ZWSP = '\u200b';

/**
 * Defuses `@everyone` and `@here` in the text itself, so even a message sent without allowed_mentions
 * (or quoted by someone else) cannot ping a whole server. Role pings are stopped by allowed_mentions.
 */
export function defuseMassMentions(text: string): string {
  return text.replace(/@(everyone|here)\b/gi, `@${ZWSP}$1`);
}

/** Escapes one stretch of user text so Discord shows it literally (URLs are kept clickable). */
export function escapeDiscordText(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    out += escapeNonUrl(text.slice(last, m.index));
    out += m[0];
    last = m.index + m[0].length;
  }
  out += escapeNonUrl(text.slice(last));
  return defuseMassMentions(out);
}

function escapeNonUrl(s: string): string {
  return s
    .replace(INLINE_SPECIAL, '\\$&')
    .split('\n')
    .map((line) =>
      line
        // Block syntax only counts at the start of a line: quotes, headings, subtext, lists.
        .replace(/^(\s*)(>|#{1,3}\s|-#\s|-\s|\+\s)/, '$1\\$2')
        .replace(/^(\s*\d+)\.(\s)/, '$1\\.$2'),
    )
    .join('\n');
}

type Token =
  | { kind: 'text'; value: string }
  | { kind: 'bold' | 'italic'; children: Token[] }
  | { kind: 'code'; value: string }
  | { kind: 'link'; label: string; url: string };

// Townhall's subset: **bold**, _italic_, [label](url), `code`. Anything else is literal text.
const SUBSET_RE = /\*\*((?:[^*\n]|\*(?!\*))+?)\*\*|(?<![A-Za-z0-9_])_([^_\n]+?)_(?![A-Za-z0-9_])|\[([^\]\n]{1,256})\]\((https?:\/\/[^\s)]+)\)|`([^`\n]+)`/g;

/** Parses Townhall's markdown subset into tokens. */
export function parseSubset(text: string): Token[] {
  const out: Token[] = [];
  let last = 0;
  for (const m of text.matchAll(new RegExp(SUBSET_RE.source, 'g'))) {
    if (m.index > last) out.push({ kind: 'text', value: text.slice(last, m.index) });
    if (m[1] !== undefined) out.push({ kind: 'bold', children: parseSubset(m[1]) });
    else if (m[2] !== undefined) out.push({ kind: 'italic', children: parseSubset(m[2]) });
    else if (m[3] !== undefined && m[4] !== undefined) out.push({ kind: 'link', label: m[3], url: m[4] });
    else if (m[5] !== undefined) out.push({ kind: 'code', value: m[5] });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ kind: 'text', value: text.slice(last) });
  return out;
}

function renderTokens(tokens: Token[]): string {
  return tokens
    .map((t) => {
      switch (t.kind) {
        case 'text':
          return escapeDiscordText(t.value);
        case 'bold':
          return `**${renderTokens(t.children)}**`;
        case 'italic':
          return `*${renderTokens(t.children)}*`;
        case 'code':
          // Inside a code span nothing is markdown, but a mass mention is still defused for people copying it.
          return `\`${defuseMassMentions(t.value)}\``;
        case 'link':
          return `[${escapeDiscordText(t.label).replace(/[[\]]/g, '')}](${t.url})`;
      }
    })
    .join('');
}

/** Renders an action's text for Discord: 'plain' is shown literally, 'markdown' is Townhall's subset. */
export function renderText(text: string, format: 'plain' | 'markdown'): string {
  return format === 'markdown' ? renderTokens(parseSubset(text)) : escapeDiscordText(text);
}

/** Splits rendered text into chunks Discord accepts, preferring line, then word boundaries. */
export function splitMessage(text: string, max = DISCORD_MAX_CHARS): string[] {
  if (text.length <= max) return [text];
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut < max / 2) cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    // Never leave an escaping backslash or half a surrogate pair at the end of a chunk.
    while (cut > 1 && (rest[cut - 1] === '\\' || isHighSurrogate(rest.charCodeAt(cut - 1)))) cut--;
    const chunk = rest.slice(0, cut).trimEnd();
    if (chunk) chunks.push(chunk);
    rest = rest.slice(cut).replace(/^[ \n]/, '');
  }
  if (rest.trim()) chunks.push(rest);
  return chunks;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The only mentions a Townhall message may trigger: the replied-to author, never @everyone, @here or roles. */
export function allowedMentions(replying: boolean): { parse: never[]; replied_user: boolean } {
  return { parse: [], replied_user: replying };
}
