/** twitter-api-v2 errors to what the runner needs, and to log lines that carry no secrets. */
import { ApiPartialResponseError, ApiRequestError, ApiResponseError } from 'twitter-api-v2';
import { PermanentPlatformError, RateLimitedError } from '../../src/core/errors.js';

/**
 * What is safe to log about a failed X call. Never log the library's error object itself: it holds the
 * ClientRequest, whose headers carry the OAuth signature or bearer token.
 */
export interface XErrorSummary {
  status?: number;
  title?: string;
  detail?: string;
  /** Window reset, ms since the epoch, when the response said. */
  resetAt?: number;
  message: string;
}

/** One line's worth of facts about an error thrown by the client. */
export function summarizeXError(err: unknown): XErrorSummary {
  if (err instanceof ApiResponseError) {
    const data = (err.data ?? {}) as { title?: unknown; detail?: unknown; errors?: { message?: unknown }[] };
    const title = typeof data.title === 'string' ? data.title.slice(0, 200) : undefined;
    const detail =
      typeof data.detail === 'string'
        ? data.detail.slice(0, 500)
        : typeof data.errors?.[0]?.message === 'string'
          ? String(data.errors[0].message).slice(0, 500)
          : undefined;
    const s: XErrorSummary = { status: err.code, message: `x ${err.code}${title ? ` ${title}` : ''}${detail ? `: ${detail}` : ''}` };
    if (title) s.title = title;
    if (detail) s.detail = detail;
    if (err.rateLimit?.reset) s.resetAt = err.rateLimit.reset * 1000;
    return s;
  }
  if (err instanceof ApiPartialResponseError) return { message: `x partial response: ${err.message.slice(0, 200)}` };
  if (err instanceof ApiRequestError) return { message: `x request failed: ${err.requestError?.message?.slice(0, 200) ?? 'network error'}` };
  if (err instanceof Error) return { message: err.message.slice(0, 300) };
  return { message: String(err).slice(0, 300) };
}

/** True when X refused a reply because the author limited who can reply (permanent for that conversation). */
export function isReplyRestricted(s: XErrorSummary): boolean {
  return s.status === 403 && /reply|replies/i.test(`${s.title ?? ''} ${s.detail ?? ''}`) && /not allowed|restrict|limited/i.test(`${s.title ?? ''} ${s.detail ?? ''}`);
}

/** True for X's duplicate-content refusal: about one post, not the conversation. */
export function isDuplicate(s: XErrorSummary): boolean {
  return s.status === 403 && /duplicate/i.test(s.detail ?? '');
}

/** The error `perform` throws for a failed call: wait on 429, never retry 4xx, retry the rest. */
export function toPerformError(err: unknown, now = Date.now()): Error {
  const s = summarizeXError(err);
  if (s.status === 429) {
    // X's limits are per endpoint for the whole account, not per conversation: pause the platform.
    const wait = s.resetAt && s.resetAt > now ? s.resetAt - now : 60_000;
    return new RateLimitedError(Math.max(wait, 1000), s.message, true);
  }
  // A duplicate is one post's problem; no status, so the runner does not disable the whole conversation.
  if (isDuplicate(s)) return new PermanentPlatformError(s.message);
  if (s.status !== undefined && s.status >= 400 && s.status < 500 && s.status !== 408) return new PermanentPlatformError(s.message, s.status);
  return new Error(s.message);
}
