/** X (API v2 through twitter-api-v2): mentions and hashtags in, replies and reply threads out. */
import type { PlatformDescriptor } from './types.js';

/** The registry's X entry. */
export const x = {
  id: 'x',
  name: 'X',
  short: 'X',
  colour: { light: '#2b2b2b', dark: '#d0d4db' },
  ids: { chat: '[^:\\s]+', thread: '[^:\\s]+', user: '[^:\\s]+' },
  mention: null,
  // A long text becomes a numbered reply thread (the adapter splits it by X's weighted length); a digest stays a few posts.
  text: { maxChars: Number.POSITIVE_INFINITY, digestChars: 1400, compact: true },
  maxMuteMs: null,
  capabilities: {
    threads: 'replies',
    pins: false,
    reactionVotes: false,
    buttons: false,
    bulkDelete: false,
    slowMode: 'none',
    dms: true,
    // Other people's posts are theirs: on X moderation keeps spam out of the AMA queue and the digests, and records why.
    moderation: [],
    addressedOnly: true,
    hashtagSearch: true,
  },
} as const satisfies PlatformDescriptor;
