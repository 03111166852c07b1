/** Townhall's chat commands (contract §5) as Discord application commands, and interactions turned back into command text. */
import { createHash } from 'node:crypto';
import { ApplicationCommandOptionType as T } from 'discord.js';

/** One option of an application command, as the API takes it. */
export interface CommandOptionDef {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  min_value?: number;
  max_value?: number;
  choices?: { name: string; value: string }[];
  options?: CommandOptionDef[];
}

/** One application command, as `PUT /applications/:id/commands` takes it. */
export interface CommandDef {
  name: string;
  description: string;
  type: 1;
  dm_permission?: boolean;
  options?: CommandOptionDef[];
}

const str = (name: string, description: string, required = true): CommandOptionDef => ({ type: T.String, name, description, required });
const int = (name: string, description: string, required = true): CommandOptionDef => ({ type: T.Integer, name, description, required, min_value: 1 });
const user = (name = 'user', description = 'Who'): CommandOptionDef => ({ type: T.User, name, description, required: true });
const sub = (name: string, description: string, options: CommandOptionDef[] = []): CommandOptionDef => ({
  type: T.Subcommand,
  name,
  description,
  ...(options.length ? { options } : {}),
});
const cmd = (name: string, description: string, options: CommandOptionDef[] = [], guildOnly = true): CommandDef => ({
  name,
  description,
  type: 1,
  ...(guildOnly ? { dm_permission: false } : {}),
  ...(options.length ? { options } : {}),
});

/**
 * Discord cannot run a command that has subcommands bare, so `/ama` alone is the subcommand `info`;
 * its text is rendered as `/ama`, the same words as on Telegram.
 */
const BARE_SUBCOMMANDS: Record<string, string> = { 'ama info': '' };

/** Every Townhall command; the core checks who may run which (moderator commands stay visible, refusals are logged). */
export const TOWNHALL_COMMANDS: readonly CommandDef[] = [
  cmd('ask', 'Ask the AMA a question', [str('question', 'Your question')]),
  cmd('upvote', 'Upvote a question', [int('n', 'Question number')]),
  cmd('questions', 'Show the ranked questions'),
  cmd('ama', 'The current or next AMA, and AMA management', [
    sub('info', 'The current or next AMA'),
    sub('schedule', 'Schedule an AMA (moderators)', [str('when', 'When, e.g. "2026-12-01 14:00 UTC" or "in 2h"'), str('duration', 'e.g. 1h'), str('title', 'Title')]),
    sub('start', 'Start the AMA (moderators)'),
    sub('end', 'End the AMA (moderators)'),
  ]),
  cmd('summary', 'Summary of the recent conversation', [str('window', 'e.g. 2h', false)]),
  cmd('catchup', 'What you missed, privately', [str('window', 'e.g. 2h', false)], false),
  cmd('help', 'What Townhall can do', [], false),
  cmd('answer', 'Answer a question (AMA host)', [int('n', 'Question number'), str('text', 'The answer')]),
  cmd('next', 'Next question (AMA host)'),
  cmd('approve', 'Approve a question (moderators)', [int('n', 'Question number')]),
  cmd('reject', 'Reject a question (moderators)', [int('n', 'Question number'), str('reason', 'Why', false)]),
  cmd('merge', 'Merge a question into another (moderators)', [int('n', 'Question number'), int('into', 'Into question number')]),
  cmd('ban', 'Ban a member (moderators)', [user(), str('reason', 'Why', false)]),
  cmd('unban', 'Unban a member (moderators)', [user()]),
  cmd('mute', 'Time a member out (moderators)', [user(), str('duration', 'e.g. 10m')]),
  cmd('unmute', 'Lift a timeout (moderators)', [user()]),
  cmd('warn', 'Warn a member (moderators)', [user(), str('reason', 'Why', false)]),
  cmd('purge', 'Delete recent messages (moderators)', [{ ...int('count', 'How many'), max_value: 1000 }]),
  cmd('slowmode', 'Slow mode (moderators)', [str('seconds', 'Seconds, or off')]),
  cmd('filter', 'Word filters (moderators)', [
    sub('add', 'Add a filter', [str('pattern', 'Pattern')]),
    sub('remove', 'Remove a filter', [str('pattern', 'Pattern')]),
    sub('list', 'List filters'),
  ]),
  cmd('quiet', 'Quiet mode (moderators)', [{ ...str('state', 'on or off'), choices: [{ name: 'on', value: 'on' }, { name: 'off', value: 'off' }] }]),
  cmd('modlog', 'Recent moderation actions (moderators)', [str('args', 'n, or "undo <id>"', false)]),
  cmd('modset', 'Per-chat moderation settings (moderators)', [str('key', 'Setting', false), str('value', 'Value', false)]),
  cmd('hidden', "Today's tally of what moderation hid, and why"),
  cmd('split', 'Split an ask off a merged question (moderators)', [int('n', 'Question number'), int('ask', 'Which ask (from 1)')]),
  cmd('role', 'Give or take an AMA role (admins)', [str('args', 'e.g. "host @user" or "remove @user"')]),
  cmd('subscribe', 'Be told before each AMA', [], false),
  cmd('unsubscribe', 'Stop AMA notices', [], false),
  cmd('claim', 'Claim an AMA reward', [], false),
  cmd('dashboard', 'A private sign-in link to the dashboard (hosts and moderators)'),
];

