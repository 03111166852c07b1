/**
 * A fake X API v2 on 127.0.0.1 for the real twitter-api-v2 client: users, the mentions timeline, recent search,
 * posting with reply fields, likes, blocks, mutes, DMs, rate-limit headers and v2 error bodies. It also serves
 * `townhall sandbox` through SandboxPlatform (contract §7).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { OutboxEntry, SandboxMessageInput, SandboxPlatform, SandboxUser } from '../../src/core/index.js';

interface TwitterText {
  parseTweet(text: string): { weightedLength: number; valid: boolean };
  extractMentions(text: string): string[];
  extractHashtags(text: string): string[];
  extractUrlsWithIndices(text: string): { url: string; indices: [number, number] }[];
}
// twitter-text ships no types; a typed require keeps the declaration local.
const tt = createRequire(import.meta.url)('twitter-text') as TwitterText;

/** A user of the fake. */
export interface XFakeUser {
  id: string;
  name: string;
  username: string;
}

/** A post as the fake stores it (text as typed, t.co links already substituted). */
export interface XFakePost {
  id: string;
  text: string;
  author_id: string;
  conversation_id: string;
  created_at: string;
  lang: string;
  in_reply_to_user_id?: string;
  referenced_tweets?: { type: 'replied_to' | 'quoted' | 'retweeted'; id: string }[];
  entities: {
    mentions?: { start: number; end: number; username: string; id?: string }[];
    hashtags?: { start: number; end: number; tag: string }[];
    urls?: { start: number; end: number; url: string; expanded_url: string; display_url: string }[];
  };
  reply_settings: 'everyone' | 'mentionedUsers' | 'following';
  deleted?: boolean;
  /** Fields that replace the rendered payload as they are (hostile-input tests). */
  override?: Record<string, unknown>;
}

/** One request the fake answered. */
export interface XFakeRequest {
  method: string;
  path: string;
  /** 'GET /2/users/:id/mentions' style family, as the rate limits use. */
  endpoint: string;
  query: Record<string, string>;
  body?: unknown;
  status: number;
  auth: 'bearer' | 'oauth1' | 'none';
  at: number;
}

/** A failure armed with failNext. */
interface ArmedFailure {
  status: number;
  /** Matching calls to let through first. */
  after: number;
  endpoint?: string;
  title?: string;
  detail?: string;
  resetInMs?: number;
  times: number;
}

/** Options of startXFake. */
export interface XFakeOptions {
  /** Default 0: any free port. */
  port?: number;
  botUsername?: string;
  botUserId?: string;
  /** When set, requests must carry these (401 otherwise): checks that the adapter sends what it was given. */
  credentials?: { bearerToken?: string; appKey?: string; accessToken?: string };
  /** Window for every endpoint family unless set per family (default 900 per 15 min). */
  defaultRateLimit?: { limit: number; windowMs: number };
  /** Per endpoint family, e.g. { 'GET /2/users/:id/mentions': { limit: 10, windowMs: 900_000 } }. */
  rateLimits?: Record<string, { limit: number; windowMs: number }>;
  /** Largest request body accepted, bytes (default 1 MB). */
  maxBodyBytes?: number;
  /** Filtered-stream keep-alive interval (X: 20 s). */
  streamKeepAliveMs?: number;
}

/** The fake's programmatic surface: SandboxPlatform plus test hooks. */
export interface XFake extends SandboxPlatform {
  readonly botUser: XFakeUser;
  /** Requests answered, in order (the last 15,000 or more). */
  readonly requests: XFakeRequest[];
  /** A user (created when new). */
  user(input: SandboxUser | string): XFakeUser;
  /** A post by anyone, exactly as given: no mention of the bot is added. */
  addPost(input: {
    author: SandboxUser | string;
    text: string;
    replyTo?: string;
    conversationId?: string;
    lang?: string;
    createdAt?: number;
    replySettings?: XFakePost['reply_settings'];
    retweetOf?: string;
    override?: Record<string, unknown>;
  }): XFakePost;
  /** A stored post. */
  post(id: string): XFakePost | undefined;
  /** Every stored post, oldest first. */
  posts(): XFakePost[];
  /** The bot's posts, oldest first. */
  botPosts(): XFakePost[];
  /** Fails the next matching call(s) with a v2 error body (429 also spends the window until `resetInMs`). */
  failNext(status: number, opts?: { endpoint?: string; title?: string; detail?: string; resetInMs?: number; times?: number; after?: number }): void;
  /** Answers the next call to an endpoint family with this raw body (malformed-payload tests). */
  replyNext(endpoint: string, body: unknown, status?: number): void;
  /** Sets an endpoint family's window (the next response reports remaining - 1). */
  setRateLimit(endpoint: string, w: { remaining: number; resetAt: number; limit?: number }): void;
  /** Limits who can reply to a post (the author's setting). */
  restrictReplies(postId: string, setting?: XFakePost['reply_settings']): void;
  /** User ids that like a post. */
  likesOf(postId: string): string[];
  /** Removes a person's like. */
  unlike(postId: string, user: string): void;
  /** True when the user was injected with admin: true in that conversation. */
  isAdmin(userId: string, chat?: string): boolean;
  /** The filtered-stream rules in force. */
  streamRules(): { id: string; value: string; tag?: string }[];
  /** Open filtered-stream connections. */
  streamConnections(): number;
  /** Cuts every filtered-stream connection (X disconnecting); posts made meanwhile are not streamed. */
  dropStreams(): void;
  /** Writes a raw line to every open stream (hostile-payload tests). */
  streamRaw(line: string): void;
}

