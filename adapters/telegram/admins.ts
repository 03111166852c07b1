/**
 * Who administers each group, from getChatAdministrators, cached briefly in memory and in the adapter's store (so every process
 * shares one lookup per expiry), dropped when a chat_member update says rights changed. Also yields the bot's own rights.
 */
import type { Logger } from 'pino';
import type { AdapterStore } from '../../src/core/index.js';
import { TelegramError } from 'telegraf';

/** Rights the bot needs in a group for moderation, with the words an operator understands. */
const NEEDED_RIGHTS: [string, string][] = [
  ['can_delete_messages', 'delete messages'],
  ['can_restrict_members', 'ban users'],
  ['can_pin_messages', 'pin messages'],
];

/** What is cached per chat. */
interface Entry {
  ids: number[];
  /** The bot's own admin record, or null when the bot is not an administrator. */
  bot: Record<string, unknown> | null;
}

/** The minimal ChatMember shape the cache reads. */
export interface AdminRecord {
  status: string;
  user: { id: number };
}

/** What one chat's admin list says about the bot: undefined when all is well. */
export function botRightsProblem(chatKey: string, bot: Record<string, unknown> | null): string | undefined {
  if (!bot) return `${chatKey}: the bot is not an administrator there, so it cannot delete, ban, mute or pin, and gets no reaction updates`;
  if (bot.status === 'creator') return undefined;
  const missing = NEEDED_RIGHTS.filter(([k]) => bot[k] !== true).map(([, words]) => words);
  return missing.length ? `${chatKey}: the bot is an administrator without the right to ${missing.join(', ')}` : undefined;
}

/** The cache; `get` never throws (an unknown list means "nobody is admin" to the caller). */
export class AdminCache {
  private readonly mem = new Map<number, { admins: Set<number>; expires: number }>();
  private readonly inflight = new Map<number, Promise<ReadonlySet<number> | undefined>>();
  private readonly failedLogged = new Set<number>();

  constructor(
    private readonly opts: {
      fetch: (chatId: number) => Promise<AdminRecord[]>;
      /** The adapter's store; the list is kept under `key(chatId)` there. */
      store: AdapterStore;
      key: (chatId: number) => string;
      ttlMs: number;
      botId: number;
      log: Logger;
      /** Called whenever the bot's own rights in a chat are learned (problem text, or undefined when fine). */
      onBotRights: (chatId: number, bot: Record<string, unknown> | null) => void;
    },
  ) {}

  /** The cached admin ids of a chat, if fresh (no I/O). */
  peek(chatId: number): ReadonlySet<number> | undefined {
    const hit = this.mem.get(chatId);
    return hit && hit.expires > Date.now() ? hit.admins : undefined;
  }

  /** The admin ids of a chat: memory, then the store, then the API. Undefined when Telegram would not say. */
  async get(chatId: number): Promise<ReadonlySet<number> | undefined> {
    const fresh = this.peek(chatId);
    if (fresh) return fresh;
    let p = this.inflight.get(chatId);
    if (!p) {
      p = this.load(chatId).finally(() => this.inflight.delete(chatId));
      this.inflight.set(chatId, p);
    }
    return p;
  }

  /** Forgets a chat's list here and for every process. */
  async invalidate(chatId: number): Promise<void> {
    this.mem.delete(chatId);
    await this.opts.store.del(this.opts.key(chatId)).catch(() => undefined);
  }

  private remember(chatId: number, entry: Entry, ttlMs: number): Set<number> {
    const admins = new Set(entry.ids);
    this.mem.set(chatId, { admins, expires: Date.now() + ttlMs });
    return admins;
  }

  private async load(chatId: number): Promise<ReadonlySet<number> | undefined> {
    const key = this.opts.key(chatId);
    try {
      const [cached, ttl] = await Promise.all([this.opts.store.get(key), this.opts.store.pttl(key)]);
      if (cached) {
        const entry = JSON.parse(cached) as Entry;
        this.opts.onBotRights(chatId, entry.bot);
        return this.remember(chatId, entry, ttl > 0 ? Math.min(ttl, this.opts.ttlMs) : this.opts.ttlMs);
      }
    } catch {
      // Redis trouble: ask Telegram instead.
    }
    try {
      const list = await this.opts.fetch(chatId);
      const bot = list.find((m) => m.user.id === this.opts.botId);
      const entry: Entry = {
        ids: list.filter((m) => m.user.id !== this.opts.botId && (m.status === 'creator' || m.status === 'administrator')).map((m) => m.user.id),
        bot: bot ? ({ ...bot, user: undefined } as Record<string, unknown>) : null,
      };
      this.failedLogged.delete(chatId);
      this.opts.onBotRights(chatId, entry.bot);
      await this.opts.store.set(key, JSON.stringify(entry), 'PX', this.opts.ttlMs).catch(() => undefined);
      return this.remember(chatId, entry, this.opts.ttlMs);
    } catch (err) {
      if (!this.failedLogged.has(chatId)) {
        this.failedLogged.add(chatId);
        const why = err instanceof TelegramError ? `${err.code} ${err.description}` : (err as Error).message;
        this.opts.log.warn({ chat: chatId, why }, 'telegram: cannot read the administrators of a chat; treating nobody as admin for now');
      }
      if (err instanceof TelegramError && err.code === 403) this.opts.onBotRights(chatId, null);
      // Ask again soon, not on every message.
      const retry = err instanceof TelegramError && err.code === 429 ? (err.parameters?.retry_after ?? 5) * 1000 : this.opts.ttlMs / 4;
      this.mem.set(chatId, { admins: new Set(), expires: Date.now() + retry });
      return undefined;
    }
  }
}
