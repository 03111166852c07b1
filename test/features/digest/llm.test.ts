import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExtractiveProvider, OpenAiCompatibleProvider, chunkLines, createSummaryProvider, estimateTokens } from '../../../src/features/digest/llm.js';

interface Seen {
  body: { model: string; max_tokens: number; messages: { role: string; content: string }[] };
  auth: string | undefined;
}

// A local fake of the chat-completions endpoint on 127.0.0.1 and a random port.
async function fakeServer(handler: (seen: Seen, res: ServerResponse, n: number) => void): Promise<{ url: string; calls: Seen[]; close: () => Promise<void> }> {
  const calls: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/v1/chat/completions');
      const seen: Seen = { body: JSON.parse(raw) as Seen['body'], auth: req.headers.authorization };
      calls.push(seen);
      handler(seen, res, calls.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(res: ServerResponse, content: string): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
}

const chat = [
  { user: 'Amanda', text: 'I baked cookies. Do you want some?' },
  { user: 'Jerry', text: 'Sure!' },
  { user: 'Amanda', text: "I'll bring you some tomorrow :-)" },
];

test('a good answer from the endpoint is used', async () => {
  const srv = await fakeServer((_s, res) => answer(res, 'Amanda baked cookies and will bring Jerry some tomorrow.'));
  try {
    const p = new OpenAiCompatibleProvider({ baseUrl: srv.url, model: 'test-model', apiKey: 'k-123' });
    const r = await p.summarize(chat, { maxWords: 30, lang: 'en' });
    assert.deepEqual(r, { text: 'Amanda baked cookies and will bring Jerry some tomorrow.', source: 'llm' });
    assert.equal(srv.calls.length, 1);
    assert.equal(srv.calls[0]?.auth, 'Bearer k-123');
    assert.equal(srv.calls[0]?.body.model, 'test-model');
    assert.match(srv.calls[0]?.body.messages[1]?.content ?? '', /Amanda: I baked cookies/);
  } finally {
    await srv.close();
  }
});

test('a long window is map-reduced in several calls, each within the context size', async () => {
  const contextTokens = 600;
  const srv = await fakeServer((seen, res, n) => {
    const sys = seen.body.messages[0]?.content ?? '';
    const user = seen.body.messages[1]?.content ?? '';
    // The request must fit: prompt estimate + answer budget <= context.
    assert.ok(estimateTokens(sys) + estimateTokens(user) + seen.body.max_tokens <= contextTokens, 'request overflows the context');
    answer(res, /merge/i.test(sys) ? 'FINAL merged summary.' : `partial ${n}: people discussed release plans.`);
  });
  try {
    const lines = Array.from({ length: 300 }, (_, i) => ({ user: `user${i % 7}`, text: `message number ${i} about the release plan and the venue for the meetup` }));
    const p = new OpenAiCompatibleProvider({ baseUrl: srv.url, model: 'm', contextTokens, maxOutputTokens: 80 });
    const r = await p.summarize(lines);
    assert.equal(r.source, 'llm');
    assert.equal(r.text, 'FINAL merged summary.');
    assert.ok(srv.calls.length >= 3, `expected several calls, got ${srv.calls.length}`);
    // Every input line reached the model in some map call.
    const mapped = srv.calls.filter((c) => !/merge/i.test(c.body.messages[0]?.content ?? '')).map((c) => c.body.messages[1]?.content ?? '').join('\n');
    for (let i = 0; i < 300; i += 37) assert.ok(mapped.includes(`message number ${i} `), `line ${i} missing`);
  } finally {
    await srv.close();
  }
});

test('a timeout falls back to the extractive summary', async () => {
  const srv = await fakeServer((_s, res) => {
    setTimeout(() => answer(res, 'too late'), 3000).unref();
  });
  try {
    const reasons: string[] = [];
    const p = new OpenAiCompatibleProvider({ baseUrl: srv.url, model: 'm', timeoutMs: 150, onFallback: (r) => reasons.push(r) });
    const r = await p.summarize(chat);
    // The model answers after 3 s: an extractive summary means the 150 ms timeout cut the wait short.
    assert.equal(r.source, 'extractive');
    assert.match(r.text, /Amanda/);
    assert.match(reasons[0] ?? '', /timed out/);
  } finally {
    await srv.close();
  }
});

test('a 500 and a malformed body both fall back', async () => {
  const srv = await fakeServer((_s, res, n) => {
    if (n === 1) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"boom"}');
    } else if (n === 2) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"choices": [');
    } else answer(res, '');
  });
  try {
    const p = new OpenAiCompatibleProvider({ baseUrl: srv.url, model: 'm' });
    for (let i = 0; i < 3; i++) {
      const r = await p.summarize(chat);
      assert.equal(r.source, 'extractive');
      assert.ok(r.text.length > 0);
    }
  } finally {
    await srv.close();
  }
});

test('unreachable endpoint falls back; factory picks the provider; chunking cuts oversized lines', async () => {
  const p = new OpenAiCompatibleProvider({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 500 });
  assert.equal((await p.summarize(chat)).source, 'extractive');
  assert.ok(createSummaryProvider() instanceof ExtractiveProvider);
  assert.ok(createSummaryProvider({ baseUrl: 'http://x/v1', model: 'm' }) instanceof OpenAiCompatibleProvider);
  const chunks = chunkLines([{ user: 'a', text: 'x'.repeat(5000) }, { user: 'b', text: 'short' }], 100, 10_000);
  for (const c of chunks) assert.ok(c.reduce((s, l) => s + estimateTokens(`${l.user}: ${l.text}`), 0) <= 100);
  assert.equal(chunks.flat().length, 2);
  // The app config gives the context in characters (digest.llm.contextChars).
  assert.throws(() => new OpenAiCompatibleProvider({ baseUrl: 'http://x/v1', model: 'm', contextChars: 600 }), RangeError);
  assert.ok(new OpenAiCompatibleProvider({ baseUrl: 'http://x/v1', model: 'm', contextChars: 12_000, timeoutMs: 20_000 }));
});
