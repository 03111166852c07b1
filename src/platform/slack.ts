/** Slack (Web API and Socket Mode or the Events API through @slack/web-api and @slack/socket-mode): channels, threads, DMs. */
import type { PlatformDescriptor } from './types.js';

/** The registry's Slack entry. */
export const slack = {
  id: 'slack',
  name: 'Slack',
  short: 'SL',
  colour: { light: '#611f69', dark: '#d28fd6' },
  // A chat is `<team>:<channel>` (a channel id is unique only within its workspace), a thread its root message's ts.
  ids: { chat: '(?!user:)[^:\\s]+:[^:\\s]+', thread: '\\d{1,12}\\.\\d{1,6}', user: '[^:\\s]+' },
  // Slack writes a person as <@U123> or, in a slash command with escaping on, <@U123|name>.
  mention: /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/,
  // Slack asks apps to stay under 4,000 characters a message (it cuts at 40,000); the adapter splits what escaping lengthens.
  text: { maxChars: 4000, digestChars: 4000, compact: false },
  maxMuteMs: null,
  capabilities: {
    threads: 'on-message',
    pins: true,
    reactionVotes: true,
    buttons: true,
    bulkDelete: false,
    slowMode: 'none',
    dms: true,
    // delete: the bot's own messages with its token, anyone's with a workspace admin's user token (SLACK_USER_TOKEN);
    // ban: removal from the channel (conversations.kick). Slack gives apps no mute, timeout or slow mode.
    moderation: ['delete', 'ban'],
    addressedOnly: false,
    hashtagSearch: false,
  },
  moderationNotes: {
    ban: 'on Slack that removes them from this channel (they can rejoin a public one); removing someone from the workspace needs an Enterprise Grid admin',
    mute: 'Slack gives apps no way to mute or time out a member; /ban removes them from the channel',
    slowmode: 'Slack has no slow mode',
  },
} as const satisfies PlatformDescriptor;
