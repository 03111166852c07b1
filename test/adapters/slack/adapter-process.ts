/**
 * The Slack adapter alone in a process, publishing into the real inbound queue, for crash tests that SIGKILL it.
 * SL_HANG=1: a batch holding a message whose text says "hang" is stored, then the publish never returns (so it is
 * never acknowledged and its cursor never moves), as if the process died right after Redis had it.
 */
import { createSlackAdapter } from '../../../adapters/slack/index.js';
import type { ChatEventInput } from '../../../src/core/index.js';
import { InboundQueue } from '../../../src/queue/inbound.js';
import { createRedis } from '../../../src/redis/connect.js';
import { Keys } from '../../../src/redis/keys.js';
import { adapterDeps } from '../../helpers/adapter.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const keys = new Keys(env('SL_PREFIX'));
const url = env('REDIS_URL');
const queue = new InboundQueue({ url, keys });
const hang = process.env.SL_HANG === '1';

const sink = {
  async publish(events: ChatEventInput[]): Promise<void> {
    await queue.publish(events);
    process.send?.({ stored: events.map((e) => e.id) });
    if (hang && events.some((e) => /hang/.test(e.text ?? ''))) await new Promise<void>(() => setInterval(() => undefined, 60_000));
  },
};

const adapter = createSlackAdapter(
  { botToken: env('SL_BOT_TOKEN'), appToken: env('SL_APP_TOKEN'), apiUrl: env('SL_API_URL'), publishRetry: { baseMs: 20, maxMs: 100 } },
  adapterDeps('slack', { keys, redis: createRedis(url), sink }),
);
await adapter.init();
await adapter.startInbound();
process.send?.('ready');
