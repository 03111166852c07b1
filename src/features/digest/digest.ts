/**
 * Pure digest builder and renderer: turns the stored messages of a time window into "what happened" — main
 * conversations, open and answered questions, decisions/announcements, most-reacted messages, shared links and
 * counts — where every point keeps its source message id and link. Linear-time grouping (Maps, one sort), so a
 * 10,000-message window builds in milliseconds.
 */
import { isQuestion } from '../questions/detect.js';
import { summarizeExtractive } from './extractive.js';
import type { ChatLine } from './extractive.js';
import type { Platform } from '../../platform/index.js';

/** A stored chat message as the digest reads it. */
export interface StoredMessage {
  /** Platform message id. */
  id: string;
  /** Prefixed chat id, e.g. 'telegram:-100123' or 'discord:123:456'. */
  chat: string;
  platform: Platform;
  user: string;
  userName: string;
  text: string;
  /** Milliseconds since the epoch. */
  at: number;
  /** Platform id of the message this one replies to (same chat). */
  replyTo?: string;
  /** Conversation id assigned by the threading model. */
  thread?: string;
  reactions?: number;
  lang?: string;
  deleted?: boolean;
  isQuestion?: boolean;
  /** Link to the source message. */
  url?: string;
  /** Pinned by a moderator: always treated as an announcement. */
  pinned?: boolean;
  /** Author had admin/host rights when posting. */
  isAdmin?: boolean;
}

/** Where a digest point comes from: enough to link back to the message. */
export interface SourceRef {
  id: string;
  chat: string;
  url?: string;
}

/** One message-backed point of the digest. */
export interface DigestPoint {
  text: string;
  user: string;
  userName: string;
  at: number;
  source: SourceRef;
}

/** One main conversation, summarized in a line. */
export interface DigestConversation {
  /** Conversation key (thread id, reply-tree root or time bucket), chat-scoped. */
  key: string;
  chat: string;
  /** Display names of the most active participants, most active first. */
  participants: string[];
  participantCount: number;
  messages: number;
  /** Extractive summary of what was said. */
  what: string;
  /** The latest decision-like message of the conversation, when there is one. */
  outcome?: DigestPoint;
  /** First message of the conversation. */
  source: SourceRef;
  firstAt: number;
  lastAt: number;
}

/** A question and, once answered, its answer. */
export interface DigestQuestion {
  question: DigestPoint;
  answer?: DigestPoint;
  reactions: number;
}

/** A link shared in the window, deduplicated. */
export interface DigestLink {
  url: string;
  /** How many (non-deleted) messages shared it. */
  count: number;
  /** First message that shared it. */
  source: SourceRef;
  userName: string;
  at: number;
}

/** A message-backed point with its reaction count. */
export interface ReactedPoint extends DigestPoint {
  reactions: number;
}

/** Everything a digest shows; lists are capped, `totals` hold the uncapped counts for "… N more". */
export interface Digest {
  window: { from: number; to: number };
  totals: {
    messages: number;
    users: number;
    conversations: number;
    openQuestions: number;
    answeredQuestions: number;
    decisions: number;
    reacted: number;
    links: number;
    byPlatform: Partial<Record<Platform, number>>;
    byLang: Record<string, number>;
  };
  conversations: DigestConversation[];
  openQuestions: DigestQuestion[];
  answeredQuestions: DigestQuestion[];
  decisions: DigestPoint[];
  topReacted: ReactedPoint[];
  links: DigestLink[];
  /** A few sentences on the whole window from the configured model (absent without one, or when it failed). */
  overview?: string;
}

/** Window and limits of `buildDigest`. */
export interface BuildDigestOptions {
  /** Inclusive start (ms). */
  from: number;
  /** Exclusive end (ms). */
  to: number;
  /** User ids whose messages count as host/admin announcements. */
  admins?: Iterable<string>;
  /** Most items kept per list (default 50; renderers show fewer). */
  maxItems?: number;
  /** Main conversations kept (default 8). */
  maxConversations?: number;
  /** Silence that splits un-threaded, un-replied chat into separate conversations (default 30 min). */
  gapMs?: number;
  /** Replaces the extractive one-line summary of a conversation. */
  summarize?: (lines: ChatLine[]) => string;
}

