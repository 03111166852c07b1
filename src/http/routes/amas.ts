/**
 * The AMA part of the HTTP API (contract §6), mounted under /api after the server's bearer-token check:
 * AMAs (list, schedule, read, start, end, recap) and their merged questions (list, answer, approve, reject, merge).
 * A moderator reaches only the AMAs that span one of its chats; a host only its own AMAs, to read them and their
 * questions and to answer (403 for anything else); the admin reaches all. Rules in ../access.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import type { CoreDeps } from '../../pipeline/context.js';
import {
  amaAnswer,
  amaApprove,
  amaCancel,
  amaEnd,
  amaEnv,
  amaGet,
  amaList,
  amaMerge,
  amaQuestions,
  amaRecap,
  amaReject,
  amaSchedule,
  amaSplit,
  amaStart,
  ScheduleInputSchema,
  type AmaEnv,
  type AmaView,
} from '../../features/ama/index.js';
import { mayActOnAma, mayModerateChat, maySeeAma, type AmaAction } from '../access.js';
import type { Principal } from '../auth.js';

const STATUS = z.enum(['scheduled', 'live', 'closed', 'cancelled']);
const Q_STATUS = z.enum(['pending', 'open', 'answered', 'rejected', 'all']);

const ListQuery = z.object({ status: STATUS.optional(), chat: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });
const QuestionsQuery = z.object({
  status: Q_STATUS.optional(),
  sort: z.enum(['rank', 'votes', 'new', 'number']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  offset: z.coerce.number().int().min(0).optional(),
});
const RecapQuery = z.object({ format: z.enum(['md', 'json', 'csv']).default('md'), table: z.enum(['questions', 'participants']).default('questions') });
const AnswerBody = z.object({ text: z.string().trim().min(1).max(20_000), name: z.string().trim().min(1).max(100).optional() });
const RejectBody = z.object({ reason: z.string().max(300).optional() }).default({});
const MergeBody = z.object({ into: z.union([z.number().int().positive(), z.string().min(1).max(20)]) });
const SplitBody = z.object({ ask: z.number().int().min(1) });

/** Codes of refusals that are "not found" or "conflict" rather than a bad request. */
const NOT_FOUND = new Set(['ama.unknown', 'ama.noQuestion', 'ama.noAsk']);
const CONFLICT = new Set(['ama.answered', 'ama.rejected', 'ama.live', 'ama.over', 'ama.merged', 'ama.same', 'ama.sameQuestion', 'ama.notScheduled', 'ama.single']);

function principalOf(req: FastifyRequest): Principal | undefined {
  return (req as FastifyRequest & { principal?: Principal }).principal;
}


function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof UserError) {
    const code = NOT_FOUND.has(err.identifier) ? 404 : CONFLICT.has(err.identifier) ? 409 : 400;
    return reply.code(code).send({ error: err.message, code: err.identifier });
  }
  if (err instanceof z.ZodError) {
    const i = err.issues[0];
    return reply.code(400).send({ error: `${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}`, code: 'invalid' });
  }
  throw err;
}

