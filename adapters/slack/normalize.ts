/**
 * Slack payloads into Townhall's ChatEvent: Events API callbacks (message and its edit/delete subtypes, app_mention,
 * reactions, joins and leaves), slash commands and block_actions button clicks. Pure functions: the adapter looks up
 * names and admin rights and passes them in. Event ids are stable across Slack's redeliveries (they come from the
 * message's `ts`, not from `event_id`, which differs between the `message` and `app_mention` copies of one message).
 */
import { BOT_USERNAME, makeEventId, type ChatEventInput } from '../../src/core/index.js';
import { emojiOfName } from './emoji.js';
import { slackChat, slackUser, tsToMs } from './ids.js';
import type { SlackPerson } from './people.js';

/** A ChatEvent from Slack. */
export type SlackChatEvent = ChatEventInput & { platform: 'slack' };

/** What the normalizer needs to know about the install. */
export interface SlackContext {
  /** The bot's user id (auth.test `user_id`): its own messages are dropped, its mention becomes `@townhall_bot`. */
  botUserId: string;
  /** What the adapter knows about a person (users.info), when it knows. */
  person?: (userId: string) => SlackPerson | undefined;
}

/** The action id of Townhall's buttons (the ▲ upvote under a question card); a second button on a message gets `_1`… */
export const UPVOTE_ACTION_ID = 'townhall_upvote';

/** The Events API body (`event_callback`), as Socket Mode and HTTP both carry it. */
export interface SlackEventCallback {
  type: string;
  team_id: string;
  event_id?: string;
  event: Record<string, unknown>;
}

/** A slash command payload (form fields; Socket Mode sends the same fields as JSON). */
export interface SlackSlashCommand {
  team_id: string;
  channel_id: string;
  channel_name?: string;
  user_id: string;
  user_name?: string;
  command: string;
  text: string;
  response_url?: string;
  trigger_id: string;
}

/** The parts of a block_actions payload the normalizer reads. */
export interface SlackBlockActions {
  type: string;
  team?: { id: string } | null;
  user: { id: string; username?: string; name?: string; team_id?: string };
  container?: { type?: string; message_ts?: string; channel_id?: string; thread_ts?: string };
  channel?: { id: string };
  response_url?: string;
  actions?: { action_id: string; value?: string; action_ts?: string; type?: string }[];
}

/** Subtypes that are someone saying something (others — joins, topic changes, bot posts — are not messages). */
const SAYING = new Set([undefined, 'thread_broadcast', 'file_share', 'me_message']);

/** Turns an Events API callback into at most one event; undefined for what Townhall does not track. */
export function normalizeEvent(body: SlackEventCallback, ctx: SlackContext): SlackChatEvent | undefined {
  if (body.type !== 'event_callback' || !body.event) return undefined;
  const team = body.team_id;
  const e = body.event;
  const type = str(e.type);
  if (type === 'message' || type === 'app_mention') return message(team, e, ctx);
  if (type === 'reaction_added' || type === 'reaction_removed') return reaction(team, e, ctx, type === 'reaction_added');
  if (type === 'member_joined_channel' || type === 'member_left_channel') {
    const user = str(e.user);
    const channel = str(e.channel);
    if (!user || !channel || user === ctx.botUserId) return undefined;
    const kind = type === 'member_joined_channel' ? 'join' : 'leave';
    const at = str(e.event_ts);
    return { v: 1, id: eventId(kind, team, channel, user, at ?? ''), kind, platform: 'slack', chat: slackChat(team, channel), user: person(user, ctx), at: at ? tsToMs(at) : Date.now() };
  }
  return undefined;
}

