/**
 * Performing Actions on X: replies and numbered reply threads (resumable part by part), a quote post where the author
 * limited replies (when configured), DMs, likes, blocks and mutes of the bot's own account, deletes. Posts are gated
 * by the rate-limit window and the monthly post budget: when either is spent the platform's queue pauses.
 */
import type { TwitterApi } from 'twitter-api-v2';
import { chatKey, parseChatKey, parseUserKey, PlatformError, type ActionOf, type ActionResult, type PlatformAction } from '../../src/core/index.js';
import { PARTS_TTL_S, sendParts } from '../kit/index.js';
import { msUntilNextPeriod } from './budget.js';
import { storeKey, X_ENDPOINTS, type XContext } from './context.js';
import { refused, summarizeXError, toPerformError } from './errors.js';
import { hasUserContext } from './options.js';
import { distinctVariant, markdownToPlain, neutralizeMentions, splitThread } from './text.js';

/** Performs X actions for the adapter. */
export class XOutbound {
  constructor(
    private readonly ctx: XContext,
    /** Follows (`on`) or stops following hashtags: the adapter's 'listen' action goes to inbound. */
    private readonly listen: (hashtags: string[], on: boolean) => Promise<void>,
  ) {}

  async perform(action: PlatformAction): Promise<ActionResult> {
    switch (action.type) {
      case 'send':
      case 'answer':
        return this.send(action);
      case 'thread':
        return this.thread(action);
      case 'dm':
        return this.dm(action);
      case 'delete':
      case 'purge':
        return this.remove(action);
      case 'react':
        return this.call(action, () => this.ctx.client.v2.like(this.ctx.me.id, action.messageId));
      case 'ban':
        return this.call(action, () => this.ctx.client.v2.block(this.ctx.me.id, this.nativeUser(action.user)));
      case 'unban':
        return this.call(action, () => this.ctx.client.v2.unblock(this.ctx.me.id, this.nativeUser(action.user)));
      case 'mute':
        return this.call(action, () => this.ctx.client.v2.mute(this.ctx.me.id, this.nativeUser(action.user)));
      case 'unmute':
        return this.call(action, () => this.ctx.client.v2.unmute(this.ctx.me.id, this.nativeUser(action.user)));
      case 'listen':
        await this.listen(action.hashtags, action.on);
        return {};
      case 'edit':
      case 'pin':
      case 'slowmode':
        // X's API has none of them. Permanent for the action only: the conversation stays usable.
        throw refused(action.type, `x cannot ${action.type}`);
    }
  }

  private nativeUser(user: string): string {
    const { platform, userId } = parseUserKey(user);
    if (platform !== 'x') throw refused('user', `not an x user: ${platform}`);
    return userId;
  }

  private conversationOf(action: PlatformAction): string {
    let ref;
    try {
      ref = parseChatKey(action.chat);
    } catch {
      throw refused('chat', `not an x chat id: ${action.chat.slice(0, 80)}`);
    }
    if (ref.platform !== 'x') throw refused('chat', `not an x chat: ${action.chat.slice(0, 80)}`);
    return ref.chatId;
  }

  private async call(action: PlatformAction, fn: () => Promise<unknown>): Promise<ActionResult> {
    try {
      await fn();
      return {};
    } catch (err) {
      const e = toPerformError(err);
      this.ctx.log.warn({ action: action.type, id: action.id }, `x ${action.type} failed: ${e.message}`);
      throw e;
    }
  }

  private outgoingText(action: ActionOf<'send'> | ActionOf<'answer'> | ActionOf<'dm'>): string {
    const raw = action.text ?? '';
    const plain = action.format === 'markdown' ? markdownToPlain(raw) : raw;
    return this.ctx.opts.neutralizeMentions ? neutralizeMentions(plain) : plain;
  }

  /** Throws a global rate limit when the post window or the monthly post budget is spent: pause, don't hammer. */
  private async gatePost(): Promise<void> {
    const wait = await this.ctx.budgets.sharedWaitMs(X_ENDPOINTS.post);
    const pause = (retryAfterMs: number, message: string) => new PlatformError({ platform: 'x', method: X_ENDPOINTS.post, code: 429, scope: 'global', retryAfterMs, message });
    if (wait > 0) throw pause(wait, `x post window spent; resets in ${wait} ms`);
    if (!(await this.ctx.budgets.reservePost())) throw pause(msUntilNextPeriod(Date.now()), 'x monthly post budget exhausted');
  }

