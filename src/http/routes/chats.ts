/** `GET /api/chats`: the chats Townhall has seen. Digest and thread routes join as the history feature lands. */
import type { RoutePlugin } from '../server.js';

/** Chat listing routes. */
export const chatRoutes: RoutePlugin = async (app, { deps }) => {
  app.get('/chats', async () => {
    const chats = await deps.redis.zrevrange(deps.keys.k('chats'), '0', '999', 'WITHSCORES');
    const out: { chat: string; lastAt: number }[] = [];
    for (let i = 0; i + 1 < chats.length; i += 2) out.push({ chat: chats[i]!, lastAt: Number(chats[i + 1]) });
    return { chats: out };
  });
};
