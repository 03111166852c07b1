/** Forks benchmark worker processes (bench/worker-proc.ts) and talks to them over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProducerSpec } from './producer-proc.js';
import type { WorkerReport, WorkerSpec } from './worker-proc.js';

const self = fileURLToPath(import.meta.url);
const here = path.dirname(self);
/** The children run as this module does: built JavaScript as is, TypeScript sources through tsx (development). */
const EXT = path.extname(self);
const LOADER = EXT === '.ts' ? ['--import', 'tsx'] : [];

/** A forked worker: `stop()` closes its queue worker and resolves with what it measured. */
export interface BenchWorker {
  child: ChildProcess;
  /** Forgets the latencies recorded so far (after a warm-up). */
  reset(): Promise<void>;
  stop(): Promise<WorkerReport>;
}

/** Where a cgroup (v1) CPU controller lets the bench cap a process's CPU, when it may. */
const CPU_CGROUP = '/sys/fs/cgroup/cpu';

/**
 * Caps a process at `cores` of CPU (a cgroup v1 CFS quota), as if it ran on a machine of its own that small;
 * returns a function that removes the group. Throws where cgroups are not writable (not root, other layouts).
 */
export function capCpu(pid: number, cores: number): () => void {
  const dir = path.join(CPU_CGROUP, `townhall-bench-${pid}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'cpu.cfs_period_us'), '100000');
  writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(Math.round(cores * 100_000)));
  writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
  return () => {
    try {
      rmdirSync(dir);
    } catch {
      // still holds a process that has not exited yet: the group is empty and harmless once it has
    }
  };
}

/**
 * Resolves with the child's next message of `type` (after sending `cmd`, when given); rejects when the child exits
 * first or, with `timeoutMs`, when it takes longer.
 */
export function nextMessage<T extends { type?: string }>(child: ChildProcess, type: string, opts: { cmd?: string; timeoutMs?: number } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', on);
      child.off('exit', onExit);
    };
    const onExit = (code: number | null) => (done(), reject(new Error(`bench child exited (code ${code}) before '${type}'`)));
    const on = (m: T) => {
      if (m.type !== type) return;
      done();
      resolve(m);
    };
    const timer = opts.timeoutMs ? setTimeout(() => (done(), reject(new Error(`bench child sent no '${type}' within ${opts.timeoutMs} ms`))), opts.timeoutMs) : undefined;
    child.on('message', on);
    child.once('exit', onExit);
    if (opts.cmd) child.send({ cmd: opts.cmd });
  });
}

/** Forks a bench child (`name` under bench/, without extension) with `env` added, and resolves once it says 'ready'. */
export async function forkChild(name: string, env: Record<string, string>, execArgv: string[] = []): Promise<ChildProcess> {
  const child = fork(path.join(here, name + EXT), [], { execArgv: [...LOADER, ...execArgv], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await nextMessage(child, 'ready', { timeoutMs: 60_000 });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}

/** Forks one worker and resolves once its queue worker is up; `cpuProfDir` runs it under `--cpu-prof`; `cpuCap` caps its CPU (cores). */
export async function forkWorker(spec: WorkerSpec, cpuProfDir?: string, cpuCap?: number): Promise<BenchWorker> {
  const child = await forkChild('worker-proc', { REDIS_URL: spec.url, BENCH_WORKER: JSON.stringify(spec) }, cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []);
  // Capped once it is up: starting (loading modules) is not what is measured.
  if (cpuCap) {
    try {
      const uncap = capCpu(child.pid!, cpuCap);
      child.once('exit', () => setTimeout(uncap, 200));
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }
  return {
    child,
    reset: async () => {
      await nextMessage(child, 'reset', { cmd: 'reset' });
    },
    stop: () =>
      new Promise<WorkerReport>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error('bench worker did not stop within 60 s'));
        }, 60_000);
        child.on('message', (m: WorkerReport) => {
          if (m.type !== 'report') return;
          clearTimeout(timer);
          // Resolve once it has exited, so a --cpu-prof file is complete on disk.
          if (child.exitCode !== null) resolve(m);
          else child.once('exit', () => resolve(m));
        });
        child.send({ cmd: 'stop' });
      }),
  };
}

/** A forked latency producer (bench/producer-proc.ts): `warm()` offers the warm-up, `go()` the measured part. */
export interface BenchProducer {
  warm(): Promise<void>;
  /** Resolves with the rate it achieved. */
  go(): Promise<number>;
  kill(): void;
}

/** Forks the latency producer and resolves once it has its events ready. */
export async function forkProducer(spec: ProducerSpec): Promise<BenchProducer> {
  const child = await forkChild('producer-proc', { BENCH_PRODUCER: JSON.stringify(spec) });
  return {
    warm: async () => {
      await nextMessage(child, 'warmed', { cmd: 'warm' });
    },
    go: async () => (await nextMessage<{ type: string; offered?: number }>(child, 'done', { cmd: 'go' })).offered ?? 0,
    kill: () => child.kill('SIGKILL'),
  };
}
