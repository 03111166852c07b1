/** The AMA's data: what an AMA, a question and an ask are, and the Redis keys they live under. */
import type { Platform } from '../../core/ids.js';
import type { Keys } from '../../redis/keys.js';

/** Where an AMA is in its life. */
export type AmaStatus = 'scheduled' | 'live' | 'closed' | 'cancelled';

/** Where a question is: waiting for approval, in the queue, answered, refused, or folded into another. */
export type QuestionStatus = 'pending' | 'open' | 'answered' | 'rejected' | 'merged';

/** How an AMA repeats: a cron pattern in a zone, or a fixed interval. */
export interface Recurrence {
  /** Cron pattern (5 or 6 fields), read in `tz`. */
  pattern?: string;
  /** Fixed interval in milliseconds. */
  everyMs?: number;
  /** Stop after this many instances (unbounded when absent). */
  count?: number;
}

/** One AMA. Times are milliseconds since the epoch (UTC); `tz` is only how they are shown. */
export interface Ama {
  id: string;
  title: string;
  status: AmaStatus;
  startsAt: number;
  durationMs: number;
  /** IANA zone used when the time is shown (stored times stay UTC). */
  tz: string;
  /** Prefixed user ids or `platform:@username` (AMAs from before 0.2.2 may hold a bare `@username`). */
  hosts: string[];
  /** The user id each `platform:@username` host was resolved to, once (at scheduling, or the first time they showed up). */
  hostIds?: Record<string, string>;
  /** Prefixed chat ids the AMA spans (any platforms). */
  chats: string[];
  /** Without '#'. */
  hashtag: string;
  /** Language of the AMA's notices (en, es, ru, tr, vi, zh, ar). */
  lang: string;
  /** Milliseconds before the start when a reminder is posted. */
  reminders: number[];
  premoderation: boolean;
  /** Pick up questions written without a command while live. */
  detectQuestions: boolean;
  /** Winners to pick at close (0 = no rewards). */
  rewards: number;
  /** Id of the recurring series this AMA belongs to. */
  series?: string;
  createdBy: string;
  createdAt: number;
  openedAt?: number;
  closedAt?: number;
  /** The question last put on a card by /next. */
  current?: number;
}

/** One place a question was asked. */
export interface Ask {
  platform: Platform;
  /** Prefixed chat id, with topic/thread. */
  chat: string;
  /** Prefixed user id (kept even for anonymous asks: one vote per person, reward claims). */
  user: string;
  userName: string;
  /** Native id of the message that asked, when there is one (a slash command may have none). */
  messageId?: string;
  text: string;
  at: number;
  /** Asked privately without opting in to be named. */
  anonymous?: boolean;
  /** How it came in. */
  via: 'ask' | 'reply' | 'hashtag' | 'mention' | 'private' | 'detected' | 'api' | 'split';
  url?: string;
  /** Its entry in the AMA's duplicate index (see dedup.ts), so a split can move it to the new question. */
  ix?: string;
}

/** A (merged) question as stored. */
export interface Question {
  n: number;
  text: string;
  status: QuestionStatus;
  /** Distinct people who asked or upvoted it. */
  votes: number;
  askCount: number;
  createdAt: number;
  mergedInto?: number;
  answer?: string;
  answeredAt?: number;
  answeredBy?: string;
  rejectReason?: string;
}

