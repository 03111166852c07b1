/**
 * Shared types for reply-link disentanglement ("threads").
 * The message shape is deliberately minimal so every platform adapter (Telegram, Discord, X, IRC)
 * can fill it without knowing anything about the model.
 */

/** A chat message as any platform adapter can provide it. */
export interface ChatMessage {
  id: string;
  /** Nick / display name of the author; matched case-insensitively against addressing in text. */
  user: string;
  text: string;
  /** Unix time in milliseconds. */
  at: number;
  /** Platform-native reply (Telegram reply_to, Discord reference): a certain link. */
  replyTo?: string;
  /** Platform-native mentions (display names or handles), in addition to those found in `text`. */
  mentions?: string[];
  /** Join/leave/rename and other service lines: never a real utterance. */
  system?: boolean;
}

/** Compact, pre-tokenised form of a message; compute once with `prepare` and keep it in the window. */
export interface PreparedMessage {
  readonly id: string;
  readonly user: string;
  /** Hash of the lower-cased nick. */
  readonly userKey: number;
  /** Hash of the nick without leading/trailing punctuation (`|trey|` is addressed as `trey`). */
  readonly coreKey: number;
  readonly at: number;
  readonly system: boolean;
  readonly replyTo: string | undefined;
  /** Sorted unique hashes of content words. */
  readonly words: Int32Array;
  /** IDF weight of each entry of `words` (same order). */
  readonly wordIdf: Float32Array;
  /** Sum of `wordIdf`. */
  readonly idfMass: number;
  /** Hashes of every nick-like form of every token (for addressing), first token's forms first. */
  readonly nickKeys: Int32Array;
  /** How many leading entries of `nickKeys` come from the first token (addressing at start). */
  readonly firstNickCount: number;
  /** Bit set of cheap surface flags (see FLAG_* in text.ts). */
  readonly flags: number;
  readonly nTokens: number;
  /**
   * The link recorded for this message once it was linked (null = started a conversation,
   * undefined = unknown). Set it from `linkMessage`'s result when you keep the message in a window;
   * declared up front so the object's shape never changes (keeps the scorer's property access fast).
   */
  parent: string | null | undefined;
}

/** What the linker decided for one message. */
export interface LinkResult {
  /** Id of the message this one replies to, or null when it starts a new conversation. */
  parent: string | null;
  /** Softmax probability of the chosen option (1 for an explicit reply). */
  score: number;
}

/** Fitted parameters, as stored in weights.json. */
export interface ThreadWeights {
  version: number;
  /** Feature names, in input order; checked against the code so stale weights fail loudly. */
  features: string[];
  /** Stage 1: linear scores over every candidate pick the top-K for the network. */
  lin: number[];
  /** How many non-self candidates stage 1 hands to stage 2. */
  topK: number;
  /** Stage 2: one hidden layer (ReLU) plus a linear skip connection. */
  hidden: number;
  /** hidden x features, row-major. */
  w1: number[];
  b1: number[];
  /** Output weights of the hidden units. */
  w2: number[];
  skip: number[];
  /** Base64 of a Uint8Array(1 << IDF_BITS): quantised IDF per hashed word bucket (value / 16). */
  idf: string;
  meta?: Record<string, unknown>;
}
