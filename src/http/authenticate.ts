/**
 * Turns what a request carries into a Principal: the admin token, an API token, a one-time sign-in code (at /login
 * only) or a session cookie. Every bearer token and sign-in goes through the credential limiter before anything is
 * compared; every grant is re-checked (standing.ts) on every use.
 *
 *   const auth = new Authenticator(deps, { adminToken, standingMaxAgeMs });
 *   await auth.init();                                // records the admin token's generation
 *   const r = await auth.bearer(req.ip, token);       // {ok, principal} | {ok: false, status: 401|429}
 */
import type { CoreDeps } from '../pipeline/context.js';
import { MAX_CREDENTIAL_CHARS, newGrant, readSession, readToken, redeemSignInCode, safeEqual, syncGeneration, type Grant, type Principal, type Session } from './auth.js';
import { CredentialLimiter, type CredentialLimits } from './limiter.js';
import { StandingCheck } from './standing.js';

/** How the Authenticator is set up. */
export interface AuthOptions {
  /** TOWNHALL_ADMIN_TOKEN. */
  adminToken?: string | undefined;
  /** How long the adapters' last "is an admin" stays good for a moderator grant (http.standingMaxAge). */
  standingMaxAgeMs: number;
  limits?: CredentialLimits;
}

/** Which kind of credential it was. */
export type CredentialKind = 'admin' | 'code' | 'token';

/** A credential's outcome. `ttlMs` is how much longer the credential itself lives (null: the admin token). */
export type CredentialResult =
  | { ok: true; via: CredentialKind; principal: Principal; grant: Grant; ttlMs: number | null }
  | { ok: false; status: 401 | 429; error: string; retryAfterS?: number };

const UNAUTHORIZED = { ok: false, status: 401, error: 'unauthorized: send Authorization: Bearer <token>' } as const;

/** Checks credentials for the HTTP server and the dashboard. */
export class Authenticator {
  readonly limiter: CredentialLimiter;
  readonly standing: StandingCheck;
  private ready?: Promise<string>;

  constructor(
    private readonly deps: CoreDeps,
    private readonly opts: AuthOptions,
  ) {
    this.limiter = new CredentialLimiter(deps.redis, deps.keys, opts.limits);
    this.standing = new StandingCheck(deps, opts.standingMaxAgeMs);
  }

  /** Records the admin token's fingerprint; a changed token starts a new generation, which ends every earlier grant. */
  init(): Promise<string> {
    this.ready ??= syncGeneration(this.deps.redis, this.deps.keys, this.opts.adminToken);
    return this.ready;
  }

  /** True when `token` is the admin token (constant time). Call only after the limiter admitted the source. */
  private isAdmin(token: string): boolean {
    return Boolean(this.opts.adminToken) && safeEqual(token, this.opts.adminToken!);
  }

  /** A bearer token: the admin token or an API token. */
  bearer(source: string, token: string | undefined): Promise<CredentialResult> {
    return this.check(source, token, async (t) => withKind('token', await readToken(this.deps.redis, this.deps.keys, t)));
  }

  /** What /login takes: the admin token, a one-time sign-in code (used up by this), or an API token. */
  signIn(source: string, token: string | undefined): Promise<CredentialResult> {
    return this.check(source, token, async (t) => withKind('code', await redeemSignInCode(this.deps.redis, this.deps.keys, t)) ?? withKind('token', await readToken(this.deps.redis, this.deps.keys, t)));
  }

  /** The session a cookie names, with its grant re-checked; null when there is none or it no longer stands. */
  async session(id: string | undefined): Promise<{ session: Session; principal: Principal } | null> {
    // Session ids are 256 random bits: not guessable, so looking one up is not rate-limited (the dashboard makes many calls).
    const session = await readSession(this.deps.redis, this.deps.keys, id);
    if (!session) return null;
    await this.init();
    const principal = await this.standing.principal(session.grant);
    return principal ? { session, principal } : null;
  }

  /** The grant the admin token gives a session. */
  async adminGrant(): Promise<Grant> {
    await this.init();
    return newGrant(this.deps.redis, this.deps.keys, { subject: 'admin', role: 'admin', chats: [], basis: 'operator' }, this.deps.now());
  }

  private async check(source: string, token: string | undefined, lookup: (t: string) => Promise<Found | null>): Promise<CredentialResult> {
    if (!token || token.length > MAX_CREDENTIAL_CHARS) return UNAUTHORIZED;
    await this.init();
    const local = await this.limiter.admitSource(source);
    if (!local.ok) return { ok: false, status: 429, error: 'too many failed credential checks from this address; wait and try again', retryAfterS: local.retryAfterS };
    if (this.isAdmin(token)) {
      await this.limiter.succeeded(source, false);
      return { ok: true, via: 'admin', principal: { subject: 'admin', role: 'admin', admin: true, chats: [], amas: [] }, grant: await this.adminGrant(), ttlMs: null };
    }
    const all = await this.limiter.admitGlobal();
    if (!all.ok) return { ok: false, status: 429, error: 'too many failed credential checks; wait and try again', retryAfterS: all.retryAfterS };
    const found = await lookup(token);
    const principal = found ? await this.standing.principal(found.grant) : null;
    if (!found || !principal) return UNAUTHORIZED;
    await this.limiter.succeeded(source, true);
    return { ok: true, via: found.via, principal, grant: found.grant, ttlMs: found.ttlMs };
  }
}

/** A stored credential found by a lookup. */
type Found = { via: CredentialKind; grant: Grant; ttlMs: number };

function withKind(via: CredentialKind, f: { grant: Grant; ttlMs: number } | null): Found | null {
  return f ? { via, ...f } : null;
}
