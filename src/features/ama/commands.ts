/** The AMA's chat commands (contract §5): /ask, /upvote, /questions, /ama …, /answer, /next, /approve, /reject, /merge, and more. */
import { UserError } from '../../core/errors.js';
import { platformOf } from '../../core/ids.js';
import { parseQuestionNumber, parseTime, parseUserArg, type ParsedCommand } from '../../commands/parser.js';
import { isModerator, needArgs, type CommandSpec, type HostCheck } from '../../commands/router.js';
import { auditInto } from '../../pipeline/audit.js';
import type { EventContext } from '../../pipeline/context.js';
import { answerQuestion } from './answers.js';
import { askFromEvent, senderName } from './intake.js';
import { cancelOp, closeOp, linkChatOp, openOp, parseStart, requireAma, scheduleAma, stopSeries, type CloseOptions, type Op, type ScheduleInput } from './lifecycle.js';
import { cardRef, voteData, type Ama } from './model.js';
import { approveQuestion, listQuestions, mergeQuestions, rejectQuestion, splitQuestion, voteQuestion } from './questions.js';
import { buildRecap, recapText } from './recap.js';
import { claimRewards, pickWinners, winnerActions } from './rewards.js';
import { canModerateAma, isAmaHost, isRole, levelOf, setRole, ROLE_LEVEL } from './roles.js';
import { actionId, amasOfChat, amaSpans, currentAmaOf, hostLabel, intakeAmaOf, liveAmas, once, questionsWithAsks, type AmaEnv } from './store.js';
import { PLATFORM_NAME, formatDuration, formatWhen, inWords, notice, shorten } from './text.js';

/** Queues an operation's actions on the event and its writes in the event's transaction. */
function applyOp(ctx: EventContext, op: Op): void {
  for (const a of op.actions) ctx.act(a);
  op.commit(ctx.writes);
}

/** Logs and refuses a command the sender may not run here. */
function refuse(ctx: EventContext, what: string, needs: string): never {
  const e = ctx.event;
  ctx.deps.log.info({ user: e.user.id, chat: e.chat, command: what }, 'refused command');
  auditInto(ctx.writes, ctx.deps.keys, ctx.group, { action: 'refused', by: e.user.id, chat: e.chat, reason: `${what} needs ${needs}`, ...(e.text ? { content: e.text.slice(0, 500) } : {}), at: ctx.deps.now() });
  throw new UserError('notAllowed', `Only ${needs} can use ${what}.`);
}

/** The live AMAs a person hosts (private chats have no "current" AMA). */
async function hostedLiveAma(env: AmaEnv, ctx: EventContext): Promise<Ama | null> {
  for (const a of await liveAmas(env, 20)) if (await isAmaHost(env, a, ctx.event.user, ctx.group)) return a;
  return null;
}

/** The AMA a command is about: an explicit id, the chat's live/next/last AMA, or in private the one the sender hosts. */
async function amaFor(env: AmaEnv, ctx: EventContext, kind: 'intake' | 'current', explicit?: string): Promise<Ama> {
  if (explicit) {
    const ama = await requireAma(env, explicit);
    if (ctx.event.chatType !== 'private' && !amaSpans(ama, ctx.event.chat)) throw new UserError('ama.elsewhere', `The AMA ${ama.id} is not running in this chat.`);
    return ama;
  }
  if (ctx.event.chatType === 'private') {
    const hosted = await hostedLiveAma(env, ctx);
    if (hosted) return hosted;
    throw new UserError('ama.none', 'No AMA you host is live.');
  }
  const ama = kind === 'intake' ? await intakeAmaOf(env, ctx.group) : await currentAmaOf(env, ctx.group);
  if (!ama) throw new UserError('ama.none', 'There is no AMA in this chat. Moderators: /ama schedule <when> <duration> <title>.');
  return ama;
}

const AMA_ID = /^a\d{1,9}$/i;

