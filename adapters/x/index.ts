/** The X (Twitter) adapter on twitter-api-v2: platform `x` in ids (contract §3). */
import type { AdapterDeps, AdapterFactory } from '../../src/core/index.js';
import { createXAdapterImpl, type XAdapter } from './adapter.js';
import type { XAdapterOptions } from './options.js';

export type { XAdapter, XCounters } from './adapter.js';
export { X_ENDPOINTS } from './adapter.js';
export type { XAdapterOptions, XCredentials, XTimings, ReplyRestrictedPolicy } from './options.js';
export { X_DEFAULTS, X_DEFAULT_LIMITS } from './options.js';
export { splitThread, weightedLength, fitsOnePost, markdownToPlain, neutralizeMentions, MAX_POST_WEIGHT } from './text.js';
export { adaptivePollInterval } from './budget.js';
export { HASHTAGS_KEY, trackXHashtags, untrackXHashtags } from './hashtags.js';

/** Creates the X adapter (platform `x`); call `init()` to check the credentials, then `startInbound()` to poll. */
export function createXAdapter(options: XAdapterOptions, deps: AdapterDeps): XAdapter {
  return createXAdapterImpl(options, deps);
}

/** The registry's X factory: user-context keys (X_APP_KEY…) or a read-only X_BEARER_TOKEN from the environment, the `x` config section. */
export const xAdapter: AdapterFactory = {
  platform: 'x',
  create({ config, env }, deps) {
    const { X_APP_KEY: appKey, X_APP_SECRET: appSecret, X_ACCESS_TOKEN: accessToken, X_ACCESS_SECRET: accessSecret, X_BEARER_TOKEN: bearerToken } = env;
    const credentials =
      appKey && appSecret && accessToken && accessSecret ? { appKey, appSecret, accessToken, accessSecret, ...(bearerToken ? { bearerToken } : {}) } : bearerToken ? { bearerToken } : null;
    if (!credentials) return null;
    return createXAdapter(
      {
        credentials,
        ...(config.x.apiRoot ? { apiBaseUrl: config.x.apiRoot } : {}),
        pollIntervalMs: config.x.pollIntervalSeconds * 1000,
        budgets: { monthlyReads: config.x.monthlyReadBudget, monthlyPosts: config.x.monthlyPostBudget },
        onReplyRestricted: config.x.onReplyRestricted,
      },
      deps,
    );
  },
  forSandbox(fake, deps) {
    const c = fake.credentials;
    return createXAdapter(
      {
        credentials: { appKey: c.X_APP_KEY ?? '', appSecret: c.X_APP_SECRET ?? '', accessToken: c.X_ACCESS_TOKEN ?? '', accessSecret: c.X_ACCESS_SECRET ?? '' },
        apiBaseUrl: fake.url,
        pollIntervalMs: 1000,
        minPollIntervalMs: 250,
        // X has no API for a conversation's admins: the fake knows whom the sandbox made one.
        ...(fake.isAdmin ? { isAdmin: (userId: string, _username: string | undefined, conversation: string) => fake.isAdmin!(userId, conversation) } : {}),
      },
      deps,
    );
  },
};
