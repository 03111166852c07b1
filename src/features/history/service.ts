/** Digests and threads of a chat window, for /summary, /catchup, scheduled digests and the API. */
import type { Redis } from 'ioredis';
import type { Platform } from '../../core/ids.js';
import { platformOf } from '../../core/ids.js';
import type { Keys } from '../../redis/keys.js';
import { buildDigest, renderDigest, type Digest, type StoredMessage } from '../digest/digest.js';
import type { CoreDeps } from '../../pipeline/context.js';
import { overviewProvider, type SummaryProvider } from '../digest/llm.js';
import { assignThreads, groupThreads } from './threads.js';
import { readHistory, trimByAge } from './store.js';
import { perPlatform } from '../../platform/index.js';

/** The longest digest a platform gets in one go (the registry's). */
export const PLATFORM_MAX_CHARS: Record<Platform, number> = perPlatform((p) => p.text.digestChars);

/** Messages an overview is written from at most (the newest): bounds the model's work on a very busy window. */
export const OVERVIEW_MAX_LINES = 1500;
/** Fewer messages than this get no overview: the digest's own lines already say it all. */
export const OVERVIEW_MIN_MESSAGES = 8;

/** The model that writes digest overviews (`digest.llm`, key from LLM_API_KEY), its failures logged; none when unset. */
export function digestOverview(deps: Pick<CoreDeps, 'config' | 'log'>, apiKey: string | undefined): SummaryProvider | undefined {
  return overviewProvider(deps.config.digest.llm, apiKey, (reason) => deps.log.warn({ reason }, 'digest overview: the model failed, digest sent without it'));
}

/** The digest of a chat over [from, to); with `overview`, headed by the model's few sentences on the whole window. */
export async function chatDigest(
  redis: Redis,
  keys: Keys,
  chat: string,
  from: number,
  to: number,
  opts: { maxAgeMs?: number; threadWindow?: number; overview?: SummaryProvider | undefined } = {},
): Promise<{ digest: Digest; messages: StoredMessage[] }> {
  if (opts.maxAgeMs) await trimByAge(redis, keys, chat, opts.maxAgeMs, to);
  const messages = await assignThreads(redis, keys, chat, await readHistory(redis, keys, chat, from, to), opts.threadWindow);
  const digest = buildDigest(messages, { from, to });
  const said = opts.overview ? messages.filter((m) => !m.deleted) : [];
  if (opts.overview && said.length >= OVERVIEW_MIN_MESSAGES) {
    const r = await opts.overview.summarize(said.slice(-OVERVIEW_MAX_LINES).map((m) => ({ user: m.userName, text: m.text })), { maxWords: 60 });
    // The provider falls back to extractive text on any failure; the digest already has extractive lines.
    if (r.source === 'llm' && r.text.trim()) digest.overview = r.text.trim();
  }
  return { digest, messages };
}

/** The digest as one platform message, headed by its window. */
export function renderForChat(digest: Digest, chat: string, title: string): string {
  const body = renderDigest(digest, { maxChars: PLATFORM_MAX_CHARS[platformOf(chat)] - title.length - 2, format: 'text' });
  return `${title}\n\n${body}`;
}

/** The conversations of a chat window, each with its messages. */
export async function chatThreads(redis: Redis, keys: Keys, chat: string, from: number, to: number, threadWindow?: number) {
  const messages = await assignThreads(redis, keys, chat, await readHistory(redis, keys, chat, from, to), threadWindow);
  return groupThreads(messages).map((t) => ({
    id: t.id,
    size: t.messages.length,
    firstAt: t.messages[0]!.at,
    lastAt: t.messages[t.messages.length - 1]!.at,
    messages: t.messages.map((m) => ({ id: m.id, user: m.user, userName: m.userName, text: m.text, at: m.at, ...(m.replyTo ? { replyTo: m.replyTo } : {}), ...(m.url ? { url: m.url } : {}) })),
  }));
}
