/** The recap of an AMA: answered questions with answers, top unanswered, stats per platform; as Markdown, JSON, chat posts and CSV. */
import { PLATFORMS, type Platform } from '../../core/ids.js';
import type { Ama, Ask, Question } from './model.js';
import { actionId, hostLabel, shownName, type Actions, type AmaEnv } from './store.js';
import { PLATFORM_NAME, PLATFORM_TEXT_LIMIT, formatDuration, formatWhen, shorten, splitText } from './text.js';
import { platformInfo } from '../../platform/index.js';

/** Figures of one platform. */
export interface PlatformStats {
  asks: number;
  askers: number;
  voters: number;
}

/** One question in the recap. */
export interface RecapQuestion {
  n: number;
  text: string;
  votes: number;
  asks: number;
  platforms: Platform[];
  answer?: string;
  answeredBy?: string;
}

/** The recap as JSON (`GET /api/amas/:id/recap?format=json`). */
export interface AmaRecap {
  ama: { id: string; title: string; status: string; startsAt: string; when: string; durationMinutes: number; tz: string; hosts: string[]; chats: string[]; openedAt?: string; closedAt?: string };
  stats: { questions: number; asks: number; merged: number; answered: number; votes: number; participants: number; perPlatform: Partial<Record<Platform, PlatformStats>> };
  answered: RecapQuestion[];
  topUnanswered: RecapQuestion[];
  winners?: { n: number; user: string; platform: string }[];
}

interface Loaded {
  q: Question;
  asks: Ask[];
  voters: string[];
}

const CHUNK = 500;

/** Reads every top-level question with its asks and voters, in chunks (a recap is rare; the AMA can be large). */
async function loadAll(env: AmaEnv, ama: Ama): Promise<Loaded[]> {
  const { redis } = env.deps;
  const ns = (await redis.zrange(env.k.qs(ama.id), '0', '-1')).map(Number);
  const out: Loaded[] = [];
  for (let i = 0; i < ns.length; i += CHUNK) {
    const part = ns.slice(i, i + CHUNK);
    const p = redis.pipeline();
    for (const n of part) p.hgetall(env.k.q(ama.id, n)).lrange(env.k.asks(ama.id, n), '0', '-1').smembers(env.k.voters(ama.id, n));
    const res = (await p.exec()) ?? [];
    part.forEach((n, j) => {
      const h = (res[3 * j]?.[1] ?? {}) as Record<string, string>;
      if (!h.status || h.status === 'merged') return;
      const q: Question = {
        n,
        text: h.text ?? '',
        status: h.status as Question['status'],
        votes: Number(h.votes ?? 0),
        askCount: Number(h.askCount ?? 0),
        createdAt: Number(h.createdAt ?? 0),
        ...(h.answer ? { answer: h.answer } : {}),
        ...(h.answeredAt ? { answeredAt: Number(h.answeredAt) } : {}),
        ...(h.answeredBy ? { answeredBy: h.answeredBy } : {}),
      };
      out.push({ q, asks: ((res[3 * j + 1]?.[1] ?? []) as string[]).map((r) => JSON.parse(r) as Ask), voters: (res[3 * j + 2]?.[1] ?? []) as string[] });
    });
  }
  return out;
}

function recapQuestion(l: Loaded): RecapQuestion {
  const platforms = PLATFORMS.filter((p) => l.asks.some((a) => a.platform === p));
  return {
    n: l.q.n,
    text: l.q.text,
    votes: l.q.votes,
    asks: l.asks.length,
    platforms,
    ...(l.q.answer ? { answer: l.q.answer } : {}),
    ...(l.q.answeredBy ? { answeredBy: l.q.answeredBy } : {}),
  };
}

