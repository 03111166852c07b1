/**
 * Slack ids in Townhall's prefixed form (contract §3): chats `slack:<team>:<channel>[:<thread_ts>]`, users
 * `slack:user:<id>`. A thread is named by its root message's `ts` (`1700000000.000100`). The pattern is the registry's
 * (src/platform/slack.ts): the core reads `<team>:<channel>` as the chat and the ts as the thread.
 */
import { chatKey, parseChatKey, userKey } from '../../src/core/index.js';

/** The parts of a Slack chat id. */
export interface SlackChatRef {
  team: string;
  channel: string;
  threadTs?: string;
}

/** `slack:<team>:<channel>` or, inside a thread, `slack:<team>:<channel>:<thread_ts>`. */
export function slackChat(team: string, channel: string, threadTs?: string): string {
  return chatKey('slack', `${team}:${channel}`, threadTs);
}

/** `slack:user:<id>`. */
export function slackUser(id: string): string {
  return userKey('slack', id);
}

/** Splits a Slack chat id; undefined for anything else. */
export function parseSlackChat(key: string): SlackChatRef | undefined {
  let ref;
  try {
    ref = parseChatKey(key);
  } catch {
    return undefined;
  }
  const [team, channel] = ref.chatId.split(':');
  if (ref.platform !== 'slack' || !team || !channel) return undefined;
  return ref.threadId ? { team, channel, threadTs: ref.threadId } : { team, channel };
}

/** Epoch milliseconds of a Slack `ts` (seconds and microseconds). */
export function tsToMs(ts: string): number {
  const [s = '0', frac = '0'] = ts.split('.');
  return Number(s) * 1000 + Math.floor(Number(frac.padEnd(6, '0').slice(0, 6)) / 1000);
}