/** `/ama schedule` arguments: `<when> <duration> <title> [--tz Zone] [--hosts @a,@b] [--every 7d | --cron "0 14 * * 1"] …`. */
export function parseScheduleArgs(args: string[], chat: string, now: number): ScheduleInput {
  const flags: Record<string, string> = {};
  const pos: string[] = [];
  const BOOL = new Set(['premod', 'no-detect', 'detect']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) {
      pos.push(a);
      continue;
    }
    if (m[2] !== undefined) flags[m[1]!] = m[2];
    else if (BOOL.has(m[1]!)) flags[m[1]!] = '1';
    else flags[m[1]!] = args[++i] ?? '';
  }
  const tz = flags.tz ?? 'UTC';
  let startsAt: number | undefined;
  let durIdx = -1;
  for (let k = Math.min(4, pos.length - 2); k >= 1 && startsAt === undefined; k--) {
    const when = pos.slice(0, k).join(' ');
    if (!/^\d+\s*[smhd]$/i.test(pos[k] ?? '')) continue;
    try {
      startsAt = parseStart(when, tz, now);
    } catch {
      const t = parseTime(when, now);
      if (t !== null) startsAt = t;
    }
    if (startsAt !== undefined) durIdx = k;
  }
  if (startsAt === undefined || durIdx < 0) throw new UserError('usage', 'Usage: /ama schedule <when> <duration> <title> — e.g. /ama schedule 2026-12-01 14:00 UTC 1h Roadmap AMA');
  const title = pos.slice(durIdx + 1).join(' ').trim();
  if (!title) throw new UserError('usage', 'Usage: /ama schedule <when> <duration> <title>');
  const dm = /^(\d+)\s*([smhd])$/i.exec(pos[durIdx]!)!;
  const minutes = Math.round((Number(dm[1]) * { s: 1 / 60, m: 1, h: 60, d: 1440 }[dm[2]!.toLowerCase() as 's' | 'm' | 'h' | 'd']));
  const input: ScheduleInput = {
    title,
    startsAt,
    durationMinutes: Math.max(1, minutes),
    chats: [chat],
    tz,
    hosts: (flags.hosts ?? flags.host ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    ...(flags.lang ? { lang: flags.lang } : {}),
    ...(flags.hashtag ? { hashtag: flags.hashtag } : {}),
    ...(flags.remind ? { reminders: flags.remind.split(',').map((r) => r.trim()).filter(Boolean) } : {}),
    ...(flags.premod ? { premoderation: true } : {}),
    ...(flags['no-detect'] ? { detectQuestions: false } : {}),
    ...(flags.rewards ? { rewards: Number(flags.rewards) } : {}),
  };
  if (flags.every || flags.cron) {
    input.recurrence = { ...(flags.cron ? { pattern: flags.cron } : { every: flags.every! }), ...(flags.count ? { count: Number(flags.count) } : {}) };
  }
  return input;
}

/** One line describing an AMA for chat. */
export function amaLine(ama: Ama, now: number): string {
  const when = formatWhen(ama.startsAt, ama.tz);
  const state = ama.status === 'live' ? '🔴 live now' : ama.status === 'scheduled' ? `${inWords(ama.startsAt, now)}` : ama.status;
  return `${ama.id} · ${ama.title} · ${when} · ${formatDuration(ama.durationMs)} · ${state}`;
}

