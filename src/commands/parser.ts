/** Parses chat commands: `/cmd@botname args`, quoted arguments, mentions, durations and times. */
import { isUserId, nativeMention } from '../platform/index.js';

/** A parsed command. */
export interface ParsedCommand {
  /** Lower-case name without slash or @bot suffix. */
  name: string;
  /** Arguments, quotes removed. */
  args: string[];
  /** Everything after the command name, as typed (trimmed). */
  rest: string;
}

/** The bot's username on every platform (contract §7). */
export const BOT_USERNAME = 'townhall_bot';

/** Parses a command line, or returns null when the text is not a command (or is addressed to another bot). */
export function parseCommand(text: string, botUsername = BOT_USERNAME): ParsedCommand | null {
  const m = /^\s*[/!]([A-Za-z][A-Za-z0-9_]{0,31})(?:@([A-Za-z0-9_]{1,64}))?(?=\s|$)([\s\S]*)$/.exec(text);
  if (!m) return null;
  if (m[2] && m[2].toLowerCase() !== botUsername.toLowerCase()) return null;
  const rest = (m[3] ?? '').trim();
  return { name: m[1]!.toLowerCase(), args: splitArgs(rest), rest };
}

/** Splits on white space, keeping "double" or 'single' or “curly” quoted runs together. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|“([^”]*)”|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '');
  return out;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `10m`, `2h`, `1d`, `1h30m`, `90s` -> milliseconds; null when it is not a duration. */
export function parseDuration(s: string): number | null {
  const t = s.trim().toLowerCase();
  if (!/^(\d+\s*[smhdw])+$/.test(t.replace(/\s+/g, ''))) return null;
  let total = 0;
  for (const m of t.replace(/\s+/g, '').matchAll(/(\d+)([smhdw])/g)) total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return total > 0 && total <= 366 * UNIT_MS.d ? total : null;
}

/** A moment in time: `2026-12-01 14:00 UTC`, ISO 8601, `in 2h`, `now`, `14:00 UTC` (next such time); ms or null. */
export function parseTime(s: string, now = Date.now()): number | null {
  const t = s.trim();
  if (/^now$/i.test(t)) return now;
  const rel = /^in\s+(.+)$/i.exec(t);
  if (rel) {
    const d = parseDuration(rel[1]!);
    return d === null ? null : now + d;
  }
  const abs = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i.exec(t);
  if (abs) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0', zone] = abs;
    const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
    if (Number.isNaN(base) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59) return null;
    return base - zoneOffsetMs(zone);
  }
  const clock = /^(\d{1,2}):(\d{2})\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i.exec(t);
  if (clock) {
    const day = new Date(now);
    let at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), Number(clock[1]), Number(clock[2])) - zoneOffsetMs(clock[3]);
    if (Number(clock[1]) > 23 || Number(clock[2]) > 59) return null;
    if (at <= now) at += UNIT_MS.d;
    return at;
  }
  return null;
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || /^(z|utc|gmt)$/i.test(zone)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

/** A user reference in a command: `@name`, a prefixed id, a bare numeric id. */
export function parseUserArg(arg: string): { username: string } | { id: string } | null {
  const a = arg.trim();
  if (/^@[A-Za-z0-9_.]{1,64}$/.test(a)) return { username: a.slice(1).toLowerCase() };
  if (isUserId(a)) return { id: a };
  const mentioned = nativeMention(a);
  if (mentioned) return { id: mentioned };
  if (/^\d{1,25}$/.test(a)) return { id: a };
  return null;
}

/** `Q12`, `q12`, `#12`, `12` -> 12; null otherwise. */
export function parseQuestionNumber(arg: string | undefined): number | null {
  if (!arg) return null;
  const m = /^(?:q|#)?(\d{1,7})$/i.exec(arg.trim());
  return m ? Number(m[1]) : null;
}
