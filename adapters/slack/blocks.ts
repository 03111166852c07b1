/**
 * Block Kit for a message with Townhall's buttons under it (the ▲ upvote of a question card): the text in sections,
 * then one actions block. A button's `value` is the action's button data, which comes back in the click as the vote
 * target. The `text` sent beside the blocks stays what notifications and screen readers show.
 */
import { SLACK_SECTION_CHARS, splitMrkdwn } from './format.js';
import { UPVOTE_ACTION_ID } from './normalize.js';

/** A button as an action carries it. */
export interface ActionButton {
  label: string;
  data: string;
}

/** A Block Kit block (Slack validates the shape: `invalid_blocks`). */
export type Block = Record<string, unknown>;

/**
 * The blocks of a message: `text` (as the action's format renders it for Slack) in sections of at most 3,000
 * characters — mrkdwn for markdown, plain_text (shown literally, never a mention) for plain — and the buttons.
 * `plain` is the text before escaping, which a plain_text object takes as it is.
 */
export function messageBlocks(o: { rendered: string; mrkdwn: boolean; plain: string; buttons: readonly ActionButton[] }): Block[] {
  const body = o.mrkdwn ? o.rendered : o.plain;
  const sections = body.trim() ? splitMrkdwn(body, SLACK_SECTION_CHARS) : [];
  const blocks: Block[] = sections.slice(0, 40).map((part, i) => ({ type: 'section', block_id: `t${i}`, text: { type: o.mrkdwn ? 'mrkdwn' : 'plain_text', text: part } }));
  if (o.buttons.length) {
    blocks.push({
      type: 'actions',
      block_id: 'townhall',
      elements: o.buttons.slice(0, 25).map((b, i) => ({
        type: 'button',
        action_id: i === 0 ? UPVOTE_ACTION_ID : `${UPVOTE_ACTION_ID}_${i}`,
        text: { type: 'plain_text', text: clip(b.label || '▲', 75), emoji: true },
        value: b.data.slice(0, 2000),
      })),
    });
  }
  return blocks;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
