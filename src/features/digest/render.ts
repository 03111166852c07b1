/**
 * Renders a digest as plain text, markdown or Telegram-style HTML within a platform's length (a measure function for
 * X's weighted length): sections in order of use, each point one line with its source link, the rest counted.
 */
import type { Digest, DigestPoint, SourceRef } from './types.js';

/** Output formats: plain text, CommonMark/Discord markdown, Telegram-style HTML. */
export type DigestFormat = 'text' | 'markdown' | 'html';

/** Rendering options; common limits: Telegram 4096, Discord 2000, X 280. */
export interface RenderOptions {
  maxChars: number;
  format: DigestFormat;
  /** Length function (default UTF-16 length); pass X's weighted length for tweets. */
  measure?: (s: string) => number;
}

/** Escapes text for Telegram/HTML: `& < > "`. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escapes every markdown-significant ASCII punctuation with a backslash (valid CommonMark, honoured by Discord). */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|~<>]/g, '\\$&');
}

// Mass mentions in quoted user text must never ping a whole server/group when the bot posts the digest.
function defuseMentions(s: string): string {
  return s.replace(/@(everyone|here|channel|all)\b/gi, '@\u200b$1').replace(/<@[!&]?\d+>/g, '@user');
}

// Only http(s) links are emitted, with characters that would break markdown/HTML link syntax percent-encoded.
function safeUrl(url: string | undefined): string | undefined {
  if (url === undefined || !/^https?:\/\//i.test(url)) return undefined;
  return url.replace(/[\s()<>"'\\[\]`]/g, (c) => '%' + (c.codePointAt(0) as number).toString(16).toUpperCase().padStart(2, '0'));
}

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  if (t.length <= max) return t;
  // Cut on a code point boundary and prefer a word boundary.
  const cut = Array.from(t).slice(0, Math.max(1, max - 1)).join('');
  const sp = cut.lastIndexOf(' ');
  return (sp > max * 0.6 ? cut.slice(0, sp) : cut) + '…';
}

interface Fmt {
  text: (s: string) => string;
  bold: (s: string) => string;
  link: (label: string, url: string | undefined) => string;
}

const FORMATS: Record<DigestFormat, Fmt> = {
  text: {
    text: (s) => defuseMentions(s),
    bold: (s) => s,
    link: (_label, url) => (url ? ` ${url}` : ''),
  },
  markdown: {
    text: (s) => escapeMarkdown(defuseMentions(s)),
    bold: (s) => `**${s}**`,
    // `<...>` suppresses Discord embeds so a digest does not explode into previews.
    link: (label, url) => (url ? ` [${escapeMarkdown(label)}](<${url}>)` : ''),
  },
  html: {
    text: (s) => escapeHtml(defuseMentions(s)),
    bold: (s) => `<b>${s}</b>`,
    link: (label, url) => (url ? ` <a href="${escapeHtml(url)}">${escapeHtml(label)}</a>` : ''),
  },
};

function fmtTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

function fmtWindow(from: number, to: number): string {
  const a = fmtTime(from);
  const b = fmtTime(to);
  return a.slice(0, 10) === b.slice(0, 10) ? `${a}–${b.slice(11)} UTC` : `${a} – ${b} UTC`;
}

// Loose containment test so an outcome already quoted in the summary line is not printed twice.
function alreadySaid(summary: string, text: string): boolean {
  const norm = (x: string): string => x.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
  const probe = norm(text).slice(0, 24);
  return probe.length > 0 && norm(summary).includes(probe);
}

interface Section {
  title: string;
  items: string[];
  total: number;
}

/** Renders a digest as one platform message of at most `maxChars`, cutting lists with "… N more" as needed. */
export function renderDigest(digest: Digest, opts: RenderOptions): string {
  const f = FORMATS[opts.format];
  const measure = opts.measure ?? ((s: string) => s.length);
  const max = Math.max(1, Math.floor(opts.maxChars));
  // Per-item text budget scales with the target so a tweet-sized digest still shows something whole.
  const itemChars = Math.max(40, Math.min(220, Math.floor(max / 5)));
  const src = (r: SourceRef, label = 'source'): string => f.link(label, safeUrl(r.url));
  const say = (name: string, text: string, n = itemChars): string => `${f.text(oneLine(name, 40))}: ${f.text(oneLine(text, n))}`;

  const t = digest.totals;
  const platforms = Object.entries(t.byPlatform)
    .sort((a, b) => b[1] - a[1])
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  const langs = Object.entries(t.byLang)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([l, n]) => `${l} ${n}`)
    .join(', ');
  const headerPlain = [
    `Digest ${fmtWindow(digest.window.from, digest.window.to)}`,
    `${t.messages} messages from ${t.users} people` + (platforms ? ` (${platforms})` : '') + (langs ? `; languages: ${langs}` : ''),
  ];

  const sections: Section[] = [
    {
      title: 'Summary',
      total: digest.overview ? 1 : 0,
      items: digest.overview ? [f.text(oneLine(digest.overview, 700))] : [],
    },
    {
      title: 'Main conversations',
      total: t.conversations,
      items: digest.conversations.map((c) => {
        const who = c.participants.slice(0, 3).join(', ') + (c.participantCount > 3 ? ` +${c.participantCount - 3}` : '');
        const outcome = c.outcome && !alreadySaid(c.what, c.outcome.text) ? ` → ${f.text(oneLine(`${c.outcome.userName}: ${c.outcome.text}`, Math.floor(itemChars / 2)))}` : '';
        return `• ${f.text(oneLine(who, 60))} (${c.messages}): ${f.text(oneLine(c.what, itemChars))}${outcome}${src(c.source)}`;
      }),
    },
    {
      title: 'Decisions & announcements',
      total: t.decisions,
      items: digest.decisions.map((d) => `• ${say(d.userName, d.text)}${src(d.source)}`),
    },
    {
      title: 'Open questions',
      total: t.openQuestions,
      items: digest.openQuestions.map((q) => `• ${say(q.question.userName, q.question.text)}${src(q.question.source, 'ask')}`),
    },
    {
      title: 'Answered',
      total: t.answeredQuestions,
      items: digest.answeredQuestions.map((q) => {
        const a = q.answer as DigestPoint;
        const half = Math.floor(itemChars / 2);
        return `• ${say(q.question.userName, q.question.text, half)}${src(q.question.source, 'q')} → ${say(a.userName, a.text, half)}${src(a.source, 'a')}`;
      }),
    },
    {
      title: 'Most reacted',
      total: t.reacted,
      items: digest.topReacted.map((r) => `• ${r.reactions}× ${say(r.userName, r.text)}${src(r.source)}`),
    },
    {
      title: 'Links',
      total: t.links,
      items: digest.links.map((l) => {
        const u = safeUrl(l.url);
        const shown = opts.format === 'text' ? f.text(oneLine(l.url, 120)) : f.link(oneLine(l.url, 80), u).trim();
        return `• ${shown}${l.count > 1 ? ` (${l.count}×)` : ''} — ${f.text(oneLine(l.userName, 40))}${src(l.source)}`;
      }),
    },
  ];

  // shown[i] items of section i are printed; the rest become "… N more". When too long: first even out the lists
  // (trim the longest, lower priority first) down to one item each, then drop whole sections from the lowest
  // priority, then the counts line — so even a 280-char post shows the most important item rather than bare headings.
  const shown = sections.map((s) => s.items.length);
  const present = sections.map((s) => s.total > 0 && s.items.length > 0);
  let header = headerPlain.slice();
  const build = (): string => {
    const out: string[] = [header.map((h, i) => (i === 0 ? f.bold(f.text(h)) : f.text(h))).join('\n')];
    let dropped = 0;
    sections.forEach((s, i) => {
      if (!present[i]) {
        dropped += s.total;
        return;
      }
      const lines = [f.bold(f.text(s.title))];
      const n = shown[i] as number;
      lines.push(...s.items.slice(0, n));
      if (s.total > n) lines.push(f.text(`… ${s.total - n} more`));
      out.push(lines.join('\n'));
    });
    if (dropped > 0) out.push(f.text(`… ${dropped} more`));
    return out.join('\n\n');
  };
  let text = build();
  while (measure(text) > max) {
    let pick = -1;
    for (let i = sections.length - 1; i >= 0; i--) {
      if (present[i] && (shown[i] as number) > 1 && (pick < 0 || (shown[i] as number) > (shown[pick] as number))) pick = i;
    }
    const last = present.lastIndexOf(true);
    if (pick >= 0) shown[pick] = (shown[pick] as number) - 1;
    else if (present.filter(Boolean).length > 1) present[last] = false;
    else if (header.length > 1) header = header.slice(0, 1);
    else if (last >= 0 && (shown[last] as number) > 0) shown[last] = (shown[last] as number) - 1;
    else if (last >= 0) present[last] = false;
    else {
      // Only the title is left and it is still too long: cut it (plain text, so no markup can break).
      const h = header[0] as string;
      if (h.length <= 1) break;
      header = [oneLine(h, Math.max(1, h.length - Math.max(1, measure(text) - max)))];
    }
    text = build();
  }
  return text;
}
