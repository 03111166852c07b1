/** Loads configuration once: YAML file + environment (+ `.env`), validated; errors name the key or variable. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, EnvSchema, type Config, type Env } from '../../config/schema.js';

/** Configuration and environment, both validated. */
export interface LoadedConfig {
  config: Config;
  env: Env;
  /** The YAML file used, if any. */
  file?: string;
}

/** Raised when configuration is invalid; the message names the key or variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const SECRET_KEYS = /token|secret|password|apikey|api_key|bearer/i;

/** Values that are credentials whatever their key is called: the known token shapes, and secrets inside URLs. */
const SECRET_VALUES: [RegExp, string][] = [
  [/^\d{5,16}:[A-Za-z0-9_-]{30,}$/, 'a Telegram bot token'],
  [/^[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}$/, 'a Discord bot token'],
  [/\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}/, 'an API key'],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35})\b/, 'an access token'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/, 'a signed token (JWT)'],
  [/^(?:Bearer|Basic)\s+\S{8,}/i, 'an Authorization header'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s@]+@/i, 'a URL with credentials in it'],
  [/[?&](?:access_token|token|api[_-]?key|key|secret|password|passwd|sig|signature)=[^&#\s]{6,}/i, 'a URL with a credential in its query'],
  // A long unbroken run of mixed letters and digits is how generated secrets look; names and ids are not like that.
  [/^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)[A-Za-z0-9_+/=-]{32,}$/, 'a generated secret'],
];

/** What a value looks like when it looks like a credential, else undefined. */
export function secretShape(value: string): string | undefined {
  return SECRET_VALUES.find(([re]) => re.test(value.trim()))?.[1];
}

/** Reads `.env` (if present), the YAML file and the environment; throws ConfigError with the offending key. */
export function loadConfig(opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; overrides?: Partial<Config> } = {}): LoadedConfig {
  const rawEnv = opts.env ?? process.env;
  if (!opts.env && existsSync('.env')) {
    // dotenv fills only what the environment does not already set.
    process.loadEnvFile?.('.env');
  }
  const envParsed = EnvSchema.safeParse(rawEnv);
  if (!envParsed.success) {
    const issue = envParsed.error.issues[0]!;
    throw new ConfigError(`environment variable ${issue.path.join('.')}: ${issue.message}`);
  }
  const env = envParsed.data;
  const file = opts.file ?? env.TOWNHALL_CONFIG ?? (existsSync('config/townhall.yaml') ? 'config/townhall.yaml' : undefined);
  let yamlData: unknown = {};
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`config file not found: ${file} (TOWNHALL_CONFIG or --config)`);
    try {
      yamlData = parseYaml(readFileSync(file, 'utf8')) ?? {};
    } catch (e) {
      throw new ConfigError(`${path.basename(file)}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    const leaked = findSecretKey(yamlData);
    if (leaked) throw new ConfigError(`${path.basename(file)}: key "${leaked}" looks like a secret; secrets come only from the environment (see .env.example)`);
    // The value itself is never echoed: the message names the key and what the value looks like.
    const valued = findSecretValue(yamlData);
    if (valued) throw new ConfigError(`${path.basename(file)}: the value of "${valued.key}" looks like ${valued.what}; secrets come only from the environment (see .env.example)`);
  }
  const merged = { ...(yamlData as object), ...(opts.overrides ?? {}) };
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || (issue as { keys?: string[] }).keys?.join(', ') || '(root)';
    throw new ConfigError(`config key ${key}: ${issue.message}`);
  }
  const config = parsed.data;
  if (env.TOWNHALL_HTTP_PORT !== undefined) config.http.port = env.TOWNHALL_HTTP_PORT;
  if (config.telegram.mode === 'webhook' && !env.TELEGRAM_WEBHOOK_URL) {
    throw new ConfigError('telegram.mode is webhook but TELEGRAM_WEBHOOK_URL is not set');
  }
  if (env.TELEGRAM_WEBHOOK_URL && !env.TELEGRAM_WEBHOOK_SECRET) {
    throw new ConfigError('TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: set a secret so forged updates are refused');
  }
  return file ? { config, env, file } : { config, env };
}

/** The first key anywhere in the YAML whose name looks like a secret. */
function findSecretKey(v: unknown, at = ''): string | undefined {
  if (!v || typeof v !== 'object') return undefined;
  for (const [k, val] of Object.entries(v)) {
    const p = at ? `${at}.${k}` : k;
    if (SECRET_KEYS.test(k)) return p;
    const inner = findSecretKey(val, p);
    if (inner) return inner;
  }
  return undefined;
}

/** The first string value anywhere in the YAML that looks like a credential, with its key. */
function findSecretValue(v: unknown, at = ''): { key: string; what: string } | undefined {
  if (typeof v === 'string') {
    const what = secretShape(v);
    return what ? { key: at || '(root)', what } : undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  for (const [k, val] of Object.entries(v)) {
    const found = findSecretValue(val, Array.isArray(v) ? `${at}[${k}]` : at ? `${at}.${k}` : k);
    if (found) return found;
  }
  return undefined;
}

/** Parses `30s`, `10m`, `2h`, `1d` into milliseconds. */
export function durationMs(d: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}
