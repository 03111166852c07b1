/** Impersonation: a display name or username that reads like an admin's (or the bot's) once confusables are folded. */
import { BOT_USERNAME } from '../../commands/parser.js';
import { editDistanceAtMostOne } from './scam.js';
import { hasMixedScriptWord, safeEcho, skeleton, stripInvisible } from './unicode.js';

/** An admin or moderator as the chat's directory remembers them. */
export interface AdminInfo {
  id: string;
  name: string;
  username?: string;
}

/** A name that others must not imitate, folded once when the chat's policy is loaded. */
export interface ProtectedName {
  /** Whose name it is ('bot' for Townhall itself). */
  owner: string;
  skel: string;
  label: string;
}

/** The bot's own names: a "Townhall Support" account is as much a lure as a fake admin. */
export const BOT_NAMES = [BOT_USERNAME, 'Townhall', 'Townhall Bot'];

/** Folds the names of admins (and the bot) for matching; names that fold to fewer than 2 characters protect nothing. */
export function protectedNames(admins: Iterable<AdminInfo>): ProtectedName[] {
  const out: ProtectedName[] = [];
  const add = (owner: string, raw: string | undefined) => {
    if (!raw) return;
    const skel = skeleton(raw);
    if (skel.length >= 2 && !out.some((p) => p.owner === owner && p.skel === skel)) out.push({ owner, skel, label: safeEcho(raw, 64) });
  };
  for (const a of admins) {
    add(a.id, a.name);
    add(a.id, a.username);
  }
  for (const n of BOT_NAMES) add('bot', n);
  return out;
}

/** A name judged to imitate a protected one. */
export interface ImpersonationHit {
  /** Whose name is imitated. */
  owner: string;
  /** The imitated name, safe to echo. */
  imitates: string;
  /** What gave it away, for the log: same skeleton, invisible characters, mixed scripts, contains the name. */
  reason: string;
  /** The imitating name's skeleton (flags are remembered per user and skeleton). */
  skel: string;
}

const skeletonMemo = new Map<string, string>();
function memoSkeleton(s: string): string {
  let v = skeletonMemo.get(s);
  if (v === undefined) {
    v = skeleton(s);
    if (skeletonMemo.size > 50_000) skeletonMemo.clear();
    skeletonMemo.set(s, v);
  }
  return v;
}

/**
 * Whether `user` (who is not the owner) carries a protected name: the same skeleton (`Ꮯhangpeng Zhao` for
 * `Changpeng Zhao`, `C\u200BZ` for `CZ`), a name of 5+ characters inside theirs (`Changpeng Zhao | Support`), or one
 * letter off a name of 8+ (`cz_blnance`).
 */
export function findImpersonation(user: { id: string; name: string; username?: string | undefined }, names: readonly ProtectedName[]): ImpersonationHit | null {
  for (const raw of [user.name, user.username]) {
    if (!raw) continue;
    const skel = memoSkeleton(raw);
    if (skel.length < 2) continue;
    for (const p of names) {
      if (p.owner === user.id) continue;
      const same = skel === p.skel;
      const contains = !same && p.skel.length >= 5 && skel.includes(p.skel);
      const typo = !same && !contains && p.skel.length >= 8 && editDistanceAtMostOne(skel, p.skel);
      if (!same && !contains && !typo) continue;
      const tells: string[] = [same ? 'same letters after folding look-alikes' : contains ? `contains the name "${p.label}"` : 'one letter off'];
      if (stripInvisible(raw) !== raw) tells.push('invisible characters');
      if (hasMixedScriptWord(raw)) tells.push('mixed scripts');
      return { owner: p.owner, imitates: p.label, skel, reason: `"${safeEcho(raw, 64)}" imitates ${p.owner === 'bot' ? 'the bot' : 'admin'} "${p.label}": ${tells.join(', ')}` };
    }
  }
  return null;
}
