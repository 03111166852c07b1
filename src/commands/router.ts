/** The command router: finds the command, checks its precondition, runs it, and answers misuse in one line. */
import { UserError } from '../core/errors.js';
import type { Feature } from '../pipeline/handle-event.js';
import type { EventContext } from '../pipeline/context.js';
import { auditInto } from '../pipeline/audit.js';
import { BOT_USERNAME, parseCommand, type ParsedCommand } from './parser.js';
import { capabilitiesOf, type Platform } from '../platform/index.js';

/** Who may run a command. */
export type Permission = 'everyone' | 'host' | 'moderator';

/** One chat command. */
export interface CommandSpec {
  name: string;
  aliases?: string[];
  /** One-line usage shown on misuse and in /help, e.g. `/mute <user> <duration>`. */
  usage: string;
  description: string;
  permission: Permission;
  /** Runs the command; throw UserError for a refusal meant for the person. */
  run(ctx: EventContext, cmd: ParsedCommand): Promise<void>;
}

/** Decides whether the sender hosts the chat's running AMA (the AMA feature provides it). */
export type HostCheck = (ctx: EventContext) => Promise<boolean>;

/** Whether the sender is a moderator: a platform admin, or given a role in this community. */
export async function isModerator(ctx: EventContext): Promise<boolean> {
  if (ctx.moderator !== undefined) return ctx.moderator;
  if (ctx.event.user.isAdmin) return (ctx.moderator = true);
  const role = await ctx.deps.redis.hget(ctx.deps.keys.k('roles', ctx.group), ctx.event.user.id);
  return (ctx.moderator = role === 'admin' || role === 'moderator' || role === 'editor');
}

/** The registry of commands, shared by every feature. */
export class CommandRegistry {
  private readonly byName = new Map<string, CommandSpec>();
  private hostCheck: HostCheck = async () => false;

  /** Adds a command (and its aliases). */
  register(...specs: CommandSpec[]): this {
    for (const s of specs) for (const n of [s.name, ...(s.aliases ?? [])]) this.byName.set(n, s);
    return this;
  }

  /** Sets how the `host` precondition is decided. */
  setHostCheck(check: HostCheck): void {
    this.hostCheck = check;
  }

  /** The command registered under a name or alias. */
  get(name: string): CommandSpec | undefined {
    return this.byName.get(name);
  }

  /** Every command once, in registration order. */
  list(): CommandSpec[] {
    return [...new Set(this.byName.values())];
  }

  /** Where the bot sees only what is addressed to it (X), a command is a mention with the words: `@townhall_bot ask …` or `@townhall_bot /ask …`. */
  private commandText(platform: Platform, text: string): string {
    if (!capabilitiesOf(platform).addressedOnly) return text;
    const stripped = text.replace(/^(\s*@[A-Za-z0-9_]{1,15})+\s*/, '');
    if (stripped.startsWith('/')) return stripped;
    const word = /^([A-Za-z]+)\b/.exec(stripped)?.[1]?.toLowerCase();
    return word && this.byName.has(word) ? `/${stripped}` : text;
  }

  /** The router as a pipeline step: commands stop here, other messages pass on. */
  feature(): Feature {
    return {
      name: 'commands',
      middleware: async (ctx, next) => {
        const e = ctx.event;
        if ((e.kind !== 'message' && e.kind !== 'command') || !e.text || e.source === 'import') return next();
        const cmd = parseCommand(this.commandText(e.platform, e.text), BOT_USERNAME);
        if (!cmd) return next();
        ctx.command = cmd;
        const spec = this.get(cmd.name);
        if (!spec) {
          // Someone else's bot command in a busy group is not ours to answer unless addressed to us.
          if (e.chatType === 'private' || /@townhall_bot\b/i.test(e.text) || e.kind === 'command') ctx.reply(`Unknown command /${cmd.name}. Try /help.`);
          return;
        }
        const allowed =
          spec.permission === 'everyone' ||
          (await isModerator(ctx)) ||
          (spec.permission === 'host' && (await this.hostCheck(ctx)));
        if (!allowed) {
          ctx.deps.log.info({ user: e.user.id, chat: e.chat, command: cmd.name }, 'refused command');
          auditInto(ctx.writes, ctx.deps.keys, ctx.group, {
            action: 'refused', by: e.user.id, chat: e.chat, reason: `/${cmd.name} needs ${spec.permission}`, content: e.text.slice(0, 500), at: ctx.deps.now(),
          });
          // One refusal a minute per person: a raid of forged /ban commands must not make the bot flood the chat.
          const first = await ctx.deps.redis.set(ctx.deps.keys.k('refused', ctx.group, e.user.id), '1', 'EX', 60, 'NX');
          if (first) ctx.reply(spec.permission === 'host' ? `Only the AMA host or a moderator can use /${cmd.name}.` : `Only moderators can use /${cmd.name}.`);
          return;
        }
        try {
          await spec.run(ctx, cmd);
        } catch (err) {
          if (err instanceof UserError) ctx.reply(err.message);
          else throw err;
        }
      },
    };
  }
}

/** Throws the usage line as a UserError unless the command has at least `n` arguments. */
export function needArgs(cmd: ParsedCommand, n: number, usage: string): void {
  if (cmd.args.length < n) throw new UserError('usage', `Usage: ${usage}`);
}

/** The /help command: lists what the sender may use. */
export function helpCommand(registry: CommandRegistry): CommandSpec {
  return {
    name: 'help',
    usage: '/help',
    description: 'what Townhall can do',
    permission: 'everyone',
    run: async (ctx) => {
      const mod = await isModerator(ctx);
      const lines = registry
        .list()
        .filter((c) => c.permission === 'everyone' || mod)
        .map((c) => `${c.usage} — ${c.description}`);
      ctx.reply(['Townhall commands:', ...lines].join('\n'), { priority: 'command' });
    },
  };
}
