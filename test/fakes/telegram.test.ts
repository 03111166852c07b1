/** The fake Bot API behaves like Telegram where Townhall depends on it: envelope, offsets, long polling, webhook, rules. */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Telegram, TelegramError } from 'telegraf';
import { startTelegramFake, type TelegramFake } from '../../fakes/telegram/index.js';
import { waitFor } from '../helpers/core.js';


const G = '-1008000000001';

describe('fake Telegram Bot API', () => {
  let fake: TelegramFake;
  let tg: Telegram;
  const api = (method: string, body?: unknown, init: RequestInit = {}) =>
    fetch(`${fake.url}/bot${fake.token}/${method}`, body === undefined ? init : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });
  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as { ok: boolean; result?: unknown; error_code?: number; description?: string; parameters?: { retry_after?: number } } });

  before(async () => {
    fake = await startTelegramFake({ floodControl: false, webhookRetryMs: 50 });
    tg = new Telegram(fake.token, { apiRoot: fake.url });
  });
  after(() => fake.close());

  test('the {ok, result} / {ok:false, error_code, description} envelope, with a matching HTTP status', async () => {
    const me = await json(await api('getMe'));
    assert.equal(me.status, 200);
    assert.equal(me.body.ok, true);
    assert.deepEqual({ ...(me.body.result as object), can_join_groups: undefined }, { ...(me.body.result as object), can_join_groups: undefined, username: 'townhall_bot', is_bot: true, id: 7000000001 });
    assert.deepEqual(await json(await api('noSuchMethod')), { status: 404, body: { ok: false, error_code: 404, description: 'Not Found' } });
    const wrongToken = await fetch(`${fake.url}/bot123:wrong/getMe`);
    assert.deepEqual(await json(wrongToken), { status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } });
    assert.deepEqual(await json(await api('sendMessage', { chat_id: -100999, text: 'x' })), { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } });
    assert.equal((await json(await api('GETME'))).status, 200, 'method names are case-insensitive');
  });

  test('JSON, urlencoded, multipart and query-string bodies are all read', async () => {
    await fake.injectMessage({ chat: G, user: { id: '1', name: 'Ann' }, text: 'hello' });
    const viaJson = await json(await api('sendMessage', { chat_id: Number(G), text: 'json' }));
    const viaForm = await json(await api('sendMessage', undefined, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ chat_id: G, text: 'form' }).toString() }));
    const fd = new FormData();
    fd.set('chat_id', G);
    fd.set('text', 'multipart');
    fd.set('reply_markup', JSON.stringify({ inline_keyboard: [[{ text: 'Up', callback_data: 'up' }]] }));
    fd.set('document', new Blob([Buffer.from('file body')]), 'notes.txt');
    const viaMultipart = await json(await api('sendMessage', undefined, { method: 'POST', body: fd }));
    const viaQuery = await json(await api(`sendMessage?chat_id=${G}&text=query`));
    assert.deepEqual([viaJson, viaForm, viaMultipart, viaQuery].map((r) => [r.status, (r.body.result as { text: string }).text]), [
      [200, 'json'], [200, 'form'], [200, 'multipart'], [200, 'query'],
    ]);
    assert.deepEqual((viaMultipart.body.result as { reply_markup: unknown }).reply_markup, { inline_keyboard: [[{ text: 'Up', callback_data: 'up' }]] });
    assert.equal((await json(await api('sendMessage', undefined, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' }))).status, 400);
  });

  test('sendMessage returns a full Message: seconds timestamp, the bot as sender, thread and reply fields', async () => {
    const topic = fake.createTopic(G, 'Questions', { id: '2', name: 'Mod', admin: true });
    const q = await fake.injectMessage({ chat: G, user: { id: '3', name: 'Cy' }, text: 'question?', thread: topic });
    const m = (await tg.callApi('sendMessage', { chat_id: Number(G), text: 'answer', message_thread_id: Number(topic), reply_parameters: { message_id: Number(q.id) } })) as unknown as Record<string, unknown>;
    assert.ok(Number.isInteger(m.date) && Math.abs((m.date as number) - Date.now() / 1000) < 5, 'date in seconds');
    assert.deepEqual(m.from, { id: 7000000001, is_bot: true, first_name: 'Townhall', username: 'townhall_bot' });
    assert.equal(m.message_thread_id, Number(topic));
    assert.equal(m.is_topic_message, true);
    assert.equal((m.reply_to_message as { message_id: number }).message_id, Number(q.id));
    assert.deepEqual((m.chat as { id: number; type: string; is_forum: boolean }), { id: Number(G), type: 'supergroup', title: `Chat ${G}`, is_forum: true });
    // In a topic without an explicit reply, Telegram sets reply_to_message to the topic's first message.
    const plain = (await tg.callApi('sendMessage', { chat_id: Number(G), text: 'in topic', message_thread_id: Number(topic) })) as unknown as { reply_to_message: { message_id: number; forum_topic_created?: unknown } };
    assert.equal(plain.reply_to_message.message_id, Number(topic));
    assert.ok(plain.reply_to_message.forum_topic_created);
  });

  test("Telegram's refusals: General's thread id, too long, empty, bad markup, missing reply target", async () => {
    const refuse = async (payload: Record<string, unknown>) => {
      try {
        await tg.callApi('sendMessage', { chat_id: Number(G), ...payload } as never);
        return 'sent';
      } catch (e) {
        return (e as TelegramError).description;
      }
    };
    assert.equal(await refuse({ text: 'x', message_thread_id: 1 }), 'Bad Request: message thread not found');
    assert.equal(await refuse({ text: 'x'.repeat(4097) }), 'Bad Request: message is too long');
    assert.equal(await refuse({ text: '  ' }), 'Bad Request: message text is empty');
    assert.match(await refuse({ text: '<b>open', parse_mode: 'HTML' }), /^Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"/);
    assert.match(await refuse({ text: 'a < b', parse_mode: 'HTML' }), /^Bad Request: can't parse entities: /);
    assert.match(await refuse({ text: '<blink>x</blink>', parse_mode: 'HTML' }), /^Bad Request: can't parse entities: Unsupported start tag "blink"/);
    assert.match(await refuse({ text: 'Version 1.2', parse_mode: 'MarkdownV2' }), /Character '\.' is reserved/);
    assert.equal(await refuse({ text: 'x', reply_parameters: { message_id: 999_999 } }), 'Bad Request: message to be replied not found');
    assert.equal(await refuse({ text: 'x', reply_parameters: { message_id: 999_999, allow_sending_without_reply: true } }), 'sent');
    const html = (await tg.callApi('sendMessage', { chat_id: Number(G), text: '<b>bold</b> &amp; <a href="https://ex.am">link</a>', parse_mode: 'HTML' })) as unknown as { text: string; entities: unknown[] };
    assert.equal(html.text, 'bold & link');
    assert.deepEqual(html.entities, [{ type: 'bold', offset: 0, length: 4 }, { type: 'text_link', offset: 7, length: 4, url: 'https://ex.am' }]);
  });

  test('getUpdates: an update is returned again until an offset above it confirms it; negative offsets count from the end', async () => {
    const f = await startTelegramFake();
    try {
      const c = new Telegram(f.token, { apiRoot: f.url });
      for (const t of ['a', 'b', 'c']) await f.injectMessage({ chat: G, user: { id: '5', name: 'E' }, text: t });
      const first = (await c.callApi('getUpdates', { limit: 2 })) as unknown as { update_id: number }[];
      assert.equal(first.length, 2);
      const again = (await c.callApi('getUpdates', {})) as unknown as { update_id: number }[];
      assert.equal(again.length, 3, 'nothing confirmed without an offset');
      const rest = (await c.callApi('getUpdates', { offset: first[1]!.update_id + 1 })) as unknown as { update_id: number }[];
      assert.deepEqual(rest.map((u) => u.update_id), [first[1]!.update_id + 1]);
      assert.equal(f.pendingUpdates().length, 1, 'the two below the offset are forgotten');
      await f.injectMessage({ chat: G, user: { id: '5', name: 'E' }, text: 'd' });
      const last = (await c.callApi('getUpdates', { offset: -1 })) as unknown as { message: { text: string } }[];
      assert.deepEqual(last.map((u) => u.message.text), ['d']);
      assert.equal(f.pendingUpdates().length, 1);
    } finally {
      await f.close();
    }
  });

  test('getUpdates holds up to `timeout` seconds, answers at once when an update comes, and a second poller ends the first with 409', async () => {
    const f = await startTelegramFake();
    try {
      const c = new Telegram(f.token, { apiRoot: f.url });
      const t = Date.now();
      assert.deepEqual(await c.callApi('getUpdates', { timeout: 1 }), []);
      assert.ok(Date.now() - t >= 950, 'held for the timeout');
      // Held for 60 s unless an update comes: the test's own timeout (30 s) would fail first.
      const waiting = c.callApi('getUpdates', { timeout: 60 });
      setTimeout(() => void f.injectMessage({ chat: G, user: { id: '6', name: 'F' }, text: 'wake up' }), 200);
      const got = (await waiting) as unknown as unknown[];
      assert.equal(got.length, 1, 'answered as soon as the update came');
      const older = c.callApi('getUpdates', { offset: 999_999_999, timeout: 5 }).then(() => 'ok', (e: TelegramError) => e.code);
      await new Promise((r) => setTimeout(r, 100));
      const newer = c.callApi('getUpdates', { offset: 999_999_999, timeout: 0 });
      assert.equal(await older, 409);
      await newer;
    } finally {
      await f.close();
    }
  });

  test('reaction and chat_member updates come only when asked for in allowed_updates, and only to an admin bot', async () => {
    const f = await startTelegramFake();
    try {
      const c = new Telegram(f.token, { apiRoot: f.url });
      const m = await f.injectMessage({ chat: G, user: { id: '7', name: 'G' }, text: 'react to me' });
      await f.injectReaction({ chat: G, message: m.id, user: { id: '8', name: 'H' }, emoji: '👍' });
      const types = async (allowed?: string[]) =>
        ((await c.callApi('getUpdates', allowed ? { allowed_updates: allowed as never } : {})) as unknown as Record<string, unknown>[]).map((u) => Object.keys(u).find((k) => k !== 'update_id'));
      assert.deepEqual(await types(), ['message'], 'not by default');
      await c.callApi('getUpdates', { allowed_updates: ['message', 'message_reaction'] });
      await f.injectReaction({ chat: G, message: m.id, user: { id: '8', name: 'H' }, emoji: '🔥' });
      assert.deepEqual(await types(), ['message', 'message_reaction']);
      f.setBotStatus(G, 'member');
      await f.injectReaction({ chat: G, message: m.id, user: { id: '8', name: 'H' }, emoji: '👍' });
      assert.equal((await types(['message', 'message_reaction', 'my_chat_member'])).filter((t) => t === 'message_reaction').length, 1, 'none for a non-admin bot');
    } finally {
      await f.close();
    }
  });

  test('setWebhook pushes updates in order with the secret header, retries until a 2xx, and blocks getUpdates', async () => {
    const f = await startTelegramFake({ webhookRetryMs: 50 });
    const got: { secret: string | undefined; update: { update_id: number } }[] = [];
    let failFirst = true;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (failFirst) {
          failFirst = false;
          return void res.writeHead(500).end();
        }
        got.push({ secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined, update: JSON.parse(body) as { update_id: number } });
        // A webhook may answer with a method call; Telegram performs it.
        res.writeHead(200, { 'content-type': 'application/json' }).end(got.length === 1 ? JSON.stringify({ method: 'sendMessage', chat_id: Number(G), text: 'via webhook reply' }) : '');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const c = new Telegram(f.token, { apiRoot: f.url });
      await assert.rejects(c.callApi('setWebhook', { url: 'http://example.com/hook' }), /HTTPS URL must be provided/);
      await assert.rejects(c.callApi('setWebhook', { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, secret_token: 'bad secret!' }), /unallowed characters/);
      await c.callApi('setWebhook', { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, secret_token: 's3cret' });
      await f.injectMessage({ chat: G, user: { id: '9', name: 'I' }, text: 'one' });
      await f.injectMessage({ chat: G, user: { id: '9', name: 'I' }, text: 'two' });
      await waitFor(() => got.length === 2, 'two pushes');
      assert.deepEqual(got.map((g) => g.secret), ['s3cret', 's3cret']);
      assert.ok(got[0]!.update.update_id < got[1]!.update.update_id, 'in order, the failed one first');
      // The fake drops an update once it has read the 2xx, a moment after our handler saw the body.
      await waitFor(() => f.pendingUpdates().length === 0, 'both updates acknowledged and dropped');
      await waitFor(() => f.outbox(G).some((e) => e.text === 'via webhook reply'), 'the webhook reply performed');
      await assert.rejects(c.callApi('getUpdates', {}), (e: TelegramError) => e.code === 409);
      await c.callApi('deleteWebhook', {});
      assert.deepEqual(await c.callApi('getUpdates', {}), []);
    } finally {
      server.close();
      await f.close();
    }
  });

  test('moderation follows Telegram: rights needed, admins and owners protected, supergroup-only restrictions, until_date rules', async () => {
    const f = await startTelegramFake({ botIsAdmin: false });
    try {
      const c = new Telegram(f.token, { apiRoot: f.url });
      const m = await f.injectMessage({ chat: G, user: { id: '10', name: 'Spam' }, text: 'spam' });
      f.setOwner(G, { id: '11', name: 'Owner' });
      const desc = (p: Promise<unknown>) => p.then(() => 'ok', (e: TelegramError) => e.description);
      assert.equal(await desc(c.banChatMember(Number(G), 10)), 'Bad Request: not enough rights to restrict/ban chat member');
      assert.equal(await desc(c.deleteMessage(Number(G), Number(m.id))), "Bad Request: message can't be deleted");
      assert.equal(await desc(c.pinChatMessage(Number(G), Number(m.id))), 'Bad Request: not enough rights to manage pinned messages in the chat');
      f.setBotStatus(G, 'administrator');
      assert.equal(await desc(c.banChatMember(Number(G), 11)), "Bad Request: can't remove chat owner");
      f.setAdmin(G, { id: '12', name: 'Admin' });
      assert.equal(await desc(c.restrictChatMember(Number(G), 12, { permissions: { can_send_messages: false } })), 'Bad Request: user is an administrator of the chat');
      await f.injectMessage({ chat: '-4000001', user: { id: '13', name: 'Basic' }, text: 'basic group' });
      assert.equal(await desc(c.restrictChatMember(-4000001, 13, { permissions: { can_send_messages: false } })), 'Bad Request: method is available only for supergroups');
      // until_date closer than 30 s means forever.
      await c.restrictChatMember(Number(G), 10, { permissions: { can_send_messages: false }, until_date: Math.floor(Date.now() / 1000) + 10 });
      assert.equal(f.memberStatus(G, '10')!.until, 0);
      // unban without only_if_banned removes a member who was not banned.
      await c.unbanChatMember(Number(G), 10);
      assert.equal(f.memberStatus(G, '10')!.status, 'left');
      assert.equal(await desc(c.callApi('createForumTopic', { chat_id: -4000001, name: 'x' })), 'Bad Request: the chat is not a forum');
      assert.equal(await desc(c.deleteMessage(Number(G), 999_999)), 'Bad Request: message to delete not found');
      assert.equal(await desc(c.callApi('setMessageReaction', { chat_id: Number(G), message_id: Number(m.id), reaction: [{ type: 'emoji', emoji: '🦖' as never }] })), 'Bad Request: REACTION_INVALID');
      assert.deepEqual(f.outbox(G).map((e) => e.type), ['mute', 'unban']);
    } finally {
      await f.close();
    }
  });

  test('test hooks: the next call fails with 429/500/403 as asked, and telegraf sees the real error shape', async () => {
    fake.failNext('sendMessage', { code: 429, retryAfter: 7 });
    const e429 = await tg.sendMessage(Number(G), 'x').catch((e: TelegramError) => e);
    assert.ok(e429 instanceof TelegramError);
    assert.deepEqual([e429.code, e429.description, e429.parameters?.retry_after], [429, 'Too Many Requests: retry after 7', 7]);
    fake.failNext('*', { code: 500 });
    assert.equal((await tg.sendMessage(Number(G), 'x').catch((e: TelegramError) => e) as TelegramError).code, 500);
    fake.failNext('sendMessage', { code: 403, chat: '-100777' });
    assert.ok(await tg.sendMessage(Number(G), 'other chat unaffected'));
    const raw = await json(await api('getMe'));
    assert.equal(raw.status, 200);
    const waited = fake.waitForCall('sendMessage', (c) => c.params.text === 'awaited');
    await tg.sendMessage(Number(G), 'awaited');
    assert.equal((await waited).status, 200);
  });

  test('flood control: a group gets 429 with retry_after past its budget', async () => {
    const f = await startTelegramFake({ floodControl: { perGroup: { points: 3, windowMs: 2000 }, global: null } });
    try {
      const c = new Telegram(f.token, { apiRoot: f.url });
      await f.injectMessage({ chat: G, user: { id: '14', name: 'J' }, text: 'hi' });
      for (let i = 0; i < 3; i++) await c.sendMessage(Number(G), `m${i}`);
      const e = (await c.sendMessage(Number(G), 'one too many').catch((x: TelegramError) => x)) as TelegramError;
      assert.equal(e.code, 429);
      assert.ok((e.parameters?.retry_after ?? 0) >= 1);
      assert.equal(f.floodRefusals(), 1);
    } finally {
      await f.close();
    }
  });

  test('sandbox surface: chats and users on first use, admin:true makes an administrator, outbox in order with contract fields', async () => {
    const f = await startTelegramFake();
    try {
      const c = new Telegram(f.token, { apiRoot: f.url });
      const { id } = await f.injectMessage({ chat: 'lobby', user: { id: 'alice', name: 'Alice', admin: true }, text: 'named chat' });
      const chatId = Number(f.chatId('lobby'));
      assert.ok(chatId < -1_000_000_000_000, 'a stable supergroup id for a name');
      assert.equal(f.chatId('lobby'), String(chatId));
      const admins = (await c.getChatAdministrators(chatId)).map((a) => a.user.id);
      assert.ok(admins.includes(Number(f.userId('alice'))));
      await c.sendMessage(chatId, 'reply', { reply_parameters: { message_id: Number(id) } });
      await c.callApi('setMessageReaction', { chat_id: chatId, message_id: Number(id), reaction: [{ type: 'emoji', emoji: '👍' }] });
      await c.callApi('banChatMember', { chat_id: chatId, user_id: 555, until_date: Math.floor(Date.now() / 1000) + 3600 });
      const out = f.outbox('lobby');
      assert.deepEqual(out.map((e) => e.type), ['send', 'react', 'ban']);
      assert.deepEqual({ ...out[0]!, at: 0 }, { type: 'send', chat: String(chatId), replyTo: id, messageId: String(Number(id) + 1), text: 'reply', at: 0 });
      assert.equal(out[2]!.user, '555');
      assert.ok(out[2]!.until! > Date.now(), 'until in milliseconds');
      assert.deepEqual(f.outbox('-100123'), []);
      const cb = await f.injectCallbackQuery({ chat: 'lobby', message: id, user: { id: 'alice', name: 'Alice' }, data: 'up' });
      assert.equal(await c.answerCbQuery(cb.id), true);
      await assert.rejects(c.answerCbQuery(cb.id), /query is too old/);
      await assert.rejects(c.setMyCommands([{ command: 'Bad Command', description: 'x' }]), /BOT_COMMAND_INVALID/);
    } finally {
      await f.close();
    }
  });
});
