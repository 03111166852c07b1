/**
 * Slack names reactions (`+1`, `tada`) where the core speaks Unicode (👍). reactions.add refuses Unicode
 * (`invalid_name`), so the adapter maps both ways; a name without a Unicode form passes through as `:name:`.
 */

const NAME_TO_EMOJI: Record<string, string> = {
  '+1': '👍',
  thumbsup: '👍',
  '-1': '👎',
  thumbsdown: '👎',
  heart: '❤️',
  tada: '🎉',
  white_check_mark: '✅',
  eyes: '👀',
  pray: '🙏',
  joy: '😂',
  fire: '🔥',
  rocket: '🚀',
  writing_hand: '✍️',
  pushpin: '📌',
  studio_microphone: '🎙️',
  question: '❓',
  warning: '⚠️',
  x: '❌',
  no_entry_sign: '🚫',
  arrow_up: '⬆️',
  ok_hand: '👌',
};

const EMOJI_TO_NAME: Record<string, string> = Object.fromEntries(
  Object.entries(NAME_TO_EMOJI)
    .filter(([name]) => name !== 'thumbsup' && name !== 'thumbsdown')
    .map(([name, emoji]) => [emoji.replace(/\uFE0F/g, ''), name]),
);

/** The emoji the core sees for a Slack reaction name (skin tones dropped); unknown names stay `:name:`. */
export function emojiOfName(name: string): string {
  const base = name.replace(/::skin-tone-[2-6]$/, '');
  return NAME_TO_EMOJI[base] ?? `:${base}:`;
}

/** The Slack name for an emoji the core asks for (`👍` → `+1`, `:tada:` → `tada`); undefined when Slack has none we know. */
export function nameOfEmoji(emoji: string): string | undefined {
  const named = /^:([a-z0-9_+'-]+):$/.exec(emoji);
  if (named) return named[1];
  return EMOJI_TO_NAME[emoji.replace(/\uFE0F/g, '')];
}
