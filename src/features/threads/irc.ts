/**
 * Reading the irc-disentanglement corpus (Kummerfeld et al. 2019) as Townhall chat messages.
 * Used by evaluation, fitting and tests; never ships data, only parses files given at run time.
 */
import { readFileSync } from 'node:fs';
import type { ChatMessage } from './types.js';

/** One log record of the corpus' jsonl files. */
export interface IrcRecord {
  id?: string;
  messages_ascii: string[];
  annotated_from: number;
  annotated_to: number;
  /** [parent, child] pairs; [i, i] = i starts a conversation. */
  links: [number, number][];
}

/** Read a jsonl file of log records. */
export function readRecords(path: string): IrcRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as IrcRecord);
}

const TIME = /^\[(\d\d):(\d\d)\]$/;

/**
 * Convert raw log lines to ChatMessages (id = line number). Lines carry only [HH:MM], so time is
 * minutes since the log start with midnight roll-over; `===` service lines take the previous time.
 * The nick rules follow the corpus tools: `<nick>` for messages, `* nick` for actions, and the
 * second token for `===` lines.
 */
export function recordToMessages(lines: readonly string[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let day = 0;
  let lastMin = -1;
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    const toks = line.split(/\s+/);
    const t0 = toks[0] ?? '';
    const tm = TIME.exec(t0);
    if (tm) {
      const mins = Number(tm[1]) * 60 + Number(tm[2]);
      if (lastMin >= 0 && mins < lastMin) day++;
      lastMin = mins;
      at = (day * 1440 + mins) * 60000;
      let user = toks[1] ?? '';
      let textStart = 2;
      if (user.startsWith('<') && user.endsWith('>')) user = user.slice(1, -1);
      if (user.length === 0 || user === '*') {
        user = toks[2] ?? '';
        textStart = 3;
      }
      out.push({ id: String(i), user, text: toks.slice(textStart).join(' '), at });
    } else {
      // "=== nick [host] has joined #ubuntu", "=== a is now known as b", etc.
      const user = toks[1] ?? '';
      out.push({ id: String(i), user, text: toks.slice(2).join(' '), at, system: true });
    }
  }
  return out;
}

/** Gold parents per annotated message: child line -> parent lines (self = starts a conversation). */
export function goldParents(rec: IrcRecord): Map<number, number[]> {
  const g = new Map<number, number[]>();
  for (const [a, b] of rec.links) {
    const child = Math.max(a, b);
    const parent = Math.min(a, b);
    const list = g.get(child);
    if (list) list.push(parent);
    else g.set(child, [parent]);
  }
  return g;
}