/** Builds the recap from the stored questions. */
export async function buildRecap(env: AmaEnv, ama: Ama, opts: { topUnanswered?: number } = {}): Promise<AmaRecap> {
  const all = await loadAll(env, ama);
  const per: Partial<Record<Platform, { asks: number; askers: Set<string>; voters: Set<string> }>> = {};
  const people = new Set<string>();
  let asks = 0;
  let votes = 0;
  for (const l of all) {
    votes += l.q.votes;
    for (const a of l.asks) {
      asks++;
      people.add(a.user);
      const s = (per[a.platform] ??= { asks: 0, askers: new Set(), voters: new Set() });
      s.asks++;
      s.askers.add(a.user);
    }
    for (const v of l.voters) {
      people.add(v);
      const p = v.slice(0, v.indexOf(':')) as Platform;
      if (!PLATFORMS.includes(p)) continue;
      (per[p] ??= { asks: 0, askers: new Set(), voters: new Set() }).voters.add(v);
    }
  }
  const answered = all.filter((l) => l.q.status === 'answered').sort((a, b) => (a.q.answeredAt ?? 0) - (b.q.answeredAt ?? 0));
  const open = all.filter((l) => l.q.status === 'open').sort((a, b) => b.q.votes - a.q.votes || a.q.n - b.q.n);
  const winnersRaw = await env.deps.redis.get(env.k.winners(ama.id));
  const recap: AmaRecap = {
    ama: {
      id: ama.id,
      title: ama.title,
      status: ama.status,
      startsAt: new Date(ama.startsAt).toISOString(),
      when: formatWhen(ama.startsAt, ama.tz),
      durationMinutes: Math.round(ama.durationMs / 60_000),
      tz: ama.tz,
      hosts: ama.hosts,
      chats: ama.chats,
      ...(ama.openedAt ? { openedAt: new Date(ama.openedAt).toISOString() } : {}),
      ...(ama.closedAt ? { closedAt: new Date(ama.closedAt).toISOString() } : {}),
    },
    stats: {
      questions: all.length,
      asks,
      merged: asks - all.length,
      answered: answered.length,
      votes,
      participants: people.size,
      perPlatform: Object.fromEntries(Object.entries(per).map(([p, s]) => [p, { asks: s.asks, askers: s.askers.size, voters: s.voters.size }])),
    },
    answered: answered.map(recapQuestion),
    topUnanswered: open.slice(0, opts.topUnanswered ?? 10).map(recapQuestion),
  };
  if (winnersRaw) {
    const w = JSON.parse(winnersRaw) as { n: number; userName: string; anonymous?: boolean; platform: string }[];
    recap.winners = w.map((x) => ({ n: x.n, user: x.anonymous ? 'anonymous' : x.userName, platform: x.platform }));
  }
  return recap;
}

const platformList = (ps: Platform[]) => ps.map((p) => PLATFORM_NAME[p]).join(', ');

