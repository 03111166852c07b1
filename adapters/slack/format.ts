/**
 * Outbound text for Slack. Slack's markup ("mrkdwn") reads `&`, `<` and `>` as control characters: `<@U1>` pings a
 * person, `<!channel>` the whole channel, `<url|label>` is a link. So every piece of user text has exactly those three
 * escaped (`&amp; &lt; &gt;`), which makes a mention, a mass ping or a disguised link impossible. mrkdwn has no escape
 * for `*`, `_`, `~` and backquotes: a plain action is therefore sent with `mrkdwn: false` (shown literally), and user
 * text inside a markdown action can at most look bold or italic.
 */

/**
 * Where Townhall splits a long message. Slack truncates `text` at 40,000 characters (with a `message_truncated`
 * warning) and has long asked apps to keep messages under 4,000 characters, beyond which clients collapse or split
 * them; a section block's text stops at 3,000. 4,000 keeps every part whole and readable.
 */
export const SLACK_SPLIT_CHARS = 4000;
/** Slack's hard ceiling for `text` (longer is cut). */
export const SLACK_MAX_TEXT = 40_000;
/** A section block's text limit. */
export const SLACK_SECTION_CHARS = 3000;

/** Escapes user text for mrkdwn: `&`, `<` and `>` only, as Slack asks. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Townhall's subset, as the Discord and Telegram renderers read it: **bold**, _italic_, [label](url), `code`.
const SUBSET_RE = /\*\*((?:[^*\n]|\*(?!\*))+?)\*\*|(?<![A-Za-z0-9_])_([^_\n]+?)_(?![A-Za-z0-9_])|\[([^\]\n]{1,256})\]\((https?:\/\/[^\s)<>|]+)\)|`([^`\n]+)`/g;

/** Renders Townhall markdown as mrkdwn: `*bold*`, `_italic_`, `<url|label>`, `` `code` ``; everything else escaped. */
export function markdownToMrkdwn(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(SUBSET_RE)) {
    out += escapeMrkdwn(text.slice(last, m.index));
    if (m[1] !== undefined) out += `*${markdownToMrkdwn(m[1])}*`;
    else if (m[2] !== undefined) out += `_${markdownToMrkdwn(m[2])}_`;
    else if (m[3] !== undefined && m[4] !== undefined) out += `<${m[4].replace(/&/g, '&amp;')}|${escapeMrkdwn(m[3]).replace(/\|/g, '¦')}>`;
    else if (m[5] !== undefined) out += `\`${escapeMrkdwn(m[5])}\``;
    last = m.index + m[0].length;
  }
  return out + escapeMrkdwn(text.slice(last));
}

/** An action's text for chat.postMessage: the text and the `mrkdwn` flag to send with it. */
export function renderText(text: string, format: 'plain' | 'markdown'): { text: string; mrkdwn: boolean } {
  return format === 'markdown' ? { text: markdownToMrkdwn(text), mrkdwn: true } : { text: escapeMrkdwn(text), mrkdwn: false };
}

/**
 * Splits rendered mrkdwn into parts of at most `max` characters, preferring paragraph, line, then word boundaries,
 * and never cutting inside an escape (`&amp;`), a `<link|label>` or a surrogate pair.
 */
export function splitMrkdwn(text: string, max = SLACK_SPLIT_CHARS): string[] {
  if (text.length <= max) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n\n', max);
    if (cut < max / 2) cut = rest.lastIndexOf('\n', max);
    if (cut < max / 2) cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    cut = safeCut(rest, cut);
    const part = rest.slice(0, cut).trimEnd();
    if (part) parts.push(part);
    rest = rest.slice(cut).replace(/^\s+/, '');
  }
  if (rest) parts.push(rest);
  return parts;
}

/** Moves a cut point left out of an entity, a `<…>` token or a surrogate pair (or right past a token that fills the part). */
function safeCut(s: string, cut: number): number {
  const open = s.lastIndexOf('<', cut - 1);
  if (open >= 0 && s.indexOf('>', open) >= cut) cut = open > 0 ? open : Math.min(s.length, s.indexOf('>', open) + 1 || s.length);
  const amp = s.lastIndexOf('&', cut - 1);
  if (amp >= 0 && amp > cut - 6 && /^&(amp|lt|gt);/.test(s.slice(amp)) && s.indexOf(';', amp) >= cut) cut = amp;
  const code = s.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return Math.max(1, cut);
}
