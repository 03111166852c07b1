/** Townhall on Discord: discord.js 14 in (gateway), out (REST), slash commands, moderation. */
import type { AdapterDeps } from '../types.js';
import { DiscordAdapter, type DiscordAdapterOptions } from './adapter.js';

export { DISCORD_DEFAULTS, DISCORD_INTENTS, DiscordAdapter, type DiscordAdapterOptions } from './adapter.js';
export { TOWNHALL_COMMANDS, VOTE_BUTTON_PREFIX, interactionToCommand } from './commands.js';
export { renderText, splitMessage, escapeDiscordText, defuseMassMentions, DISCORD_MAX_CHARS } from './format.js';
export { normalizeDispatch, encodeReplyHandle, decodeReplyHandle, type NormalizeContext, type ChannelInfo } from './normalize.js';
export { computeChannelPermissions, isModerator, MODERATOR_PERMISSIONS } from './permissions.js';

/** Builds the Discord adapter; the caller passes the token (from DISCORD_BOT_TOKEN) and, for a fake, `apiBaseUrl`. */
export function createDiscordAdapter(options: DiscordAdapterOptions, deps: AdapterDeps): DiscordAdapter {
  return new DiscordAdapter(options, deps);
}
