/**
 * The platform registry: one entry per platform (`telegram.ts`, `discord.ts`, `x.ts`, `slack.ts`), and everything derived from
 * it — the list of platforms and its type, the id patterns, the text limits, the capabilities, the dashboard's names
 * and colours. Adding a platform is one file here and one line in REGISTRY; nothing else in src/ names a platform.
 */
import { discord } from './discord.js';
import { telegram } from './telegram.js';
import { slack } from './slack.js';
import type { Capabilities, PlatformDescriptor } from './types.js';
import { x } from './x.js';

export type { Capabilities, ModerationVerb, PlatformDescriptor } from './types.js';

/** Every platform Townhall speaks to, in the order they are listed to people. */
export const REGISTRY = [telegram, discord, x, slack] as const satisfies readonly PlatformDescriptor[];

/** One of the platforms' ids. */
export type Platform = (typeof REGISTRY)[number]['id'];

/** The platforms' ids. */
export const PLATFORMS = REGISTRY.map((p) => p.id) as [Platform, ...Platform[]];

const BY_ID = new Map<string, PlatformDescriptor>(REGISTRY.map((p) => [p.id, p]));

/** True when `id` names a registered platform. */
export function isPlatform(id: string): id is Platform {
  return BY_ID.has(id);
}

/** The registry entry of a platform. */
export function platformInfo(p: Platform): PlatformDescriptor {
  return BY_ID.get(p)!;
}

/** What a platform lets the bot do. */
export function capabilitiesOf(p: Platform): Capabilities {
  return platformInfo(p).capabilities;
}

/** A table with one value per platform, computed from each entry (`{telegram: 4096, discord: 2000, …}`). */
export function perPlatform<T>(f: (p: PlatformDescriptor) => T): Record<Platform, T> {
  return Object.fromEntries(REGISTRY.map((p) => [p.id, f(p)])) as Record<Platform, T>;
}

/** `<platform>:<chat>[:<thread>]` of one platform, as a regular expression source; `groups` captures chat and thread. */
function chatSource(p: PlatformDescriptor, groups: boolean): string {
  const g = groups ? '(' : '(?:';
  return `${p.id}:${g}${p.ids.chat})${p.ids.thread ? `(?::${g}${p.ids.thread}))?` : ''}`;
}

/** Any platform's prefixed chat id, anchored (a JSON-schema `pattern` or a `RegExp` source). */
export const CHAT_ID_PATTERN = `^(?:${REGISTRY.map((p) => chatSource(p, false)).join('|')})$`;
/** Any platform's prefixed user id, anchored. */
export const USER_ID_PATTERN = `^(?:${REGISTRY.map((p) => `${p.id}:user:(?:${p.ids.user})`).join('|')})$`;
/** Any platform's `<platform>:` prefix, anchored at the start (the platform in group 1). */
export const PLATFORM_PREFIX_PATTERN = `^(${REGISTRY.map((p) => p.id).join('|')}):`;

const CHAT_RE = new RegExp(CHAT_ID_PATTERN);
const USER_RE = new RegExp(USER_ID_PATTERN);
const CHAT_PARTS = new Map(REGISTRY.map((p) => [p.id, new RegExp(`^${chatSource(p, true)}$`)]));

/** True for a prefixed chat id of any platform (`telegram:-100123`, `discord:1:2`). */
export function isChatId(id: string): boolean {
  return CHAT_RE.test(id);
}

/** True for a prefixed user id of any platform (`x:user:42`). */
export function isUserId(id: string): boolean {
  return USER_RE.test(id);
}

/** Splits a prefixed chat id by its platform's pattern into chat and thread; null when it is not one. */
export function matchChatId(id: string): { platform: Platform; chatId: string; threadId?: string } | null {
  const platform = id.slice(0, id.indexOf(':'));
  const m = isPlatform(platform) ? CHAT_PARTS.get(platform)!.exec(id) : null;
  if (!m) return null;
  return m[2] ? { platform: platform as Platform, chatId: m[1]!, threadId: m[2] } : { platform: platform as Platform, chatId: m[1]! };
}

/** A person named in a command's arguments in a platform's own mention syntax (`<@123>`), as a prefixed user id. */
export function nativeMention(arg: string): string | null {
  for (const p of REGISTRY) {
    const m = (p.mention as RegExp | null)?.exec(arg);
    if (m?.[1]) return `${p.id}:user:${m[1]}`;
  }
  return null;
}

/**
 * What the dashboard and API clients learn about the platforms (GET /api/platforms): no functions; the chat id pattern
 * as a regular expression source whose groups 1 and 2 are the chat and the thread (a client finds a chat's group).
 */
export function platformsForClients(): { id: Platform; name: string; short: string; colour: { light: string; dark: string }; chatPattern: string; maxChars: number | null; capabilities: Capabilities }[] {
  return REGISTRY.map((p) => ({
    id: p.id,
    name: p.name,
    short: p.short,
    colour: p.colour,
    chatPattern: `^${chatSource(p, true)}$`,
    maxChars: Number.isFinite(p.text.maxChars) ? p.text.maxChars : null,
    capabilities: p.capabilities,
  }));
}

/** The platforms' names for a sentence: "Telegram, Discord and X". */
export function platformNames(): string {
  const names = REGISTRY.map((p) => p.name);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names.join('');
}