/** The recap as Markdown. */
export function recapMarkdown(r: AmaRecap): string {
  const lines: string[] = [];
  lines.push(`# AMA recap: ${r.ama.title}`, '');
  lines.push(`${r.ama.when} · ${formatDuration(r.ama.durationMinutes * 60_000)}${r.ama.hosts.length ? ` · hosts: ${r.ama.hosts.map(hostLabel).join(', ')}` : ''}`, '');
  const s = r.stats;
  lines.push('## Stats', '');
  lines.push(`- Questions: ${s.questions} (from ${s.asks} asks; ${s.merged} merged as duplicates)`);
  lines.push(`- Answered: ${s.answered}`, `- Votes: ${s.votes}`, `- Participants: ${s.participants}`, '');
  const plats = Object.entries(s.perPlatform) as [Platform, PlatformStats][];
  if (plats.length) {
    lines.push('| Platform | Asks | Askers | Voters |', '|---|---:|---:|---:|');
    for (const [p, x] of plats) lines.push(`| ${PLATFORM_NAME[p]} | ${x.asks} | ${x.askers} | ${x.voters} |`);
    lines.push('');
  }
  lines.push('## Answered', '');
  if (!r.answered.length) lines.push('_No questions were answered._', '');
  for (const q of r.answered) {
    lines.push(`### Q${q.n} · ${mdEscape(q.text)}`, '');
    lines.push(`▲${q.votes} · asked ${q.asks}× on ${platformList(q.platforms)}${q.answeredBy ? ` · answered by ${mdEscape(q.answeredBy)}` : ''}`, '');
    lines.push(...(q.answer ?? '').split('\n').map((l) => `> ${l}`), '');
  }
  lines.push('## Top unanswered', '');
  if (!r.topUnanswered.length) lines.push('_None._', '');
  r.topUnanswered.forEach((q, i) => lines.push(`${i + 1}. Q${q.n} · ${mdEscape(q.text)} (▲${q.votes}, ${q.asks}× on ${platformList(q.platforms)})`));
  if (r.winners?.length) {
    lines.push('', '## Rewards', '');
    for (const w of r.winners) lines.push(`- Q${w.n}: ${mdEscape(w.user)} (${w.platform})`);
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function mdEscape(s: string): string {
  return s.replace(/([\\`*_[\]#|<>])/g, '\\$1');
}

/** The recap as plain chat text; `compact` keeps it short (X, where every 280 characters is a post). */
export function recapText(r: AmaRecap, compact = false): string {
  const s = r.stats;
  const plats = (Object.entries(s.perPlatform) as [Platform, PlatformStats][]).map(([p, x]) => `${PLATFORM_NAME[p]} ${x.asks}`).join(' · ');
  const out = [`📋 Recap · ${r.ama.title}`, `${s.questions} questions (${s.asks} asks${plats ? `: ${plats}` : ''}) · ${s.answered} answered · ${s.participants} people`];
  const answered = compact ? r.answered.slice(0, 3) : r.answered.slice(0, 25);
  if (answered.length) {
    out.push('', 'Answered:');
    for (const q of answered) out.push(`Q${q.n} · ${shorten(q.text, compact ? 100 : 200)}\n→ ${shorten(q.answer ?? '', compact ? 160 : 400)}`);
    if (r.answered.length > answered.length) out.push(`… and ${r.answered.length - answered.length} more.`);
  }
  const open = r.topUnanswered.slice(0, compact ? 3 : 5);
  if (open.length) {
    out.push('', 'Top unanswered:');
    for (const q of open) out.push(`Q${q.n} · ${shorten(q.text, compact ? 100 : 160)} (▲${q.votes})`);
  }
  return out.join('\n');
}

/** The recap posted to every linked chat (an X thread via its adapter), once per chat. */
export function recapPosts(ama: Ama, r: AmaRecap): Actions {
  const actions: Actions = [];
  for (const chat of ama.chats) {
    const platform = chat.slice(0, chat.indexOf(':')) as Platform;
    const text = recapText(r, platformInfo(platform).text.compact);
    splitText(text, PLATFORM_TEXT_LIMIT[platform]).forEach((part, i) => {
      actions.push({ v: 1, id: actionId(ama.id, 'recap', chat, `p${i}`), type: 'send', platform, chat, text: part, priority: 'digest' });
    });
  }
  return actions;
}

/** CSV export: `questions` (one row per merged question) or `participants` (one row per person). */
export async function recapCsv(env: AmaEnv, ama: Ama, table: 'questions' | 'participants'): Promise<string> {
  const all = await loadAll(env, ama);
  if (table === 'questions') {
    const rows = [['n', 'status', 'votes', 'asks', 'platforms', 'question', 'answer', 'answered_by', 'first_asked_at', 'answered_at']];
    for (const l of all.sort((a, b) => a.q.n - b.q.n)) {
      const r = recapQuestion(l);
      rows.push([
        String(l.q.n),
        l.q.status,
        String(l.q.votes),
        String(l.asks.length),
        r.platforms.join(' '),
        l.q.text,
        l.q.answer ?? '',
        l.q.answeredBy ?? '',
        new Date(l.q.createdAt).toISOString(),
        l.q.answeredAt ? new Date(l.q.answeredAt).toISOString() : '',
      ]);
    }
    return toCsv(rows);
  }
  const names = await env.deps.redis.hgetall(env.k.names(ama.id));
  const people = new Map<string, { asks: number; votes: number; anonymousAsks: number }>();
  const get = (u: string) => people.get(u) ?? (people.set(u, { asks: 0, votes: 0, anonymousAsks: 0 }), people.get(u)!);
  for (const l of all) {
    for (const a of l.asks) {
      if (a.anonymous) get('anonymous').anonymousAsks++;
      else get(a.user).asks++;
    }
    for (const v of l.voters) get(v).votes++;
  }
  const rows = [['user', 'platform', 'name', 'questions_asked', 'votes_given']];
  for (const [u, x] of [...people].sort((a, b) => b[1].asks + b[1].votes - (a[1].asks + a[1].votes))) {
    if (u === 'anonymous') rows.push(['anonymous', '', 'anonymous', String(x.anonymousAsks), '']);
    else rows.push([u, u.slice(0, u.indexOf(':')), names[u] ?? '', String(x.asks), String(x.votes)]);
  }
  return toCsv(rows);
}

/**
 * RFC 4180 CSV that no spreadsheet runs as a formula: a cell that starts with = + - @ tab or CR, or has one after a
 * separator (`,` here; `;` and tab where a spreadsheet's locale splits on those), is prefixed with a quote and
 * quoted — a `;`-locale spreadsheet splits `Wen moon;=1+2+3` at the `;` unless the whole cell is quoted and starts
 * harmless. Other cells with a separator, a quote or a line break are quoted.
 */
export function toCsv(rows: string[][]): string {
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** A formula trigger at the start of a cell or of anything a separator splits off. */
const FORMULA_START = /(?:^|[,;\t]\s*)[=+\-@\t\r]/;

/** One CSV cell, neutralized and quoted as toCsv describes. */
export function csvCell(c: string): string {
  const risky = FORMULA_START.test(c);
  const v = risky ? `'${c}` : c;
  return risky || /[",;\t\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** A short public line naming who asked (anonymous when they asked privately). */
export function askedBy(asks: Ask[]): string {
  const names = [...new Set(asks.map(shownName))];
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}
