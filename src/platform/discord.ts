/** Discord (gateway and REST through discord.js): guild channels, threads, DMs, slash commands. */
import type { PlatformDescriptor } from './types.js';

/** The registry's Discord entry. */
export const discord = {
  id: 'discord',
  name: 'Discord',
  short: 'DC',
  colour: { light: '#5865f2', dark: '#8c96ff' },
  ids: { chat: '[^:\\s]+', thread: '[^:\\s]+', user: '[^:\\s]+' },
  mention: /^<@!?(\d+)>$/,
  text: { maxChars: 2000, digestChars: 2000, compact: false },
  maxMuteMs: 28 * 86_400_000,
  capabilities: {
    threads: 'on-message',
    pins: true,
    reactionVotes: true,
    buttons: true,
    bulkDelete: true,
    slowMode: 'api',
    dms: true,
    moderation: ['delete', 'ban', 'mute', 'slowmode'],
    addressedOnly: false,
    hashtagSearch: false,
  },
} as const satisfies PlatformDescriptor;
