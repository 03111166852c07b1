/** The history feature: records every message for threads and digests, and answers /summary and /catchup. */
import { UserError } from '../../core/errors.js';
import { onceEvery } from '../../core/once-every.js';
import { parseDuration } from '../../commands/parser.js';
import type { CommandSpec } from '../../commands/router.js';
import type { CoreDeps } from '../../pipeline/context.js';
import type { Feature } from '../../pipeline/handle-event.js';
import { durationMs } from '../../config/load.js';
import { chatDigest, digestOverview, renderForChat } from './service.js';
import { historyKeys, pruneSideTables, recordDeletion, recordEdit, recordMessage, recordReaction, sideTablesOverdue, type Retention } from './store.js';

const DEFAULT_WINDOW_MS = 2 * 3600_000;
/** How often one process renews a busy chat's history expiry and chat-index entry. */
const REFRESH_MS = 10_000;
/** Messages of a chat between two trims of its history to the cap, per process. */
const TRIM_EVERY = 16;
/** How often one process checks a chat's side tables against its capped list (a pipeline of five O(1) commands). */
const PRUNE_CHECK_MS = 10 * 60_000;
const MAX_WINDOW_MS = 7 * 24 * 3600_000;

/** Reads `/summary [window]` style arguments: a duration up to 7 days, default 2 h. */
function windowArg(arg: string | undefined, fallback = DEFAULT_WINDOW_MS): number {
  if (!arg) return fallback;
  const ms = parseDuration(arg);
  if (ms === null) throw new UserError('bad-window', `"${arg.slice(0, 20)}" is not a window: try 30m, 2h or 1d.`);
  return Math.min(ms, MAX_WINDOW_MS);
}

const fmtWindow = (ms: number) => (ms % 3600_000 === 0 ? `${ms / 3600_000}h` : `${Math.round(ms / 60_000)}m`);

/** Builds the history feature and its commands. */
export function createHistory(deps: CoreDeps, opts: { llmApiKey?: string | undefined } = {}): { feature: Feature; commands: CommandSpec[] } {
  // Digests get an overview paragraph from the model when `digest.llm` is configured.
  const overview = digestOverview(deps, opts.llmApiKey);
  const retention: Retention = { maxMessages: deps.config.core.history.maxMessages, maxAgeMs: durationMs(deps.config.core.history.maxAge) };
  const { keys, redis } = deps;
  // When this process last renewed a chat's expiries and its place in the chat index. Per message that was three
  // commands of the ten a message writes; once per REFRESH_MS per chat per process is enough for a 7-day expiry and
  // an index sorted by activity. Correctness never depends on it: every process renews on its own schedule.
  const due = onceEvery(REFRESH_MS, deps.now);
  // Links, edits, reactions and deletions outlive the capped list in an active chat; once in a while (per chat per
  // process, after the event's commit, never in its way) they are checked and pruned down to what the list holds.
  const pruneDue = onceEvery(PRUNE_CHECK_MS, deps.now);
  const prune = async (chat: string): Promise<void> => {
    if (!(await sideTablesOverdue(redis, keys, chat))) return;
    // One process prunes a chat at a time; the others find the tables small again at their next check.
    if ((await redis.set(historyKeys(keys, chat).pruning, '1', 'EX', 120, 'NX')) !== 'OK') return;
    const removed = await pruneSideTables(redis, keys, chat);
    deps.log.info({ chat, removed }, 'history: dropped links, edits and reactions of messages past the cap');
  };
  // The cap is enforced every TRIM_EVERY messages of a chat per process (and at each refresh): it holds within a few
  // messages per worker process, and LTRIM leaves the per-message write.
  const sinceTrim = new Map<string, number>();
  const trimDue = (chat: string): boolean => {
    const n = (sinceTrim.get(chat) ?? 0) + 1;
    if (sinceTrim.size > 100_000) sinceTrim.clear();
    sinceTrim.set(chat, n % TRIM_EVERY);
    return n >= TRIM_EVERY;
  };

  const feature: Feature = {
    name: 'history',
    middleware: async (ctx, next) => {
      const e = ctx.event;
      if (e.kind === 'message' && e.text && e.messageId && !e.text.startsWith('/') && e.chatType !== 'private') {
        // Whether it is a question is decided when a digest reads the history, not here: per message it was 7 % of the
        // core's CPU, for a flag only digests and the activity chart use.
        const refresh = due(e.chat);
        recordMessage(ctx.writes, keys, e, retention, refresh, refresh || trimDue(e.chat));
        if (pruneDue(e.chat)) {
          const chat = e.chat;
          ctx.afterCommit(() => void prune(chat).catch((err: unknown) => deps.log.warn({ chat, err: err instanceof Error ? err.message : String(err) }, 'history prune failed; retried later')));
        }
      } else if (e.kind === 'delete' && e.messageId) {
        recordDeletion(ctx.writes, keys, e.chat, e.messageId, retention);
      } else if (e.kind === 'edit' && e.messageId && e.text) {
        recordEdit(ctx.writes, keys, e.chat, e.messageId, e.text, retention);
      } else if (e.kind === 'reaction' && e.messageId && e.reaction) {
        recordReaction(ctx.writes, keys, e.chat, e.messageId, e.reaction.added, retention);
      }
      if ((e.kind === 'message' || e.kind === 'command') && e.source !== 'import' && e.chatType !== 'private') {
        // Last activity per user, read by /catchup before this event's own write lands.
        const k = historyKeys(keys, ctx.group);
        ctx.writes.hset(k.lastSeen, e.user.id, String(e.at));
        if (due(k.lastSeen)) ctx.writes.pexpire(k.lastSeen, retention.maxAgeMs);
      }
      await next();
    },
  };

  const summary: CommandSpec = {
    name: 'summary',
    usage: '/summary [window]',
    description: 'a digest of what was said (default: the last 2h)',
    permission: 'everyone',
    run: async (ctx, cmd) => {
      const win = windowArg(cmd.args[0]);
      const now = deps.now();
      const { digest } = await chatDigest(redis, keys, ctx.event.chat, now - win, now + 1, { maxAgeMs: retention.maxAgeMs, threadWindow: deps.config.core.threadWindow, overview });
      if (!digest.totals.messages) return ctx.reply(`Nothing was said here in the last ${fmtWindow(win)}.`);
      ctx.reply(renderForChat(digest, ctx.event.chat, `Digest of the last ${fmtWindow(win)}`), { priority: 'digest' });
    },
  };

  const catchup: CommandSpec = {
    name: 'catchup',
    usage: '/catchup [window]',
    description: 'what you missed, sent to you privately',
    permission: 'everyone',
    run: async (ctx, cmd) => {
      const now = deps.now();
      let from: number;
      if (cmd.args[0]) from = now - windowArg(cmd.args[0]);
      else {
        const last = await redis.hget(historyKeys(keys, ctx.group).lastSeen, ctx.event.user.id);
        from = last ? Math.max(Number(last), now - MAX_WINDOW_MS) : now - DEFAULT_WINDOW_MS;
      }
      const { digest } = await chatDigest(redis, keys, ctx.event.chat, from, now + 1, { threadWindow: deps.config.core.threadWindow, overview });
      const title = `Catch-up since ${new Date(from).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
      const text = digest.totals.messages ? renderForChat(digest, ctx.event.chat, title) : `${title}: nothing new.`;
      ctx.reply(text, { private: true, priority: 'digest' });
    },
  };

  return { feature, commands: [summary, catchup] };
}