const DECISION_RE =
  /\b(?:announc\w*|decided|decision|released?|releasing|launch(?:ed|es|ing)?|shipped|approved|agreed|we will|we'll|deadline|scheduled|postponed|cancel+ed|is live|now live|going with|final(?:ly|ized)?)\b/i;
const OUTCOME_RE =
  /\b(?:decided|agreed|we will|we'll|let's|lets go|done|fixed|solved|resolved|works now|released?|launch(?:ed)?|shipped|going with|final|merged|approved|confirmed)\b/i;
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

function key(chat: string, id: string): string {
  return chat + '\u0000' + id;
}

/** A cheap test for a question: a question mark ending a word, and some letters. */
export function looksLikeQuestion(text: string): boolean {
  const t = text.trim();
  return /\?(?:\s|$|[)"'»])/.test(t) && t.replace(/[^\p{L}\p{N}]+/gu, '').length >= 3;
}

function ref(m: StoredMessage): SourceRef {
  const r: SourceRef = { id: m.id, chat: m.chat };
  if (m.url !== undefined) r.url = m.url;
  return r;
}

function point(m: StoredMessage): DigestPoint {
  return { text: m.text, user: m.user, userName: m.userName, at: m.at, source: ref(m) };
}

/** Normalizes a URL for deduplication: lowercase scheme/host, no fragment, no tracking params, no trailing slash. */
export function normalizeUrl(raw: string): string {
  const trimmed = raw.replace(/[.,;:!?)\]}'"»]+$/, '');
  try {
    const u = new URL(trimmed);
    u.hash = '';
    for (const k of [...u.searchParams.keys()]) if (/^(?:utm_\w+|fbclid|gclid|ref|ref_src|si|igshid)$/i.test(k)) u.searchParams.delete(k);
    let s = u.toString();
    if (u.pathname !== '/' && s.endsWith('/') && u.search === '') s = s.slice(0, -1);
    if (u.pathname === '/' && u.search === '') s = s.replace(/\/$/, '');
    return s;
  } catch {
    return trimmed;
  }
}

/** Builds the digest of the messages in [from, to); deleted messages (any stored version) never appear. */
export function buildDigest(messages: readonly StoredMessage[], opts: BuildDigestOptions): Digest {
  const maxItems = opts.maxItems ?? 50;
  const maxConversations = opts.maxConversations ?? 8;
  const gapMs = opts.gapMs ?? 30 * 60_000;
  const admins = new Set(opts.admins ?? []);

  // 1. Dedupe by (chat, id): the last stored version wins, and a delete on any version removes the message.
  const byKey = new Map<string, StoredMessage>();
  const deleted = new Set<string>();
  for (const m of messages) {
    const k = key(m.chat, m.id);
    if (m.deleted) deleted.add(k);
    byKey.set(k, m);
  }
  const live: StoredMessage[] = [];
  for (const [k, m] of byKey) if (!deleted.has(k) && m.at >= opts.from && m.at < opts.to) live.push(m);
  // One stable sort; everything after is linear.
  live.sort((a, b) => a.at - b.at);
  const liveByKey = new Map<string, StoredMessage>();
  for (const m of live) liveByKey.set(key(m.chat, m.id), m);

  // 2. Counts.
  const byPlatform: Partial<Record<Platform, number>> = {};
  const byLang: Record<string, number> = {};
  const users = new Set<string>();
  for (const m of live) {
    byPlatform[m.platform] = (byPlatform[m.platform] ?? 0) + 1;
    const lang = m.lang ?? 'unknown';
    byLang[lang] = (byLang[lang] ?? 0) + 1;
    users.add(m.platform + '\u0000' + m.user);
  }

  // 3. Conversations: the threading model's id; else the replied-to message's conversation (a reply tree); else
  // silence-separated buckets per chat. Messages are in time order, so a parent is assigned before its replies.
  const hasReplies = new Set<string>();
  for (const m of live) if (m.replyTo !== undefined) hasReplies.add(key(m.chat, m.replyTo));
  const convOf = new Map<StoredMessage, string>();
  const lastAtInChat = new Map<string, { at: number; bucket: number }>();
  for (const m of live) {
    let c: string | undefined;
    if (m.thread !== undefined && m.thread !== '') c = `t\u0000${m.chat}\u0000${m.thread}`;
    else if (m.replyTo !== undefined) {
      const parent = liveByKey.get(key(m.chat, m.replyTo));
      if (parent) c = convOf.get(parent);
    }
    if (c === undefined && hasReplies.has(key(m.chat, m.id))) c = `r\u0000${key(m.chat, m.id)}`;
    if (c === undefined) {
      const last = lastAtInChat.get(m.chat);
      const bucket = last === undefined ? 0 : m.at - last.at > gapMs ? last.bucket + 1 : last.bucket;
      lastAtInChat.set(m.chat, { at: m.at, bucket });
      c = `g\u0000${m.chat}\u0000${bucket}`;
    }
    convOf.set(m, c);
  }
  const convs = new Map<string, StoredMessage[]>();
  for (const m of live) {
    const c = convOf.get(m) as string;
    let list = convs.get(c);
    if (!list) convs.set(c, (list = []));
    list.push(m);
  }

  // 4. Questions and answers. Explicit replies first; else the next message in the same thread from someone else.
  // Computed once per message: several passes below ask, and the regex is the costliest part of them.
  const qFlag = new Map<StoredMessage, boolean>();
  for (const m of live) qFlag.set(m, m.isQuestion ?? isQuestion(m.text));
  const isQ = (m: StoredMessage): boolean => qFlag.get(m) === true;
  const answerOf = new Map<StoredMessage, StoredMessage>();
  for (const m of live) {
    if (m.replyTo === undefined) continue;
    const q = liveByKey.get(key(m.chat, m.replyTo));
    if (q && isQ(q) && q.user !== m.user && !answerOf.has(q)) answerOf.set(q, m);
  }
  const byThread = new Map<string, StoredMessage[]>();
  for (const m of live) {
    if (m.thread === undefined || m.thread === '') continue;
    const k = m.chat + '\u0000' + m.thread;
    let list = byThread.get(k);
    if (!list) byThread.set(k, (list = []));
    list.push(m);
  }
  for (const list of byThread.values()) {
    // Pending unanswered questions by asker; a message from anyone else answers all of them, so the map stays tiny.
    let pending = new Map<string, StoredMessage[]>();
    for (const m of list) {
      const replyingElsewhere = m.replyTo !== undefined;
      if (!replyingElsewhere && !isQ(m) && pending.size > 0) {
        const mine = pending.get(m.user);
        for (const [asker, qs] of pending) {
          if (asker === m.user) continue;
          for (const q of qs) if (!answerOf.has(q)) answerOf.set(q, m);
        }
        pending = new Map();
        if (mine) pending.set(m.user, mine);
      }
      if (isQ(m) && !answerOf.has(m)) {
        const qs = pending.get(m.user);
        if (qs) qs.push(m);
        else pending.set(m.user, [m]);
      }
    }
  }
  const open: DigestQuestion[] = [];
  const answered: DigestQuestion[] = [];
  for (const m of live) {
    if (!isQ(m)) continue;
    const a = answerOf.get(m);
    const dq: DigestQuestion = { question: point(m), reactions: m.reactions ?? 0 };
    if (a) {
      dq.answer = point(a);
      answered.push(dq);
    } else open.push(dq);
  }
  // Most-upvoted first, then newest: what a host should look at next.
  const qOrder = (a: DigestQuestion, b: DigestQuestion): number => b.reactions - a.reactions || b.question.at - a.question.at;
  open.sort(qOrder);
  answered.sort(qOrder);

  // 5. Decisions and announcements: pinned > admin/host with a decision keyword > keyword > other admin posts.
  const decisionsRanked: { m: StoredMessage; rank: number }[] = [];
  for (const m of live) {
    const admin = m.isAdmin === true || admins.has(m.user);
    if (!m.pinned && !admin && !DECISION_RE.test(m.text)) continue;
    const kw = DECISION_RE.test(m.text);
    const words = m.text.trim().split(/\s+/).length;
    let rank = 0;
    if (m.pinned) rank = 4;
    else if (admin && kw) rank = 3;
    else if (kw && words >= 3 && !isQ(m)) rank = 2;
    else if (admin && words >= 5 && !isQ(m)) rank = 1;
    if (rank > 0) decisionsRanked.push({ m, rank });
  }
  decisionsRanked.sort((a, b) => b.rank - a.rank || b.m.at - a.m.at);

  // 6. Most reacted.
  const reacted = live.filter((m) => (m.reactions ?? 0) > 0).sort((a, b) => (b.reactions ?? 0) - (a.reactions ?? 0) || a.at - b.at);

  // 7. Links, deduplicated by normalized URL; the first sharer is the source.
  const links = new Map<string, DigestLink>();
  const normCache = new Map<string, string>(); // chats repeat the same links; URL parsing is the expensive part
  for (const m of live) {
    if (!m.text.includes('http')) continue;
    const seenHere = new Set<string>();
    for (const raw of m.text.match(URL_RE) ?? []) {
      let u = normCache.get(raw);
      if (u === undefined) normCache.set(raw, (u = normalizeUrl(raw)));
      if (seenHere.has(u)) continue;
      seenHere.add(u);
      const l = links.get(u);
      if (l) l.count++;
      else links.set(u, { url: u, count: 1, source: ref(m), userName: m.userName, at: m.at });
    }
  }
  const linkList = [...links.values()].sort((a, b) => b.count - a.count || a.at - b.at);

  // 8. Main conversations: size, breadth and reactions; only the kept few are summarized.
  const convStats: { key: string; msgs: StoredMessage[]; score: number }[] = [];
  for (const [k, msgs] of convs) {
    if (msgs.length < 2) continue;
    const people = new Set(msgs.map((m) => m.user)).size;
    if (people < 2) continue;
    let reactions = 0;
    for (const m of msgs) reactions += m.reactions ?? 0;
    convStats.push({ key: k, msgs, score: msgs.length + 3 * people + 0.5 * reactions });
  }
  convStats.sort((a, b) => b.score - a.score);
  const summarize = opts.summarize ?? ((lines: ChatLine[]) => summarizeExtractive(lines, { maxWords: 28, maxUtterances: 2, maxWordsPerUtterance: 16 }));
  const conversations: DigestConversation[] = convStats.slice(0, maxConversations).map(({ key: k, msgs }) => {
    const counts = new Map<string, { name: string; n: number }>();
    for (const m of msgs) {
      const c = counts.get(m.user);
      if (c) c.n++;
      else counts.set(m.user, { name: m.userName, n: 1 });
    }
    const participants = [...counts.values()].sort((a, b) => b.n - a.n).map((c) => c.name);
    // Very long conversations: summarize the most recent part; older context rarely changes the outcome line.
    const tail = msgs.length > 2000 ? msgs.slice(-2000) : msgs;
    const what = summarize(tail.map((m) => ({ user: m.userName, text: m.text })));
    let outcome: StoredMessage | undefined;
    for (let i = msgs.length - 1; i >= 0 && i >= msgs.length - 200; i--) {
      const m = msgs[i] as StoredMessage;
      if (OUTCOME_RE.test(m.text) && !isQ(m)) {
        outcome = m;
        break;
      }
    }
    const first = msgs[0] as StoredMessage;
    const conv: DigestConversation = {
      key: k,
      chat: first.chat,
      participants: participants.slice(0, 5),
      participantCount: participants.length,
      messages: msgs.length,
      what,
      source: ref(first),
      firstAt: first.at,
      lastAt: (msgs[msgs.length - 1] as StoredMessage).at,
    };
    if (outcome) conv.outcome = point(outcome);
    return conv;
  });

  return {
    window: { from: opts.from, to: opts.to },
    totals: {
      messages: live.length,
      users: users.size,
      conversations: convStats.length,
      openQuestions: open.length,
      answeredQuestions: answered.length,
      decisions: decisionsRanked.length,
      reacted: reacted.length,
      links: linkList.length,
      byPlatform,
      byLang,
    },
    conversations,
    openQuestions: open.slice(0, maxItems),
    answeredQuestions: answered.slice(0, maxItems),
    decisions: decisionsRanked.slice(0, maxItems).map((d) => point(d.m)),
    topReacted: reacted.slice(0, maxItems).map((m) => ({ ...point(m), reactions: m.reactions ?? 0 })),
    links: linkList.slice(0, maxItems),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

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
