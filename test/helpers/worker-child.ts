/** A core worker in a child process (tests SIGKILL it): each event marks "started" in Redis, then works slowly. */
import { startInboundWorker } from '../../src/queue/inbound-worker.js';
import { Keys } from '../../src/redis/keys.js';
import { quietLogger } from '../../src/log.js';
import { Redis } from 'ioredis';

const [url, prefix, slowMs] = process.argv.slice(2) as [string, string, string];
const keys = new Keys(prefix);
const redis = new Redis(url);
startInboundWorker({
  url,
  keys,
  log: quietLogger(),
  concurrency: 5,
  lockDurationMs: 1000,
  handle: async (event) => {
    await redis.sadd(keys.k('test', 'started'), event.id);
    await new Promise((r) => setTimeout(r, Number(slowMs)));
    await redis.sadd(keys.k('test', 'done'), event.id);
  },
});
process.send?.('ready');
