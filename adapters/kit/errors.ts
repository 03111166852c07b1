/** From a platform's HTTP answer to the one error type the outbound runner understands (PlatformError). */
import type { PlatformErrorScope } from '../../src/core/index.js';

/**
 * What an HTTP status reaches when the platform gave no finer code: 401 the whole bot (its token), 403 the chat (the
 * bot was removed, blocked, or lacks the right there), other 4xx this request only; null for what a retry may fix
 * (408, 5xx). A 429 is a wait, not a scope: callers pass its retry-after.
 */
export function scopeOfStatus(status: number): PlatformErrorScope | null {
  if (status === 401) return 'global';
  if (status === 403) return 'per-chat';
  if (status === 408 || status === 429 || status >= 500) return null;
  if (status >= 400) return 'permanent';
  return null;
}

/** Removes secrets (a token, and anything shaped like one in a URL) from text before it is logged or stored. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('[secret]');
  return out;
}
