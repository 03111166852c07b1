/**
 * @slack/web-api errors -> PlatformError, decided on Slack's own codes: the `error` string of an `ok:false` answer,
 * the HTTP status, and a 429's Retry-After (the WebClient runs with `rejectRateLimitedCalls`, so a 429 comes back here
 * at once instead of being slept on inside the client).
 */
import { ErrorCode, type WebAPICallError } from '@slack/web-api';
import { PlatformError, type PlatformErrorScope } from '../../src/core/index.js';
import { scopeOfStatus } from '../kit/index.js';

/** The bot itself is refused (its token, its install, its scopes): nothing works until an operator fixes it. */
const BOT_REFUSED = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'missing_scope',
  'no_permission',
  'team_access_not_granted',
  'ekm_access_denied',
  'org_login_required',
  'app_missing_action_url',
]);

/** Slack's side failed; the same call may work in a moment. */
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);

/** The conversation is gone or closed to the bot: nothing more should be sent there until it is added back. */
const CHAT_CLOSED = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'restricted_action', 'team_not_found']);

/** Answers that mean the action's effect is already there: a retried action is done, not failed. */
export const ALREADY_DONE = new Set(['already_reacted', 'already_pinned', 'message_not_found', 'no_reaction', 'already_in_channel']);

/** Methods that post into a conversation: a closed conversation stops sending there (per-chat scope). */
const SENDING = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'reactions.add', 'pins.add']);

/** The `error` string of a Slack `ok:false` answer (as the WebClient threw it, or as mapped), when the error is one. */
export function slackCode(err: unknown): string | undefined {
  if (err instanceof PlatformError) return typeof err.code === 'string' ? err.code : undefined;
  const e = err as Partial<WebAPICallError> | null;
  return e && typeof e === 'object' && e.code === ErrorCode.PlatformError && typeof e.data?.error === 'string' ? e.data.error : undefined;
}

/** Maps an error of a Web API call: a PlatformError (wait, fail the action, or stop the chat), or a retryable Error. */
export function toPlatformError(err: unknown, method: string, what: string): Error {
  if (err instanceof PlatformError) return err;
  const e = err as Partial<WebAPICallError> | null;
  const code = e && typeof e === 'object' ? e.code : undefined;
  if (code === ErrorCode.RateLimitedError && 'retryAfter' in e!) {
    const ms = Math.max(1, Number(e.retryAfter) || 1) * 1000;
    // chat.postMessage is limited per channel; every other method per workspace, which the adapter's method budget
    // then holds closed for everyone: either way this chat's action waits as asked.
    return new PlatformError({ platform: 'slack', method, code: 429, scope: 'per-chat', retryAfterMs: ms, message: `slack rate limit on ${method} for ${ms} ms (${what})` });
  }
  const slack = slackCode(err);
  if (slack) {
    const message = `slack ${method} (${what}): ${slack}`;
    if (TRANSIENT.has(slack)) return new Error(message);
    const scope: PlatformErrorScope = BOT_REFUSED.has(slack) ? 'global' : CHAT_CLOSED.has(slack) && SENDING.has(method) ? 'per-chat' : 'permanent';
    return new PlatformError({ platform: 'slack', method, code: slack, scope, message });
  }
  if (code === ErrorCode.HTTPError && e && 'statusCode' in e) {
    const status = Number(e.statusCode);
    const scope = scopeOfStatus(status);
    const message = `slack ${method} (${what}): HTTP ${status}`;
    return scope ? new PlatformError({ platform: 'slack', method, code: status, scope, message }) : new Error(message);
  }
  if (code === ErrorCode.RequestError) return new Error(`slack ${method} (${what}): request failed: ${(e as { original?: Error }).original?.message ?? 'network error'}`.slice(0, 300));
  return new Error(`slack ${method} (${what}): ${err instanceof Error ? err.message : String(err)}`.slice(0, 300));
}

/** A refusal decided by the adapter itself before calling Slack (something Slack cannot do, a malformed action). */
export function refused(method: string, message: string, scope: PlatformErrorScope = 'permanent'): PlatformError {
  return new PlatformError({ platform: 'slack', method, code: 'refused', scope, message: `slack ${method}: ${message}` });
}
