/**
 * Slack ids in Townhall's prefixed form (contract §3): chats `slack:<team>:<channel>[:<thread_ts>]`, users
 * `slack:user:<id>`. A thread is named by its root message's `ts` (`1700000000.000100`), so a Slack chat id has up to
 * three parts after the platform, where Telegram and Discord have at most two.
 */

/** A Slack chat id: team, channel, optional thread root ts. */
// Slack's own ids are upper-case (T…, C…, G…, D…); the sandbox lets people name channels freely, so any part without ':'.
export const SLACK_CHAT_RE = /^slack:(?!user:)([^:\s]+):([^:\s]+)(?::(\d{1,12}\.\d{1,6}))?$/;
/** A Slack user id. */
export const SLACK_USER_RE = /^slack:user:([^:\s]+)$/;

/** The parts of a Slack chat id. */
export interface SlackChatRef {
  team: string;
  channel: string;
  threadTs?: string;
}

/** `slack:<team>:<channel>` or, inside a thread, `slack:<team>:<channel>:<thread_ts>`. */
export function slackChat(team: string, channel: string, threadTs?: string): string {
  return threadTs ? `slack:${team}:${channel}:${threadTs}` : `slack:${team}:${channel}`;
}

/** `slack:user:<id>`. */
export function slackUser(id: string): string {
  return `slack:user:${id}`;
}

/** Splits a Slack chat id; undefined for anything else. */
export function parseSlackChat(key: string): SlackChatRef | undefined {
  const m = SLACK_CHAT_RE.exec(key);
  if (!m) return undefined;
  return m[3] ? { team: m[1]!, channel: m[2]!, threadTs: m[3] } : { team: m[1]!, channel: m[2]! };
}

/** The native user id of a `slack:user:<id>`; undefined for anything else. */
export function parseSlackUser(key: string): string | undefined {
  return SLACK_USER_RE.exec(key)?.[1];
}

/** Epoch milliseconds of a Slack `ts` (seconds and microseconds). */
export function tsToMs(ts: string): number {
  const [s = '0', frac = '0'] = ts.split('.');
  return Number(s) * 1000 + Math.floor(Number(frac.padEnd(6, '0').slice(0, 6)) / 1000);
}
