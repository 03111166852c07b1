/** Every Redis key moderation uses, in one place (all under the deployment's hash-tagged prefix). */
import type { Keys } from '../../redis/keys.js';

/** Moderation's keys for one deployment. */
export function modKeys(keys: Keys) {
  return {
    /** Bumped with every change of a chat's settings, filters or admin list: processes reload their cached policy. */
    version: (group: string) => keys.k('mod', 'ver', group),
    /** Per-chat setting overrides (hash field -> string value). */
    settings: (group: string) => keys.k('mod', 'settings', group),
    /** Filters (hash id -> JSON). */
    filters: (group: string) => keys.k('mod', 'filters', group),
    /** Admins and moderators seen in the chat (hash user id -> JSON {name, username}), for impersonation checks. */
    admins: (group: string) => keys.k('mod', 'admins', group),
    /** Moderator roles given in this community (the router reads the same hash). */
    roles: (group: string) => keys.k('roles', group),
    /** Quiet mode: present while on (JSON {by, until, reason}), expires by itself. */
    quiet: (group: string) => keys.k('mod', 'quiet', group),
    /** Flood counter of one user in one time bucket. */
    flood: (group: string, user: string, bucket: number) => keys.k('mod', 'flood', group, user, bucket),
    /** Set while a user's flood has been acted on, so the mute and the notice happen once. */
    flooded: (group: string, user: string) => keys.k('mod', 'flooded', group, user),
    /** Set while a user must wait before their next message in a chat in slow mode (emulated where bots have no slow mode). */
    slow: (chat: string, user: string) => keys.k('mod', 'slow', chat, user),
    /** A user's newest message ids (to delete the whole flood, not just what came after the limit). */
    recent: (group: string, user: string) => keys.k('mod', 'recent', group, user),
    /** Recent joins (zset user -> time), the raid detector's sliding window. */
    joins: (group: string) => keys.k('mod', 'joins', group),
    /** Chats a text was pasted into by one account (set of groups). */
    paste: (user: string, digest: string) => keys.k('mod', 'paste', user, digest),
    /** A user's warnings (set of the event ids that warned them, so a redelivered event warns once). */
    warns: (group: string, user: string) => keys.k('mod', 'warns', group, user),
    /** At most one public notice of a kind per chat per minute. */
    notice: (group: string, kind: string) => keys.k('mod', 'notice', group, kind),
    /** Lines posted to a mod-log chat in one minute. */
    logRate: (chat: string, minute: number) => keys.k('mod', 'lograte', chat, minute),
    /** Today's public tally (hash category -> count). */
    hidden: (group: string, day: string) => keys.k('mod', 'hidden', group, day),
    /** Username -> prefixed user id, per platform (usernames are platform-wide). */
    username: (platform: string, username: string) => keys.k('mod', 'uname', platform, username.toLowerCase()),
    /** Prefixed user id -> JSON {name, username, bot}. */
    who: (user: string) => keys.k('mod', 'who', user),
    /** An impersonation already flagged (user + the name's skeleton), so it is logged once a day, not per message. */
    flagged: (group: string, user: string, digest: string) => keys.k('mod', 'flagged', group, user, digest),
    /** Audit entries already reversed (set of entry digests: one entry sits in two streams under two ids). */
    reversed: () => keys.k('mod', 'reversed'),
  };
}

/** The object modKeys returns. */
export type ModKeys = ReturnType<typeof modKeys>;

/** The UTC day of a timestamp, `2026-11-26`: the public tally's bucket. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
