/**
 * A long text sent as several messages, resumable: the id of each part sent is recorded in the adapter's store under
 * the action's id as soon as the platform confirms it, so an action retried after a crash or a refusal sends only the
 * parts not yet sent, never one twice.
 */
import type { AdapterStore } from '../../src/core/index.js';

/** How long a half-sent action's progress is remembered (longer than the outbound queue retries it). */
export const PARTS_TTL_S = 7 * 24 * 3600;

/** The progress record of one action: the message ids of the parts sent so far, in order. */
export function partsKey(actionId: string): string {
  return `parts:${actionId}`;
}

/**
 * Sends `parts` in order through `send` (which returns the message id the platform gave the part, and receives the
 * ids sent before it, e.g. to reply to the previous one), skipping those an earlier attempt already sent. Resolves
 * with every part's id.
 */
export async function sendParts<P>(
  store: AdapterStore,
  actionId: string,
  parts: readonly P[],
  send: (part: P, index: number, sentBefore: readonly string[]) => Promise<string>,
): Promise<string[]> {
  const key = partsKey(actionId);
  const ids = await store.lrange(key, 0, -1);
  for (let i = ids.length; i < parts.length; i++) {
    const id = await send(parts[i]!, i, ids);
    ids.push(id);
    await store.multi().rpush(key, id).expire(key, PARTS_TTL_S).exec();
  }
  return ids;
}
