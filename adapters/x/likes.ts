/** Likes as votes on X: the likers of each question post the bot made, read back and published as vote events. */
import { parseChatKey } from '../../src/core/index.js';
import { storeKey, USER_FIELDS, X_ENDPOINTS, type XContext } from './context.js';
import { normalizeLike, XUserSchema, type XUser } from './normalize.js';

/**
 * Reads who liked each tracked question post (a like is the upvote: X has no buttons) and publishes the difference as
 * vote events; returns ms until it is due again. `stopped` ends a long sweep early.
 */
export async function pollLikes(ctx: XContext, stopped: () => boolean): Promise<number> {
  const redis = ctx.deps.store;
  const tracked = await redis.hgetall(storeKey('votes', 'posts'));
  const now = Date.now();
  for (const [postId, rawInfo] of Object.entries(tracked)) {
    if (stopped()) break;
    let info: { target: string; chat: string; until: number };
    try {
      info = JSON.parse(rawInfo) as typeof info;
    } catch {
      await redis.hdel(storeKey('votes', 'posts'), postId);
      continue;
    }
    if (info.until < now) {
      await redis.multi().hdel(storeKey('votes', 'posts'), postId).del(storeKey('votes', 'likers', postId), storeKey('votes', 'gen', postId)).exec();
      continue;
    }
    const wait = await ctx.budgets.sharedWaitMs(X_ENDPOINTS.likingUsers);
    if (wait > 0) return Math.max(wait, ctx.opts.likesIntervalMs);
    const likers = new Map<string, XUser>();
    let token: string | undefined;
    for (let page = 0; page < ctx.opts.maxPagesPerPoll; page++) {
      const res = (await ctx.client.v2.get(`tweets/${encodeURIComponent(postId)}/liking_users`, {
        max_results: 100,
        'user.fields': USER_FIELDS.join(','),
        ...(token ? { pagination_token: token } : {}),
      })) as { data?: unknown[]; meta?: { next_token?: string } };
      for (const u of res.data ?? []) {
        const r = XUserSchema.safeParse(u);
        if (r.success) likers.set(r.data.id, r.data);
      }
      await ctx.budgets.addReads(res.data?.length ?? 0);
      token = typeof res.meta?.next_token === 'string' ? res.meta.next_token : undefined;
      if (!token) break;
    }
    const likersKey = storeKey('votes', 'likers', postId);
    const genKey = storeKey('votes', 'gen', postId);
    const known = new Set(await redis.smembers(likersKey));
    const added = [...likers.keys()].filter((id) => !known.has(id));
    const removed = [...known].filter((id) => !likers.has(id));
    if (added.length === 0 && removed.length === 0) continue;
    const changed = [...added, ...removed];
    const gens = changed.length ? await redis.hmget(genKey, ...changed) : [];
    const events = changed.map((uid, i) =>
      normalizeLike({
        postId,
        chat: info.chat,
        target: info.target,
        user: likers.get(uid) ?? { id: uid, name: uid, username: uid },
        added: i < added.length,
        generation: Number(gens[i] ?? 0) || 0,
        isAdmin: ctx.isAdmin(uid, likers.get(uid)?.username, parseChatKey(info.chat).chatId),
        now,
      }),
    );
    await ctx.deps.sink.publish(events);
    ctx.counters.published += events.length;
    // State moves only after the votes are durable; a crash before this re-publishes the same ids.
    const tx = redis.multi();
    if (added.length) tx.sadd(likersKey, ...added);
    if (removed.length) tx.srem(likersKey, ...removed);
    for (const uid of changed) tx.hincrby(genKey, uid, 1);
    tx.expire(likersKey, Math.ceil(ctx.opts.likesTrackForMs / 1000) + 86_400).expire(genKey, Math.ceil(ctx.opts.likesTrackForMs / 1000) + 86_400);
    await tx.exec();
  }
  return ctx.opts.likesIntervalMs;
}
