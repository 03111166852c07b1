/**
 * Digest overviews from a configured model (`digest.llm`), through the real core: /summary is headed by the model's
 * sentences, the request carries the chat and the key from the environment, and a model that fails or hangs costs
 * the digest nothing but its overview.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ConfigSchema } from '../../../config/schema.js';
import { buildCore } from '../../../src/app/core.js';
import { messageEvent } from '../../helpers/events.js';
import { parsedHandler, testCore } from '../../helpers/core.js';

type Mode = 'answer' | 'error' | 'hang';
let mode: Mode = 'answer';
const calls: { auth: string | undefined; prompt: string }[] = [];
const hung: ServerResponse[] = [];
const server = createServer((req, res) => {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
  req.on('end', () => {
    const body = JSON.parse(raw) as { messages: { content: string }[] };
    calls.push({ auth: req.headers.authorization, prompt: body.messages.map((m) => m.content).join('\n') });
    if (mode === 'hang') return void hung.push(res);
    if (mode === 'error') return void res.writeHead(500).end('{"error":"overloaded"}');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'The group planned the token listing for Friday and asked about staking.' } }] }));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

const t = await testCore({ config: { digest: ConfigSchema.parse({ digest: { llm: { baseUrl: url, model: 'test-model', timeoutMs: 400 } } }).digest } });
const core = buildCore(t.deps, { llmApiKey: 'sk-test-key' });
const handle = parsedHandler(core);
const replyTo = async (id: string) =>
  (await t.outbound.queue('telegram').getJobs(['waiting', 'prioritized', 'delayed'])).map((j) => j.data as { text?: string; replyTo?: string }).find((a) => a.replyTo === id);

before(async () => {
  const lines = ['when is the listing?', 'friday I think', 'the team said friday 14:00 UTC', 'and staking?', 'staking comes later this month', 'ok thanks', 'any audit report?', 'yes, linked in the pinned post', 'great'];
  for (const [i, text] of lines.entries()) await handle(messageEvent({ chatId: 'ov', userId: String(10 + (i % 3)), messageId: `m${i}`, text }));
});
after(async () => {
  for (const r of hung) r.destroy();
  server.closeAllConnections();
  server.close();
  await t?.cleanup();
});

test('/summary is headed by the model overview; the prompt holds the chat and the key comes from the environment', async () => {
  mode = 'answer';
  calls.length = 0;
  await handle(messageEvent({ chatId: 'ov', userId: '20', messageId: 's1', text: '/summary 1h' }));
  const reply = await replyTo('s1');
  assert.ok(reply, '/summary answered');
  assert.match(reply.text!, /Summary\nThe group planned the token listing for Friday and asked about staking\./);
  assert.ok(reply.text!.indexOf('Summary') < reply.text!.indexOf('Main conversations'), 'the overview comes first');
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.auth, 'Bearer sk-test-key');
  assert.match(calls[0]!.prompt, /the team said friday 14:00 UTC/);
});

test('a model answering 500 or not at all: the digest goes out on time without an overview', async () => {
  for (const m of ['error', 'hang'] as const) {
    mode = m;
    const id = `s-${m}`;
    await handle(messageEvent({ chatId: 'ov', userId: '20', messageId: id, text: '/summary 1h' }));
    const reply = await replyTo(id);
    assert.ok(reply, `/summary answered when the model ${m === 'error' ? 'fails' : 'hangs'}`);
    assert.doesNotMatch(reply.text!, /Summary\n/);
    assert.match(reply.text!, /Main conversations/);
  }
});
