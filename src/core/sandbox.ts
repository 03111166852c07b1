/** What every platform fake (fakes/<platform>) offers `townhall sandbox` (contract §7) and the tests. */
import type { Platform } from './ids.js';

/** A user of a fake platform (native ids, no prefix). */
export interface SandboxUser {
  id: string;
  name: string;
  admin?: boolean;
}

/** A message injected as if a person wrote it. */
export interface SandboxMessageInput {
  chat: string;
  user: SandboxUser;
  text: string;
  replyTo?: string;
  thread?: string;
}

/** One call the bot made on the fake platform, as contract §7 lists it. */
export interface OutboxEntry {
  type: 'send' | 'edit' | 'delete' | 'pin' | 'ban' | 'unban' | 'mute' | 'unmute' | 'thread' | 'react';
  chat: string;
  thread?: string;
  replyTo?: string;
  messageId?: string;
  text?: string;
  user?: string;
  until?: number;
  at: number;
}

/** The sandbox-facing surface of a fake platform server. */
export interface SandboxPlatform {
  /** Where the real client library should point (API root / base URL). */
  readonly url: string;
  /** The credentials the fake accepts, by environment variable name (`TELEGRAM_BOT_TOKEN`…). */
  readonly credentials: Readonly<Record<string, string>>;
  /** Whether a user administers a chat, for platforms whose API cannot tell the bot (X). Native ids. */
  isAdmin?(userId: string, chat?: string): boolean;
  /** A message from a person; returns the native message id. */
  injectMessage(input: SandboxMessageInput): Promise<{ id: string }>;
  /** A reaction by a person on a message. */
  injectReaction(input: { chat: string; message: string; user: SandboxUser | string; emoji: string }): Promise<void>;
  /** A person joins a chat. */
  injectJoin(input: { chat: string; user: SandboxUser }): Promise<void>;
  /** Every call the bot made, in order; only that chat's when `chat` is given. */
  outbox(chat?: string): OutboxEntry[];
  /** Stops the server. */
  close(): Promise<void>;
}

/** Starts one platform's fake as `townhall sandbox` runs it. */
export type FakeFactory = () => Promise<SandboxPlatform>;

/** Every registered platform's fake (fakes/index.ts). */
export type FakeRegistry = { readonly [P in Platform]: FakeFactory };
