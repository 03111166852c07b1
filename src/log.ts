/** Logging: pino, pretty on a TTY, JSON otherwise; secrets are redacted by path. */
import { pino, type Logger } from 'pino';

/** Field paths that may carry secrets; pino replaces their values. */
export const REDACT_PATHS = [
  'token', '*.token', 'botToken', '*.botToken', 'secret', '*.secret', 'password', '*.password',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', 'req.headers.cookie',
  'apiKey', '*.apiKey', 'appSecret', '*.appSecret', 'accessSecret', '*.accessSecret', 'bearerToken', '*.bearerToken',
];

/** The process logger. */
export function createLogger(opts: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const pretty = opts.pretty ?? (process.stdout.isTTY && process.env.NODE_ENV !== 'production');
  return pino({
    name: opts.name ?? 'townhall',
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}

/** A logger that writes nothing (tests, benchmarks); LOG_LEVEL=debug turns it back on. */
export function quietLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'silent', redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
