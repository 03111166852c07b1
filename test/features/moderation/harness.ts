/** A real pipeline (moderation first, then the command router, then a recorder standing in for AMA intake) on a real Redis. */
import type { Config } from '../../../config/schema.js';
import { CommandRegistry, helpCommand } from '../../../src/commands/router.js';
import { ChatEventSchema, type ChatEvent, type ChatEventInput } from '../../../src/core/events.js';
import { chatKey, userKey, type Platform } from '../../../src/core/ids.js';
import { createModeration } from '../../../src/features/moderation/index.js';
import { readAudit, type StoredAuditEntry } from '../../../src/pipeline/audit.js';
import { createHandleEvent, type Feature } from '../../../src/pipeline/handle-event.js';
import { testCore, queuedActions, type AnyAction } from '../../helpers/core.js';

/** The harness `modRig` returns. */
export type ModRig = Awaited<ReturnType<typeof modRig>>;

/** Builds the pipeline with a controllable clock; `send` feeds one event through it. */
export async function modRig(opts: { config?: Partial<Config> } = {}) {
  const clock = { t: Date.UTC(2026, 10, 26, 12, 0, 0) };
  const core = await testCore({ ...(opts.config ? { config: opts.config } : {}), now: () => clock.t });
  const registry = new CommandRegistry();
  const mod = createModeration(core.deps);
  registry.register(...mod.commands, helpCommand(registry));
  /** Every event that got past moderation and was not a command: what AMA intake, threads and digests would see. */
  const passed: ChatEvent[] = [];
  const recorder: Feature = {
    name: 'recorder',
    middleware: async (ctx, next) => {
      passed.push(ctx.event);
      await next();
    },
  };
  const handle = createHandleEvent(core.deps, [mod.feature, registry.feature(), recorder]);
  let n = 0;


  return {
    ...core,
    clock,
    mod,
    registry,
    passed,
    /** Parses (as the queue border does) and handles one event. */
    send: async (input: ChatEventInput) => handle(ChatEventSchema.parse(input)),
    /** Every action enqueued for a platform, oldest first. */
    actions: (platform: Platform = 'telegram'): Promise<AnyAction[]> => queuedActions(core.redis, core.keys, platform),
    /** The chat's audit log, newest first. */
    audit: async (group: string, limit = 200): Promise<StoredAuditEntry[]> => readAudit(core.redis, core.keys, group, limit),
    /** A unique event id. */
    nextId: () => `test/${++n}`,
    close: async () => {
      await core.cleanup();
    },
  };
}

/** A person in a test chat. */
export interface Person {
  id: string;
  name: string;
  username?: string;
  admin?: boolean;
}

let seq = 0;

/** A group message (or edit/command/join) by `who` in `chat` at the rig's clock. */
export function ev(
  rig: { clock: { t: number } },
  who: Person,
  text: string | undefined,
  o: Partial<ChatEventInput> & { platform?: Platform; chatId?: string } = {},
): ChatEventInput {
  const platform = o.platform ?? 'telegram';
  const chatId = o.chatId ?? '-1001';
  const id = ++seq;
  const { chatId: _c, ...rest } = o;
  return {
    v: 1,
    id: `${platform}/ev/${chatId}/${id}`,
    kind: 'message',
    platform,
    chat: chatKey(platform, chatId),
    chatType: 'group',
    messageId: String(5000 + id),
    user: {
      id: userKey(platform, who.id),
      name: who.name,
      ...(who.username ? { username: who.username } : {}),
      ...(who.admin !== undefined ? { isAdmin: who.admin } : {}),
    },
    ...(text !== undefined ? { text } : {}),
    at: rig.clock.t,
    source: 'live',
    ...rest,
  };
}

/** A join event. */
export function join(rig: { clock: { t: number } }, who: Person, o: Partial<ChatEventInput> & { platform?: Platform; chatId?: string } = {}): ChatEventInput {
  const e = ev(rig, who, undefined, { kind: 'join', ...o });
  delete e.messageId;
  return e;
}
