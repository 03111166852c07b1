/** Creates the adapters whose credentials are set (contract §4), like matterbridge's registry keyed by platform. */
import type { Runtime } from '../src/app/runtime.js';
import { durationMs } from '../src/config/load.js';
import type { Platform } from '../src/core/ids.js';
import type { AdapterDeps, PlatformAdapter } from './types.js';

/** One adapter per platform with credentials in the environment; the rest stay off. */
export async function createAdaptersFromEnv(rt: Runtime): Promise<PlatformAdapter[]> {
  const { env, config } = rt;
  const deps = (platform: Platform): AdapterDeps => ({ sink: rt.inbound, redis: rt.redis, keys: rt.keys, log: rt.log.child({ platform }) });
  const out: PlatformAdapter[] = [];
  if (env.TELEGRAM_BOT_TOKEN) {
    const { createTelegramAdapter } = await import('./telegram/index.js');
    out.push(
      createTelegramAdapter(
        {
          token: env.TELEGRAM_BOT_TOKEN,
          ...(config.telegram.apiRoot ? { apiRoot: config.telegram.apiRoot } : {}),
          pollTimeoutSeconds: config.telegram.pollTimeoutSeconds,
          ...(env.TELEGRAM_WEBHOOK_URL && env.TELEGRAM_WEBHOOK_SECRET ? { webhook: { url: env.TELEGRAM_WEBHOOK_URL, secret: env.TELEGRAM_WEBHOOK_SECRET, listen: { port: config.telegram.webhookPort } } } : {}),
          ...(config.telegram.limits
            ? { limits: { ...(config.telegram.limits.perChat ? { perChat: config.telegram.limits.perChat } : {}), ...(config.telegram.limits.global ? { global: config.telegram.limits.global } : {}) } }
            : {}),
        },
        deps('telegram'),
      ),
    );
  }
  if (env.DISCORD_BOT_TOKEN) {
    const { createDiscordAdapter } = await import('./discord/index.js');
    out.push(
      createDiscordAdapter(
        {
          token: env.DISCORD_BOT_TOKEN,
          ...(env.DISCORD_APPLICATION_ID ? { applicationId: env.DISCORD_APPLICATION_ID } : {}),
          ...(config.discord.apiRoot ? { apiBaseUrl: config.discord.apiRoot } : {}),
          moderatorRoles: config.discord.moderatorRoles,
          registerCommands: config.discord.registerCommands ? 'global' : 'off',
        },
        deps('discord'),
      ),
    );
  }
  const userContext = env.X_APP_KEY && env.X_APP_SECRET && env.X_ACCESS_TOKEN && env.X_ACCESS_SECRET;
  if (userContext || env.X_BEARER_TOKEN) {
    const { createXAdapter } = await import('./x/index.js');
    const credentials = userContext
      ? { appKey: env.X_APP_KEY!, appSecret: env.X_APP_SECRET!, accessToken: env.X_ACCESS_TOKEN!, accessSecret: env.X_ACCESS_SECRET!, ...(env.X_BEARER_TOKEN ? { bearerToken: env.X_BEARER_TOKEN } : {}) }
      : { bearerToken: env.X_BEARER_TOKEN! };
    out.push(
      createXAdapter(
        {
          credentials,
          ...(config.x.apiRoot ? { apiBaseUrl: config.x.apiRoot } : {}),
          pollIntervalMs: durationMs(`${config.x.pollIntervalSeconds}s`),
          budgets: { monthlyReads: config.x.monthlyReadBudget, monthlyPosts: config.x.monthlyPostBudget },
          onReplyRestricted: config.x.onReplyRestricted,
        },
        deps('x'),
      ),
    );
  }
  return out;
}
