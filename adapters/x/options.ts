/** Options of the X adapter: validated once at construction, with a default for every knob. */
import { z } from 'zod';
import type { OutboundLimits } from '../../src/core/index.js';

/**
 * User-context OAuth 1.0a keys (read and post; add the app's bearer token for the filtered stream, which X
 * serves to app-only auth), or an app-only bearer token alone (read-only).
 */
export type XCredentials =
  | { appKey: string; appSecret: string; accessToken: string; accessSecret: string; bearerToken?: string }
  | { bearerToken: string };

/** True when the credentials can act as the bot account (post, like, DM), not only read. */
export function hasUserContext(c: XCredentials): c is Extract<XCredentials, { appKey: string }> {
  return 'appKey' in c;
}

/** What happens to a reply X refuses because the author limited who can reply. */
export type ReplyRestrictedPolicy = 'quote' | 'skip';

/** Timing and paging knobs; every one has a default in X_DEFAULTS. */
export interface XTimings {
  /** Base mention poll interval; stretched when budgets run low. */
  pollIntervalMs: number;
  /** Never poll more often than this. */
  minPollIntervalMs: number;
  /** Never wait longer than this between polls (budget permitting). */
  maxPollIntervalMs: number;
  /** Hashtag search interval while hashtags are tracked. */
  searchIntervalMs: number;
  /** Interval for reading likes on tracked question posts. */
  likesIntervalMs: number;
  /** First wait after a failed poll; doubles per failure. */
  errorBackoffMs: number;
  /** Cap of the failure backoff. */
  maxErrorBackoffMs: number;
  /** Extra wait after a rate-limit window's reset time (clock skew). */
  rateLimitMarginMs: number;
  /** Per HTTP request. */
  requestTimeoutMs: number;
  /** max_results per page (mentions 5..100, search 10..100). */
  pageSize: number;
  /** Pages fetched per poll; the rest is fetched next poll, never skipped. */
  maxPagesPerPoll: number;
  /** With no cursor yet (first start), how far back mentions are taken. */
  firstPollLookbackMs: number;
  /** How long a question post's likes keep counting as votes. */
  likesTrackForMs: number;
  /** Filtered stream: silence longer than this means the connection is dead (X sends a keep-alive every 20 s). */
  streamKeepAliveMs: number;
}

/** Everything `createXAdapter` takes. Secrets come from the caller (read from the environment there), never from process.env here. */
export interface XAdapterOptions extends Partial<XTimings> {
  credentials: XCredentials;
  /** Points the real client elsewhere (the fake X API in tests and the sandbox), e.g. http://127.0.0.1:4010. */
  apiBaseUrl?: string;
  /** Skips the user lookup at init. */
  botUserId?: string;
  /** With a bearer token there is no "me": the bot account is looked up by this username. */
  botUsername?: string;
  /** Hashtags (without '#') always searched; AMA hashtags can also be tracked at run time (trackHashtags). */
  hashtags?: string[];
  /** User ids or usernames treated as moderators: X has no chat admins. */
  admins?: string[];
  /** Finer admin rule (the sandbox asks its fake); combined with `admins`. */
  isAdmin?: (userId: string, username: string | undefined, conversationId: string) => boolean;
  /** Monthly budgets (X bills reads per post returned and caps posts per month); unlimited when absent. */
  budgets?: { monthlyReads?: number; monthlyPosts?: number };
  /** Reply-restricted posts: answer with a quote post, or skip (default). */
  onReplyRestricted?: ReplyRestrictedPolicy;
  /** " 1/n" on thread posts (default true). */
  numberThreads?: boolean;
  /** Break "@name" in outgoing text so echoed user text pings nobody (default true). */
  neutralizeMentions?: boolean;
  /**
   * 'poll' (default) reads mentions and hashtag searches on an interval; 'stream' uses the filtered stream
   * (needs the app's bearer token and an access level that has it; falls back to polling when refused), with a
   * catch-up poll after every (re)connect and a safety poll every maxPollIntervalMs.
   */
  inbound?: 'poll' | 'stream';
  /** Likes on posts sent with buttons become vote events (needs an access level that reads liking users). */
  likesAsVotes?: boolean;
  /** Send budgets for the outbound runner; X's published post limits by default. */
  limits?: OutboundLimits;
}

/** Defaults for every timing knob, proven complete by the compiler. */
export const X_DEFAULTS = {
  pollIntervalMs: 60_000,
  minPollIntervalMs: 15_000,
  maxPollIntervalMs: 15 * 60_000,
  searchIntervalMs: 60_000,
  likesIntervalMs: 120_000,
  errorBackoffMs: 5_000,
  maxErrorBackoffMs: 5 * 60_000,
  rateLimitMarginMs: 1_000,
  requestTimeoutMs: 15_000,
  pageSize: 100,
  maxPagesPerPoll: 5,
  firstPollLookbackMs: 15 * 60_000,
  likesTrackForMs: 7 * 24 * 3600_000,
  streamKeepAliveMs: 60_000,
} as const satisfies Required<XTimings>;

