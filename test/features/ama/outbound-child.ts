/** A Telegram outbound runner in a child process, so a test can SIGKILL it in the middle of an answer's fan-out. */
import { Redis } from 'ioredis';
import { createTelegramAdapter } from '../../../adapters/telegram/index.js';
import { quietLogger } from '../../../src/log.js';
import { startOutboundRunner } from '../../../src/queue/outbound.js';
import { Keys } from '../../../src/redis/keys.js';
import { TEST_LIMITS } from './stack.js';
import { adapterDeps } from '../../helpers/adapter.js';

const [url, prefix, apiRoot, token] = process.argv.slice(2) as [string, string, string, string];
const keys = new Keys(prefix);
const redis = new Redis(url);
const log = quietLogger();
// One send per second per chat: slow enough that a fan-out of five replies is surely mid-way when the test kills it.
const limits = { ...TEST_LIMITS, perChat: [{ points: 1, durationMs: 1000 }] };
const adapter = createTelegramAdapter({ token, apiRoot, limits, registerCommands: false }, adapterDeps('telegram', { keys, redis, sink: { publish: async () => undefined }, log }));
await adapter.init();
startOutboundRunner({ adapter, url, keys, log, lockDurationMs: 2000 });
process.send?.('ready');
