/**
 * The Telegram adapter alone in a process, publishing into the real inbound queue, for crash tests that SIGKILL it.
 * TG_HANG=before: receives updates but never stores them; TG_HANG=after: stores them, then never returns (so never acknowledges).
 * TG_WAIT=1: boots, then starts polling only when the parent sends 'start' (so a restart can boot while the first run is alive).
 */
import { createTelegramAdapter } from '../../../adapters/telegram/index.js';
import type { ChatEventInput } from '../../../src/core/events.js';
import { InboundQueue } from '../../../src/queue/inbound.js';
import { createRedis } from '../../../src/redis/connect.js';
import { Keys } from '../../../src/redis/keys.js';
import { adapterDeps } from '../../helpers/adapter.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const keys = new Keys(env('TG_PREFIX'));
const url = env('REDIS_URL');
const queue = new InboundQueue({ url, keys });
const hang = process.env.TG_HANG ?? '';
const forever = () => new Promise<void>(() => setInterval(() => undefined, 60_000));

const sink = {
  async publish(events: ChatEventInput[]): Promise<void> {
    process.send?.({ received: events.map((e) => e.id) });
    if (hang === 'before') return forever();
    await queue.publish(events);
    process.send?.({ stored: events.map((e) => e.id) });
    if (hang === 'after') return forever();
  },
};

const adapter = createTelegramAdapter(
  { token: env('TG_TOKEN'), apiRoot: env('TG_API_ROOT'), pollTimeoutSeconds: 1, retryDelayMs: 50, registerCommands: false },
  adapterDeps('telegram', { keys, redis: createRedis(url), sink }),
);
await adapter.init();
if (process.env.TG_WAIT === '1') {
  process.send?.('booted');
  await new Promise<void>((resolve) => process.on('message', (m) => m === 'start' && resolve()));
}
await adapter.startInbound();
process.send?.('ready');
