/** The whole bot in one process for end-to-end tests: the sandbox (fakes + real client libraries + core + runners +
 * HTTP) on an isolated Redis prefix, removed afterwards. */
import { randomUUID } from 'node:crypto';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/cli/sandbox.js';
import { PLATFORM_MODULES } from './platforms.js';
import { isolatedRedis } from './redis.js';

/** A started stack plus `post`/`get` helpers for its HTTP server; `close()` stops it and deletes its keys. */
export async function startStack(opts: Partial<Omit<SandboxOptions, 'platforms'>> = {}): Promise<Sandbox & {
  post: (path: string, body: unknown, token?: string) => Promise<{ status: number; body: unknown }>;
  get: (path: string, token?: string) => Promise<{ status: number; body: unknown }>;
}> {
  const prefix = `{townhall-test-${randomUUID().slice(0, 8)}}`;
  const sb = await startSandbox({ port: 0, quiet: true, prefix, platforms: PLATFORM_MODULES, ...opts });
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(sb.url + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed };
  };
  const close = sb.close;
  return Object.assign(sb, {
    post: (path: string, body: unknown, token?: string) => call('POST', path, body, token),
    get: (path: string, token?: string) => call('GET', path, undefined, token),
    close: async () => {
      await close();
      const iso = await isolatedRedis();
      // Reuse the cleanup of isolatedRedis for this stack's prefix.
      Object.assign(iso.keys, { prefix });
      await iso.cleanup();
    },
  });
}
