/**
 * The latency bench's producer: a process of its own that offers chat events to the inbound queue at a fixed rate
 * and stamps each with the moment it is handed to `publish`, as an adapter process does. A process of its own
 * because the bench process holds every section's workload (~500 MB): its garbage collector's pauses, between
 * stamping and sending, showed up as latency of the system under test. IPC: 'ready' → {cmd:'warm'} → 'warmed' →
 * {cmd:'go'} → 'done' {offered}.
 */
import type { ChatEventInput } from '../src/core/events.js';
import { chatWorkload } from '../src/perf/workload.js';
import { InboundQueue } from '../src/queue/inbound.js';
import { Keys } from '../src/redis/keys.js';
import { loadChatLines } from './corpus.js';

/** What the parent passes in BENCH_PRODUCER (JSON). */
export interface ProducerSpec {
  url: string;
  prefix: string;
  /** 'noop': one job per message (the BullMQ baseline); 'core': what adapters send (InboundQueue.publish batches). */
  mode: 'core' | 'noop';
  rate: number;
  /** Events offered before the measured part (not measured). */
  warm: number;
  count: number;
  chats: number;
  firstMessageId: number;
}

const spec = JSON.parse(process.env.BENCH_PRODUCER ?? '{}') as ProducerSpec;
const events = chatWorkload(loadChatLines(Math.max(spec.count, 50_000)), spec.count, { chats: spec.chats, firstMessageId: spec.firstMessageId });
const inbound = new InboundQueue({ url: spec.url, keys: new Keys(spec.prefix) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Offers the events at the rate (every ~5 ms, what is due since the start); returns the rate achieved. */
async function offer(list: ChatEventInput[]): Promise<number> {
  const started = Date.now();
  let sent = 0;
  while (sent < list.length) {
    const due = Math.min(list.length, Math.floor(((Date.now() - started) / 1000) * spec.rate));
    if (due > sent) {
      const at = Date.now();
      const batch = list.slice(sent, due).map((e) => ({ ...e, at }));
      if (spec.mode === 'noop') await inbound.publishRaw(batch.map((e) => ({ id: e.id, data: e })));
      else await inbound.publish(batch);
      sent = due;
    }
    await sleep(5);
  }
  return list.length / ((Date.now() - started) / 1000);
}

process.on('message', (m: { cmd?: string }) => {
  void (async () => {
    if (m.cmd === 'warm') {
      await offer(events.slice(0, spec.warm));
      process.send?.({ type: 'warmed' });
    } else if (m.cmd === 'go') {
      const offered = await offer(events.slice(spec.warm));
      await inbound.close();
      process.send?.({ type: 'done', offered }, () => process.exit(0));
    }
  })();
});
process.send?.({ type: 'ready' });
