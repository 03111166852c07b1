/**
 * The adapters, one per registered platform (src/platform/): each folder's index exports its AdapterFactory. A
 * platform's SDK loads only in a process that starts that platform. The compiler refuses a registered platform
 * without an entry here.
 */
import type { AdapterRegistry } from '../src/core/index.js';

/** Every platform's adapter factory, by platform id. */
export const ADAPTERS = {
  telegram: async () => (await import('./telegram/index.js')).telegramAdapter,
  discord: async () => (await import('./discord/index.js')).discordAdapter,
  x: async () => (await import('./x/index.js')).xAdapter,
  slack: async () => (await import('./slack/index.js')).slackAdapter,
} as const satisfies AdapterRegistry;
