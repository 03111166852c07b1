/** `townhall replay` and `townhall import`: feed a chat log into the inbound queue, paced, with a progress bar. */
import { SingleBar, Presets } from 'cli-progress';
import type { ChatEventInput } from '../core/events.js';
import type { Platform } from '../core/ids.js';
import { readLog, type LogFormat } from '../ingest/formats.js';
import type { InboundQueue } from '../queue/inbound.js';

/** Options of a replay or import. */
export interface ReplayOptions {
  file: string;
  format: LogFormat;
  platform: Platform;
  chat?: string | undefined;
  /** Messages per second; 0 = as fast as Redis takes them. */
  rate: number;
  source: 'replay' | 'import';
  progress: boolean;
  /** Stop after this many messages. */
  limit?: number | undefined;
}

/** Publishes a log's messages in batches; returns how many were published. */
export async function replayLog(inbound: InboundQueue, o: ReplayOptions): Promise<number> {
  const bar = o.progress ? new SingleBar({ format: ' {bar} {value} msgs | {rate}/s | {duration_formatted}', hideCursor: true }, Presets.shades_classic) : null;
  bar?.start(0, 0, { rate: 0 });
  const started = Date.now();
  const batchSize = o.rate > 0 ? Math.max(1, Math.min(500, Math.round(o.rate / 10))) : 500;
  let batch: ChatEventInput[] = [];
  let n = 0;
  const flush = async () => {
    if (!batch.length) return;
    await inbound.publish(batch);
    n += batch.length;
    batch = [];
    bar?.setTotal(n);
    bar?.update(n, { rate: Math.round(n / Math.max(0.001, (Date.now() - started) / 1000)) });
    if (o.rate > 0) {
      // Pace to the requested rate: sleep until this many messages are due.
      const due = started + (n / o.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  };
  for await (const e of readLog(o.file, { format: o.format, platform: o.platform, chat: o.chat, source: o.source })) {
    batch.push(e);
    if (batch.length >= batchSize) await flush();
    if (o.limit && n + batch.length >= o.limit) break;
  }
  await flush();
  bar?.stop();
  return n;
}
