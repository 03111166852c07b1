/**
 * Who a Slack user is, as users.info says: display name, handle, whether they are a workspace admin or owner (a
 * moderator for Townhall), their language. Cached in the process for a few minutes (a cache only: losing it costs a
 * lookup); a lookup that fails or would exceed users.info's budget leaves the event with the bare id, never waits.
 */
import type { SlackApi } from './api.js';

/** A Slack user as the normalizer needs them. */
export interface SlackPerson {
  name: string;
  /** The @handle (`name` in users.info), what people type after @. */
  handle?: string;
  isAdmin: boolean;
  isBot: boolean;
  /** Two-letter language of their Slack locale. */
  lang?: string;
}

interface UsersInfo {
  user?: {
    name?: string;
    real_name?: string;
    is_admin?: boolean;
    is_owner?: boolean;
    is_primary_owner?: boolean;
    is_bot?: boolean;
    locale?: string;
    profile?: { display_name?: string; real_name?: string };
  };
}

/** The cache of users.info answers. */
export class People {
  private readonly known = new Map<string, { person: SlackPerson; at: number }>();
  private readonly asking = new Map<string, Promise<SlackPerson | undefined>>();

  constructor(
    private readonly api: SlackApi,
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 20_000,
  ) {}

  /** The person, when known now (no call). */
  peek(id: string): SlackPerson | undefined {
    const hit = this.known.get(id);
    return hit && Date.now() - hit.at < this.ttlMs ? hit.person : undefined;
  }

  /** The person, from the cache or one users.info call (shared by concurrent askers); undefined when Slack did not say. */
  get(id: string): Promise<SlackPerson | undefined> {
    const hit = this.peek(id);
    if (hit) return Promise.resolve(hit);
    let p = this.asking.get(id);
    if (!p) {
      p = this.lookup(id).finally(() => this.asking.delete(id));
      this.asking.set(id, p);
    }
    return p;
  }

  /** Forgets what is known about a person (their admin rights may have changed). */
  forget(id: string): void {
    this.known.delete(id);
  }

  private async lookup(id: string): Promise<SlackPerson | undefined> {
    try {
      const r = await this.api.call<UsersInfo>('users.info', { user: id, include_locale: true }, { what: 'who wrote' });
      const u = r.user;
      if (!u) return undefined;
      const name = u.profile?.display_name || u.profile?.real_name || u.real_name || u.name || id;
      const lang = u.locale ? u.locale.slice(0, 2).toLowerCase() : undefined;
      const person: SlackPerson = { name, isAdmin: Boolean(u.is_admin || u.is_owner || u.is_primary_owner), isBot: Boolean(u.is_bot), ...(u.name ? { handle: u.name } : {}), ...(lang ? { lang } : {}) };
      if (this.known.size >= this.max) this.known.delete(this.known.keys().next().value!);
      this.known.set(id, { person, at: Date.now() });
      return person;
    } catch {
      return undefined;
    }
  }
}