function message(team: string, e: Record<string, unknown>, ctx: SlackContext): SlackChatEvent | undefined {
  const channel = str(e.channel);
  if (!channel) return undefined;
  const subtype = str(e.subtype);
  const chatType = e.channel_type === 'im' || channel.startsWith('D') ? 'private' : 'group';
  if (subtype === 'message_changed') {
    const m = (e.message ?? {}) as Record<string, unknown>;
    const before = (e.previous_message ?? {}) as Record<string, unknown>;
    const user = str(m.user);
    const ts = str(m.ts);
    // Slack also sends message_changed when it unfurls a link or counts a reply; only a changed text is an edit.
    if (!user || !ts || user === ctx.botUserId || m.bot_id || str(m.text) === str(before.text)) return undefined;
    const thread = threadOf(m);
    return {
      v: 1,
      id: eventId('edit', team, channel, ts, str((m.edited as { ts?: string } | undefined)?.ts) ?? str(e.ts) ?? ''),
      kind: 'edit',
      platform: 'slack',
      chat: slackChat(team, channel, thread),
      chatType,
      messageId: ts,
      user: person(user, ctx),
      ...textParts(str(m.text) ?? '', ctx),
      at: tsToMs(str(e.event_ts) ?? ts),
    };
  }
  if (subtype === 'message_deleted') {
    const ts = str(e.deleted_ts);
    const before = (e.previous_message ?? {}) as Record<string, unknown>;
    const user = str(before.user);
    if (!ts || !user) return undefined;
    return { v: 1, id: eventId('delete', team, channel, ts), kind: 'delete', platform: 'slack', chat: slackChat(team, channel, threadOf(before)), chatType, messageId: ts, user: person(user, ctx), at: tsToMs(str(e.event_ts) ?? ts) };
  }
  if (!SAYING.has(subtype)) return undefined;
  const user = str(e.user);
  const ts = str(e.ts);
  if (!user || !ts || user === ctx.botUserId || e.bot_id) return undefined;
  const thread = threadOf(e);
  const ev: SlackChatEvent = {
    v: 1,
    // One id for the `message` and the `app_mention` copy of the same message, so the queue keeps one.
    id: eventId('message', team, channel, ts),
    kind: 'message',
    platform: 'slack',
    chat: slackChat(team, channel, thread),
    chatType,
    messageId: ts,
    user: person(user, ctx),
    ...textParts(str(e.text) ?? '', ctx),
    at: tsToMs(ts),
  };
  if (thread) {
    ev.replyTo = thread;
    const parent = str(e.parent_user_id);
    if (parent) ev.replyToUser = slackUser(parent);
  }
  return ev;
}

function reaction(team: string, e: Record<string, unknown>, ctx: SlackContext, added: boolean): SlackChatEvent | undefined {
  const item = (e.item ?? {}) as { type?: string; channel?: string; ts?: string };
  const user = str(e.user);
  const name = str(e.reaction);
  if (item.type !== 'message' || !item.channel || !item.ts || !user || !name || user === ctx.botUserId) return undefined;
  const at = str(e.event_ts);
  return {
    v: 1,
    id: eventId('reaction', team, item.channel, item.ts, user, name, added ? 'add' : 'remove', at ?? ''),
    kind: 'reaction',
    platform: 'slack',
    // A reaction names its message by channel and ts only: the chat is the channel; the core finds the message by id.
    chat: slackChat(team, item.channel),
    messageId: item.ts,
    user: person(user, ctx),
    reaction: { emoji: emojiOfName(name), added },
    at: at ? tsToMs(at) : Date.now(),
  };
}

/**
 * What answering an interaction in place needs, as the event's opaque `replyHandle`: the response_url Slack gave it,
 * the person (for chat.postEphemeral once the URL is spent) and the slash command, when it was one.
 */
export interface ReplyHandle {
  url: string;
  user: string;
  command?: string;
}

/** Encodes a reply handle. */
export function encodeReplyHandle(h: ReplyHandle): string {
  return JSON.stringify(h);
}

