/**
 * The pure digest builder: turns the stored messages of a time window into "what happened" — main conversations,
 * open and answered questions, decisions/announcements, most-reacted messages, shared links and counts — where every
 * point keeps its source message id and link. Linear-time grouping (Maps, one sort), so a 10,000-message window
 * builds in milliseconds. The shapes are in types.ts, the renderer in render.ts (both re-exported here).
 */
import type { Platform } from '../../platform/index.js';
import { isQuestion } from '../questions/detect.js';
import { summarizeExtractive, type ChatLine } from './extractive.js';
import type { BuildDigestOptions, Digest, DigestConversation, DigestLink, DigestPoint, DigestQuestion, SourceRef, StoredMessage } from './types.js';

export type { BuildDigestOptions, Digest, DigestConversation, DigestLink, DigestPoint, DigestQuestion, ReactedPoint, SourceRef, StoredMessage } from './types.js';
export { escapeHtml, escapeMarkdown, renderDigest, type DigestFormat, type RenderOptions } from './render.js';

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
