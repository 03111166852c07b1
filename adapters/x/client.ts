/** The real twitter-api-v2 client, pointed where the options say, reporting every response's rate-limit headers. */
import http from 'node:http';
import https from 'node:https';
import { TwitterApi, type ITwitterApiClientPlugin, type TwitterRateLimit } from 'twitter-api-v2';
import { hasUserContext, type XCredentials } from './options.js';

/** The host twitter-api-v2 builds its URLs on; requests to it are rewritten to `apiBaseUrl`. */
const X_API_HOSTS = new Set(['api.x.com', 'api.twitter.com', 'upload.x.com', 'upload.twitter.com', 'stream.x.com']);

/** What a response said about its endpoint's rate-limit window. */
export interface RateLimitObservation {
  /** 'GET /2/users/:id/mentions' style endpoint family. */
  endpoint: string;
  limit: number;
  remaining: number;
  /** Window reset, ms since the epoch. */
  resetAt: number;
}

/** The id-like path segments replaced by ':id' so one endpoint family shares one rate-limit record. */
const ID_AFTER = new Set(['users', 'tweets', 'likes', 'muting', 'blocking', 'with', 'username', 'retweets']);
const KEYWORDS = new Set(['me', 'search', 'by', 'recent', 'all', 'stream', 'rules', 'counts', 'sample']);

/** 'GET /2/users/:id/mentions' from a method and a path. */
export function endpointFamily(method: string, pathname: string): string {
  const segs = pathname.split('/').filter(Boolean);
  const out = segs.map((s, i) => (i > 0 && ID_AFTER.has(segs[i - 1]!) && !KEYWORDS.has(s) ? ':id' : s));
  return `${method.toUpperCase()} /${out.join('/')}`;
}

/** Builds the clients (user context, and app-only when a bearer token is given): base URL rewrite (with a plain http.Agent for http:), timeouts, observers. */
export function createXClient(opts: {
  credentials: XCredentials;
  apiBaseUrl?: string | undefined;
  requestTimeoutMs: number;
  onRateLimit: (obs: RateLimitObservation) => void;
}): { client: TwitterApi; appOnly: TwitterApi | undefined; agent: http.Agent } {
  const base = opts.apiBaseUrl ? new URL(opts.apiBaseUrl) : undefined;
  // https.request accepts an http: URL only when the agent speaks http; keep-alive saves a handshake per poll.
  const agent = base?.protocol === 'http:' ? new http.Agent({ keepAlive: true, maxSockets: 16 }) : new https.Agent({ keepAlive: true, maxSockets: 16 });

  const rewrite = (params: { url: string; timeout?: number }) => {
    if (params.timeout === undefined) params.timeout = opts.requestTimeoutMs;
    if (!base) return;
    const u = new URL(params.url.startsWith('http') ? params.url : `https://${params.url}`);
    if (!X_API_HOSTS.has(u.hostname)) return;
    u.protocol = base.protocol;
    u.host = base.host;
    if (base.pathname !== '/') u.pathname = base.pathname.replace(/\/$/, '') + u.pathname;
    params.url = u.toString();
  };

  const observe = (method: string, url: URL, rl: TwitterRateLimit | undefined) => {
    if (!rl || !Number.isFinite(rl.remaining) || !Number.isFinite(rl.reset)) return;
    const path = base && base.pathname !== '/' ? url.pathname.slice(base.pathname.replace(/\/$/, '').length) : url.pathname;
    opts.onRateLimit({ endpoint: endpointFamily(method, path), limit: rl.limit, remaining: rl.remaining, resetAt: rl.reset * 1000 });
  };

  const plugin: ITwitterApiClientPlugin = {
    onBeforeRequestConfig: ({ params }) => rewrite(params),
    onBeforeStreamRequestConfig: ({ params }) => rewrite(params),
    onAfterRequest: ({ computedParams, response }) => observe(computedParams.method, computedParams.url, response.rateLimit),
    onResponseError: ({ computedParams, error }) => observe(computedParams.method, computedParams.url, error.rateLimit),
  };
  const settings = { plugins: [plugin], httpAgent: agent };
  const c = opts.credentials;
  const client = hasUserContext(c)
    ? new TwitterApi({ appKey: c.appKey, appSecret: c.appSecret, accessToken: c.accessToken, accessSecret: c.accessSecret }, settings)
    : new TwitterApi(c.bearerToken, settings);
  // The filtered stream and its rules take app-only auth only.
  const appOnly = c.bearerToken ? new TwitterApi(c.bearerToken, settings) : undefined;
  return { client, appOnly, agent };
}