/** Builds the AMA commands and the host check the router needs. */
export function amaCommands(env: AmaEnv, opts: CloseOptions = {}): { commands: CommandSpec[]; hostCheck: HostCheck } {
  const now = () => env.deps.now();

  const hostCheck: HostCheck = async (ctx) => {
    const ama = ctx.event.chatType === 'private' ? await hostedLiveAma(env, ctx) : await currentAmaOf(env, ctx.group);
    if (!ama || (ama.status !== 'live' && ama.status !== 'scheduled')) return false;
    return (await isAmaHost(env, ama, ctx.event.user, ctx.group)) || (await levelOf(env, ctx.event.user, ctx.group, ama)) >= ROLE_LEVEL.host;
  };

  /** Moderators of the community, or editors/admins of this AMA. */
  const needEditor = async (ctx: EventContext, ama: Ama, what: string) => {
    if ((await isModerator(ctx)) || (await canModerateAma(env, ama, ctx.event.user, ctx.group))) return;
    refuse(ctx, what, 'moderators');
  };
  /** Moderators of the community, or admins of this AMA. */
  const needAmaAdmin = async (ctx: EventContext, ama: Ama | null, what: string) => {
    if (await isModerator(ctx)) return;
    if (ama && (await levelOf(env, ctx.event.user, ctx.group, ama)) >= ROLE_LEVEL.admin) return;
    refuse(ctx, what, 'moderators');
  };
  const questionArg = (cmd: ParsedCommand, i: number, usage: string): number => {
    const n = parseQuestionNumber(cmd.args[i]);
    if (n === null) throw new UserError('usage', `Usage: ${usage}`);
    return n;
  };

  const ask: CommandSpec = {
    name: 'ask',
    usage: '/ask <question>',
    description: 'ask the AMA a question (in a private chat: anonymous unless you add --public)',
    permission: 'everyone',
    run: async (ctx, cmd) => {
      let rest = cmd.rest;
      let named = false;
      const flag = /^(?:--public|--named|public:)\s*/i.exec(rest);
      if (flag) {
        named = true;
        rest = rest.slice(flag[0].length);
      }
      const isPrivate = ctx.event.chatType === 'private';
      let ama: Ama | null = null;
      if (isPrivate) {
        const pick = /^(a\d+|#[\p{L}\p{N}_]+)\s+/iu.exec(rest);
        const live = await liveAmas(env, 20);
        if (pick) {
          const key = pick[1]!.toLowerCase();
          ama = live.find((a) => a.id === key || `#${a.hashtag.toLowerCase()}` === key) ?? null;
          if (ama) rest = rest.slice(pick[0].length);
        }
        if (!ama) {
          if (live.length === 1) ama = live[0]!;
          else if (!live.length) throw new UserError('ama.none', 'No AMA is live right now. /subscribe to hear about the next one.');
          else throw new UserError('ama.which', `Several AMAs are live: ${live.map((a) => `${a.id} (${a.title})`).join(', ')}. Ask with /ask <id> <question>.`);
        }
      } else {
        ama = await amaFor(env, ctx, 'intake');
      }
      if (rest.trim().length < 3) throw new UserError('usage', 'Usage: /ask <question>');
      await askFromEvent(ctx, env, ama, rest, isPrivate ? 'private' : 'ask', { anonymous: isPrivate && !named });
    },
  };

  const upvote: CommandSpec = {
    name: 'upvote',
    aliases: ['vote'],
    usage: '/upvote <n>',
    description: 'upvote question n (one vote per person)',
    permission: 'everyone',
    run: async (ctx, cmd) => {
      const n = questionArg(cmd, 0, '/upvote <n>');
      const ama = await amaFor(env, ctx, 'intake');
      const r = await voteQuestion(env, ama, n, ctx.event.user, true);
      const e = ctx.event;
      if (e.replyHandle || e.chatType === 'private' || !e.messageId) ctx.reply(r.changed ? `▲ Q${r.n}: ${r.votes} votes` : `You already support Q${r.n} (${r.votes}).`, { priority: 'ack' });
      else ctx.act({ id: `${e.id}#ama-ack`, type: 'react', platform: e.platform, chat: e.chat, messageId: e.messageId, emoji: '👌', priority: 'ack' });
    },
  };

  const questions: CommandSpec = {
    name: 'questions',
    usage: '/questions',
    description: 'the top 5 questions of the AMA',
    permission: 'everyone',
    run: async (ctx) => {
      const ama = await amaFor(env, ctx, 'current');
      const top = await listQuestions(env, ama, { sort: 'rank', status: 'open', limit: 5 });
      if (!top.length) return ctx.reply(`No open questions in "${ama.title}" yet. Ask with /ask <question> or #${ama.hashtag}.`);
      const lines = top.map((q) => {
        const here = q.asks.find((a) => a.chat === ctx.event.chat && a.url) ?? q.asks.find((a) => a.url);
        const where = [...new Set(q.asks.map((a) => PLATFORM_NAME[a.platform]))].join(', ');
        return `Q${q.n} · ▲${q.votes} · ${shorten(q.text, 160)}${q.asks.length > 1 ? ` (asked ${q.asks.length}× on ${where})` : ''}${here?.url ? `\n   ${here.url}` : ''}`;
      });
      ctx.reply([`Top questions · ${ama.title}:`, ...lines, '', 'Upvote with /upvote <n>.'].join('\n'));
    },
  };

  const amaCmd: CommandSpec = {
    name: 'ama',
    usage: '/ama [schedule|start|end|cancel|link|list|recap|rewards]',
    description: 'the current or next AMA; moderators schedule, start and end AMAs',
    permission: 'everyone',
    run: async (ctx, cmd) => {
      const sub = (cmd.args[0] ?? 'info').toLowerCase();
      const args = cmd.args.slice(1);
      const e = ctx.event;
      switch (sub) {
        case 'info': {
          const ama = e.chatType === 'private' ? (await liveAmas(env, 1))[0] ?? null : await currentAmaOf(env, ctx.group);
          if (!ama) return ctx.reply('No AMA is scheduled here.');
          const hosts = ama.hosts.length ? ` · hosts: ${ama.hosts.map(hostLabel).join(', ')}` : '';
          return ctx.reply(`${amaLine(ama, now())}${hosts}\nAsk with /ask <question> or #${ama.hashtag}.`);
        }
        case 'list': {
          const list = e.chatType === 'private' ? await liveAmas(env, 10) : (await amasOfChat(env, ctx.group, 10)).filter((a) => a.status === 'scheduled' || a.status === 'live');
          return ctx.reply(list.length ? list.map((a) => amaLine(a, now())).join('\n') : 'No AMAs scheduled.');
        }
        case 'schedule': {
          if (!(await isModerator(ctx))) refuse(ctx, '/ama schedule', 'moderators');
          if (e.chatType === 'private') throw new UserError('ama.private', 'Schedule an AMA in the group it is for.');
          const input = parseScheduleArgs(args, e.chat, now());
          const ama = await once(env, `${e.id}#schedule`, () => scheduleAma(env, input, e.user.id, { platform: e.platform }));
          auditInto(ctx.writes, ctx.deps.keys, ctx.group, { action: 'ama.schedule', by: e.user.id, chat: e.chat, meta: { ama: ama.id, title: ama.title }, at: now() });
          return ctx.reply(`Scheduled ${amaLine(ama, now())}. Link other chats with /ama link ${ama.id} there.`);
        }
        case 'start': {
          const ama = args[0] ? await amaFor(env, ctx, 'current', args[0].toLowerCase()) : await amaFor(env, ctx, 'intake');
          await needAmaAdmin(ctx, ama, '/ama start');
          if (ama.status === 'live') throw new UserError('ama.live', `"${ama.title}" is already live.`);
          if (ama.status !== 'scheduled') throw new UserError('ama.over', `"${ama.title}" is over.`);
          applyOp(ctx, openOp(env, ama, now()));
          auditInto(ctx.writes, ctx.deps.keys, ctx.group, { action: 'ama.start', by: e.user.id, chat: e.chat, meta: { ama: ama.id }, at: now() });
          if (e.replyHandle) ctx.reply(`Started "${ama.title}".`);
          return;
        }
        case 'end': {
          const ama = await amaFor(env, ctx, 'current', args[0]?.toLowerCase());
          await needAmaAdmin(ctx, ama, '/ama end');
          if (ama.status !== 'live' && ama.status !== 'scheduled') throw new UserError('ama.over', `"${ama.title}" is already over.`);
          applyOp(ctx, await closeOp(env, ama, now(), opts));
          auditInto(ctx.writes, ctx.deps.keys, ctx.group, { action: 'ama.end', by: e.user.id, chat: e.chat, meta: { ama: ama.id }, at: now() });
          if (e.replyHandle) ctx.reply(`Ended "${ama.title}".`);
          return;
        }
        case 'cancel': {
          const ama = await amaFor(env, ctx, 'current', args.find((a) => AMA_ID.test(a))?.toLowerCase());
          await needAmaAdmin(ctx, ama, '/ama cancel');
          if (ama.status !== 'scheduled') throw new UserError('ama.notScheduled', `Only a scheduled AMA can be cancelled; "${ama.title}" is ${ama.status}. Use /ama end.`);
          applyOp(ctx, cancelOp(env, ama, now()));
          if (ama.series && args.includes('--series')) await stopSeries(env, ama.series);
          auditInto(ctx.writes, ctx.deps.keys, ctx.group, { action: 'ama.cancel', by: e.user.id, chat: e.chat, meta: { ama: ama.id }, at: now() });
          return;
        }
        case 'link': {
          if (!(await isModerator(ctx))) refuse(ctx, '/ama link', 'moderators');
          if (e.chatType === 'private') throw new UserError('ama.private', 'Link an AMA from the group it should reach.');
          needArgs({ ...cmd, args }, 1, '/ama link <id>');
          const ama = await requireAma(env, args[0]!.toLowerCase());
          applyOp(ctx, linkChatOp(env, ama, e.chat, now()));
          auditInto(ctx.writes, ctx.deps.keys, ctx.group, { action: 'ama.link', by: e.user.id, chat: e.chat, meta: { ama: ama.id }, at: now() });
          return;
        }
        case 'recap': {
          const ama = await amaFor(env, ctx, 'current', args[0]?.toLowerCase());
          const recap = await buildRecap(env, ama);
          return ctx.reply(recapText(recap), { private: true });
        }
        case 'rewards': {
          const ama = await amaFor(env, ctx, 'current', args.find((a) => AMA_ID.test(a))?.toLowerCase());
          await needAmaAdmin(ctx, ama, '/ama rewards');
          const count = Number(args.find((a) => /^\d+$/.test(a)) ?? (ama.rewards || 3));
          const winners = await pickWinners(env, ama, count, { cooldownMs: cooldownMs(env, opts) });
          if (!winners.length) return ctx.reply('No eligible questions for rewards.');
          for (const a of winnerActions(ama, winners)) ctx.act(a);
          return;
        }
        default:
          throw new UserError('usage', `Unknown /ama ${sub}. Usage: ${amaCmd.usage}`);
      }
    },
  };

  const answer: CommandSpec = {
    name: 'answer',
    usage: '/answer <n> <text>',
    description: 'answer question n (AMA host); it goes under every ask on every platform',
    permission: 'host',
    run: async (ctx, cmd) => {
      needArgs(cmd, 2, answer.usage);
      const n = questionArg(cmd, 0, answer.usage);
      const text = cmd.rest.replace(/^\S+\s*/, '');
      const ama = await amaFor(env, ctx, 'current');
      const { question, actions } = await answerQuestion(env, ama, n, text, { id: ctx.event.user.id, name: senderName(ctx.event) });
      for (const a of actions) ctx.act(a);
      const e = ctx.event;
      if (e.replyHandle || e.chatType === 'private' || !e.messageId) ctx.reply(`Answered Q${question.n}.`, { priority: 'ack' });
      else ctx.act({ id: `${e.id}#ama-ack`, type: 'react', platform: e.platform, chat: e.chat, messageId: e.messageId, emoji: '✍', priority: 'ack' });
    },
  };

  const nextCmd: CommandSpec = {
    name: 'next',
    usage: '/next',
    description: 'post the top unanswered question as a card in every chat (AMA host)',
    permission: 'host',
    run: async (ctx) => {
      const ama = await amaFor(env, ctx, 'current');
      const { redis } = env.deps;
      const top = (await redis.zrevrange(env.k.rank(ama.id), '0', '49')).map(Number);
      if (!top.length) return ctx.reply('No open questions.');
      const carded = await redis.smismember(env.k.carded(ama.id), ...top.map(String));
      const n = top.find((_, i) => !carded[i]) ?? top[0]!;
      const [q] = await questionsWithAsks(env, ama.id, [n]);
      if (!q) return ctx.reply('No open questions.');
      const where = [...new Set(q.asks.map((a) => PLATFORM_NAME[a.platform]))].join(', ');
      const text = `❓ Q${q.n} · ▲${q.votes}${q.asks.length > 1 ? ` · asked ${q.asks.length}× on ${where}` : ''}\n${q.text}\n\n(Host: reply to this message to answer. Everyone: ▲ to upvote.)`;
      for (const chat of ama.chats) {
        ctx.act({ id: actionId(ama.id, `q${q.n}`, 'card', chat), type: 'send', platform: platformOf(chat), chat, text, buttons: [{ label: '▲ Upvote', data: voteData(ama.id, q.n) }], ref: cardRef(ama.id, q.n, chat), priority: 'answer' });
      }
      ctx.writes.sadd(env.k.carded(ama.id), String(q.n)).hset(env.k.ama(ama.id), 'current', String(q.n));
      if (ctx.event.replyHandle || !ama.chats.includes(ctx.event.chat)) ctx.reply(`Posted Q${q.n}.`, { priority: 'ack' });
    },
  };

  const moderate = (name: 'approve' | 'reject' | 'merge' | 'split', usage: string, description: string, min: number, fn: (ctx: EventContext, ama: Ama, cmd: ParsedCommand) => Promise<string>): CommandSpec => ({
    name,
    usage,
    description,
    permission: 'host',
    run: async (ctx, cmd) => {
      needArgs(cmd, min, usage);
      const ama = await amaFor(env, ctx, 'current');
      await needEditor(ctx, ama, `/${name}`);
      const line = await fn(ctx, ama, cmd);
      auditInto(ctx.writes, ctx.deps.keys, ctx.group, { action: `ama.${name}`, by: ctx.event.user.id, chat: ctx.event.chat, reason: line, meta: { ama: ama.id }, at: now() });
      ctx.reply(line);
    },
  });

  const approve = moderate('approve', '/approve <n>', 'let a waiting question into the queue (moderators)', 1, async (_ctx, ama, cmd) => {
    const q = await approveQuestion(env, ama, questionArg(cmd, 0, '/approve <n>'));
    return `Q${q.n} approved.`;
  });
  const reject = moderate('reject', '/reject <n> [reason]', 'take a question out of the queue (moderators)', 1, async (_ctx, ama, cmd) => {
    const q = await rejectQuestion(env, ama, questionArg(cmd, 0, '/reject <n> [reason]'), cmd.args.slice(1).join(' '));
    return `Q${q.n} rejected${q.rejectReason ? `: ${q.rejectReason}` : ''}.`;
  });
  const merge = moderate('merge', '/merge <n> <into>', 'merge question n into another (moderators)', 2, async (_ctx, ama, cmd) => {
    const from = questionArg(cmd, 0, '/merge <n> <into>');
    const into = questionArg(cmd, 1, '/merge <n> <into>');
    const q = await mergeQuestions(env, ama, from, into);
    return `Merged Q${from} into Q${q.n} (▲${q.votes}, ${q.askCount} asks).`;
  });
  const split = moderate('split', '/split <n> <k>', 'make ask k of question n a question of its own (moderators)', 2, async (ctx, ama, cmd) => {
    const n = questionArg(cmd, 0, '/split <n> <k>');
    const k = Number(cmd.args[1]);
    if (!Number.isInteger(k) || k < 1) throw new UserError('usage', 'Usage: /split <n> <k> (k = which ask, from 1)');
    const q = await once(env, `${ctx.event.id}#split`, () => splitQuestion(env, ama, n, k));
    return `Ask ${k} of Q${n} is now Q${q.n}.`;
  });

  const subscribe: CommandSpec = {
    name: 'subscribe',
    usage: '/subscribe',
    description: 'be told privately before each AMA (in a group: this community’s AMAs)',
    permission: 'everyone',
    run: async (ctx) => {
      const e = ctx.event;
      const key = e.chatType === 'private' ? env.k.subsAll() : env.k.subsGroup(ctx.group);
      await env.deps.redis.hset(key, e.user.id, e.user.lang ?? '');
      ctx.reply(notice(e.user.lang?.slice(0, 2) ?? 'en', 'subscribed', {}), { private: true, priority: 'ack' });
    },
  };
  const unsubscribe: CommandSpec = {
    name: 'unsubscribe',
    usage: '/unsubscribe',
    description: 'no more AMA notices',
    permission: 'everyone',
    run: async (ctx) => {
      const e = ctx.event;
      const tx = env.deps.redis.multi().hdel(env.k.subsAll(), e.user.id);
      if (e.chatType !== 'private') tx.hdel(env.k.subsGroup(ctx.group), e.user.id);
      await tx.exec();
      ctx.reply(notice(e.user.lang?.slice(0, 2) ?? 'en', 'unsubscribed', {}), { private: true, priority: 'ack' });
    },
  };

  const claim: CommandSpec = {
    name: 'claim',
    usage: '/claim',
    description: 'claim an AMA reward you won (in a private chat)',
    permission: 'everyone',
    run: async (ctx) => {
      if (ctx.event.chatType !== 'private') throw new UserError('claim.private', 'Send /claim to me in a private chat.');
      const got = await claimRewards(env, ctx.event.user.id);
      if (!got.length) return ctx.reply('You have no unclaimed rewards.');
      ctx.reply(`Claimed: ${got.map((c) => `Q${c.n} in "${c.title}" (code ${c.code})`).join('; ')}. The team will contact you here.`);
    },
  };

  const role: CommandSpec = {
    name: 'role',
    usage: '/role <user> <host|editor|admin|none> [ama id]',
    description: 'give someone a role in this community or one AMA (never your own)',
    permission: 'everyone',
    run: async (ctx, cmd) => {
      const e = ctx.event;
      if (e.chatType === 'private') throw new UserError('role.private', 'Set roles in the group they apply to.');
      let target: string | undefined;
      let rest = cmd.args;
      const first = rest[0]?.toLowerCase() ?? '';
      if (isRole(first) || first === 'none') {
        target = e.replyToUser;
      } else if (rest[0]) {
        const u = parseUserArg(rest[0]);
        if (u && 'id' in u) target = u.id.includes(':') ? u.id : `${e.platform}:user:${u.id}`;
        else if (u) throw new UserError('role.username', 'Reply to one of their messages with /role <role>, or give their id.');
        rest = rest.slice(1);
      }
      const r = (rest[0] ?? '').toLowerCase();
      if (!target || !(isRole(r) || r === 'none')) throw new UserError('usage', `Usage: ${role.usage}`);
      const amaArg = rest.slice(1).find((a) => AMA_ID.test(a));
      const ama = amaArg ? await amaFor(env, ctx, 'current', amaArg.toLowerCase()) : null;
      try {
        await setRole(env, { actor: e.user, group: ctx.group, target, role: r, ama });
      } catch (err) {
        if (err instanceof UserError) {
          auditInto(ctx.writes, ctx.deps.keys, ctx.group, { action: 'refused', by: e.user.id, target, chat: e.chat, reason: `/role ${r}: ${err.message}`, at: now() });
        }
        throw err;
      }
      auditInto(ctx.writes, ctx.deps.keys, ctx.group, { action: 'role', by: e.user.id, target, chat: e.chat, reason: r, meta: ama ? { ama: ama.id } : {}, at: now() });
      ctx.reply(`${target} ${r === 'none' ? 'has no role any more' : `is now ${r}`} ${ama ? `in the AMA ${ama.id}` : 'in this community'}.`);
    },
  };

  return { commands: [ask, upvote, questions, amaCmd, answer, nextCmd, approve, reject, merge, split, subscribe, unsubscribe, claim, role], hostCheck };
}

function cooldownMs(env: AmaEnv, opts: CloseOptions): number {
  if (opts.rewardCooldownMs !== undefined) return opts.rewardCooldownMs;
  const m = /^(\d+)(s|m|h|d)$/.exec(env.deps.config.ama.rewardCooldown)!;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}
