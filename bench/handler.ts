/**
 * `node --import tsx bench/handler.ts [N]`: the core's `handleEvent` alone, in this process, no queue — CPU µs per
 * message and the Redis commands the client sends per message, by name. The figure to watch when changing the hot path:
 * it leaves out BullMQ and the machine's other load (CPU time, not wall time).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigSchema, type Config } from '../config/schema.js';
import { buildCore } from '../src/app/core.js';
import { quietLogger } from '../src/log.js';
import { chatWorkload } from '../src/perf/workload.js';
import type { CoreDeps } from '../src/pipeline/context.js';
import { OutboundQueue } from '../src/queue/outbound.js';
import { Keys } from '../src/redis/keys.js';
import { loadChatLines } from './corpus.js';
import { unlinkUnder } from '../src/redis/scan.js';
import { setupFeatures } from './run.js';

const n = Number(process.argv[2] ?? 20_000);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{th-${randomUUID().slice(0, 6)}}`; // as long as production's `{townhall}`
const keys = new Keys(prefix);
const redis = new Redis(url, { maxRetriesPerRequest: null, enableAutoPipelining: true });
const overrides: Partial<Config> = {
  core: ConfigSchema.parse({ core: { history: { maxMessages: Math.ceil(n / 20), maxAge: '7d' }, shedBacklog: 10_000_000 } }).core,
  moderation: ConfigSchema.parse({ moderation: { flood: { messages: 100_000, seconds: 1 } } }).moderation,
};
const config = ConfigSchema.parse(overrides);
const outbound = new OutboundQueue({ url, keys });
const deps: CoreDeps = { redis, keys, config, outbound, log: quietLogger(), now: Date.now };
// Setup on a connection of its own: the queues it obliterates would define BullMQ's scripts on the measured one.
const setupRedis = new Redis(url, { maxRetriesPerRequest: null });
await setupFeatures({ redis: setupRedis, prefix, keys }, { ...deps, redis: setupRedis });
setupRedis.disconnect();
const core = buildCore(deps);
const events = chatWorkload(loadChatLines(Math.max(n, 50_000)), n, { chats: 20, firstMessageId: 100 });

// Count what the client sends (this process's connection only).
const counts = new Map<string, number>();
const send = redis.sendCommand.bind(redis);
let counting = false;
redis.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
  if (counting) counts.set(cmd.name, (counts.get(cmd.name) ?? 0) + 1);
  return (send as (...a: unknown[]) => unknown)(cmd, ...rest);
}) as typeof redis.sendCommand;

let writes = 0, bytes = 0;
const st = (redis as unknown as { stream: { write: (d: string | Buffer, ...r: unknown[]) => boolean } }).stream;
const w0 = st.write.bind(st);
st.write = (d, ...r) => { if (counting) { writes++; bytes += typeof d === 'string' ? Buffer.byteLength(d) : d.length; } return w0(d, ...r); };
async function run(evs: typeof events, concurrency = 50): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < evs.length) await core.handleEvent(evs[i++] as never);
  }));
}
await run(events.slice(0, 2000)); // warm-up
counting = true;
const c0 = process.cpuUsage();
const t0 = performance.now();
await run(events.slice(2000));
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
counting = false;
const m = n - 2000;
const perMsg = [...counts].map(([k, v]) => [k, +(v / m).toFixed(2)] as const).sort((a, b) => b[1] - a[1]);
console.log(JSON.stringify({ messages: m, cpu_us_per_message: Math.round((cpu.user + cpu.system) / m), wall_msgs_per_s: Math.round(m / (ms / 1000)), socket_writes_per_message: +(writes / m).toFixed(3), bytes_per_message: Math.round(bytes / m), client_commands_per_message: +perMsg.reduce((a, [, v]) => a + v, 0).toFixed(2), by_command: Object.fromEntries(perMsg) }));
await unlinkUnder(redis, prefix);
await outbound.close();
redis.disconnect();
