/**
 * Moderation: the protection hook that runs before everything else (flood, raids/quiet mode, impersonation, scams,
 * filters incl. edits, slow mode) and the moderator commands of contract §5, with an audit log in Redis.
 *
 *   const mod = createModeration(deps);
 *   registry.register(...mod.commands);
 *   createHandleEvent(deps, [mod.feature, registry.feature(), ...others]);
 */
import type { CommandSpec } from '../../commands/router.js';
import type { CoreDeps } from '../../pipeline/context.js';
import type { Feature } from '../../pipeline/handle-event.js';
import { moderationCommands } from './commands.js';
import { createProtection } from './hook.js';
import { modKeys } from './keys.js';
import { PolicyCache } from './policy.js';
import { defaultSettings } from './settings.js';

/** The moderation feature (put it first) and its commands (register them with the router). */
export function createModeration(deps: CoreDeps): { feature: Feature; commands: CommandSpec[] } {
  const mk = modKeys(deps.keys);
  const cache = new PolicyCache(deps.redis, mk, defaultSettings(deps.config));
  return { feature: createProtection({ cache, mk, now: deps.now }), commands: moderationCommands({ mk, cache }) };
}

export { describeTally, MAX_PURGE } from './commands.js';
export { AUTOMATIC } from './effects.js';
export { modKeys, dayOf } from './keys.js';
export { listAudit, reverseEntry, reversalOf, type ListedEntry, type ReverseResult } from './reverse.js';
export { checkPatternStatic, validatePattern, PatternSet } from './safe-regex.js';
export { detectScam, type ScamHit, type ScamKind } from './scam.js';
export { findImpersonation, protectedNames } from './impersonation.js';
export { foldText, skeleton, safeEcho, stripInvisible } from './unicode.js';
export { defaultSettings, resolveSettings, type ModSettings } from './settings.js';
