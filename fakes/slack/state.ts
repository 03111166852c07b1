/** The fake Slack's workspace: one team, its users, channels, messages (by `ts`), reactions and pins, and what the bot did. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { OutboxEntry, SandboxUser } from '../../src/core/index.js';

/** A workspace member (or the bot user). */
export interface SlackUser {
  id: string;
  name: string;
  realName: string;
  isAdmin: boolean;
  isOwner: boolean;
  isBot: boolean;
  botId?: string;
  deleted: boolean;
}

/** A conversation: public or private channel, or a DM with the bot. */
export interface SlackChannel {
  id: string;
  name: string;
  kind: 'public' | 'private' | 'im';
  isGeneral: boolean;
  isArchived: boolean;
  created: number;
  members: Set<string>;
  /** For a DM: the person on the other side. */
  user?: string;
  /** Message timestamps, oldest first (thread replies included). */
  order: string[];
}

/** A stored message. */
export interface SlackMessage {
  ts: string;
  channel: string;
  user: string;
  botId?: string;
  appId?: string;
  text: string;
  blocks?: unknown[];
  threadTs?: string;
  replyTs: string[];
  replyUsers: Set<string>;
  edited?: { user: string; ts: string };
  reactions: Map<string, Set<string>>;
  pinned: boolean;
  subtype?: string;
  clientMsgId?: string;
  /** Message metadata an app attached (chat.postMessage `metadata`); listed only to callers that ask for it. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/** Unicode emoji the sandbox accepts, with the name Slack reports for them (Slack stores reactions by name). */
export const EMOJI_NAMES: Record<string, string> = {
  '👍': '+1',
  '👎': '-1',
  '❤️': 'heart',
  '🎉': 'tada',
  '✅': 'white_check_mark',
  '👀': 'eyes',
  '🙏': 'pray',
  '😂': 'joy',
  '🔥': 'fire',
  '🚀': 'rocket',
};
/** Aliases Slack folds into one stored name (`thumbsup` is reported as `+1`). */
const ALIASES: Record<string, string> = { thumbsup: '+1', thumbsdown: '-1' };
/** What `reactions.add` accepts as a name: no colons, no Unicode (that is `invalid_name`), optional skin tone. */
export const REACTION_NAME_RE = /^[a-z0-9_+'-]{1,100}(::skin-tone-[2-6])?$/;

/** The stored name for a reaction given as Unicode or a name; undefined when Slack would refuse it. */
export function reactionName(input: string): string | undefined {
  const stripped = input.replace(/^:|:$/g, '');
  const name = EMOJI_NAMES[input] ?? EMOJI_NAMES[input.replace(/\uFE0F/g, '')] ?? stripped;
  if (!REACTION_NAME_RE.test(name)) return undefined;
  return ALIASES[name] ?? name;
}

// What a Slack client sends for mentions and links; everything else a person types has &, < and > escaped.
const CLIENT_TOKEN_RE = /<(?:@[A-Z0-9]+|#[A-Z0-9]+(?:\|[^<>]*)?|![a-z]+(?:\^[^<>|]*)?(?:\|[^<>]*)?|(?:https?|mailto):[^<>\s]+)>/g;

/** Text as a person types it, as Slack stores it: `&amp; &lt; &gt;`, with client mention and link tokens kept. */
export function typedToSlack(text: string): string {
  let out = '';
  let last = 0;
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  for (const m of text.matchAll(CLIENT_TOKEN_RE)) {
    out += esc(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + esc(text.slice(last));
}

/** The fake workspace. */
export class SlackState {
  readonly teamId: string;
  readonly teamDomain = 'townhall-fake';
  readonly appId: string;
  readonly bot: SlackUser;
  readonly users = new Map<string, SlackUser>();
  readonly channels = new Map<string, SlackChannel>();
  /** Messages by `${channel}/${ts}`. */
  readonly messages = new Map<string, SlackMessage>();
  readonly dms = new Map<string, string>();
  readonly outboxEntries: OutboxEntry[] = [];
  /** Workspace members removed with admin.users.remove. */
  readonly removed = new Set<string>();
  private lastTsMicros = 0;

  constructor(opts: { teamId?: string; appId?: string; botUserId?: string; botId?: string } = {}) {
    this.teamId = opts.teamId ?? 'T0TOWNHALL';
    this.appId = opts.appId ?? 'A0TOWNHALL';
    this.bot = {
      id: opts.botUserId ?? 'U0TOWNBOT',
      name: 'townhall_bot',
      realName: 'Townhall',
      isAdmin: false,
      isOwner: false,
      isBot: true,
      botId: opts.botId ?? 'B0TOWNBOT',
      deleted: false,
    };
    this.users.set(this.bot.id, this.bot);
  }

  /** A fresh message timestamp: epoch seconds, a dot, six digits; strictly increasing, as Slack's are per channel. */
  nextTs(atMs = Date.now()): string {
    const micros = Math.max(atMs * 1000, this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    const s = Math.floor(micros / 1_000_000);
    return `${s}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  /** A user, created on first use; `admin` makes them a workspace admin (or takes it away). */
  ensureUser(u: SandboxUser | string): SlackUser {
    const id = typeof u === 'string' ? u : u.id;
    let user = this.users.get(id);
    if (!user) {
      const display = typeof u === 'string' ? `User ${id}` : u.name;
      user = { id, name: usernameOf(display, id), realName: display, isAdmin: false, isOwner: false, isBot: false, deleted: false };
      this.users.set(id, user);
    } else if (typeof u !== 'string' && u.name) {
      user.realName = u.name;
    }
    if (typeof u !== 'string' && u.admin !== undefined && !user.isBot) user.isAdmin = u.admin;
    return user;
  }

  /** A channel, created on first use (public unless the id starts with G or `kind` says so); the first one is #general. */
  ensureChannel(id: string, opts: { kind?: 'public' | 'private'; name?: string; botMember?: boolean } = {}): SlackChannel {
    let ch = this.channels.get(id);
    if (ch) return ch;
    const kind = opts.kind ?? (id.startsWith('G') ? 'private' : 'public');
    const isGeneral = ![...this.channels.values()].some((c) => c.isGeneral) && kind === 'public';
    ch = {
      id,
      name: opts.name ?? (isGeneral ? 'general' : id.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 80)),
      kind,
      isGeneral,
      isArchived: false,
      created: Math.floor(Date.now() / 1000),
      members: new Set(),
      order: [],
    };
    if (opts.botMember ?? true) ch.members.add(this.bot.id);
    this.channels.set(id, ch);
    return ch;
  }

  /** The DM between the bot and a user (a `D…` id). */
  dmWith(userId: string): { channel: SlackChannel; created: boolean } {
    const existing = this.dms.get(userId);
    if (existing) return { channel: this.channels.get(existing)!, created: false };
    const id = `D${randomBytes(5).toString('hex').toUpperCase()}`;
    const ch: SlackChannel = { id, name: id, kind: 'im', isGeneral: false, isArchived: false, created: Math.floor(Date.now() / 1000), members: new Set([this.bot.id, userId]), user: userId, order: [] };
    this.channels.set(id, ch);
    this.dms.set(userId, id);
    return { channel: ch, created: true };
  }

  /** A message by channel and ts. */
  message(channel: string, ts: string): SlackMessage | undefined {
    return this.messages.get(`${channel}/${ts}`);
  }

  /** Stores a message (a thread reply when `threadTs` names a message of the channel) and returns it. */
  addMessage(input: { channel: SlackChannel; user: SlackUser; text: string; blocks?: unknown[]; threadTs?: string; at?: number; subtype?: string; metadata?: SlackMessage['metadata'] }): SlackMessage {
    const ts = this.nextTs(input.at);
    const msg: SlackMessage = {
      ts,
      channel: input.channel.id,
      user: input.user.id,
      text: input.text,
      replyTs: [],
      replyUsers: new Set(),
      reactions: new Map(),
      pinned: false,
    };
    if (input.user.isBot) {
      msg.botId = input.user.botId ?? this.bot.botId!;
      msg.appId = this.appId;
    } else if (!input.subtype) {
      msg.clientMsgId = randomUUID();
    }
    if (input.blocks) msg.blocks = input.blocks;
    if (input.subtype) msg.subtype = input.subtype;
    if (input.metadata) msg.metadata = input.metadata;
    if (input.threadTs) {
      const parent = this.message(input.channel.id, input.threadTs);
      if (parent) {
        msg.threadTs = parent.threadTs ?? parent.ts;
        const root = this.message(input.channel.id, msg.threadTs)!;
        root.threadTs = root.ts;
        root.replyTs.push(ts);
        root.replyUsers.add(input.user.id);
      }
    }
    this.messages.set(`${input.channel.id}/${ts}`, msg);
    input.channel.order.push(ts);
    return msg;
  }

  /** Removes a message (and takes it out of its thread's reply list). */
  removeMessage(msg: SlackMessage): void {
    this.messages.delete(`${msg.channel}/${msg.ts}`);
    const ch = this.channels.get(msg.channel);
    if (ch) ch.order = ch.order.filter((t) => t !== msg.ts);
    if (msg.threadTs && msg.threadTs !== msg.ts) {
      const root = this.message(msg.channel, msg.threadTs);
      if (root) root.replyTs = root.replyTs.filter((t) => t !== msg.ts);
    }
  }

  /** A message as the Web API and the Events API render it. */
  wire(m: SlackMessage, opts: { withReactions?: boolean; withMetadata?: boolean } = {}): Record<string, unknown> {
    const out: Record<string, unknown> = { type: 'message' };
    if (m.subtype) out.subtype = m.subtype;
    out.text = m.text;
    out.user = m.user;
    if (m.botId) {
      out.bot_id = m.botId;
      out.app_id = m.appId;
    }
    if (m.clientMsgId) out.client_msg_id = m.clientMsgId;
    out.ts = m.ts;
    out.team = this.teamId;
    out.blocks = m.blocks ?? (m.botId || m.subtype ? undefined : richText(m.text));
    if (out.blocks === undefined) delete out.blocks;
    if (m.threadTs) {
      out.thread_ts = m.threadTs;
      if (m.threadTs === m.ts) {
        out.reply_count = m.replyTs.length;
        out.reply_users_count = m.replyUsers.size;
        out.reply_users = [...m.replyUsers];
        if (m.replyTs.length) out.latest_reply = m.replyTs[m.replyTs.length - 1];
      } else {
        const root = this.message(m.channel, m.threadTs);
        if (root) out.parent_user_id = root.user;
      }
    }
    if (m.edited) out.edited = m.edited;
    if (opts.withReactions && m.reactions.size) {
      out.reactions = [...m.reactions].map(([name, users]) => ({ name, users: [...users], count: users.size }));
    }
    if (m.pinned) out.pinned_to = [m.channel];
    if (opts.withMetadata && m.metadata) out.metadata = m.metadata;
    return out;
  }

  /** A user as users.info returns it. */
  userWire(u: SlackUser, includeLocale: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: u.id,
      team_id: this.teamId,
      name: u.name,
      deleted: u.deleted || this.removed.has(u.id),
      color: '9f69e7',
      real_name: u.realName,
      tz: 'Europe/Berlin',
      tz_label: 'Central European Time',
      tz_offset: 3600,
      profile: { real_name: u.realName, real_name_normalized: u.realName, display_name: u.isBot ? '' : u.realName, display_name_normalized: u.isBot ? '' : u.realName, team: this.teamId, ...(u.botId ? { bot_id: u.botId, api_app_id: this.appId } : {}) },
      is_admin: u.isAdmin,
      is_owner: u.isOwner,
      is_primary_owner: false,
      is_restricted: false,
      is_ultra_restricted: false,
      is_bot: u.isBot,
      is_app_user: false,
      updated: 1_700_000_000,
    };
    if (includeLocale) out.locale = 'en-US';
    return out;
  }

  /** A conversation as conversations.info / conversations.open return it. */
  channelWire(ch: SlackChannel, viewer: string): Record<string, unknown> {
    if (ch.kind === 'im') {
      return { id: ch.id, created: ch.created, is_archived: false, is_im: true, is_org_shared: false, context_team_id: this.teamId, user: ch.user, is_user_deleted: false, priority: 0 };
    }
    return {
      id: ch.id,
      name: ch.name,
      is_channel: ch.kind === 'public',
      is_group: ch.kind === 'private',
      is_im: false,
      is_mpim: false,
      is_private: ch.kind === 'private',
      created: ch.created,
      is_archived: ch.isArchived,
      is_general: ch.isGeneral,
      unlinked: 0,
      name_normalized: ch.name,
      is_shared: false,
      is_org_shared: false,
      is_member: ch.members.has(viewer),
      context_team_id: this.teamId,
      creator: this.bot.id,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
    };
  }

  /** reaction_added / reaction_removed as the Events API carries them. */
  reactionEvent(added: boolean, userId: string, name: string, msg: SlackMessage): Record<string, unknown> {
    return { type: added ? 'reaction_added' : 'reaction_removed', user: userId, reaction: name, item_user: msg.user, item: { type: 'message', channel: msg.channel, ts: msg.ts }, event_ts: this.nextTs() };
  }

  /** `channel_type` as message events carry it. */
  channelType(ch: SlackChannel): 'channel' | 'group' | 'im' {
    return ch.kind === 'public' ? 'channel' : ch.kind === 'private' ? 'group' : 'im';
  }

  /** Records what the bot did, in contract §7's terms. */
  record(entry: Omit<OutboxEntry, 'at'>): void {
    this.outboxEntries.push({ ...entry, at: Date.now() });
  }
}

/** The rich_text block Slack clients attach to what a person types. */
function richText(text: string): unknown[] {
  return [{ type: 'rich_text', block_id: randomBytes(3).toString('base64url'), elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }] }];
}

function usernameOf(display: string, id: string): string {
  return display.toLowerCase().replace(/[^a-z0-9._-]+/g, '.').replace(/^\.+|\.+$/g, '').slice(0, 21) || id.toLowerCase();
}
