/**
 * The pieces the fault tests put together: the real core, outbound runner and Telegram adapter (telegraf against the
 * fake), started one by one so a test can kill or restart any of them; chat traffic for the fake; and the checks
 * "every message handled" and "every reply sent, once".
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { createTelegramAdapter, type TelegramAdapter, type TelegramAdapterOptions } from '../../adapters/telegram/index.js';
import type { AdapterDeps, OutboundLimits, Platform } from '../../src/core/index.js';
import { ConfigSchema } from '../../config/schema.js';
import { buildCore } from '../../src/app/core.js';
import { quietLogger } from '../../src/log.js';
import type { CoreDeps } from '../../src/pipeline/context.js';
import { InboundQueue } from '../../src/queue/inbound.js';
import { startInboundWorker, type InboundWorkerHandle } from '../../src/queue/inbound-worker.js';
import { OutboundQueue, startOutboundRunner, type OutboundRunnerHandle } from '../../src/queue/outbound.js';
import { createRedis } from '../../src/redis/connect.js';
import type { Keys } from '../../src/redis/keys.js';
import type { TelegramFake } from '../../fakes/telegram/index.js';
import { adapterDeps } from '../helpers/adapter.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Budgets far above what the tests send: the runner's pacing is not what these tests look at. */
export const WIDE_LIMITS: OutboundLimits = { perChat: [{ points: 1000, durationMs: 1000 }], global: [{ points: 10_000, durationMs: 1000 }] };

/** Job locks short enough that a killed worker's jobs come back within seconds (production: 30 s). */
export const LOCK_MS = 4000;

/** Core, runner and adapter in this process, on one Redis and prefix. */
export class InProcessStack {
  readonly redis: Redis;
  readonly inbound: InboundQueue;
  readonly outbound: OutboundQueue;
  readonly deps: CoreDeps;
  core?: InboundWorkerHandle;
  runner?: OutboundRunnerHandle;
  adapter?: TelegramAdapter;
  private readonly stores: ReturnType<typeof adapterDeps>[] = [];

  /** `lockMs`: job locks of the core worker and runner (default: production's 30 s). */
  constructor(
    readonly url: string,
    readonly keys: Keys,
    readonly lockMs?: number,
  ) {
    this.redis = createRedis(url, { name: 'fault-test-state' });
    this.redis.on('error', () => undefined);
    this.inbound = new InboundQueue({ url, keys });
    this.outbound = new OutboundQueue({ url, keys });
    this.deps = { redis: this.redis, keys, config: ConfigSchema.parse({}), outbound: this.outbound, log: quietLogger(), now: Date.now };
  }

  /** The core: every feature `buildCore` wires, behind an inbound worker. */
  startCore(): void {
    const core = buildCore(this.deps);
    this.core = startInboundWorker({ url: this.url, keys: this.keys, handle: core.handleEvent, log: this.deps.log, ...(this.lockMs ? { lockDurationMs: this.lockMs } : {}) });
  }

  /** The Telegram adapter on `apiRoot` (the fake, or a fault proxy in front of it); `receive` starts its long poll. */
  async startTelegram(fake: TelegramFake, apiRoot: string, opts: { receive?: boolean; runner?: boolean; adapter?: Partial<TelegramAdapterOptions> } = {}): Promise<void> {
    this.adapter = createTelegramAdapter(
      { token: fake.token, apiRoot, pollTimeoutSeconds: 1, retryDelayMs: 100, maxRetryDelayMs: 2000, registerCommands: false, limits: WIDE_LIMITS, ...opts.adapter },
      this.adapterDeps('telegram'),
    );
    await this.adapter.init();
    if (opts.runner !== false) this.runner = startOutboundRunner({ adapter: this.adapter, url: this.url, keys: this.keys, log: this.deps.log, ...(this.lockMs ? { lockDurationMs: this.lockMs } : {}) });
    if (opts.receive !== false) await this.adapter.startInbound();
  }

  /** Events the core has handled (counted atomically with each event's seen mark). */
  async handled(): Promise<number> {
    return Number((await this.redis.get(this.keys.k('stats', 'handled'))) ?? 0);
  }

