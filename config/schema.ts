/** The configuration schema: YAML (`config/townhall.yaml` or TOWNHALL_CONFIG) plus environment, validated once at start. */
import { z } from 'zod';

const duration = z.string().regex(/^\d+(s|m|h|d)$/, 'a duration like 30s, 10m, 2h or 1d');
const budget = z.object({ points: z.number().int().positive(), durationMs: z.number().int().min(1000) });

/** Settings that may come from YAML. Secrets are not here: they come only from the environment. */
export const ConfigSchema = z
  .object({
    redis: z.object({ prefix: z.string().regex(/^\{[^{}]+\}$/, 'a hash tag like {townhall}').default('{townhall}') }).prefault({}),
    http: z
      .object({
        port: z.number().int().min(0).max(65535).default(8080),
        host: z.string().default('0.0.0.0'),
        /** Where people reach the dashboard (links the bot sends); default http://localhost:<port>. */
        publicUrl: z.url().optional(),
        /**
         * Whose X-Forwarded-For to believe (the client address credential limits and loopback checks use): false (the
         * default: the socket's peer), true (any proxy), a hop count, or the proxies' addresses/CIDRs.
         */
        trustProxy: z.union([z.boolean(), z.number().int().min(1).max(10), z.array(z.string().min(1)).min(1)]).default(false),
        /** Who may read /metrics and the detail of /readyz: this machine or the admin token, the admin token, or anyone. */
        metrics: z.enum(['loopback', 'token', 'public']).default('loopback'),
        /** How long the adapters' last "is a platform admin" keeps a moderator's dashboard session and tokens good. */
        standingMaxAge: duration.default('6h'),
      })
      .prefault({}),
    telegram: z
      .object({
        mode: z.enum(['polling', 'webhook']).default('polling'),
        apiRoot: z.url().optional(),
        pollTimeoutSeconds: z.number().int().min(0).max(50).default(30),
        /** Where the webhook receiver listens (behind your TLS proxy that TELEGRAM_WEBHOOK_URL points at). */
        webhookPort: z.number().int().min(1).max(65535).default(8443),
        limits: z.object({ perChat: z.array(budget).optional(), global: z.array(budget).optional() }).optional(),
      })
      .prefault({}),
    discord: z
      .object({
        apiRoot: z.url().optional(),
        moderatorRoles: z.array(z.string()).default([]),
        registerCommands: z.boolean().default(true),
      })
      .prefault({}),
    x: z
      .object({
        apiRoot: z.url().optional(),
        pollIntervalSeconds: z.number().int().min(5).default(60),
        monthlyReadBudget: z.number().int().nonnegative().default(10_000),
        monthlyPostBudget: z.number().int().nonnegative().default(3_000),
        onReplyRestricted: z.enum(['quote', 'skip']).default('skip'),
      })
      .prefault({}),
    slack: z
      .object({
        apiRoot: z.url().optional(),
        /** The public Request URL Slack posts events to: with SLACK_SIGNING_SECRET the bot receives over HTTP, not Socket Mode. */
        requestUrl: z.url().optional(),
        /** Where the Events API receiver listens (behind your TLS proxy that requestUrl points at). */
        eventsPort: z.number().int().min(1).max(65535).default(3000),
        /** An AMA's answers place: a pinned message kept up to date, a thread in the channel, or a thread in this channel id. */
        answers: z.union([z.enum(['pinned', 'thread']), z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'pinned, thread, or a channel id (C…, G…)')]).default('pinned'),
      })
      .prefault({}),
    core: z
      .object({
        concurrency: z.number().int().min(1).max(500).default(50),
        /** Chat history kept for threads and digests: per chat, the newer of a time window and a message cap. */
        history: z.object({ maxMessages: z.number().int().min(100).default(20_000), maxAge: duration.default('7d') }).prefault({}),
        threadWindow: z.number().int().min(5).max(200).default(50),
        /** Past this inbound backlog, digest refreshes and threading of old windows wait; commands and AMA intake keep flowing. */
        shedBacklog: z.number().int().min(100).default(50_000),
      })
      .prefault({}),
    ama: z
      .object({
        duplicateThreshold: z.number().min(0).max(1).optional(),
        /** Also compare questions with the offline sentence model (Universal Sentence Encoder lite, from npm): a little more recall for ~10 ms of CPU per new question and ~75 MB per process, so off by default. */
        offlineEmbeddings: z.boolean().default(false),
        /** Directory of the FreeDict dictd files used as dictionary pivots into English (default /usr/share/dictd). */
        dictionaries: z.string().optional(),
        /** Optional OpenAI-compatible embeddings endpoint for comparing questions in every language (key: EMBEDDINGS_API_KEY). */
        embeddings: z
          .object({ baseUrl: z.url(), model: z.string(), timeoutMs: z.number().int().min(50).default(2000), sameAbove: z.number().min(0).max(1).default(0.85) })
          .optional(),
        reminders: z.array(duration).default(['24h', '1h', '10m']),
        detectQuestions: z.boolean().default(true),
        premoderation: z.boolean().default(false),
        rewardCooldown: duration.default('30d'),
        /** How long a closed or cancelled AMA's questions, votes and answers are kept ('0d' = forever); then they are deleted. */
        retention: duration.default('180d'),
      })
      .prefault({}),
    moderation: z
      .object({
        flood: z.object({ messages: z.number().int().min(2).default(8), seconds: z.number().int().min(1).default(10), mute: duration.default('10m') }).prefault({}),
        raid: z.object({ joins: z.number().int().min(2).default(30), seconds: z.number().int().min(1).default(10), quietFor: duration.default('30m') }).prefault({}),
        warnings: z.object({ max: z.number().int().min(1).default(3), mute: duration.default('24h') }).prefault({}),
        linkAllowlist: z.array(z.string()).default([]),
        scam: z.enum(['off', 'delete', 'mute', 'ban']).default('delete'),
        impersonation: z.enum(['off', 'flag', 'delete', 'mute', 'ban']).default('flag'),
        modLogChat: z.string().optional(),
      })
      .prefault({}),
    digest: z
      .object({
        schedule: z.array(z.object({ chat: z.string(), every: duration, window: duration.default('24h') })).default([]),
        llm: z.object({ baseUrl: z.url(), model: z.string(), timeoutMs: z.number().int().default(20_000), contextChars: z.number().int().default(12_000) }).optional(),
      })
      .prefault({}),
  })
  .strict();