/** Decodes a reply handle; undefined for anything this adapter did not write. */
export function decodeReplyHandle(s: string): ReplyHandle | undefined {
  try {
    const h = JSON.parse(s) as Partial<ReplyHandle>;
    if (typeof h.url !== 'string' || !/^https?:\/\//.test(h.url) || typeof h.user !== 'string') return undefined;
    return { url: h.url, user: h.user, ...(typeof h.command === 'string' ? { command: h.command } : {}) };
  } catch {
    return undefined;
  }
}

/** The slash command that runs any Townhall command named in its text (`/townhall help`). */
export const UMBRELLA_COMMAND = '/townhall';

/** A slash command (`/ask When?`) as a command event; its response_url is the handle to answer it privately. */
export function normalizeSlashCommand(p: SlackSlashCommand, ctx: SlackContext, now = Date.now()): SlackChatEvent {
  const chatType = p.channel_id.startsWith('D') || p.channel_name === 'directmessage' ? 'private' : 'group';
  // One slash command can carry them all: `/townhall ban @x spam` is `/ban @x spam` (an app registers few commands).
  const umbrella = p.command === UMBRELLA_COMMAND ? /^\s*\/?([A-Za-z][A-Za-z0-9_]{0,31})\b\s*([\s\S]*)$/.exec(p.text ?? '') : null;
  const command = umbrella ? umbrella[1]!.toLowerCase() : p.command.replace(/^\//, '');
  const args = textParts(umbrella ? umbrella[2]! : (p.text ?? ''), ctx);
  return {
    v: 1,
    id: eventId('command', p.team_id, p.trigger_id),
    kind: 'command',
    platform: 'slack',
    chat: slackChat(p.team_id, p.channel_id),
    chatType,
    user: person(p.user_id, ctx, p.user_name),
    text: `/${command} ${args.text}`.trim(),
    ...(args.mentions ? { mentions: args.mentions } : {}),
    ...(args.links ? { links: args.links } : {}),
    ...(p.response_url ? { replyHandle: encodeReplyHandle({ url: p.response_url, user: p.user_id, command }) } : {}),
    at: now,
  };
}

/** An upvote button click as a vote on the card's question; other buttons are not Townhall's. */
export function normalizeBlockActions(p: SlackBlockActions, ctx: SlackContext): SlackChatEvent | undefined {
  if (p.type !== 'block_actions') return undefined;
  const action = p.actions?.find((a) => a.action_id === UPVOTE_ACTION_ID || a.action_id.startsWith(`${UPVOTE_ACTION_ID}_`));
  const channel = p.container?.channel_id ?? p.channel?.id;
  const team = p.team?.id ?? p.user.team_id;
  if (!action?.value || !channel || !team) return undefined;
  const at = action.action_ts;
  return {
    v: 1,
    id: eventId('vote', team, channel, p.user.id, at ?? ''),
    kind: 'vote',
    platform: 'slack',
    chat: slackChat(team, channel, p.container?.thread_ts),
    ...(p.container?.message_ts ? { messageId: p.container.message_ts } : {}),
    user: person(p.user.id, ctx, p.user.name ?? p.user.username),
    vote: { target: action.value.slice(0, 100), added: true },
    ...(p.response_url ? { replyHandle: encodeReplyHandle({ url: p.response_url, user: p.user.id }) } : {}),
    at: at ? tsToMs(at) : Date.now(),
  };
}

/**
 * Slack's message text back to what the person typed: `&amp; &lt; &gt;` decoded, `<@U1>` as `@name`,
 * `<#C1|general>` as `#general`, `<https://x|label>` as `label (https://x)`; mentions and links listed.
 */
export function textParts(raw: string, ctx: SlackContext): { text: string; mentions?: string[]; links?: string[] } {
  const mentions: string[] = [];
  const links: string[] = [];
  const text = raw
    .replace(/<([^<>]+)>/g, (_all, inner: string) => {
      const [target = '', label] = inner.split('|', 2);
      if (target.startsWith('@')) {
        const id = target.slice(1);
        mentions.push(slackUser(id));
        // The @handle, as people type it (a display name may hold spaces): `/ban @dave` finds whom it names.
        return `@${id === ctx.botUserId ? BOT_USERNAME : (label ?? ctx.person?.(id)?.handle ?? id)}`;
      }
      if (target.startsWith('#')) return `#${label ?? target.slice(1)}`;
      if (target.startsWith('!')) return `@${(label ?? target.slice(1)).replace(/\^.*$/, '')}`;
      if (/^(https?|mailto):/.test(target)) {
        // Slack escapes & inside a link target too; the link as typed has it plain.
        const url = target.replace(/&amp;/g, '&');
        links.push(url);
        return (label && label !== target ? `${label} (${url})` : url).replace(/&/g, '&amp;');
      }
      return inner;
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  return { text, ...(mentions.length ? { mentions } : {}), ...(links.length ? { links } : {}) };
}

/** The thread a message is in: its root's ts; a root itself (thread_ts === ts) lives in the channel. */
function threadOf(m: Record<string, unknown>): string | undefined {
  const thread = str(m.thread_ts);
  return thread && thread !== str(m.ts) ? thread : undefined;
}

function person(id: string, ctx: SlackContext, fallbackName?: string): SlackChatEvent['user'] {
  const p = ctx.person?.(id);
  return {
    id: slackUser(id),
    name: (p?.name ?? fallbackName ?? id).slice(0, 256),
    ...(p?.handle ? { username: p.handle.slice(0, 256) } : {}),
    ...(p ? { isAdmin: p.isAdmin } : {}),
    ...(p?.isBot ? { isBot: true } : {}),
    ...(p?.lang ? { lang: p.lang } : {}),
  };
}

/** The inbound job id: stable across redelivery (from the message's ts, never Slack's event_id). */
export function eventId(kind: string, ...parts: string[]): string {
  return makeEventId('slack', kind, ...parts);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
