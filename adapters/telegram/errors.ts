/**
 * Telegram's answers -> PlatformError, decided on the Bot API's `error_code` and `parameters` (retry_after,
 * migrate_to_chat_id), never on the wording of its `description`.
 */
import { TelegramError } from 'telegraf';
import { PlatformError, type PlatformErrorScope } from '../../src/core/index.js';
import { redactSecrets, scopeOfStatus } from '../kit/index.js';

/** True for a Bot API error with this error_code. */
export function isApiError(err: unknown, code: number): err is TelegramError {
  return err instanceof TelegramError && err.code === code;
}

/** Removes the bot token from any text before it is logged or stored. */
export function redactToken(text: string, token: string): string {
  return redactSecrets(text, [token]).replace(/\/bot\d+:[A-Za-z0-9_-]+/g, '/bot[token]');
}

/**
 * Maps a failed call: 429 -> a wait for that chat (retry_after honoured); a group that became a supergroup
 * (migrate_to_chat_id) and 403 -> the chat; 401 -> the bot; other 4xx -> this action; 5xx and network errors stay
 * plain Errors and are retried.
 */
export function toPlatformError(err: unknown, method: string, token: string): Error {
  if (err instanceof TelegramError) {
    const message = `telegram ${method}: ${err.code} ${redactToken(err.description ?? '', token)}`;
    if (err.code === 429) {
      const seconds = err.parameters?.retry_after ?? 1;
      return new PlatformError({ platform: 'telegram', method, code: 429, scope: 'per-chat', retryAfterMs: Math.max(1, seconds) * 1000, message });
    }
    const migrated = err.parameters?.migrate_to_chat_id;
    if (migrated) return new PlatformError({ platform: 'telegram', method, code: err.code, scope: 'per-chat', message: `${message} (the group is now supergroup ${migrated})` });
    const scope = scopeOfStatus(err.code);
    if (scope) return new PlatformError({ platform: 'telegram', method, code: err.code, scope, message });
    return new Error(message);
  }
  if (err instanceof Error) {
    const e = new Error(`telegram ${method}: ${redactToken(err.message, token)}`);
    e.name = err.name;
    return e;
  }
  return new Error(`telegram ${method}: ${redactToken(String(err), token)}`);
}

/** A refusal decided by the adapter itself (a malformed action, what the Bot API cannot do). */
export function refused(method: string, message: string, scope: PlatformErrorScope = 'permanent'): PlatformError {
  return new PlatformError({ platform: 'telegram', method, code: 'refused', scope, message: `telegram ${method}: ${message}` });
}
