/** The core (inbound worker + pipeline + AMA feature) in a child process, so a test can SIGKILL it mid-AMA. */
import { Redis } from 'ioredis';
import { ConfigSchema } from '../../../config/schema.js';
import { CommandRegistry } from '../../../src/commands/router.js';
import { createAmaFeature } from '../../../src/features/ama/index.js';
import { warmUpMerging } from '../../../src/features/ama/embeddings.js';
import { quietLogger } from '../../../src/log.js';
import { createHandleEvent } from '../../../src/pipeline/handle-event.js';
import { startInboundWorker } from '../../../src/queue/inbound-worker.js';
import { OutboundQueue } from '../../../src/queue/outbound.js';
import { Keys } from '../../../src/redis/keys.js';

const [url, prefix, delay] = process.argv.slice(2) as [string, string, string | undefined];
// An optional pause per event keeps a backlog in front of the child, so a test's SIGKILL lands mid-stream however fast
// the pipeline is.
const pauseMs = Number(delay ?? 0);
const keys = new Keys(prefix);
const redis = new Redis(url, { maxRetriesPerRequest: null });
const log = quietLogger();
const deps = { redis, keys, config: ConfigSchema.parse({}), outbound: new OutboundQueue({ url, keys }), log, now: Date.now };
const ama = createAmaFeature(deps);
const registry = new CommandRegistry().register(...ama.commands);
registry.setHostCheck(ama.hostCheck);
// As `townhall worker` does: what question merging reads is loaded before the worker takes events.
await warmUpMerging(deps);
const slow = { name: 'pause', middleware: async (_ctx: unknown, next: () => Promise<void>) => { if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs)); await next(); } };
startInboundWorker({ url, keys, log, concurrency: pauseMs ? 2 : 20, lockDurationMs: 1000, handle: createHandleEvent(deps, [slow, registry.feature(), ama.feature]) });
process.send?.('ready');