/** Registers the AMA routes (`/amas…`); the server mounts them under /api behind its bearer-token check. */
export async function amaRoutes(app: FastifyInstance, opts: { deps: CoreDeps; env?: AmaEnv }): Promise<void> {
  const env = opts.env ?? amaEnv(opts.deps);

  /** The principal, or a 401 already sent. */
  const who = (req: FastifyRequest, reply: FastifyReply): Principal | null => {
    const p = principalOf(req);
    if (!p) {
      void reply.code(401).send({ error: 'unauthorized: send Authorization: Bearer <token>' });
      return null;
    }
    return p;
  };
  /**
   * The AMA when the principal may do `action` to it; otherwise a 404 is sent when it may not see it (other
   * communities' AMAs are not disclosed) and a 403 when it may see but not do that (a host managing its AMA).
   */
  const visibleAma = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, action: AmaAction): Promise<{ p: Principal; ama: AmaView } | null> => {
    const p = who(req, reply);
    if (!p) return null;
    const ama = await amaGet(env, req.params.id);
    if (!maySeeAma(p, ama)) {
      void reply.code(404).send({ error: `There is no AMA ${req.params.id}.`, code: 'ama.unknown' });
      return null;
    }
    if (!mayActOnAma(p, ama, action)) {
      void reply.code(403).send({ error: 'forbidden: a host may read and answer its AMA’s questions, nothing else', code: 'forbidden' });
      return null;
    }
    return { p, ama };
  };

  app.get('/amas', async (req, reply) => {
    try {
      const p = who(req, reply);
      if (!p) return reply;
      const q = ListQuery.parse(req.query);
      const list = await amaList(env, { ...(q.status ? { status: q.status } : {}), ...(q.chat ? { chat: q.chat } : {}), ...(q.limit ? { limit: q.limit } : {}) });
      return list.filter((a) => maySeeAma(p, a));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post('/amas', async (req, reply) => {
    try {
      const p = who(req, reply);
      if (!p) return reply;
      const input = ScheduleInputSchema.parse(req.body ?? {});
      if (!input.chats.every((c) => mayModerateChat(p, c))) return reply.code(403).send({ error: 'this token may schedule AMAs only in chats it moderates', code: 'forbidden' });
      // A client retry with the same Idempotency-Key gets the AMA the first request made.
      const key = req.headers['idempotency-key'];
      const opId = typeof key === 'string' && /^[\w.-]{8,100}$/.test(key) ? `${p.subject}:${key}` : undefined;
      const ama = await amaSchedule(env, input, p.subject, opId);
      return reply.code(201).send(ama);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<{ Params: { id: string } }>('/amas/:id', async (req, reply) => {
    try {
      const v = await visibleAma(req, reply, 'read');
      return v ? v.ama : reply;
    } catch (err) {
      return fail(reply, err);
    }
  });

  for (const [path, run] of [
    ['start', (id: string, by: string) => amaStart(env, id, by)],
    ['end', (id: string, by: string) => amaEnd(env, id, by)],
    ['cancel', (id: string, by: string) => amaCancel(env, id, by)],
  ] as const) {
    app.post<{ Params: { id: string } }>(`/amas/:id/${path}`, async (req, reply) => {
      try {
        const v = await visibleAma(req, reply, 'manage');
        if (!v) return reply;
        return await run(v.ama.id, v.p.subject);
      } catch (err) {
        return fail(reply, err);
      }
    });
  }

  app.get<{ Params: { id: string } }>('/amas/:id/recap', async (req, reply) => {
    try {
      const v = await visibleAma(req, reply, 'manage');
      if (!v) return reply;
      const q = RecapQuery.parse(req.query);
      if (q.format === 'json') return await amaRecap(env, v.ama.id, 'json');
      if (q.format === 'csv') {
        const csv = await amaRecap(env, v.ama.id, q.table === 'participants' ? 'csv-participants' : 'csv-questions');
        return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${v.ama.id}-${q.table}.csv"`).send(csv);
      }
      return reply.header('content-type', 'text/markdown; charset=utf-8').send(await amaRecap(env, v.ama.id, 'md'));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<{ Params: { id: string } }>('/amas/:id/questions', async (req, reply) => {
    try {
      const v = await visibleAma(req, reply, 'read');
      if (!v) return reply;
      const q = QuestionsQuery.parse(req.query);
      return await amaQuestions(env, v.ama.id, {
        ...(q.status ? { status: q.status } : {}),
        ...(q.sort ? { sort: q.sort } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
        ...(q.offset ? { offset: q.offset } : {}),
      });
    } catch (err) {
      return fail(reply, err);
    }
  });

  type QParams = { Params: { id: string; qid: string } };

  app.post<QParams>('/amas/:id/questions/:qid/answer', async (req, reply) => {
    try {
      const v = await visibleAma(req, reply, 'answer');
      if (!v) return reply;
      const body = AnswerBody.parse(req.body ?? {});
      const host = v.ama.hosts[0]?.replace(/^[a-z]+:@/, '@');
      return await amaAnswer(env, v.ama.id, req.params.qid, body.text, { id: v.p.subject, name: body.name ?? (host && !host.includes(':user:') ? host : 'The host') });
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<QParams>('/amas/:id/questions/:qid/approve', async (req, reply) => {
    try {
      const v = await visibleAma(req, reply, 'manage');
      if (!v) return reply;
      return await amaApprove(env, v.ama.id, req.params.qid, v.p.subject);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<QParams>('/amas/:id/questions/:qid/reject', async (req, reply) => {
    try {
      const v = await visibleAma(req, reply, 'manage');
      if (!v) return reply;
      const body = RejectBody.parse(req.body ?? {});
      return await amaReject(env, v.ama.id, req.params.qid, v.p.subject, body.reason ?? '');
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<QParams>('/amas/:id/questions/:qid/merge', async (req, reply) => {
    try {
      const v = await visibleAma(req, reply, 'manage');
      if (!v) return reply;
      const body = MergeBody.parse(req.body ?? {});
      return await amaMerge(env, v.ama.id, req.params.qid, body.into, v.p.subject);
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post<QParams>('/amas/:id/questions/:qid/split', async (req, reply) => {
    try {
      const v = await visibleAma(req, reply, 'manage');
      if (!v) return reply;
      const body = SplitBody.parse(req.body ?? {});
      return await amaSplit(env, v.ama.id, req.params.qid, body.ask, v.p.subject);
    } catch (err) {
      return fail(reply, err);
    }
  });
}
