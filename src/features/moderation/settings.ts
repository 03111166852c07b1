/** Per-chat moderation settings: the config's `moderation` section as defaults, overridden per chat from Redis (`/modset`). */
import { z } from 'zod';
import type { Config } from '../../../config/schema.js';
import { parseDuration } from '../../commands/parser.js';
import { isChatId } from '../../platform/index.js';

/** What to do about a scam message. */
export const SCAM_ACTIONS = ['off', 'delete', 'mute', 'ban'] as const;
/** What to do about a name that imitates an admin's. */
export const IMPERSONATION_ACTIONS = ['off', 'flag', 'delete', 'mute', 'ban'] as const;

/** The effective settings of one chat. */
export interface ModSettings {
  /** More than `messages` messages within `seconds` from one user: delete and mute for `muteMs`. 0 messages = off. */
  flood: { messages: number; seconds: number; muteMs: number };
  /** `joins` joins within `seconds` turn quiet mode on for `quietMs`. 0 joins = off. */
  raid: { joins: number; seconds: number; quietMs: number };
  /** `max` warnings mute for `muteMs` (and start counting again). */
  warnings: { max: number; muteMs: number };
  /** When not empty, links to other domains are removed. */
  linkAllowlist: string[];
  scam: (typeof SCAM_ACTIONS)[number];
  impersonation: (typeof IMPERSONATION_ACTIONS)[number];
  /** Prefixed chat id that receives one line per moderation action. */
  modLogChat?: string;
}

const durationMs = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'a duration like 30s, 10m, 2h or 1d' });
    return z.NEVER;
  }
  return ms;
});
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const domain = z.string().regex(/^(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i, 'a domain like example.org').transform((d) => d.toLowerCase());

/** The settings a moderator may change per chat, with the value each accepts (as typed in `/modset <key> <value>`). */
export const SETTING_SCHEMAS = {
  'flood.messages': int(0, 1000),
  'flood.seconds': int(1, 3600),
  'flood.mute': durationMs,
  'raid.joins': int(0, 100_000),
  'raid.seconds': int(1, 3600),
  'raid.quiet': durationMs,
  'warnings.max': int(1, 100),
  'warnings.mute': durationMs,
  'links.allow': z.string().transform((s, ctx) => {
    if (/^(none|off|-)$/i.test(s.trim())) return [];
    const parts = s.split(/[\s,]+/).filter(Boolean);
    const out: string[] = [];
    for (const p of parts) {
      const r = domain.safeParse(p.replace(/^https?:\/\//i, '').replace(/\/.*$/, ''));
      if (!r.success) {
        ctx.addIssue({ code: 'custom', message: `not a domain: ${p.slice(0, 40)}` });
        return z.NEVER;
      }
      out.push(r.data);
    }
    return out.slice(0, 200);
  }),
  scam: z.enum(SCAM_ACTIONS),
  impersonation: z.enum(IMPERSONATION_ACTIONS),
  'modlog.chat': z.string().refine((v) => v === 'off' || isChatId(v), 'a prefixed chat id like telegram:-100123, or off'),
} as const;

/** A key of SETTING_SCHEMAS. */
export type SettingKey = keyof typeof SETTING_SCHEMAS;

/** Whether `key` names a per-chat setting. */
export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTING_SCHEMAS, key);
}

/** Validates a value typed for a setting; the stored string, or the reason it is refused. */
export function checkSetting(key: SettingKey, value: string): { ok: true; stored: string } | { ok: false; reason: string } {
  const typed = key === 'modlog.chat' ? value.trim() : value.trim().toLowerCase();
  const r = SETTING_SCHEMAS[key].safeParse(typed);
  if (!r.success) return { ok: false, reason: r.error.issues[0]?.message ?? 'invalid value' };
  return { ok: true, stored: Array.isArray(r.data) ? r.data.join(',') || 'none' : typed };
}

/** Settings the config schema may grow (the lead adds them to `moderation`); read when present. */
/** The config's defaults (what a chat without overrides gets). */
export function defaultSettings(config: Config): ModSettings {
  const m = config.moderation;
  const s: ModSettings = {
    flood: { messages: m.flood.messages, seconds: m.flood.seconds, muteMs: parseDuration(m.flood.mute) ?? 600_000 },
    raid: { joins: m.raid.joins, seconds: m.raid.seconds, quietMs: parseDuration(m.raid.quietFor) ?? 1_800_000 },
    warnings: { max: m.warnings.max, muteMs: parseDuration(m.warnings.mute) ?? 86_400_000 },
    linkAllowlist: m.linkAllowlist.map((d) => d.toLowerCase()),
    scam: m.scam,
    impersonation: m.impersonation,
  };
  if (m.modLogChat) s.modLogChat = m.modLogChat;
  return s;
}

/** Defaults with a chat's stored overrides applied; a stored value that no longer validates is ignored. */
export function resolveSettings(defaults: ModSettings, overrides: Record<string, string>): ModSettings {
  const s: ModSettings = structuredClone(defaults);
  for (const [key, raw] of Object.entries(overrides)) {
    if (!isSettingKey(key)) continue;
    const r = SETTING_SCHEMAS[key].safeParse(raw);
    if (!r.success) continue;
    const v = r.data;
    switch (key) {
      case 'flood.messages': s.flood.messages = v as number; break;
      case 'flood.seconds': s.flood.seconds = v as number; break;
      case 'flood.mute': s.flood.muteMs = v as number; break;
      case 'raid.joins': s.raid.joins = v as number; break;
      case 'raid.seconds': s.raid.seconds = v as number; break;
      case 'raid.quiet': s.raid.quietMs = v as number; break;
      case 'warnings.max': s.warnings.max = v as number; break;
      case 'warnings.mute': s.warnings.muteMs = v as number; break;
      case 'links.allow': s.linkAllowlist = v as string[]; break;
      case 'scam': s.scam = v as ModSettings['scam']; break;
      case 'impersonation': s.impersonation = v as ModSettings['impersonation']; break;
      case 'modlog.chat':
        if (v === 'off') delete s.modLogChat;
        else s.modLogChat = v as string;
        break;
    }
  }
  return s;
}

/** Human-readable duration: 600000 -> `10m`, 5400000 -> `1h30m`. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, s] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= s) {
      parts.push(`${Math.floor(rest / s)}${unit}`);
      rest %= s;
    }
  }
  return parts.join('') || '0s';
}

/** One line per setting, as `/modset` shows them. */
export function describeSettings(s: ModSettings): string[] {
  return [
    `flood.messages ${s.flood.messages} · flood.seconds ${s.flood.seconds} · flood.mute ${formatDuration(s.flood.muteMs)}`,
    `raid.joins ${s.raid.joins} · raid.seconds ${s.raid.seconds} · raid.quiet ${formatDuration(s.raid.quietMs)}`,
    `warnings.max ${s.warnings.max} · warnings.mute ${formatDuration(s.warnings.muteMs)}`,
    `links.allow ${s.linkAllowlist.length ? s.linkAllowlist.join(',') : 'none (all links allowed)'}`,
    `scam ${s.scam} · impersonation ${s.impersonation} · modlog.chat ${s.modLogChat ?? 'off'}`,
  ];
}
