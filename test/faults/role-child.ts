/**
 * `townhall worker --role core|outbound` as the CLI assembles it (runtime from TOWNHALL_CONFIG and the environment,
 * adapters from their tokens), except for short job locks so that a test which SIGKILLs it sees its jobs retried in
 * seconds rather than after BullMQ's 30 s. Says 'ready' over IPC once its worker runs.
 */
import { ADAPTERS } from '../../adapters/index.js';
import { buildCore } from '../../src/app/core.js';
import { openRuntime } from '../../src/app/runtime.js';
import { createAdapters } from '../../src/cli/start.js';
import { quietLogger } from '../../src/log.js';
import { startInboundWorker } from '../../src/queue/inbound-worker.js';
import { startOutboundRunner } from '../../src/queue/outbound.js';
import { LOCK_MS } from './harness.js';

const role = process.argv[2];
const rt = await openRuntime({ spawn: 'never', log: quietLogger() });
if (role === 'core') {
  const core = buildCore(rt.deps);
  startInboundWorker({ url: rt.url, keys: rt.keys, handle: core.handleEvent, log: rt.log, concurrency: rt.config.core.concurrency, lockDurationMs: LOCK_MS });
} else {
  for (const adapter of await createAdapters(rt, ADAPTERS)) {
    await adapter.init();
    startOutboundRunner({ adapter, url: rt.url, keys: rt.keys, log: rt.log, lockDurationMs: LOCK_MS });
  }
}
process.send?.('ready');
