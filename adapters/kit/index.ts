/**
 * The adapter kit: what every platform adapter needs and would otherwise write again — one backoff, one abortable
 * sleep, one cursor store, one resumable multi-part send, the HTTP status → error scope rule. Adapters import the
 * border (src/core/index.ts) and this kit, nothing else of Townhall's.
 */
export { backoffMs, type Backoff } from './backoff.js';
export { CursorStore, newerId } from './cursor.js';
export { redactSecrets, scopeOfStatus } from './errors.js';
export { PARTS_TTL_S, partsKey, sendParts } from './parts.js';
export { sleep } from './sleep.js';
