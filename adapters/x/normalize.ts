/** X posts (API v2 payloads) to ChatEvents: pure functions, table-tested on recorded payloads. */
import { z } from 'zod';
import { chatKey, makeEventId, MAX_TEXT_CHARS, userKey, type ChatEventInput } from '../../src/core/index.js';

const id = z.string().regex(/^[0-9A-Za-z_-]{1,40}$/);
/** Conversation ids are post ids on X; the sandbox may name them, so anything a chat key can hold is accepted. */
const conversationId = z.string().regex(/^[^\s:/]{1,100}$/);

/** The fields of a v2 post Townhall reads; anything else in the payload is ignored. */
export const XPostSchema = z.object({
  id,
  text: z.string().max(MAX_TEXT_CHARS),
  author_id: id,
  conversation_id: conversationId.optional(),
  created_at: z.string().max(40).optional(),
  lang: z.string().max(35).optional(),
  in_reply_to_user_id: id.optional(),
  referenced_tweets: z.array(z.object({ type: z.string().max(20), id })).max(10).optional(),
  note_tweet: z.object({ text: z.string().max(MAX_TEXT_CHARS) }).partial().optional(),
  entities: z
    .object({
      urls: z
        .array(z.object({ url: z.string().max(2048), expanded_url: z.string().max(2048).optional(), unwound_url: z.string().max(2048).optional() }))
        .max(100)
        .optional(),
      mentions: z.array(z.object({ username: z.string().max(64), id: id.optional() })).max(100).optional(),
      hashtags: z.array(z.object({ tag: z.string().max(140) })).max(100).optional(),
    })
    .optional(),
});
/** A validated v2 post. */
export type XPost = z.infer<typeof XPostSchema>;

/** The fields of a v2 user Townhall reads. */
export const XUserSchema = z.object({ id, name: z.string().max(256), username: z.string().max(64) });
/** A validated v2 user. */
export type XUser = z.infer<typeof XUserSchema>;

/** Where a post was found: the mentions timeline, a hashtag search, or the filtered stream. */
export type XSource = 'mentions' | 'search' | 'stream';

/** What normalizing needs besides the post. */
export interface NormalizeContext {
  /** Authors from `includes.users`, by id. */
  users: ReadonlyMap<string, XUser>;
  /** The bot's own user id. */
  botUserId: string;
  /** The adapter's view of who moderates (X has no chat admins). */
  isAdmin: (userId: string, username: string | undefined, conversationId: string) => boolean;
  source: XSource;
  /** Receive time, used when the post has no created_at. */
  now: number;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** X returns post text with &amp;, &lt; and &gt; escaped; Townhall stores what the person typed. */
export function unescapeXText(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m] ?? m);
}

/** The post's full text (long posts live in note_tweet) with t.co links replaced by where they lead. */
export function expandedText(post: XPost): { text: string; links: string[] } {
  let text = post.note_tweet?.text ?? post.text;
  const links: string[] = [];
  for (const u of post.entities?.urls ?? []) {
    const target = u.unwound_url ?? u.expanded_url;
    if (!target) continue;
    // By string, not by index: X's indices count code points and note_tweet text has its own.
    text = text.split(u.url).join(target);
    if (!links.includes(target)) links.push(target);
  }
  return { text: unescapeXText(text), links };
}

/** One v2 post to a ChatEvent; the event id is stable, so a post seen twice (mentions and search, or a re-poll) is one job. */
export function normalizePost(post: XPost, ctx: NormalizeContext): ChatEventInput {
  const author = ctx.users.get(post.author_id);
  const conversation = post.conversation_id ?? post.id;
  const { text, links } = expandedText(post);
  const repliedTo = post.referenced_tweets?.find((r) => r.type === 'replied_to')?.id;
  const at = post.created_at ? Date.parse(post.created_at) : NaN;
  const mentions = [...new Set((post.entities?.mentions ?? []).map((m) => m.username))];
  const event: ChatEventInput = {
    v: 1,
    id: makeEventId('x', 'message', post.id),
    kind: 'message',
    platform: 'x',
    chat: chatKey('x', conversation),
    chatType: 'group',
    messageId: post.id,
    user: {
      id: userKey('x', post.author_id),
      name: author?.name ?? author?.username ?? post.author_id,
      ...(author ? { username: author.username } : {}),
      isBot: post.author_id === ctx.botUserId,
      isAdmin: ctx.isAdmin(post.author_id, author?.username, conversation),
      // X reports the post's language, not the person's; it is the best hint Townhall gets.
      ...(post.lang && post.lang !== 'und' && post.lang !== 'zxx' ? { lang: post.lang } : {}),
    },
    text: text.slice(0, MAX_TEXT_CHARS),
    // Replies are answered in place by replying to the post itself.
    replyHandle: post.id,
    at: Number.isFinite(at) && at > 0 ? at : ctx.now,
    source: 'live',
    url: author ? `https://x.com/${author.username}/status/${post.id}` : `https://x.com/i/web/status/${post.id}`,
    raw: {
      source: ctx.source,
      conversation_id: conversation,
      ...(post.lang ? { lang: post.lang } : {}),
      ...(post.referenced_tweets ? { referenced_tweets: post.referenced_tweets } : {}),
    },
  };
  if (repliedTo) event.replyTo = repliedTo;
  if (repliedTo && post.in_reply_to_user_id) event.replyToUser = userKey('x', post.in_reply_to_user_id);
  if (mentions.length) event.mentions = mentions;
  if (links.length) event.links = links;
  return event;
}

/** A like (or its removal) on a tracked question post, as a vote. */
export function normalizeLike(input: {
  postId: string;
  chat: string;
  target: string;
  user: XUser;
  added: boolean;
  /** How many times this person's like on this post changed before: a re-like is a new event, not a duplicate. */
  generation: number;
  isAdmin: boolean;
  now: number;
}): ChatEventInput {
  return {
    v: 1,
    id: makeEventId('x', 'vote', input.postId, input.user.id, input.generation),
    kind: 'vote',
    platform: 'x',
    chat: input.chat,
    chatType: 'group',
    messageId: input.postId,
    user: { id: userKey('x', input.user.id), name: input.user.name, username: input.user.username, isAdmin: input.isAdmin },
    vote: { target: input.target, added: input.added },
    at: input.now,
    source: 'live',
  };
}