  /** Jobs not yet finished on a queue (waiting, active, delayed, prioritized). */
  async backlog(queue: 'inbound' | 'outbound'): Promise<number> {
    const q = queue === 'inbound' ? this.inbound.queue : this.outbound.queue('telegram');
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  /** An adapter's deps on this stack (publishing into its inbound queue); closed with the stack. */
  adapterDeps(platform: Platform): AdapterDeps {
    const deps = adapterDeps(platform, { keys: this.keys, redis: this.redis, sink: this.inbound, log: this.deps.log });
    this.stores.push(deps);
    return deps;
  }

  async close(): Promise<void> {
    await this.adapter?.stop().catch(() => undefined);
    await this.core?.close().catch(() => undefined);
    await this.runner?.close().catch(() => undefined);
    for (const s of this.stores) s.close();
    await this.inbound.close().catch(() => undefined);
    await this.outbound.close().catch(() => undefined);
    this.redis.disconnect();
  }
}

/** A written chat message: where, its native id, and whether it was a command that gets a reply. */
export interface Sent {
  chat: string;
  id: string;
  command: boolean;
}

const WORDS = 'the node keeps syncing after upgrade and my wallet shows zero balance since the bridge went down yesterday while staking rewards still arrive every epoch'.split(' ');

/** Telegram group ids for the tests (the fake creates a group on first use). */
export function groups(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `-10020000000${String(i).padStart(2, '0')}`);
}

/**
 * Writes `n` messages into the fake at `rate` per second, round robin over `chats`, from `users` people (pick enough
 * that each writes fewer than 8 messages in 10 s, or flood protection steps in); every `commandEvery`-th message of a
 * chat is `/help`, which the bot answers.
 */
export async function writeTraffic(fake: TelegramFake, o: { n: number; chats: string[]; users: number; rate: number; commandEvery: number; onProgress?: (i: number) => void | Promise<void> }): Promise<Sent[]> {
  const sent: Sent[] = [];
  const started = Date.now();
  for (let i = 0; i < o.n; i++) {
    const chat = o.chats[i % o.chats.length]!;
    // Each person writes in one chat, once every `users` messages: spread thin enough that flood protection stays quiet.
    const u = i % o.users;
    // Commands spread over every chat (each chat's every commandEvery-th message).
    const command = o.commandEvery > 0 && Math.floor(i / o.chats.length) % o.commandEvery === o.commandEvery - 1;
    const text = command ? '/help' : `${Array.from({ length: 5 + (i % 7) }, (_, j) => WORDS[(i * 3 + j * 5) % WORDS.length]).join(' ')} (${i})`;
    const { id } = await fake.injectMessage({ chat, user: { id: String(70_000 + u), name: `User ${u}` }, text });
    sent.push({ chat, id, command });
    if (i % 50 === 49) {
      await o.onProgress?.(i + 1);
      const wait = started + ((i + 1) / o.rate) * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  return sent;
}

/** How many times the bot answered each message (`chat/messageId` -> sends replying to it). */
export function repliesTo(fake: TelegramFake): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of fake.outbox()) {
    if (e.type !== 'send' || !e.replyTo) continue;
    const k = `${e.chat}/${e.replyTo}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** Messages kept in the chats' history (the history feature records every non-command message). */
export async function historyCount(redis: Redis, keys: Keys, chats: string[]): Promise<number> {
  let n = 0;
  for (const c of chats) n += await redis.llen(keys.k('hist', `telegram:${c}`));
  return n;
}

/** A `townhall worker --role core|outbound` process (test/faults/role-child.ts) with short job locks. */
export async function startRoleChild(role: 'core' | 'outbound', env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(path.join(here, 'role-child.ts'), [role], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} child not ready within 60 s`)), 60_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`${role} child exited early (${code})`)));
  });
  child.removeAllListeners('exit');
  return child;
}

/** Kills a child with SIGKILL and waits until it is gone. */
export async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** Writes a config YAML for child processes (their prefix, the fake's API root, wide send budgets); returns its path. */
export function writeConfig(prefix: string, apiRoot: string): string {
  const file = path.join(os.tmpdir(), `townhall-faults-${prefix.replace(/[{}]/g, '')}.yaml`);
  const budget = (b: { points: number; durationMs: number }) => `{ points: ${b.points}, durationMs: ${b.durationMs} }`;
  writeFileSync(
    file,
    [
      `redis:`,
      `  prefix: "${prefix}"`,
      `telegram:`,
      `  apiRoot: "${apiRoot}"`,
      `  pollTimeoutSeconds: 1`,
      `  limits:`,
      `    perChat: [${WIDE_LIMITS.perChat.map(budget).join(', ')}]`,
      `    global: [${WIDE_LIMITS.global.map(budget).join(', ')}]`,
      '',
    ].join('\n'),
  );
  return file;
}