/** Every key of the AMA feature, under the project prefix. */
export class AmaKeys {
  constructor(readonly keys: Keys) {}
  /** Counter for AMA ids. */
  seq(): string {
    return this.keys.k('ama', 'seq');
  }
  /** Hash of one AMA. */
  ama(id: string): string {
    return this.keys.k('ama', id);
  }
  /** Every AMA by start time. */
  all(): string {
    return this.keys.k('ama', 'all');
  }
  /** AMAs linked to a group (chat without topic), by start time. */
  byChat(group: string): string {
    return this.keys.k('ama', 'chat', group);
  }
  /** The live AMA of a group. */
  live(group: string): string {
    return this.keys.k('ama', 'live', group);
  }
  /** Live AMAs by open time. */
  liveAll(): string {
    return this.keys.k('ama', 'live', '_all');
  }
  /** Question number counter of an AMA. */
  qseq(id: string): string {
    return this.keys.k('ama', id, 'qseq');
  }
  /** Hash of one question. */
  q(id: string, n: number): string {
    return this.keys.k('ama', id, 'q', n);
  }
  /** What every question key of an AMA starts with (`q()` is this plus the number; scripts build keys from it). */
  qPrefix(id: string): string {
    return `${this.keys.k('ama', id, 'q')}:`;
  }
  /** List of asks (JSON) of a question. */
  asks(id: string, n: number): string {
    return this.keys.k('ama', id, 'q', n, 'asks');
  }
  /** Everyone who supports a question: askers and upvoters (the vote count). */
  sup(id: string, n: number): string {
    return this.keys.k('ama', id, 'q', n, 'sup');
  }
  /** People who upvoted a question explicitly. */
  voters(id: string, n: number): string {
    return this.keys.k('ama', id, 'q', n, 'voters');
  }
  /** People who asked a question. */
  askers(id: string, n: number): string {
    return this.keys.k('ama', id, 'q', n, 'askers');
  }
  /** Open questions by rank score. */
  rank(id: string): string {
    return this.keys.k('ama', id, 'rank');
  }
  /** Every top-level (not merged) question by number. */
  qs(id: string): string {
    return this.keys.k('ama', id, 'qs');
  }
  /** Questions waiting for approval. */
  pending(id: string): string {
    return this.keys.k('ama', id, 'pending');
  }
  /** Answered questions by answer time. */
  answered(id: string): string {
    return this.keys.k('ama', id, 'answered');
  }
  /** Questions already put on a card by /next. */
  carded(id: string): string {
    return this.keys.k('ama', id, 'carded');
  }
  /** Event id -> question number, so a redelivered event is not asked twice. */
  ev(id: string, eventId: string): string {
    return this.keys.k('ama', id, 'ev', eventId);
  }
  /** Lock of an AMA for moderators' merges and splits. */
  lock(id: string): string {
    return this.keys.k('ama', id, 'lock');
  }
  /** Per-AMA roles: user -> host|editor|admin. */
  roles(id: string): string {
    return this.keys.k('ama', id, 'roles');
  }
  /** Display names of the people who took part. */
  names(id: string): string {
    return this.keys.k('ama', id, 'names');
  }
  /** Per-chat answers place state. */
  place(id: string, chat: string): string {
    return this.keys.k('ama', id, 'place', chat);
  }
  /** Native message -> `amaId:n`, for votes and replies on the message that asked. */
  msg(platform: string, group: string, messageId: string): string {
    return this.keys.k('ama', 'msg', platform, group, messageId);
  }
  /** The duplicate index namespace of an AMA. */
  indexName(id: string): string {
    return `ama:${id}`;
  }
  /** Recurring series. */
  series(sid: string): string {
    return this.keys.k('ama', 'series', sid);
  }
  /** Reward winners of an AMA (JSON list). */
  winners(id: string): string {
    return this.keys.k('ama', id, 'winners');
  }
  /** When each person last won a reward. */
  wins(): string {
    return this.keys.k('ama', 'wins');
  }
  /** Unclaimed rewards of a person (hash amaId:n -> JSON). */
  claims(user: string): string {
    return this.keys.k('ama', 'claims', user);
  }
  /** Claimed rewards of an AMA (user -> JSON). */
  claimed(id: string): string {
    return this.keys.k('ama', id, 'claimed');
  }
  /** Subscribers told before every AMA (user -> lang). */
  subsAll(): string {
    return this.keys.k('ama', 'subs', '_all');
  }
  /** Subscribers of one community's AMAs (user -> lang). */
  subsGroup(group: string): string {
    return this.keys.k('ama', 'subs', group);
  }
  /** Scheduler: due tasks by time. */
  due(): string {
    return this.keys.k('ama', 'sched', 'due');
  }
  /** Scheduler: task payloads. */
  tasks(): string {
    return this.keys.k('ama', 'sched', 'task');
  }
}

/** The ref of a question card in a chat (the outbound runner maps the sent message back to it). */
export function cardRef(amaId: string, n: number, chat: string): string {
  return `ama:${amaId}:q:${n}:card:${chat}`;
}

/** The ref of an AMA's announcement in a chat (replies to it are questions). */
export function announceRef(amaId: string, chat: string): string {
  return `ama:${amaId}:announce:${chat}`;
}

/** The ref of an AMA's answers place in a chat. */
export function placeRef(amaId: string, chat: string): string {
  return `ama:${amaId}:answers:${chat}`;
}

/** What a ref names, when it is one of the AMA's. */
export type ParsedRef =
  | { kind: 'card'; amaId: string; n: number; chat: string }
  | { kind: 'announce'; amaId: string; chat: string }
  | { kind: 'answers'; amaId: string; chat: string };

