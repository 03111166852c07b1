/** The X (Twitter) adapter on twitter-api-v2: platform `x` in ids (contract §3). */
import type { AdapterDeps } from '../types.js';
import { createXAdapterImpl, type XAdapter } from './adapter.js';
import type { XAdapterOptions } from './options.js';

export type { XAdapter, XCounters } from './adapter.js';
export { X_ENDPOINTS } from './adapter.js';
export type { XAdapterOptions, XCredentials, XTimings, ReplyRestrictedPolicy } from './options.js';
export { X_DEFAULTS, X_DEFAULT_LIMITS } from './options.js';
export { splitThread, weightedLength, fitsOnePost, markdownToPlain, neutralizeMentions, MAX_POST_WEIGHT } from './text.js';
export { adaptivePollInterval } from './budget.js';
export { trackXHashtags, untrackXHashtags, xHashtagsKey } from './hashtags.js';

/** Creates the X adapter (platform `x`); call `init()` to check the credentials, then `startInbound()` to poll. */
export function createXAdapter(options: XAdapterOptions, deps: AdapterDeps): XAdapter {
  return createXAdapterImpl(options, deps);
}
