/**
 * The sandbox's fake platforms, one per registered platform (src/platform/), started as `townhall sandbox` and
 * `npm run demo` run them. The compiler refuses a registered platform without an entry here.
 */
import type { FakeRegistry } from '../src/core/index.js';

/** Every platform's fake, by platform id. */
export const FAKES = {
  // People in the demo do not have to /start the bot first, and the demo's replay may go faster than Telegram allows.
  telegram: async () => (await import('./telegram/index.js')).startTelegramFake({ floodControl: false, dmRequiresStart: false }),
  discord: async () => (await import('./discord/index.js')).startDiscordFake(),
  x: async () => (await import('./x/index.js')).startXFake(),
  slack: async () => (await import('./slack/index.js')).startSlackFake(),
} as const satisfies FakeRegistry;
