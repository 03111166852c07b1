/**
 * V8 flags the long-running processes (`townhall start`, `townhall worker`) run with. Kept in one place so the bench
 * forks its workers — the no-op baseline and the core alike — exactly as production runs them.
 *
 * --max-semi-space-size=32: the per-message path allocates many short-lived objects (commands, promises, strings);
 * with V8's default 16 MB young generation it scavenges so often that GC was 14 % of a core worker's CPU. 32 MB
 * measured 162 → 143 µs CPU per message in bench/handler.ts (64 MB: no better), for ~32 MB more RSS at most.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=32'];