/**
 * X's published limits for creating posts (user context: 200 per 15 min, 300 per 3 h with reposts),
 * and a per-conversation pace so one busy AMA cannot flood a thread.
 */
export const X_DEFAULT_LIMITS: OutboundLimits = {
  perChat: [{ points: 6, durationMs: 60_000 }],
  global: [
    { points: 200, durationMs: 15 * 60_000 },
    { points: 300, durationMs: 3 * 3600_000 },
  ],
  perPrivateChat: [{ points: 5, durationMs: 60_000 }],
};

const CREDENTIALS_REQUIRED = 'X credentials are required: set X_APP_KEY, X_APP_SECRET, X_ACCESS_TOKEN and X_ACCESS_SECRET (or X_BEARER_TOKEN for read-only)';
const nonEmpty = z.string().min(1);
const ms = z.number().int().min(0).max(31 * 24 * 3600_000);
const budget = z.object({ points: z.number().int().positive(), durationMs: z.number().int().positive() });

const OptionsSchema = z.object({
  credentials: z.union(
    [
      z.object({ appKey: nonEmpty, appSecret: nonEmpty, accessToken: nonEmpty, accessSecret: nonEmpty, bearerToken: nonEmpty.optional() }),
      z.object({ bearerToken: nonEmpty }),
    ],
    { error: CREDENTIALS_REQUIRED },
  ),
  apiBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
  botUserId: z.string().regex(/^[0-9A-Za-z_-]{1,40}$/).optional(),
  botUsername: z.string().regex(/^@?\w{1,15}$/).optional(),
  hashtags: z.array(z.string().regex(/^#?[\p{L}\p{N}_]{1,100}$/u, 'a hashtag is letters, digits and _')).max(25).optional(),
  admins: z.array(z.string().min(1).max(64)).optional(),
  isAdmin: z.custom<NonNullable<XAdapterOptions['isAdmin']>>((v) => typeof v === 'function', 'must be a function').optional(),
  budgets: z.object({ monthlyReads: z.number().int().nonnegative().optional(), monthlyPosts: z.number().int().nonnegative().optional() }).optional(),
  onReplyRestricted: z.enum(['quote', 'skip']).optional(),
  numberThreads: z.boolean().optional(),
  neutralizeMentions: z.boolean().optional(),
  likesAsVotes: z.boolean().optional(),
  inbound: z.enum(['poll', 'stream']).optional(),
  limits: z.object({ perChat: z.array(budget), global: z.array(budget), perPrivateChat: z.array(budget).optional() }).optional(),
  pollIntervalMs: ms.optional(),
  minPollIntervalMs: ms.optional(),
  maxPollIntervalMs: ms.optional(),
  searchIntervalMs: ms.optional(),
  likesIntervalMs: ms.optional(),
  errorBackoffMs: ms.optional(),
  maxErrorBackoffMs: ms.optional(),
  rateLimitMarginMs: ms.optional(),
  requestTimeoutMs: ms.optional(),
  pageSize: z.number().int().min(10).max(100).optional(),
  maxPagesPerPoll: z.number().int().min(1).max(100).optional(),
  firstPollLookbackMs: ms.optional(),
  likesTrackForMs: ms.optional(),
  streamKeepAliveMs: ms.optional(),
});

/** Options after validation, with defaults applied. */
export type ResolvedXOptions = Omit<XAdapterOptions, keyof XTimings> &
  XTimings & { hashtags: string[]; admins: string[]; onReplyRestricted: ReplyRestrictedPolicy; numberThreads: boolean; neutralizeMentions: boolean; likesAsVotes: boolean; inbound: 'poll' | 'stream'; limits: OutboundLimits };

/** Validates once, at start; the error names the setting and never echoes a secret. */
export function resolveXOptions(input: XAdapterOptions): ResolvedXOptions {
  const r = OptionsSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'options';
    // Credentials issues name the settings and never print the (possibly half-right) values.
    if (where.startsWith('credentials')) throw new Error(`x adapter: credentials: ${CREDENTIALS_REQUIRED}`);
    throw new Error(`x adapter: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  const timings: XTimings = { ...X_DEFAULTS };
  for (const k of Object.keys(X_DEFAULTS) as (keyof XTimings)[]) {
    const v = input[k];
    if (v !== undefined) timings[k] = v;
  }
  if (timings.minPollIntervalMs > timings.maxPollIntervalMs) throw new Error('x adapter: minPollIntervalMs is above maxPollIntervalMs');
  if (input.inbound === 'stream' && !input.credentials.bearerToken) {
    throw new Error('x adapter: inbound "stream" needs the app bearer token: set X_BEARER_TOKEN as well');
  }
  return {
    ...input,
    ...timings,
    hashtags: (input.hashtags ?? []).map((h) => h.replace(/^#/, '')),
    admins: input.admins ?? [],
    onReplyRestricted: input.onReplyRestricted ?? 'skip',
    numberThreads: input.numberThreads ?? true,
    neutralizeMentions: input.neutralizeMentions ?? true,
    likesAsVotes: input.likesAsVotes ?? false,
    inbound: input.inbound ?? 'poll',
    limits: input.limits ?? X_DEFAULT_LIMITS,
  };
}