/** A stable hash of the definitions, so unchanged commands are not re-registered on every start. */
export function commandsHash(defs: readonly CommandDef[] = TOWNHALL_COMMANDS): string {
  return createHash('sha256').update(JSON.stringify(defs)).digest('hex').slice(0, 16);
}

/** An interaction option as the gateway delivers it. */
export interface InteractionOption {
  name: string;
  type: number;
  value?: unknown;
  options?: InteractionOption[];
}

/** Command text and mentioned user ids from a chat-input interaction's data, or null when it is not one. */
export function interactionToCommand(data: { name?: unknown; options?: unknown }): { text: string; mentionedUserIds: string[] } | null {
  if (typeof data.name !== 'string' || !/^[\w-]{1,32}$/.test(data.name)) return null;
  const words: string[] = [`/${data.name}`];
  const mentioned: string[] = [];
  let opts = Array.isArray(data.options) ? (data.options as InteractionOption[]) : [];
  // Subcommand groups and subcommands become words, like `/ama schedule` or `/filter add`.
  for (let depth = 0; depth < 2; depth++) {
    const first = opts[0];
    if (opts.length === 1 && first && (first.type === T.Subcommand || first.type === T.SubcommandGroup)) {
      const key = `${data.name} ${first.name}`;
      if (!(key in BARE_SUBCOMMANDS)) words.push(first.name);
      opts = Array.isArray(first.options) ? first.options : [];
    }
  }
  for (const o of opts) {
    if (o.value === undefined || o.value === null) continue;
    if (o.type === T.User || o.type === T.Mentionable) {
      const id = String(o.value);
      if (!/^\w{1,32}$/.test(id)) continue;
      words.push(`<@${id}>`);
      mentioned.push(id);
    } else if (o.type === T.Channel) {
      words.push(`<#${String(o.value)}>`);
    } else if (o.type === T.Role) {
      words.push(`<@&${String(o.value)}>`);
    } else {
      const v = String(o.value).replace(/\s+/g, ' ').trim();
      // The core splits arguments on spaces; a multi-word value in the middle is quoted so it stays one argument.
      const last = o === opts[opts.length - 1];
      words.push(!last && v.includes(' ') && !v.includes('"') ? `"${v}"` : v);
    }
  }
  return { text: words.join(' '), mentionedUserIds: mentioned };
}

/** The custom id prefix of Townhall's vote buttons; what follows is the vote target. */
export const VOTE_BUTTON_PREFIX = 'th:v:';
