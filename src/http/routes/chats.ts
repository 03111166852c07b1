/** Chat routes: the chats seen, and each chat's digest and threads over a window. */
import { parseDuration } from '../../commands/parser.js';
import { chatDigest, chatThreads } from '../../features/history/service.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mayModerateChat } from '../access.js';
import type { RoutePlugin } from '../server.js';
import { CHAT_ID_PATTERN } from '../../platform/index.js';

const CHAT_RE = new RegExp(CHAT_ID_PATTERN);

/** Chat listing, digest and thread routes (the admin: every chat; a moderator: its own; a host: none). */
export const chatRoutes: RoutePlugin = async (app, { deps }) => {
  const allowed = (req: FastifyRequest, chat: string) => (req.principal ? mayModerateChat(req.principal, chat) : false);

  app.get('/chats', async (req) => {
    const chats = await deps.redis.zrevrange(deps.keys.k('chats'), '0', '999', 'WITHSCORES');
    const out: { chat: string; lastAt: number }[] = [];
    for (let i = 0; i + 1 < chats.length; i += 2) if (allowed(req, chats[i]!)) out.push({ chat: chats[i]!, lastAt: Number(chats[i + 1]) });
    return { chats: out };
  });

  const windowOf = (q: unknown): number | null => {
    const w = (q as { window?: string }).window ?? '2h';
    return parseDuration(w);
  };

  /** The chat and window of a digest/threads request, or null once an error has been sent. */
  const chatWindow = (req: FastifyRequest<{ Params: { chat: string } }>, reply: FastifyReply): { chat: string; from: number; to: number } | null => {
    const fail = (code: number, error: string) => {
      void reply.code(code).send({ error });
      return null;
    };
    const { chat } = req.params;
    if (!CHAT_RE.test(chat)) return fail(400, 'chat must be a prefixed chat id like telegram:-100123');
    if (!allowed(req, chat)) return fail(403, 'not your chat');
    const win = windowOf(req.query);
    if (win === null) return fail(400, 'window must be a duration like 30m, 2h or 1d');
    const now = deps.now();
    return { chat, from: now - win, to: now + 1 };
  };

  app.get<{ Params: { chat: string } }>('/chats/:chat/digest', async (req, reply) => {
    const w = chatWindow(req, reply);
    if (!w) return reply;
    const { digest } = await chatDigest(deps.redis, deps.keys, w.chat, w.from, w.to, { threadWindow: deps.config.core.threadWindow });
    return { chat: w.chat, digest };
  });

  app.get<{ Params: { chat: string } }>('/chats/:chat/threads', async (req, reply) => {
    const w = chatWindow(req, reply);
    if (!w) return reply;
    return { chat: w.chat, threads: await chatThreads(deps.redis, deps.keys, w.chat, w.from, w.to, deps.config.core.threadWindow) };
  });
};