  /** One post, with the budget reserved before and given back when X did not publish it. */
  private async post(payload: { text: string; reply?: { in_reply_to_tweet_id: string }; quote_tweet_id?: string }): Promise<string> {
    // Read-only credentials stay read-only until an operator changes them: the action fails now, nothing is retried.
    if (!hasUserContext(this.ctx.opts.credentials)) throw refused(X_ENDPOINTS.post, 'x credentials are read-only (bearer token): cannot post');
    await this.gatePost();
    try {
      const res = await this.ctx.client.v2.tweet(payload);
      return res.data.id;
    } catch (err) {
      await this.ctx.budgets.refundPost().catch(() => undefined);
      throw err;
    }
  }

  /**
   * A reply, or a numbered thread of replies each answering the previous post, sent part by part with the kit's
   * resumable send: a retry after a failure halfway resumes at the first unsent post instead of posting it twice.
   */
  private async send(action: ActionOf<'send'> | ActionOf<'answer'>): Promise<ActionResult> {
    const conversation = this.conversationOf(action);
    const target = (action.type === 'answer' ? action.replyHandle : action.replyTo) ?? conversation;
    const parts = splitThread(this.outgoingText(action), { numbered: this.ctx.opts.numberThreads });
    if (parts.length === 0) throw refused(X_ENDPOINTS.post, 'x send without text');
    // Where a quote post had to start the thread (replies restricted), the thread lives in the quote's conversation.
    const quotedKey = storeKey('quoted', action.id);
    const quoted = await this.ctx.deps.store.get(quotedKey);
    let chat = quoted ? chatKey('x', quoted) : chatKey('x', conversation);
    const ids = await sendParts(this.ctx.deps.store, action.id, parts, async (text, i, sent) => {
      const prev = sent[i - 1] ?? target;
      let id: string;
      try {
        id = await this.post({ text, reply: { in_reply_to_tweet_id: prev } });
      } catch (err) {
        if (err instanceof PlatformError) throw err;
        const s = summarizeXError(err);
        // X says 403 for three reasons with one status and one problem type; which one is read from the posts.
        const why = s.status === 403 ? await this.whyReplyRefused(prev) : undefined;
        if (why === 'gone') throw refused(X_ENDPOINTS.post, `x post ${prev} is deleted or not visible: not answered`);
        if (why === 'restricted') {
          if (this.ctx.opts.onReplyRestricted === 'skip') {
            this.ctx.log.warn({ action: action.id, target: prev }, 'x reply restricted by the author: skipped, not retried');
            throw refused(X_ENDPOINTS.post, `x reply to ${prev} restricted by its author: skipped`, 'per-chat');
          }
          this.ctx.log.warn({ action: action.id, target: prev }, 'x reply restricted by the author: answering with a quote post');
          try {
            id = await this.post({ text, quote_tweet_id: prev });
          } catch (qerr) {
            throw qerr instanceof PlatformError ? qerr : toPerformError(qerr);
          }
          // A quote starts its own conversation; the rest of the thread continues there.
          chat = chatKey('x', id);
          await this.ctx.deps.store.set(quotedKey, id, 'EX', PARTS_TTL_S);
        } else if (why === 'duplicate') {
          // X refuses words the account already posted; the asker still gets them, marked as another post (once:
          // a variant refused again is a real duplicate of this very action and fails for good).
          this.ctx.log.info({ action: action.id, part: i + 1 }, 'x refused a duplicate post: sending it marked as another');
          try {
            id = await this.post({ text: distinctVariant(text, `${action.id}#${i}`), reply: { in_reply_to_tweet_id: prev } });
          } catch (derr) {
            if (derr instanceof PlatformError) throw derr;
            // The variant too: a duplicate of this very action. Permanent for it, not for the conversation.
            if (summarizeXError(derr).status === 403) throw refused(X_ENDPOINTS.post, 'x refused the post as duplicate content twice');
            throw toPerformError(derr, X_ENDPOINTS.post);
          }
        } else {
          const e = toPerformError(err);
          this.ctx.log.warn({ action: action.id, part: i + 1, of: parts.length, status: s.status }, `x post failed: ${e.message}`);
          throw e;
        }
      }
      return id;
    });
    const buttons = action.type === 'send' ? action.buttons : undefined;
    if (this.ctx.opts.likesAsVotes && buttons?.length && ids[0]) {
      // X has no buttons: a like on the question post is the upvote.
      const until = Date.now() + this.ctx.opts.likesTrackForMs;
      await this.ctx.deps.store.hset(storeKey('votes', 'posts'), ids[0], JSON.stringify({ target: buttons[0]!.data, chat, until }));
    }
    return { messageIds: ids, chat };
  }