const TITLES: Record<number, string> = {
  400: 'Invalid Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found Error',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** X's wording for a reply the author's settings refuse. */
export const REPLY_RESTRICTED_DETAIL =
  'Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.';

const X_EPOCH = 1288834974657n;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly title = TITLES[status] ?? 'Error',
  ) {
    super(detail);
  }
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cmpId(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** The family a path belongs to: ids replaced by ':id'. */
function endpointOf(method: string, path: string): string {
  const segs = path.split('/').filter(Boolean);
  const idAfter = new Set(['users', 'tweets', 'likes', 'muting', 'blocking', 'with', 'username']);
  const keywords = new Set(['me', 'search', 'by', 'recent', 'stream', 'rules']);
  return `${method} /${segs.map((s, i) => (i > 0 && idAfter.has(segs[i - 1]!) && !keywords.has(s) ? ':id' : s)).join('/')}`;
}

/** Starts the fake X API on 127.0.0.1. */
export async function startXFake(opts: XFakeOptions = {}): Promise<XFake> {
  const users = new Map<string, XFakeUser>();
  const byUsername = new Map<string, XFakeUser>();
  const posts = new Map<string, XFakePost>();
  /** What the author typed, before t.co substitution: X compares this for duplicates. */
  const typedText = new Map<string, string>();
  const order: string[] = [];
  const likes = new Map<string, Set<string>>();
  const admins = new Map<string, Set<string>>();
  const outboxList: OutboxEntry[] = [];
  const requests: XFakeRequest[] = [];
  const windows = new Map<string, { limit: number; remaining: number; resetAt: number }>();
  const failures: ArmedFailure[] = [];
  const canned: { endpoint: string; body: unknown; status: number }[] = [];
  const rules = new Map<string, { id: string; value: string; tag?: string }>();
  let ruleSeq = 1n;
  const streams = new Set<{ res: http.ServerResponse; q: Record<string, string>; timer: NodeJS.Timeout }>();
  let seq = (BigInt(Date.now()) - X_EPOCH) << 22n;
  let dmSeq = 1n;
  let tcoSeq = 0;
  const nextId = () => (seq += 4096n).toString();

  const addUser = (u: XFakeUser) => {
    users.set(u.id, u);
    byUsername.set(u.username.toLowerCase(), u);
    return u;
  };
  const bot = addUser({ id: opts.botUserId ?? '1000', name: 'Townhall', username: opts.botUsername ?? 'townhall_bot' });

  const userOf = (input: SandboxUser | string): XFakeUser => {
    const id = typeof input === 'string' ? input : input.id;
    const existing = users.get(id);
    if (existing) return existing;
    const name = typeof input === 'string' ? `User ${id}` : input.name;
    let username = name.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/_+/g, '_').slice(0, 15) || `user${id}`;
    if (byUsername.has(username)) username = `${username.slice(0, 9)}_${id}`.slice(0, 15);
    return addUser({ id, name, username });
  };

  const entitiesOf = (typed: string): { text: string; entities: XFakePost['entities'] } => {
    // X swaps every link for a t.co one and reports where it leads.
    let text = '';
    let last = 0;
    const urls: { original: string; tco: string }[] = [];
    for (const u of tt.extractUrlsWithIndices(typed)) {
      const tco = `https://t.co/${(++tcoSeq).toString(36).padStart(10, 'x')}`;
      text += typed.slice(last, u.indices[0]) + tco;
      last = u.indices[1];
      urls.push({ original: u.url, tco });
    }
    text += typed.slice(last);
    const entities: XFakePost['entities'] = {};
    const cp = (s: string, from: number) => [...s.slice(0, from)].length;
    if (urls.length) {
      entities.urls = urls.map((u) => {
        const start = cp(text, text.indexOf(u.tco));
        const expanded = /^https?:\/\//i.test(u.original) ? u.original : `http://${u.original}`;
        return { start, end: start + u.tco.length, url: u.tco, expanded_url: expanded, display_url: u.original.replace(/^https?:\/\//i, '').slice(0, 30) };
      });
    }
    const mentions = tt.extractMentions(text);
    if (mentions.length) {
      entities.mentions = mentions.map((username) => {
        const start = cp(text, text.toLowerCase().indexOf(`@${username.toLowerCase()}`));
        const known = byUsername.get(username.toLowerCase());
        return { start, end: start + username.length + 1, username, ...(known ? { id: known.id } : {}) };
      });
    }
    const tags = tt.extractHashtags(text);
    if (tags.length) {
      entities.hashtags = tags.map((tag) => {
        const start = cp(text, text.indexOf(`#${tag}`));
        return { start, end: start + tag.length + 1, tag };
      });
    }
    return { text, entities };
  };

  const store = (p: XFakePost) => {
    posts.set(p.id, p);
    order.push(p.id);
    return p;
  };

  const addPost: XFake['addPost'] = (input) => {
    const author = userOf(input.author);
    const id = nextId();
    const parent = input.replyTo ? posts.get(input.replyTo) : undefined;
    const { text, entities } = entitiesOf(input.text);
    const p: XFakePost = {
      id,
      text,
      author_id: author.id,
      conversation_id: input.conversationId ?? parent?.conversation_id ?? id,
      created_at: new Date(input.createdAt ?? Date.now()).toISOString(),
      lang: input.lang ?? 'en',
      entities,
      reply_settings: input.replySettings ?? 'everyone',
    };
    if (input.replyTo) {
      p.referenced_tweets = [{ type: 'replied_to', id: input.replyTo }];
      if (parent) p.in_reply_to_user_id = parent.author_id;
    }
    if (input.retweetOf) p.referenced_tweets = [{ type: 'retweeted', id: input.retweetOf }];
    if (input.override) p.override = input.override;
    typedText.set(id, input.text);
    store(p);
    broadcast(p);
    return p;
  };

  const record = (e: Omit<OutboxEntry, 'at'>) => outboxList.push({ ...e, at: Date.now() });

  // ------------------------------------------------------------ rendering

  const renderPost = (p: XFakePost, fields: Set<string>): Record<string, unknown> => {
    const out: Record<string, unknown> = { id: p.id, text: htmlEscape(p.text), edit_history_tweet_ids: [p.id] };
    const optional: Record<string, unknown> = {
      author_id: p.author_id,
      conversation_id: p.conversation_id,
      created_at: p.created_at,
      lang: p.lang,
      in_reply_to_user_id: p.in_reply_to_user_id,
      referenced_tweets: p.referenced_tweets,
      entities: Object.keys(p.entities).length ? p.entities : undefined,
      reply_settings: p.reply_settings,
    };
    for (const [k, v] of Object.entries(optional)) if (v !== undefined && fields.has(k)) out[k] = v;
    return p.override ? { ...out, ...p.override } : out;
  };

  const renderUser = (u: XFakeUser) => ({ id: u.id, name: u.name, username: u.username });

  const listOf = (q: Record<string, string>, name: string) => new Set((q[name] ?? '').split(',').filter(Boolean));

  /** A v2 timeline page: newest first, since/until/start/end filters, opaque paging tokens. */
  const timeline = (all: XFakePost[], q: Record<string, string>, tokenParam: string[], range: [number, number]) => {
    const max = q.max_results === undefined ? 10 : Number(q.max_results);
    if (!Number.isInteger(max) || max < range[0] || max > range[1]) {
      throw new HttpError(400, `The \`max_results\` query parameter value [${q.max_results}] is not between ${range[0]} and ${range[1]}`);
    }
    let list = all.filter((p) => !p.deleted).sort((a, b) => cmpId(b.id, a.id));
    if (q.since_id) list = list.filter((p) => cmpId(p.id, q.since_id!) > 0);
    if (q.until_id) list = list.filter((p) => cmpId(p.id, q.until_id!) < 0);
    if (q.start_time) {
      const t = Date.parse(q.start_time);
      if (!Number.isFinite(t)) throw new HttpError(400, 'Invalid start_time');
      list = list.filter((p) => Date.parse(p.created_at) >= t);
    }
    if (q.end_time) list = list.filter((p) => Date.parse(p.created_at) < Date.parse(q.end_time!));
    const token = tokenParam.map((n) => q[n]).find((v) => v !== undefined);
    if (token !== undefined) {
      const m = /^pt_(\d+)$/.exec(token);
      if (!m) throw new HttpError(400, `The \`pagination_token\` query parameter value [${token}] is not valid`);
      list = list.filter((p) => cmpId(p.id, m[1]!) < 0);
    }
    const page = list.slice(0, max);
    const fields = listOf(q, 'tweet.fields');
    const expansions = listOf(q, 'expansions');
    const body: Record<string, unknown> = {};
    if (page.length) body.data = page.map((p) => renderPost(p, fields));
    const includes: Record<string, unknown[]> = {};
    if (expansions.has('author_id') && page.length) {
      const ids = [...new Set(page.map((p) => p.author_id))];
      includes.users = ids.map((id) => users.get(id)).filter((u): u is XFakeUser => Boolean(u)).map(renderUser);
    }
    if (expansions.has('referenced_tweets.id')) {
      const refs = page.flatMap((p) => p.referenced_tweets ?? []).map((r) => posts.get(r.id)).filter((p): p is XFakePost => Boolean(p && !p.deleted));
      if (refs.length) includes.tweets = refs.map((p) => renderPost(p, fields));
    }
    if (Object.keys(includes).length) body.includes = includes;
    const meta: Record<string, unknown> = { result_count: page.length };
    if (page.length) {
      meta.newest_id = page[0]!.id;
      meta.oldest_id = page[page.length - 1]!.id;
      if (list.length > page.length) meta.next_token = `pt_${page[page.length - 1]!.id}`;
    }
    body.meta = meta;
    return body;
  };

  const matchesQuery = (p: XFakePost, query: string): boolean => {
    const author = users.get(p.author_id);
    const text = p.text.toLowerCase();
    for (const raw of query.split(/\s+/).filter(Boolean)) {
      const neg = raw.startsWith('-');
      const term = (neg ? raw.slice(1) : raw).toLowerCase();
      let hit: boolean;
      if (term.startsWith('#')) hit = (p.entities.hashtags ?? []).some((h) => h.tag.toLowerCase() === term.slice(1));
      else if (term.startsWith('@')) hit = (p.entities.mentions ?? []).some((m) => m.username.toLowerCase() === term.slice(1));
      else if (term === 'is:retweet') hit = Boolean(p.referenced_tweets?.some((r) => r.type === 'retweeted'));
      else if (term === 'is:reply') hit = Boolean(p.referenced_tweets?.some((r) => r.type === 'replied_to'));
      else if (term.startsWith('from:')) hit = author?.username.toLowerCase() === term.slice(5);
      else if (term.startsWith('conversation_id:')) hit = p.conversation_id === term.slice(16);
      else hit = text.includes(term);
      if (hit === neg) return false;
    }
    return true;
  };

  // ------------------------------------------------------------ filtered stream

  /** Writes a new post to every open stream whose rules match it, as X does: one JSON object per line. */
  function broadcast(p: XFakePost): void {
    if (streams.size === 0) return;
    const matching = [...rules.values()].filter((r) => matchesQuery(p, r.value)).map((r) => ({ id: r.id, tag: r.tag ?? '' }));
    if (matching.length === 0) return;
    for (const st of streams) {
      const author = users.get(p.author_id);
      const payload: Record<string, unknown> = { data: renderPost(p, listOf(st.q, 'tweet.fields')), matching_rules: matching };
      if (author && listOf(st.q, 'expansions').has('author_id')) payload.includes = { users: [renderUser(author)] };
      st.res.write(`${JSON.stringify(payload)}\r\n`);
    }
  }

  const openStream = (res: http.ServerResponse, q: Record<string, string>, headers: Record<string, string>) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.write('\r\n');
    const timer = setInterval(() => res.write('\r\n'), opts.streamKeepAliveMs ?? 20_000);
    const st = { res, q, timer };
    streams.add(st);
    const end = () => {
      clearInterval(timer);
      streams.delete(st);
    };
    // Not req 'close': a request emits it once its (empty) body is read, long before the client goes.
    res.on('close', end);
  };

  const rulesRoute = (method: string, body: Record<string, unknown>, q: Record<string, string>): [number, unknown] => {
    const sent = new Date().toISOString();
    if (method === 'GET') {
      const list = [...rules.values()];
      return [200, list.length ? { data: list, meta: { sent, result_count: list.length } } : { meta: { sent, result_count: 0 } }];
    }
    const dry = q.dry_run === 'true';
    if (Array.isArray(body.add)) {
      const created: { id: string; value: string; tag?: string }[] = [];
      for (const r of body.add as { value?: unknown; tag?: unknown }[]) {
        if (typeof r?.value !== 'string' || r.value.length === 0 || r.value.length > 512) throw new HttpError(400, 'Invalid rule value');
        if ([...rules.values()].some((x) => x.value === r.value)) continue;
        const rule = { id: (ruleSeq++).toString(), value: r.value, ...(typeof r.tag === 'string' ? { tag: r.tag } : {}) };
        if (!dry) rules.set(rule.id, rule);
        created.push(rule);
      }
      return [201, { ...(created.length ? { data: created } : {}), meta: { sent, summary: { created: created.length, not_created: (body.add as unknown[]).length - created.length, valid: created.length, invalid: 0 } } }];
    }
    const del = body.delete as { ids?: unknown } | undefined;
    if (del && Array.isArray(del.ids)) {
      let deleted = 0;
      for (const id of del.ids) if (!dry && rules.delete(String(id))) deleted++;
      return [200, { meta: { sent, summary: { deleted, not_deleted: del.ids.length - deleted } } }];
    }
    throw new HttpError(400, 'Rules request must add or delete');
  };

  // ------------------------------------------------------------ auth, limits, failures

  const authOf = (req: http.IncomingMessage): XFakeRequest['auth'] => {
    const h = req.headers.authorization ?? '';
    const c = opts.credentials;
    if (h.startsWith('Bearer ')) {
      if (c?.bearerToken !== undefined && h.slice(7) !== c.bearerToken) throw new HttpError(401, 'Unauthorized');
      return 'bearer';
    }
    if (h.startsWith('OAuth ')) {
      const param = (name: string) => /* OAuth header values are percent-encoded and quoted */ new RegExp(`${name}="([^"]*)"`).exec(h)?.[1];
      if (c?.appKey !== undefined && decodeURIComponent(param('oauth_consumer_key') ?? '') !== c.appKey) throw new HttpError(401, 'Unauthorized');
      if (c?.accessToken !== undefined && decodeURIComponent(param('oauth_token') ?? '') !== c.accessToken) throw new HttpError(401, 'Unauthorized');
      if (!param('oauth_signature')) throw new HttpError(401, 'Unauthorized');
      return 'oauth1';
    }
    throw new HttpError(401, 'Unauthorized');
  };

  const windowOf = (endpoint: string, now: number) => {
    const conf = opts.rateLimits?.[endpoint] ?? opts.defaultRateLimit ?? { limit: 900, windowMs: 15 * 60_000 };
    let w = windows.get(endpoint);
    if (!w || now >= w.resetAt) {
      w = { limit: conf.limit, remaining: conf.limit, resetAt: Math.ceil((now + conf.windowMs) / 1000) * 1000 };
      windows.set(endpoint, w);
    }
    return w;
  };

  const rateHeaders = (w: { limit: number; remaining: number; resetAt: number }) => ({
    'x-rate-limit-limit': String(w.limit),
    'x-rate-limit-remaining': String(Math.max(0, w.remaining)),
    'x-rate-limit-reset': String(Math.ceil(w.resetAt / 1000)),
  });

  // ------------------------------------------------------------ routes

  const requireUserContext = (auth: XFakeRequest['auth']) => {
    if (auth !== 'oauth1') {
      throw new HttpError(403, 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].', 'Unsupported Authentication');
    }
  };
  const requireBot = (id: string) => {
    if (id !== bot.id) throw new HttpError(403, 'You are not permitted to perform this action on behalf of another user.');
  };
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined || v === null || v === '') throw new HttpError(400, `The \`${what}\` field is required`);
    return v;
  };

  const requireAppOnly = (auth: XFakeRequest['auth']) => {
    if (auth !== 'bearer') {
      throw new HttpError(403, 'Authenticating with OAuth 1.0a User Context is forbidden for this endpoint.  Supported authentication types are [OAuth 2.0 Application-Only].', 'Unsupported Authentication');
    }
  };

  const route = (method: string, path: string, q: Record<string, string>, body: Record<string, unknown>, auth: XFakeRequest['auth']): [number, unknown] => {
    let m: RegExpExecArray | null;
    if (path === '/2/tweets/search/stream/rules' && (method === 'GET' || method === 'POST')) {
      requireAppOnly(auth);
      return rulesRoute(method, body, q);
    }
    if (method === 'GET' && path === '/2/users/me') {
      requireUserContext(auth);
      return [200, { data: renderUser(bot) }];
    }
    if (method === 'GET' && (m = /^\/2\/users\/by\/username\/(\w{1,15})$/.exec(path))) {
      const u = byUsername.get(m[1]!.toLowerCase());
      if (!u) return [200, { errors: [{ value: m[1], detail: `Could not find user with username: [${m[1]}].`, title: 'Not Found Error', resource_type: 'user', parameter: 'username', type: 'https://api.twitter.com/2/problems/resource-not-found' }] }];
      return [200, { data: renderUser(u) }];
    }
    if (method === 'GET' && (m = /^\/2\/users\/([^/]+)\/mentions$/.exec(path))) {
      const u = users.get(decodeURIComponent(m[1]!));
      if (!u) throw new HttpError(404, 'User not found');
      const name = u.username.toLowerCase();
      const all = [...posts.values()].filter((p) => p.author_id !== u.id && (p.entities.mentions ?? []).some((x) => x.username.toLowerCase() === name));
      return [200, timeline(all, q, ['pagination_token'], [5, 100])];
    }
    if (method === 'GET' && path === '/2/tweets/search/recent') {
      const query = need(q.query, 'query');
      if (query.length > 512) throw new HttpError(400, 'Query too long');
      const all = [...posts.values()].filter((p) => matchesQuery(p, query));
      return [200, timeline(all, q, ['next_token', 'pagination_token'], [10, 100])];
    }
    if (method === 'GET' && (m = /^\/2\/users\/([^/]+)$/.exec(path))) {
      const u = users.get(decodeURIComponent(m[1]!));
      if (!u) return [200, { errors: [{ value: m[1], detail: `Could not find user with id: [${m[1]}].`, title: 'Not Found Error', resource_type: 'user', parameter: 'id', type: 'https://api.twitter.com/2/problems/resource-not-found' }] }];
      return [200, { data: renderUser(u) }];
    }
    if (method === 'GET' && (m = /^\/2\/tweets\/(\d+)$/.exec(path))) {
      const p = posts.get(m[1]!);
      if (!p || p.deleted) return [200, { errors: [{ value: m[1], detail: `Could not find tweet with id: [${m[1]}].`, title: 'Not Found Error', resource_type: 'tweet', parameter: 'id', type: 'https://api.twitter.com/2/problems/resource-not-found' }] }];
      return [200, { data: renderPost(p, listOf(q, 'tweet.fields')) }];
    }
    if (method === 'GET' && (m = /^\/2\/tweets\/(\d+)\/liking_users$/.exec(path))) {
      const likers = [...(likes.get(m[1]!) ?? [])];
      const max = q.max_results === undefined ? 100 : Number(q.max_results);
      const from = q.pagination_token ? Number(/^o_(\d+)$/.exec(q.pagination_token)?.[1] ?? NaN) : 0;
      if (!Number.isInteger(from)) throw new HttpError(400, 'Invalid pagination_token');
      const page = likers.slice(from, from + max).map((id) => users.get(id)).filter((u): u is XFakeUser => Boolean(u));
      const meta: Record<string, unknown> = { result_count: page.length };
      if (from + max < likers.length) meta.next_token = `o_${from + max}`;
      return [200, page.length ? { data: page.map(renderUser), meta } : { meta }];
    }
    if (method === 'POST' && path === '/2/tweets') {
      requireUserContext(auth);
      return [201, createPost(body)];
    }
    if (method === 'DELETE' && (m = /^\/2\/tweets\/(\d+)$/.exec(path))) {
      requireUserContext(auth);
      const p = posts.get(m[1]!);
      if (!p || p.deleted) return [200, { data: { deleted: false } }];
      if (p.author_id !== bot.id) throw new HttpError(403, 'You are not allowed to delete this Tweet.');
      p.deleted = true;
      record({ type: 'delete', chat: p.conversation_id, messageId: p.id });
      return [200, { data: { deleted: true } }];
    }
    if (method === 'POST' && (m = /^\/2\/users\/([^/]+)\/likes$/.exec(path))) {
      requireUserContext(auth);
      requireBot(m[1]!);
      const id = need(body.tweet_id as string | undefined, 'tweet_id');
      const p = posts.get(String(id));
      if (!p || p.deleted) throw new HttpError(400, 'One or more parameters to your request was invalid.');
      likeOf(p.id).add(bot.id);
      record({ type: 'react', chat: p.conversation_id, messageId: p.id });
      return [200, { data: { liked: true } }];
    }
    if (method === 'DELETE' && (m = /^\/2\/users\/([^/]+)\/likes\/(\d+)$/.exec(path))) {
      requireUserContext(auth);
      requireBot(m[1]!);
      likes.get(m[2]!)?.delete(bot.id);
      return [200, { data: { liked: false } }];
    }
    if ((m = /^\/2\/users\/([^/]+)\/(blocking|muting)(?:\/([^/]+))?$/.exec(path))) {
      requireUserContext(auth);
      requireBot(m[1]!);
      const kind = m[2] as 'blocking' | 'muting';
      if (method === 'POST' && !m[3]) {
        const target = String(need(body.target_user_id as string | undefined, 'target_user_id'));
        record({ type: kind === 'blocking' ? 'ban' : 'mute', chat: '', user: target });
        return [200, { data: { [kind]: true } }];
      }
      if (method === 'DELETE' && m[3]) {
        record({ type: kind === 'blocking' ? 'unban' : 'unmute', chat: '', user: decodeURIComponent(m[3]) });
        return [200, { data: { [kind]: false } }];
      }
    }
    if (method === 'POST' && (m = /^\/2\/dm_conversations\/with\/([^/]+)\/messages$/.exec(path))) {
      requireUserContext(auth);
      const participant = decodeURIComponent(m[1]!);
      const text = String(need(body.text as string | undefined, 'text'));
      if (text.length > 10_000) throw new HttpError(400, 'Text is too long');
      const conv = [bot.id, participant].sort(cmpId).join('-');
      const eventId = (dmSeq++).toString();
      record({ type: 'send', chat: conv, user: participant, messageId: eventId, text });
      return [201, { data: { dm_conversation_id: conv, dm_event_id: eventId } }];
    }
    throw new HttpError(404, `No route for ${method} ${path}`, 'Not Found Error');
  };

  const likeOf = (postId: string) => {
    let s = likes.get(postId);
    if (!s) likes.set(postId, (s = new Set()));
    return s;
  };

  const createPost = (body: Record<string, unknown>) => {
    const typed = body.text;
    if (typeof typed !== 'string' || typed.length === 0) throw new HttpError(400, 'The `text` field is required');
    const parsed = tt.parseTweet(typed);
    if (!parsed.valid || parsed.weightedLength > 280) throw new HttpError(400, `Your post is too long (${parsed.weightedLength} weighted characters).`);
    const reply = body.reply as { in_reply_to_tweet_id?: unknown } | undefined;
    const replyTo = reply?.in_reply_to_tweet_id === undefined ? undefined : String(reply.in_reply_to_tweet_id);
    const quote = body.quote_tweet_id === undefined ? undefined : String(body.quote_tweet_id);
    let parent: XFakePost | undefined;
    // Sandbox conversations may be named, not rooted in a post: a reply to such a name joins that conversation.
    let conversationId: string | undefined;
    if (replyTo) {
      parent = posts.get(replyTo);
      if (!parent && [...posts.values()].some((p) => p.conversation_id === replyTo)) conversationId = replyTo;
      else if (!parent || parent.deleted) throw new HttpError(403, 'You attempted to reply to a Tweet that is deleted or not visible to you.');
      const root = parent ? posts.get(parent.conversation_id) : undefined;
      for (const p of [parent, root]) {
        if (!p || p.author_id === bot.id || p.reply_settings === 'everyone') continue;
        const mentioned = (p.entities.mentions ?? []).some((x) => x.username.toLowerCase() === bot.username.toLowerCase());
        if (!mentioned) throw new HttpError(403, REPLY_RESTRICTED_DETAIL);
      }
    }
    if (quote && (!posts.get(quote) || posts.get(quote)!.deleted)) throw new HttpError(400, 'The quoted post does not exist.');
    if ([...posts.values()].some((p) => p.author_id === bot.id && !p.deleted && typedText.get(p.id) === typed)) {
      throw new HttpError(403, 'You are not allowed to create a Tweet with duplicate content.');
    }
    const p = addPost({ author: bot.id, text: typed, ...(replyTo ? { replyTo } : {}), ...(conversationId ? { conversationId } : {}) });
    if (quote) p.referenced_tweets = [{ type: 'quoted', id: quote }];
    const entry: Omit<OutboxEntry, 'at'> = { type: 'send', chat: p.conversation_id, messageId: p.id, text: typed };
    if (replyTo) entry.replyTo = replyTo;
    record(entry);
    return { data: { id: p.id, text: htmlEscape(p.text), edit_history_tweet_ids: [p.id] } };
  };

  // ------------------------------------------------------------ server

  const maxBody = opts.maxBodyBytes ?? 1_000_000;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const path = url.pathname;
      const endpoint = endpointOf(method, path);
      const query = Object.fromEntries(url.searchParams);
      const now = Date.now();
      const entry: XFakeRequest = { method, path, endpoint, query, status: 0, auth: 'none', at: now };
      requests.push(entry);
      // The sandbox runs for hours and the bot polls: keep the log bounded.
      if (requests.length > 20_000) requests.splice(0, 5_000);
      const w = windowOf(endpoint, now);
      const send = (status: number, payload: unknown, extra: Record<string, string> = {}) => {
        entry.status = status;
        const isError = status >= 400;
        res.writeHead(status, { 'content-type': isError ? 'application/problem+json' : 'application/json', ...rateHeaders(w), ...extra });
        res.end(JSON.stringify(payload));
      };
      const sendError = (e: HttpError) =>
        send(e.status, { title: e.title, detail: e.detail, type: e.status === 429 ? 'about:blank' : `https://api.twitter.com/2/problems/${e.title.toLowerCase().replace(/\s+/g, '-')}`, status: e.status });
      try {
        if (tooBig) throw new HttpError(413, 'Request body too large');
        entry.auth = authOf(req);
        const armed = failures.findIndex((f) => !f.endpoint || f.endpoint === endpoint);
        if (armed >= 0 && failures[armed]!.after > 0) failures[armed]!.after--;
        else if (armed >= 0) {
          const f = failures[armed]!;
          if (--f.times <= 0) failures.splice(armed, 1);
          if (f.status === 429) {
            w.remaining = 0;
            w.resetAt = Math.ceil((now + (f.resetInMs ?? 1000)) / 1000) * 1000;
          }
          throw new HttpError(f.status, f.detail ?? TITLES[f.status] ?? 'Error', f.title ?? TITLES[f.status] ?? 'Error');
        }
        if (w.remaining <= 0) throw new HttpError(429, 'Too Many Requests');
        w.remaining--;
        let body: Record<string, unknown> = {};
        if (chunks.length) {
          try {
            const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
            else throw new Error('not an object');
          } catch {
            throw new HttpError(400, 'Request body is not a JSON object');
          }
          entry.body = body;
        }
        if (method === 'GET' && path === '/2/tweets/search/stream') {
          requireAppOnly(entry.auth);
          entry.status = 200;
          openStream(res, query, rateHeaders(w));
          return;
        }
        const cannedAt = canned.findIndex((c) => c.endpoint === endpoint);
        if (cannedAt >= 0) {
          const [c] = canned.splice(cannedAt, 1);
          send(c!.status, c!.body);
          return;
        }
        const [status, payload] = route(method, path, query, body, entry.auth);
        send(status, payload);
      } catch (e) {
        if (e instanceof HttpError) sendError(e);
        else sendError(new HttpError(500, e instanceof Error ? e.message : String(e)));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: XFake = {
    url,
    // The sandbox signs with these (OAuth 1.0a user context); the fake checks them only when `opts.credentials` says so.
    credentials: {
      X_APP_KEY: opts.credentials?.appKey ?? 'sandbox-app-key',
      X_APP_SECRET: 'sandbox-app-secret',
      X_ACCESS_TOKEN: opts.credentials?.accessToken ?? 'sandbox-access-token',
      X_ACCESS_SECRET: 'sandbox-access-secret',
    },
    botUser: bot,
    requests,
    user: userOf,
    addPost,
    post: (id) => posts.get(id),
    posts: () => order.map((id) => posts.get(id)!),
    botPosts: () => order.map((id) => posts.get(id)!).filter((p) => p.author_id === bot.id),
    failNext: (status, o = {}) => {
      const f: ArmedFailure = { status, times: o.times ?? 1, after: o.after ?? 0 };
      if (o.endpoint) f.endpoint = o.endpoint;
      if (o.title) f.title = o.title;
      if (o.detail) f.detail = o.detail;
      if (o.resetInMs !== undefined) f.resetInMs = o.resetInMs;
      failures.push(f);
    },
    replyNext: (endpoint, body, status = 200) => void canned.push({ endpoint, body, status }),
    setRateLimit: (endpoint, s) => {
      const conf = opts.rateLimits?.[endpoint] ?? opts.defaultRateLimit ?? { limit: 900, windowMs: 15 * 60_000 };
      windows.set(endpoint, { limit: s.limit ?? conf.limit, remaining: s.remaining, resetAt: Math.ceil(s.resetAt / 1000) * 1000 });
    },
    restrictReplies: (postId, setting = 'mentionedUsers') => {
      const p = posts.get(postId);
      if (!p) throw new Error(`no post ${postId}`);
      p.reply_settings = setting;
    },
    likesOf: (postId) => [...(likes.get(postId) ?? [])],
    unlike: (postId, user) => void likes.get(postId)?.delete(user),
    streamRules: () => [...rules.values()],
    streamConnections: () => streams.size,
    streamRaw: (line) => {
      for (const st of streams) st.res.write(`${line}\r\n`);
    },
    dropStreams: () => {
      for (const st of [...streams]) {
        clearInterval(st.timer);
        streams.delete(st);
        st.res.destroy();
      }
    },
    isAdmin: (userId, chat) => (chat ? Boolean(admins.get(chat)?.has(userId)) : [...admins.values()].some((s) => s.has(userId))),

    // SandboxPlatform: on X every injected message is a post mentioning the bot; `chat` is its conversation.
    async injectMessage(input: SandboxMessageInput) {
      const u = userOf(input.user);
      if (input.user.admin) {
        let s = admins.get(input.chat);
        if (!s) admins.set(input.chat, (s = new Set()));
        s.add(u.id);
      }
      const mentionsBot = tt.extractMentions(input.text).some((n) => n.toLowerCase() === bot.username.toLowerCase());
      const text = mentionsBot ? input.text : `@${bot.username} ${input.text}`;
      const p = addPost({ author: u.id, text, conversationId: input.chat, ...(input.replyTo ? { replyTo: input.replyTo } : {}) });
      return { id: p.id };
    },
    async injectReaction(input) {
      const u = userOf(input.user);
      if (!posts.get(input.message)) throw new Error(`no post ${input.message}`);
      // X has one reaction: the like.
      likeOf(input.message).add(u.id);
    },
    async injectJoin(input) {
      // Nothing to join on X; the person just exists from now on.
      userOf(input.user);
    },
    outbox: (chat) => (chat === undefined ? [...outboxList] : outboxList.filter((e) => e.chat === chat)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const st of streams) clearInterval(st.timer);
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}
