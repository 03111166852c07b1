/** Telegram's answers, sorted into what the outbound runner must do: wait, give up, or retry. */
import { TelegramError } from 'telegraf';
import { PermanentPlatformError, RateLimitedError } from '../../src/core/errors.js';

/** True for a Bot API error with this code whose description contains `text` (case-insensitive). */
export function isApiError(err: unknown, code: number, text?: string): err is TelegramError {
  return err instanceof TelegramError && err.code === code && (text === undefined || err.description.toLowerCase().includes(text.toLowerCase()));
}

/** Removes the bot token from any text before it is logged or stored. */
export function redactToken(text: string, token: string): string {
  let out = token ? text.split(token).join('[token]') : text;
  out = out.replace(/\/bot\d+:[A-Za-z0-9_-]+/g, '/bot[token]');
  return out;
}

/**
 * Maps a failed call: 429 -> RateLimitedError (retry_after honored), 400/401/403/404 -> PermanentPlatformError
 * (a bad request does not get better by retrying), anything else (5xx, network) is returned as is and retried.
 */
export function toPlatformError(err: unknown, method: string, token: string): Error {
  if (err instanceof TelegramError) {
    const where = `telegram ${method}: ${err.code} ${redactToken(err.description ?? '', token)}`;
    if (err.code === 429) {
      const seconds = err.parameters?.retry_after ?? 1;
      return new RateLimitedError(Math.max(1, seconds) * 1000, where);
    }
    const migrated = err.parameters?.migrate_to_chat_id;
    if (migrated) return new PermanentPlatformError(`${where} (the group is now supergroup ${migrated})`, err.code);
    if ([400, 401, 403, 404].includes(err.code)) return new PermanentPlatformError(where, err.code);
    const e = new Error(where);
    return e;
  }
  if (err instanceof Error) {
    const e = new Error(`telegram ${method}: ${redactToken(err.message, token)}`);
    e.name = err.name;
    return e;
  }
  return new Error(`telegram ${method}: ${redactToken(String(err), token)}`);
}