/** Validated configuration. */
export type Config = z.infer<typeof ConfigSchema>;

/** Secrets and deployment settings read from the environment (contract §4). */
export const EnvSchema = z.object({
  REDIS_URL: z.string().optional(),
  TELEGRAM_BOT_TOKEN: z.string().min(20, 'looks too short for a bot token').optional(),
  TELEGRAM_WEBHOOK_URL: z.url().optional(),
  TELEGRAM_WEBHOOK_SECRET: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, '1-256 of A-Z a-z 0-9 _ -').optional(),
  DISCORD_BOT_TOKEN: z.string().min(20).optional(),
  DISCORD_APPLICATION_ID: z.string().regex(/^\d+$/).optional(),
  X_APP_KEY: z.string().optional(),
  X_APP_SECRET: z.string().optional(),
  X_ACCESS_TOKEN: z.string().optional(),
  X_ACCESS_SECRET: z.string().optional(),
  X_BEARER_TOKEN: z.string().optional(),
  SLACK_BOT_TOKEN: z.string().regex(/^xox(b|e\.xoxb)-/, 'a bot token starts with xoxb-').optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'an app-level token starts with xapp-').optional(),
  SLACK_SIGNING_SECRET: z.string().min(16, 'looks too short for a signing secret').optional(),
  /** A workspace admin's or owner's user token: deleting other people's messages. */
  SLACK_USER_TOKEN: z.string().regex(/^xox(p|e\.xoxp)-/, 'a user token starts with xoxp-').optional(),
  TOWNHALL_CONFIG: z.string().optional(),
  TOWNHALL_HTTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  TOWNHALL_ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  LLM_API_KEY: z.string().optional(),
  EMBEDDINGS_API_KEY: z.string().optional(),
});
/** Validated environment. */
export type Env = z.infer<typeof EnvSchema>;