/** Reads an AMA ref back; null for anything else. */
export function parseRef(ref: string | null | undefined): ParsedRef | null {
  if (!ref) return null;
  let m = /^ama:([^:]+):q:(\d+):card:(.+)$/.exec(ref);
  if (m) return { kind: 'card', amaId: m[1]!, n: Number(m[2]), chat: m[3]! };
  m = /^ama:([^:]+):announce:(.+)$/.exec(ref);
  if (m) return { kind: 'announce', amaId: m[1]!, chat: m[2]! };
  m = /^ama:([^:]+):answers:(.+)$/.exec(ref);
  if (m) return { kind: 'answers', amaId: m[1]!, chat: m[2]! };
  return null;
}

/** The vote button's data: `up:<amaId>:<n>`. */
export function voteData(amaId: string, n: number): string {
  return `up:${amaId}:${n}`;
}

/** Reads a vote button's data back. */
export function parseVoteData(data: string | undefined): { amaId: string; n: number } | null {
  const m = /^up:([^:]+):(\d+)$/.exec(data ?? '');
  return m ? { amaId: m[1]!, n: Number(m[2]) } : null;
}

/** Reads a stored AMA hash; null when it is missing. */
export function amaFromHash(h: Record<string, string>): Ama | null {
  if (!h.id || !h.title) return null;
  const ama: Ama = {
    id: h.id,
    title: h.title,
    status: (h.status as AmaStatus) ?? 'scheduled',
    startsAt: Number(h.startsAt),
    durationMs: Number(h.durationMs),
    tz: h.tz || 'UTC',
    hosts: parseList(h.hosts),
    chats: parseList(h.chats),
    hashtag: h.hashtag ?? '',
    lang: h.lang || 'en',
    reminders: parseList(h.reminders).map(Number),
    premoderation: h.premoderation === '1',
    detectQuestions: h.detectQuestions !== '0',
    rewards: Number(h.rewards ?? 0),
    createdBy: h.createdBy ?? '',
    createdAt: Number(h.createdAt ?? 0),
  };
  if (h.series) ama.series = h.series;
  if (h.openedAt) ama.openedAt = Number(h.openedAt);
  if (h.closedAt) ama.closedAt = Number(h.closedAt);
  if (h.current) ama.current = Number(h.current);
  for (const [f, v] of Object.entries(h)) if (f.startsWith(HOST_ID_FIELD)) (ama.hostIds ??= {})[f.slice(HOST_ID_FIELD.length)] = v;
  return ama;
}

/** An AMA as hash fields. */
export function amaToHash(a: Ama): Record<string, string> {
  const h: Record<string, string> = {
    id: a.id,
    title: a.title,
    status: a.status,
    startsAt: String(a.startsAt),
    durationMs: String(a.durationMs),
    tz: a.tz,
    hosts: JSON.stringify(a.hosts),
    chats: JSON.stringify(a.chats),
    hashtag: a.hashtag,
    lang: a.lang,
    reminders: JSON.stringify(a.reminders),
    premoderation: a.premoderation ? '1' : '0',
    detectQuestions: a.detectQuestions ? '1' : '0',
    rewards: String(a.rewards),
    createdBy: a.createdBy,
    createdAt: String(a.createdAt),
  };
  if (a.series) h.series = a.series;
  for (const [entry, id] of Object.entries(a.hostIds ?? {})) h[`${HOST_ID_FIELD}${entry}`] = id;
  return h;
}

/** Hash field prefix of a resolved host name: `hostId:telegram:@hanna` -> `telegram:user:42`. */
export const HOST_ID_FIELD = 'hostId:';

/** Reads a stored question hash; null when it is missing. */
export function questionFromHash(h: Record<string, string>): Question | null {
  if (!h.n || !h.status) return null;
  const q: Question = {
    n: Number(h.n),
    text: h.text ?? '',
    status: h.status as QuestionStatus,
    votes: Number(h.votes ?? 0),
    askCount: Number(h.askCount ?? 0),
    createdAt: Number(h.createdAt ?? 0),
  };
  if (h.mergedInto) q.mergedInto = Number(h.mergedInto);
  if (h.answer !== undefined && h.answer !== '') q.answer = h.answer;
  if (h.answeredAt) q.answeredAt = Number(h.answeredAt);
  if (h.answeredBy) q.answeredBy = h.answeredBy;
  if (h.rejectReason) q.rejectReason = h.rejectReason;
  return q;
}

function parseList(s: string | undefined): string[] {
  if (!s) return [];
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}
