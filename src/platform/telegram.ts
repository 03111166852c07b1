/** Telegram (Bot API through telegraf): groups, forum topics, private chats. */
import type { PlatformDescriptor } from './types.js';

/** The registry's Telegram entry. */
export const telegram = {
  id: 'telegram',
  name: 'Telegram',
  short: 'TG',
  colour: { light: '#1c8ad6', dark: '#4dabf7' },
  ids: { chat: '[^:\\s]+', thread: '[^:\\s]+', user: '[^:\\s]+' },
  mention: null,
  text: { maxChars: 4096, digestChars: 4096, compact: false },
  maxMuteMs: null,
  capabilities: {
    threads: 'topics',
    pins: true,
    reactionVotes: true,
    buttons: true,
    bulkDelete: true,
    // The Bot API cannot set slow mode: the bot deletes a member's message sent too soon.
    slowMode: 'enforced',
    dms: true,
    moderation: ['delete', 'ban', 'mute', 'slowmode'],
    addressedOnly: false,
    hashtagSearch: false,
  },
} as const satisfies PlatformDescriptor;
