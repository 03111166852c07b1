/** A real core pipeline with the AMA feature on a real Redis, a controllable clock, and readers for the outbound queues. */
import type { Config } from '../../../config/schema.js';
import { makeEventId } from '../../../src/core/index.js';
import { CommandRegistry } from '../../../src/commands/router.js';
import { ChatEventSchema, type ChatEventInput } from '../../../src/core/events.js';
import { chatKey, userKey, type Platform } from '../../../src/core/ids.js';
import { createHandleEvent } from '../../../src/pipeline/handle-event.js';
import { createAmaFeature, type AmaFeature } from '../../../src/features/ama/index.js';
import { testCore, queuedActions, type AnyAction } from '../../helpers/core.js';

/** 2026-01-05 12:00 UTC, a Monday: the tests' "now" unless they move the clock. */
export const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

let seq = 0;

/** A person on a platform. */
export interface Person {
  platform: Platform;
  id: string;
  name?: string;
  username?: string;
  admin?: boolean;
}

/** Builds the harness; `cleanup()` removes every key. */
export async function amaHarness(opts: { config?: Partial<Config>; start?: number } = {}) {
  let clock = opts.start ?? T0;
  const now = () => clock;
  const core = await testCore({ ...(opts.config ? { config: opts.config } : {}), now });
  const ama: AmaFeature = createAmaFeature(core.deps);
  const registry = new CommandRegistry();
  registry.register(...ama.commands);
  registry.setHostCheck(ama.hostCheck);
  const handle = createHandleEvent(core.deps, [registry.feature(), ama.feature]);

  /** Feeds one event through the pipeline (validated like the inbound worker does). */
  const feed = async (input: ChatEventInput) => {
    await handle(ChatEventSchema.parse(input));
  };

  /** A message from a person in a chat; returns its native id. */
  const say = async (who: Person, chat: string, text: string, extra: Partial<ChatEventInput> = {}): Promise<string> => {
    const messageId = extra.messageId ?? String(++seq + 5000);
    await feed({
      v: 1,
      id: makeEventId(who.platform, 'msg', chat, messageId),
      kind: 'message',
      platform: who.platform,
      chat: chatKey(who.platform, chat),
      chatType: 'group',
      messageId,
      user: { id: userKey(who.platform, who.id), name: who.name ?? `User ${who.id}`, ...(who.username ? { username: who.username } : {}), ...(who.admin ? { isAdmin: true } : {}) },
      text,
      at: clock,
      source: 'live',
      ...extra,
    });
    return messageId;
  };

  /** Every job on a platform's outbound queue (any state), oldest first. */
  const jobs = (p: Platform): Promise<AnyAction[]> => queuedActions(core.redis, core.keys, p);

  return {
    ...core,
    ama,
    env: ama.env,
    registry,
    handle,
    feed,
    say,
    jobs,
    now,
    /** Moves the clock forward. */
    advance(ms: number) {
      clock += ms;
    },
    /** Sets the clock. */
    setClock(ms: number) {
      clock = ms;
    },
    /** Runs due scheduler tasks until none is left due (bounded). */
    async runDue(max = 20): Promise<number> {
      let total = 0;
      for (let i = 0; i < max; i++) {
        const n = await ama.tick();
        total += n;
        if (!n) break;
      }
      return total;
    },
    async cleanup() {
      await core.cleanup();
    },
  };
}

/** The harness type. */
export type AmaHarness = Awaited<ReturnType<typeof amaHarness>>;

/** A unique event id for hand-made events. */
export function eventId(tag: string): string {
  return `test/${tag}/${++seq}`;
}
