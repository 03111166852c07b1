/** Forks benchmark worker processes (bench/worker-proc.ts) and talks to them over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerReport, WorkerSpec } from './worker-proc.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The project root (where `--import tsx` resolves). */
export const ROOT = path.resolve(here, '..');

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

/** Forks one worker and resolves once its queue worker is up; `cpuProfDir` runs it under `--cpu-prof`; `cpuCap` caps its CPU (cores). */
export async function forkWorker(spec: WorkerSpec, cpuProfDir?: string, cpuCap?: number): Promise<BenchWorker> {
  const child = fork(path.join(here, 'worker-proc.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [])],
    env: { ...process.env, REDIS_URL: spec.url, BENCH_WORKER: JSON.stringify(spec) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench worker did not start within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`bench worker exited early (code ${code})`)));
    child.on('message', (m: { type?: string }) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.removeAllListeners('exit');
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
    reset: () =>
      new Promise<void>((resolve) => {
        const on = (m: { type?: string }) => {
          if (m.type !== 'reset') return;
          child.off('message', on);
          resolve();
        };
        child.on('message', on);
        child.send({ cmd: 'reset' });
      }),
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
