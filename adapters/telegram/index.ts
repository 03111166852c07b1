/** Townhall on Telegram: telegraf 4, long polling or webhook in, Bot API calls out. */
import type { AdapterDeps, AdapterFactory } from '../../src/core/index.js';
import { TelegramAdapter, type TelegramAdapterOptions } from './adapter.js';

export { TELEGRAM_LIMITS, TelegramAdapter, type TelegramAdapterOptions } from './adapter.js';
export { escapeHtml, escapeMarkdownV2, renderMarkdown, splitFormatted, MAX_MESSAGE_CHARS } from './format.js';
export { normalizeUpdate, ALLOWED_UPDATES } from './normalize.js';

/** Builds the Telegram adapter; `options.token` (and webhook secret) come from the caller, never from process.env here. */
export function createTelegramAdapter(options: TelegramAdapterOptions, deps: AdapterDeps): TelegramAdapter {
  return new TelegramAdapter(options, deps);
}

/** The registry's Telegram factory: TELEGRAM_BOT_TOKEN (and the webhook pair) from the environment, the `telegram` config section. */
export const telegramAdapter: AdapterFactory = {
  platform: 'telegram',
  create({ config, env }, deps) {
    if (!env.TELEGRAM_BOT_TOKEN) return null;
    const limits = config.telegram.limits;
    return createTelegramAdapter(
      {
        token: env.TELEGRAM_BOT_TOKEN,
        ...(config.telegram.apiRoot ? { apiRoot: config.telegram.apiRoot } : {}),
        pollTimeoutSeconds: config.telegram.pollTimeoutSeconds,
        ...(env.TELEGRAM_WEBHOOK_URL && env.TELEGRAM_WEBHOOK_SECRET
          ? { webhook: { url: env.TELEGRAM_WEBHOOK_URL, secret: env.TELEGRAM_WEBHOOK_SECRET, listen: { port: config.telegram.webhookPort } } }
          : {}),
        ...(limits ? { limits: { ...(limits.perChat ? { perChat: limits.perChat } : {}), ...(limits.global ? { global: limits.global } : {}) } } : {}),
      },
      deps,
    );
  },
  forSandbox(fake, deps) {
    // A short long-poll and quick retries: the sandbox is for watching the bot answer.
    return createTelegramAdapter({ token: fake.credentials.TELEGRAM_BOT_TOKEN ?? '', apiRoot: fake.url, pollTimeoutSeconds: 1, retryDelayMs: 200 }, deps);
  },
};
