/** Test wiring for the fake Slack: a silent logger for the Slack libraries and a WebClient pointed at the fake. */
import { LogLevel, type Logger } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { SlackFake } from '../../../fakes/slack/index.js';

/** A Logger for Bolt, WebClient and SocketModeClient that keeps test output clean (errors are asserted, not printed). */
export function silentLogger(): Logger {
  let level = LogLevel.ERROR;
  return {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** The real WebClient with the fake's API root; retries made quick unless a test sets its own policy. */
export function webClient(fake: SlackFake, token = fake.tokens.bot, opts: WebClientOptions = {}): WebClient {
  return new WebClient(token, { slackApiUrl: fake.url, logger: silentLogger(), retryConfig: { retries: 3, minTimeout: 10, maxTimeout: 50 }, ...opts });
}

/** The platform error string of a failed Web API call (`ok:false`), or the error's code. */
export async function slackError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as { data?: { error?: string }; code?: string };
    return e.data?.error ?? e.code ?? String(err);
  }
  throw new Error('expected the call to fail');
}
