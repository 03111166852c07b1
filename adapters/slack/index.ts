/** Townhall on Slack: the Web API out; Socket Mode or the Events API over HTTP in; threads, ephemeral replies, DMs. */
import type { AdapterDeps, AdapterFactory } from '../../src/core/index.js';
import { SlackAdapter, type SlackAdapterOptions } from './adapter.js';
import type { AnswersPlace } from './outbound.js';

export { SLACK_DEFAULTS, SlackAdapter, type SlackAdapterOptions } from './adapter.js';
export { NEEDS_ADMIN_TOKEN, type AnswersPlace } from './outbound.js';
export { parseSlackChat, slackChat, slackUser } from './ids.js';

/** Builds the Slack adapter; the caller passes the tokens and, for a fake, `apiUrl`. */
export function createSlackAdapter(options: SlackAdapterOptions, deps: AdapterDeps): SlackAdapter {
  return new SlackAdapter(options, deps);
}

/** The answers place from the config's `slack.answers`: `pinned`, `thread`, or a channel id. */
export function answersPlaceOf(answers: string): AnswersPlace {
  return answers === 'pinned' ? { kind: 'pinned' } : answers === 'thread' ? { kind: 'thread' } : { kind: 'channel', channel: answers };
}

/**
 * The registry's Slack factory: SLACK_BOT_TOKEN; SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET with
 * `slack.requestUrl` for the Events API over HTTP; SLACK_USER_TOKEN (a workspace admin's) for deleting others' messages.
 */
export const slackAdapter: AdapterFactory = {
  platform: 'slack',
  create({ config, env }, deps) {
    if (!env.SLACK_BOT_TOKEN) return null;
    const c = config.slack;
    const http = c.requestUrl && env.SLACK_SIGNING_SECRET ? { signingSecret: env.SLACK_SIGNING_SECRET, port: c.eventsPort, path: new URL(c.requestUrl).pathname } : undefined;
    return createSlackAdapter(
      {
        botToken: env.SLACK_BOT_TOKEN,
        appToken: env.SLACK_APP_TOKEN,
        adminToken: env.SLACK_USER_TOKEN,
        events: http,
        apiUrl: c.apiRoot,
        answersPlace: answersPlaceOf(c.answers),
      },
      deps,
    );
  },
  forSandbox(fake, deps) {
    return createSlackAdapter({ botToken: fake.credentials.SLACK_BOT_TOKEN ?? '', appToken: fake.credentials.SLACK_APP_TOKEN, apiUrl: fake.url }, deps);
  },
};