  /**
   * Why X refused (403) a reply to `postId`, read from the posts rather than the refusal's wording: the post (or its
   * conversation's root) is gone; its author limited replies to people it mentions and the bot is not one
   * (`reply_settings`); or, replies being open, the text duplicates one the account posted.
   */
  private async whyReplyRefused(postId: string): Promise<'gone' | 'restricted' | 'duplicate'> {
    type Looked = { author_id?: string; reply_settings?: string; conversation_id?: string; entities?: { mentions?: { username?: string }[] } };
    const fields = { 'tweet.fields': ['author_id', 'reply_settings', 'conversation_id', 'entities'] } as Parameters<TwitterApi['v2']['singleTweet']>[1];
    const look = async (id: string): Promise<Looked | undefined> => {
      try {
        return ((await this.ctx.client.v2.singleTweet(id, fields)).data as Looked | undefined) ?? undefined;
      } catch {
        return undefined;
      }
    };
    const parent = await look(postId);
    if (!parent) return 'gone';
    const root = parent.conversation_id && parent.conversation_id !== postId ? await look(parent.conversation_id) : undefined;
    const me = this.ctx.me;
    for (const p of [parent, root]) {
      if (!p || p.author_id === me.id || (p.reply_settings ?? 'everyone') === 'everyone') continue;
      const mentioned = (p.entities?.mentions ?? []).some((m) => m.username?.toLowerCase() === me.username.toLowerCase());
      if (!mentioned) return 'restricted';
    }
    return 'duplicate';
  }

  /** On X a conversation is the thread: on a post, its conversation; otherwise a new root post titled `title`. */
  private async thread(action: ActionOf<'thread'>): Promise<ActionResult> {
    const title = action.title ?? action.text;
    if (action.messageId) {
      const sent = title ? await this.send({ v: action.v, id: action.id, platform: action.platform, chat: action.chat, priority: action.priority, format: action.format, type: 'send', text: title, replyTo: action.messageId }) : undefined;
      try {
        const t = await this.ctx.client.v2.singleTweet(action.messageId, { 'tweet.fields': ['conversation_id'] });
        // X answers a missing post with 200 and an `errors` list, not a 404.
        if (!t.data) throw new PlatformError({ platform: 'x', method: 'GET /2/tweets/:id', code: 'https://api.twitter.com/2/problems/resource-not-found', scope: 'permanent', message: `x post ${action.messageId} not found` });
        return { chat: chatKey('x', t.data.conversation_id ?? action.messageId), ...(sent?.messageIds ? { messageIds: sent.messageIds } : {}) };
      } catch (err) {
        throw err instanceof PlatformError ? err : toPerformError(err);
      }
    }
    if (!title) throw refused(X_ENDPOINTS.post, 'x thread needs a title or a messageId');
    const text = this.ctx.opts.neutralizeMentions ? neutralizeMentions(markdownToPlain(title)) : markdownToPlain(title);
    const [first] = splitThread(text, { numbered: false });
    // A root post of one part: a retry after a crash finds the root it already posted.
    const [id] = await sendParts(this.ctx.deps.store, action.id, [first!], async (part) => {
      try {
        return await this.post({ text: part });
      } catch (err) {
        throw err instanceof PlatformError ? err : toPerformError(err);
      }
    });
    return { chat: chatKey('x', id!), messageIds: [id!] };
  }

  private async dm(action: ActionOf<'dm'>): Promise<ActionResult> {
    const userId = this.nativeUser(action.user);
    // X DMs take 10,000 characters; longer answers are cut rather than split into a burst of DMs.
    const text = this.outgoingText(action).slice(0, 10_000);
    if (!text.trim()) throw refused('POST /2/dm_conversations/with/:id/messages', 'x dm without text');
    try {
      // X wraps the result in `data`; the library's type says it does not. Accept both.
      const raw = (await this.ctx.client.v2.sendDmToParticipant(userId, { text })) as unknown as { data?: { dm_conversation_id?: string; dm_event_id?: string } } & { dm_conversation_id?: string; dm_event_id?: string };
      const res = raw.data ?? raw;
      if (!res.dm_event_id || !res.dm_conversation_id) throw new Error('x dm answer without ids');
      return { messageIds: [res.dm_event_id], chat: chatKey('x', res.dm_conversation_id) };
    } catch (err) {
      const e = toPerformError(err);
      this.ctx.log.warn({ action: action.id }, `x dm failed: ${e.message}`);
      throw e;
    }
  }

  private async remove(action: ActionOf<'delete'> | ActionOf<'purge'>): Promise<ActionResult> {
    const ids = action.type === 'purge' ? (action.messageIds ?? []) : [action.messageId];
    for (const id of ids) {
      try {
        await this.ctx.client.v2.deleteTweet(id);
      } catch (err) {
        const e = toPerformError(err);
        // Purge goes on past posts that are already gone or not the bot's.
        if (action.type === 'purge' && e instanceof PlatformError && e.final) continue;
        throw e;
      }
    }
    return {};
  }
}
