/**
 * Block Kit for Townhall's question card: the question in a section (mrkdwn, user text escaped), a context line with
 * the asker and the votes, and an actions block with the upvote button. The `text` beside the blocks is what
 * notifications and screen readers show; Slack wants it whenever blocks are sent.
 */
import { escapeMrkdwn, SLACK_SECTION_CHARS } from './format.js';
import { UPVOTE_ACTION_ID } from './normalize.js';

/** What a question card shows. */
export interface QuestionCard {
  /** The question's number in the AMA. */
  n: number;
  /** The question as asked (user text). */
  text: string;
  votes: number;
  /** Who asked, as a display name (user text). */
  askedBy?: string;
  status?: 'open' | 'answered' | 'rejected';
  /** What the button's click reports back (the vote target, at most 100 characters for the event). */
  target: string;
  /** The button's label (default "👍 Upvote"). */
  label?: string;
}

/** Block Kit (and fallback text) for a question card with an upvote button; no button once it is closed. */
export function questionCardBlocks(card: QuestionCard): { text: string; blocks: Record<string, unknown>[] } {
  const question = clip(escapeMrkdwn(card.text), SLACK_SECTION_CHARS - 16);
  const votes = `${card.votes} vote${card.votes === 1 ? '' : 's'}`;
  const context = [card.askedBy ? `asked by ${escapeMrkdwn(card.askedBy)}` : undefined, votes, card.status && card.status !== 'open' ? card.status : undefined].filter(Boolean).join(' · ');
  const blocks: Record<string, unknown>[] = [
    { type: 'section', block_id: `q${card.n}`, text: { type: 'mrkdwn', text: `*Q${card.n}* ${question}` } },
    { type: 'context', block_id: `q${card.n}-meta`, elements: [{ type: 'mrkdwn', text: context }] },
  ];
  if ((card.status ?? 'open') === 'open') {
    blocks.push({
      type: 'actions',
      block_id: `q${card.n}-actions`,
      elements: [{ type: 'button', action_id: UPVOTE_ACTION_ID, text: { type: 'plain_text', text: clip(card.label ?? '👍 Upvote', 75), emoji: true }, value: card.target.slice(0, 2000) }],
    });
  }
  return { text: clip(`Q${card.n}: ${escapeMrkdwn(card.text)} (${votes})`, 4000), blocks };
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1).replace(/&[a-z]{0,4}$/, '')}…`;
}
