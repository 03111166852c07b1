/**
 * The Block Kit checks Slack makes before it posts a message: at most 50 blocks, known block types, section text up
 * to 3,000 characters, buttons with plain_text labels up to 75 characters, action ids up to 255, values up to 2,000,
 * unique block ids. A failure is `invalid_blocks` with one `errors` line per problem, as Slack answers.
 */

const BLOCK_TYPES = new Set(['section', 'actions', 'context', 'divider', 'header', 'image', 'rich_text', 'input', 'markdown']);

/** Problems Slack would list for these blocks (empty when they are fine). */
export function blockErrors(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return ['must provide an array [json-pointer:/blocks]'];
  const errors: string[] = [];
  if (blocks.length > 50) errors.push('no more than 50 items allowed [json-pointer:/blocks]');
  const ids = new Set<string>();
  blocks.forEach((raw, i) => {
    const at = `/blocks/${i}`;
    if (!raw || typeof raw !== 'object') return void errors.push(`must be an object [json-pointer:${at}]`);
    const b = raw as Record<string, unknown>;
    if (typeof b.type !== 'string' || !BLOCK_TYPES.has(b.type)) return void errors.push(`unsupported type: ${String(b.type)} [json-pointer:${at}/type]`);
    if (typeof b.block_id === 'string') {
      if (b.block_id.length > 255) errors.push(`must be less than 256 characters [json-pointer:${at}/block_id]`);
      if (ids.has(b.block_id)) errors.push(`block_id must be unique [json-pointer:${at}/block_id]`);
      ids.add(b.block_id);
    }
    if (b.type === 'section') {
      const text = b.text as Record<string, unknown> | undefined;
      if (!text && !Array.isArray(b.fields)) errors.push(`must provide text or fields [json-pointer:${at}]`);
      if (text) errors.push(...textErrors(text, `${at}/text`, 3000));
      if (b.accessory) errors.push(...elementErrors(b.accessory, `${at}/accessory`));
    } else if (b.type === 'header') {
      errors.push(...textErrors(b.text, `${at}/text`, 150, true));
    } else if (b.type === 'actions') {
      const els = b.elements;
      if (!Array.isArray(els) || els.length === 0) errors.push(`must provide at least 1 element [json-pointer:${at}/elements]`);
      else {
        if (els.length > 25) errors.push(`no more than 25 items allowed [json-pointer:${at}/elements]`);
        els.forEach((e, j) => errors.push(...elementErrors(e, `${at}/elements/${j}`)));
      }
    } else if (b.type === 'context') {
      const els = b.elements;
      if (!Array.isArray(els) || els.length === 0 || els.length > 10) errors.push(`must provide 1 to 10 elements [json-pointer:${at}/elements]`);
      else els.forEach((e, j) => errors.push(...textErrors(e, `${at}/elements/${j}`, 3000)));
    }
  });
  return errors;
}

function textErrors(raw: unknown, at: string, max: number, plainOnly = false): string[] {
  if (!raw || typeof raw !== 'object') return [`must be a text object [json-pointer:${at}]`];
  const t = raw as Record<string, unknown>;
  if (t.type !== 'plain_text' && (plainOnly || t.type !== 'mrkdwn')) return [`must be ${plainOnly ? 'plain_text' : 'plain_text or mrkdwn'} [json-pointer:${at}/type]`];
  if (typeof t.text !== 'string' || t.text.length === 0) return [`must be more than 0 characters [json-pointer:${at}/text]`];
  if (t.text.length > max) return [`must be less than ${max + 1} characters [json-pointer:${at}/text]`];
  return [];
}

function elementErrors(raw: unknown, at: string): string[] {
  if (!raw || typeof raw !== 'object') return [`must be an object [json-pointer:${at}]`];
  const e = raw as Record<string, unknown>;
  if (e.type !== 'button') return []; // the fake checks only the element Townhall uses
  const errors = textErrors(e.text, `${at}/text`, 75, true);
  if (typeof e.action_id === 'string' && e.action_id.length > 255) errors.push(`must be less than 256 characters [json-pointer:${at}/action_id]`);
  if (typeof e.value === 'string' && e.value.length > 2000) errors.push(`must be less than 2001 characters [json-pointer:${at}/value]`);
  if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') errors.push(`must be primary or danger [json-pointer:${at}/style]`);
  return errors;
}

/** The button with this action id in a message's blocks, when there is one. */
export function findButton(blocks: unknown[] | undefined, actionId: string): { blockId: string; button: Record<string, unknown> } | undefined {
  for (const raw of blocks ?? []) {
    const b = raw as Record<string, unknown>;
    const candidates = b.type === 'actions' && Array.isArray(b.elements) ? b.elements : b.type === 'section' && b.accessory ? [b.accessory] : [];
    for (const e of candidates as Record<string, unknown>[]) {
      if (e.type === 'button' && e.action_id === actionId) return { blockId: String(b.block_id ?? ''), button: e };
    }
  }
  return undefined;
}
