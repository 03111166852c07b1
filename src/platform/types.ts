/** What a platform entry in the registry says: who it is, how its ids look, how long a message may be, what it can do. */

/** A moderation step a platform's API lets a bot take in a group. */
export type ModerationVerb = 'delete' | 'ban' | 'mute' | 'slowmode';

/** What a platform lets the bot do. The core asks these, never which platform it is. */
export interface Capabilities {
  /** What a thread is: one opened on a message (Discord), a forum topic of the group (Telegram), a chain of replies under a first post (X). */
  readonly threads: 'on-message' | 'topics' | 'replies';
  /** Pinning a message: a group without its own thread keeps its AMA answers in one pinned message, edited as they come. */
  readonly pins: boolean;
  /** A reaction (👍) on a question card counts as a vote. */
  readonly reactionVotes: boolean;
  /** Buttons under a message (the ▲ upvote on a question card). */
  readonly buttons: boolean;
  /** Deleting many messages in one call (`/purge`). */
  readonly bulkDelete: boolean;
  /** Slow mode: set through the API, enforced by the bot deleting a member's message sent too soon, or not at all. */
  readonly slowMode: 'api' | 'enforced' | 'none';
  /** Private messages to a user (`/catchup` answers there). */
  readonly dms: boolean;
  /** The moderation verbs the platform gives a bot; without `delete` moderation only keeps spam out of the AMA and digests. */
  readonly moderation: readonly ModerationVerb[];
  /** The bot sees only what is addressed to it (X mentions): a question there is for the AMA, a command is a mention with the command word. */
  readonly addressedOnly: boolean;
  /** The platform can be searched for a hashtag: a live AMA's hashtag is followed there. */
  readonly hashtagSearch: boolean;
}

/** One platform: the registry's entry. Everything that lists platforms (id patterns, limits, names, colours) reads these. */
export interface PlatformDescriptor {
  /** The prefix of every id on the platform (contract §3): `telegram` in `telegram:-100123`. */
  readonly id: string;
  /** Its name for people: "Telegram". */
  readonly name: string;
  /** A badge label of two or three letters: "TG". */
  readonly short: string;
  /** The dashboard's colour for it, on a light and on a dark background. */
  readonly colour: { readonly light: string; readonly dark: string };
  /**
   * Native id patterns (regular expression sources without capturing groups): a chat, an optional thread or topic
   * inside it, a user. A prefixed chat id is `<id>:<chat>[:<thread>]`, a user id `<id>:user:<user>`.
   */
  readonly ids: { readonly chat: string; readonly thread: string | null; readonly user: string };
  /** A mention of a person in a command's arguments, in the platform's own syntax (`<@123>`); group 1 is the user id. */
  readonly mention: RegExp | null;
  readonly text: {
    /** Longest message; Infinity when the adapter itself splits a long text (an X reply thread). */
    readonly maxChars: number;
    /** Longest digest the bot posts in one go (on X a digest is a reply thread: a few posts, not dozens). */
    readonly digestChars: number;
    /** Prefer short texts (compact recaps): the platform's readers see one short post at a time. */
    readonly compact: boolean;
  };
  /** Longest mute the platform allows (Discord caps timeouts at 28 days); null when it has no cap. */
  readonly maxMuteMs: number | null;
  readonly capabilities: Capabilities;
  /**
   * What a moderation verb means on the platform, or why it is missing, in a few words the bot adds to its one-line
   * answer ("Muting is not available on Slack: Slack gives apps no way to mute…").
   */
  readonly moderationNotes?: Readonly<Partial<Record<ModerationVerb, string>>>;
}
