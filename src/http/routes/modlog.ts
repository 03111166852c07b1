/**
 * The moderation log over HTTP (mounted under /api; the server's hook has authenticated the request):
 *   GET  /api/modlog?chat=&limit=&before=      entries, newest first, with content (moderators only)
 *   GET  /api/modlog/hidden?chat=&day=         the public tally of what was hidden that day (no content)
 *   POST /api/modlog/:id/reverse {chat?}       undo a ban or mute from the log
 * A per-moderator token only sees and changes the chats it was issued for; the admin token sees everything.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { baseChat } from '../../core/ids.js';
import { dayOf, describeTally, listAudit, modKeys, reverseEntry } from '../../features/moderation/index.js';
import type { RoutePlugin } from '../server.js';
import { CHAT_ID_PATTERN } from '../../platform/index.js';

interface ListQuery {
  chat?: string;
  limit?: number;
  before?: string;
}

const chatPattern = CHAT_ID_PATTERN;

/** Resolves `chat` to its group and checks the caller may see it; replies with the error and returns null otherwise. */
function allowedGroup(req: FastifyRequest, reply: FastifyReply, chat: string | undefined): { group: string | undefined } | null {
  const p = req.principal;
  const group = chat ? baseChat(chat) : undefined;
  if (!p) {
    // Mounted outside the authenticated scope by mistake: refuse rather than show the log to anyone.
    void reply.code(401).send({ error: 'unauthorized' });
    return null;
  }
  if (p.admin) return { group };
  if (p.role !== 'moderator') {
    // A host link reads and answers its AMA; the mod log (with message content) and its reversals are for moderators.
    void reply.code(403).send({ error: 'forbidden: the mod log is for moderators' });
    return null;
  }
  if (!group) {
    void reply.code(400).send({ error: 'chat is required for a moderator token' });
    return null;
  }
  if (!p.chats.some((c) => baseChat(c) === group)) {
    void reply.code(403).send({ error: 'this token is not for that chat' });
    return null;
  }
  return { group };
}

/** The modlog routes plugin: `app.register(modlogRoutes, { deps })` inside the authenticated /api scope. */
export const modlogRoutes: RoutePlugin = async (app, { deps }) => {
  app.get<{ Querystring: ListQuery }>(
    '/modlog',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            chat: { type: 'string', maxLength: 200, pattern: chatPattern },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            before: { type: 'string', pattern: '^\\d{1,20}-\\d{1,10}$' },
          },
        },
      },
    },
    async (req, reply) => {
      const scope = allowedGroup(req, reply, req.query.chat);
      if (!scope) return reply;
      const entries = await listAudit(deps.redis, deps.keys, scope.group, {
        ...(req.query.limit ? { limit: req.query.limit } : {}),
        ...(req.query.before ? { before: req.query.before } : {}),
      });
      const last = entries[entries.length - 1];
      return { chat: scope.group ?? null, entries, next: entries.length === (req.query.limit ?? 50) && last ? last.id : null };
    },
  );

  app.get<{ Querystring: { chat: string; day?: string } }>(
    '/modlog/hidden',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['chat'],
          properties: { chat: { type: 'string', maxLength: 200, pattern: chatPattern }, day: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } },
        },
      },
    },
    async (req, reply) => {
      const scope = allowedGroup(req, reply, req.query.chat);
      if (!scope) return reply;
      const day = req.query.day ?? dayOf(deps.now());
      const raw = await deps.redis.hgetall(modKeys(deps.keys).hidden(scope.group!, day));
      const counts = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
      return { chat: scope.group, day, counts, text: describeTally(raw) };
    },
  );

  app.post<{ Params: { id: string }; Body: { chat?: string } | undefined }>(
    '/modlog/:id/reverse',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^\\d{1,20}-\\d{1,10}$' } }, required: ['id'] },
        body: { type: ['object', 'null'], additionalProperties: false, properties: { chat: { type: 'string', maxLength: 200, pattern: chatPattern } } },
      },
    },
    async (req, reply) => {
      const scope = allowedGroup(req, reply, req.body?.chat);
      if (!scope) return reply;
      const by = req.principal ? (req.principal.admin ? 'api:admin' : req.principal.subject) : 'api';
      const r = await reverseEntry(deps, { group: scope.group, id: req.params.id, by });
      if (!r.ok) return reply.code(r.status).send({ error: r.reason });
      return { ok: true, reversed: r.entry.id, action: r.type, user: r.entry.target, chat: r.entry.chat };
    },
  );
};
