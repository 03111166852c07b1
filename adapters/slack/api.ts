/**
 * Every Web API call the adapter makes goes through here: the method's budget first (a call that would exceed it
 * waits, or comes back as a wait for the outbound runner, before Slack sees it), then the real WebClient, then one
 * mapping of its errors. The bot token does almost everything; a workspace admin's user token, when configured, does
 * what Slack keeps from bots (deleting other people's messages, removing people where the workspace restricts it).
 */
import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from 'pino';
import { PlatformError } from '../../src/core/index.js';
import { sleep } from '../kit/index.js';
import { toPlatformError } from './errors.js';
import type { MethodBudgets } from './tiers.js';

/** Which token makes a call. */
export type TokenRole = 'bot' | 'admin';

/** How a call treats a spent budget: wait for it (abortable), or hand the wait back to the outbound runner. */
export type OnBudget = { wait: AbortSignal } | 'throw';

/** Options of the Web API clients. */
export interface SlackApiOptions {
  botToken: string;
  /** A workspace admin's or owner's user token (xoxp-, SLACK_USER_TOKEN), when configured. */
  adminToken?: string | undefined;
  /** Web API root (`https://slack.com/api/` when absent; a fake's in the sandbox). */
  apiUrl?: string | undefined;
  timeoutMs: number;
  budgets: MethodBudgets;
  log: Logger;
}

/** The Slack libraries log through this: warnings and errors into pino, tokens never (they are not in messages). */
export function slackLogger(log: Logger): SlackLogger {
  let level = LogLevel.WARN;
  const child = log.child({ platform: 'slack', lib: 'slack' });
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (...msg: unknown[]) => child.warn(msg.map(String).join(' ').slice(0, 300)),
    error: (...msg: unknown[]) => child.error(msg.map(String).join(' ').slice(0, 300)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** The adapter's Web API: budgeted, error-mapped calls with the bot's or the admin's token. */
export class SlackApi {
  private readonly bot: WebClient;
  private readonly admin: WebClient | null;
  /** 429s Slack answered (for status). */
  rateLimited = 0;

  constructor(private readonly o: SlackApiOptions) {
    const common = {
      ...(o.apiUrl ? { slackApiUrl: o.apiUrl } : {}),
      logger: slackLogger(o.log),
      timeout: o.timeoutMs,
      // A 429 is the outbound runner's to wait out (it holds the chat, not a worker); a post is not retried blindly
      // either: Slack has no idempotency key, so a repeated chat.postMessage would post twice.
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    };
    this.bot = new WebClient(o.botToken, common);
    this.admin = o.adminToken ? new WebClient(o.adminToken, common) : null;
  }

  /** Whether a workspace admin's user token is configured. */
  get hasAdmin(): boolean {
    return this.admin !== null;
  }

  /** Calls `method` with `args`; throws PlatformError (or a retryable Error) as errors.ts decides. */
  async call<T = Record<string, unknown>>(method: string, args: Record<string, unknown>, o: { what: string; as?: TokenRole; budget?: OnBudget }): Promise<T> {
    const client = o.as === 'admin' ? this.admin : this.bot;
    if (!client) throw new PlatformError({ platform: 'slack', method, code: 'no_admin_token', scope: 'permanent', message: `slack ${method}: needs SLACK_USER_TOKEN (a workspace admin's user token)` });
    for (;;) {
      const wait = await this.o.budgets.take(method);
      if (wait === 0) break;
      const budget = o.budget ?? 'throw';
      if (budget === 'throw') {
        throw new PlatformError({ platform: 'slack', method, code: 'budget', scope: 'per-chat', retryAfterMs: wait, message: `slack ${method}: the method's budget is spent for ${wait} ms (${o.what})` });
      }
      if (!(await sleep(wait, budget.wait))) throw new Error(`slack ${method}: stopped while waiting for its budget`);
    }
    try {
      return (await client.apiCall(method, args)) as unknown as T;
    } catch (err) {
      const mapped = toPlatformError(err, method, o.what);
      if (mapped instanceof PlatformError && mapped.retryAfterMs !== undefined && mapped.code === 429) {
        this.rateLimited++;
        await this.o.budgets.block(method, mapped.retryAfterMs).catch(() => undefined);
      }
      throw mapped;
    }
  }
}
