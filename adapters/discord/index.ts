/** Townhall on Discord: discord.js 14 in (gateway), out (REST), slash commands, moderation. */
import type { AdapterDeps, AdapterFactory } from '../../src/core/index.js';
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

/** The registry's Discord factory: DISCORD_BOT_TOKEN (and DISCORD_APPLICATION_ID) from the environment, the `discord` config section. */
export const discordAdapter: AdapterFactory = {
  platform: 'discord',
  create({ config, env }, deps) {
    if (!env.DISCORD_BOT_TOKEN) return null;
    return createDiscordAdapter(
      {
        token: env.DISCORD_BOT_TOKEN,
        ...(env.DISCORD_APPLICATION_ID ? { applicationId: env.DISCORD_APPLICATION_ID } : {}),
        ...(config.discord.apiRoot ? { apiBaseUrl: config.discord.apiRoot } : {}),
        moderatorRoles: config.discord.moderatorRoles,
        registerCommands: config.discord.registerCommands ? 'global' : 'off',
      },
      deps,
    );
  },
  forSandbox(fake, deps) {
    // Per-guild registration is instant (global commands take up to an hour on real Discord).
    return createDiscordAdapter({ token: fake.credentials.DISCORD_BOT_TOKEN ?? '', apiBaseUrl: fake.url, registerCommands: 'guilds' }, deps);
  },
};
