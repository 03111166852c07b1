/**
 * A chat's moderation policy (settings, filters, admin names) cached in process and checked against a version key
 * that every change bumps. Each event reads the version in the pipeline it needs anyway, so another process's change
 * applies from the next event on, with no extra round trip while nothing changes.
 */
import type { Redis } from 'ioredis';
import { compileFilters, type CompiledFilters } from './filters.js';
import { protectedNames, type AdminInfo, type ProtectedName } from './impersonation.js';
import type { ModKeys } from './keys.js';
import { resolveSettings, type ModSettings } from './settings.js';

/** Everything the hot path needs to know about one chat. */
export interface ChatPolicy {
  /** The version key's value when this was loaded (null: never changed). */
  version: string | null;
  settings: ModSettings;
  /** Slow mode in seconds (0 = off), enforced by the hook where the platform has none for bots. */
  slowmodeSeconds: number;
  filters: CompiledFilters;
  filterCount: number;
  admins: Map<string, AdminInfo>;
  protected: ProtectedName[];
}

/** The per-process cache of chat policies (bounded; least recently loaded go first). */
export class PolicyCache {
  private readonly byGroup = new Map<string, ChatPolicy>();

  constructor(
    private readonly redis: Redis,
    private readonly mk: ModKeys,
    private readonly defaults: ModSettings,
    private readonly max = 20_000,
  ) {}

  /** The cached policy, or a fresh load when there is none. */
  async get(group: string): Promise<ChatPolicy> {
    return this.byGroup.get(group) ?? this.load(group);
  }

  /** The cached policy when its version is `version`, else a fresh load. */
  async current(group: string, version: string | null, cached: ChatPolicy): Promise<ChatPolicy> {
    return cached.version === version ? cached : this.load(group);
  }

  /** Loads a chat's policy from Redis in one transaction (so version and contents agree). */
  async load(group: string): Promise<ChatPolicy> {
    const res = await this.redis
      .multi()
      .get(this.mk.version(group))
      .hgetall(this.mk.settings(group))
      .hgetall(this.mk.filters(group))
      .hgetall(this.mk.admins(group))
      .exec();
    if (!res) throw new Error('policy load: transaction aborted');
    for (const [err] of res) if (err) throw err;
    const version = res[0]![1] as string | null;
    const overrides = res[1]![1] as Record<string, string>;
    const rawFilters = res[2]![1] as Record<string, string>;
    const admins = new Map<string, AdminInfo>();
    for (const [id, json] of Object.entries(res[3]![1] as Record<string, string>)) {
      try {
        const a = JSON.parse(json) as { name?: string; username?: string };
        admins.set(id, { id, name: a.name ?? '', ...(a.username ? { username: a.username } : {}) });
      } catch {
        // A hand-edited or corrupt entry protects nothing; it is rewritten the next time that admin speaks.
      }
    }
    const slow = Number(overrides.slowmode ?? 0);
    const policy: ChatPolicy = {
      version,
      settings: resolveSettings(this.defaults, overrides),
      slowmodeSeconds: Number.isInteger(slow) && slow > 0 ? Math.min(slow, 21_600) : 0,
      filters: compileFilters(rawFilters),
      filterCount: Object.keys(rawFilters).length,
      admins,
      protected: protectedNames(admins.values()),
    };
    this.byGroup.delete(group);
    this.byGroup.set(group, policy);
    if (this.byGroup.size > this.max) this.byGroup.delete(this.byGroup.keys().next().value!);
    return policy;
  }

  /** Drops a chat's cached policy (after this process changed it; other processes notice the version). */
  forget(group: string): void {
    this.byGroup.delete(group);
  }
}
