/**
 * The optional OpenAI-compatible embeddings endpoint, against a local fake of it on 127.0.0.1: texts asked together
 * go out as one request, a failing or slow endpoint yields no vector (intake then compares offline), and AMA intake
 * sends every question to it and keeps the vector with the question. The fake's vectors test the wiring, never quality.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EndpointEmbeddings } from '../../../src/features/questions/embeddings.js';
import { useQuestionEmbeddings } from '../../../src/features/ama/embeddings.js';
import { indexPrefix } from '../../../src/features/ama/dedup.js';
import { amaSchedule, amaStart } from '../../../src/features/ama/index.js';
import { ingestQuestion } from '../../../src/features/ama/questions.js';
import { amaEnv, getAma } from '../../../src/features/ama/store.js';
import { evalMerge } from '../../../src/features/ama/eval-merge.js';
import type { Config } from '../../../config/schema.js';
import { amaHarness, type AmaHarness } from '../ama/harness.js';

interface Received {
  model: string;
  input: string[];
  auth: string | undefined;
}

// The fake answers like the real API: {data: [{index, embedding}]}. Its vectors put texts with the same "topic"
// marker in the same direction, so which questions merge shows that the vectors were used.
function fakeVector(text: string): number[] {
  const v = new Array<number>(8).fill(0.01);
  const m = /topic(\d)/u.exec(text);
  v[m ? Number(m[1]) : 7] = 1;
  return v;
}

let server: Server;
let base = '';
let mode: 'ok' | 'fail' | 'slow' = 'ok';
const received: Received[] = [];
let h: AmaHarness | undefined;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r = JSON.parse(body) as { model: string; input: string[] };
      received.push({ model: r.model, input: r.input, auth: req.headers.authorization });
      if (mode === 'fail') {
        res.writeHead(500).end('{"error":"boom"}');
        return;
      }
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: r.input.map((t, index) => ({ object: 'embedding', index, embedding: fakeVector(t) })) }));
      if (mode === 'slow') setTimeout(answer, 500);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(async () => {
  useQuestionEmbeddings(null);
  await h?.cleanup();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('embeddings endpoint', { timeout: 60_000 }, () => {
  test('texts asked in the same turn go out as one request, with the model and the key', async () => {
    mode = 'ok';
    received.length = 0;
    const e = new EndpointEmbeddings({ baseUrl: base, model: 'fake-embed', apiKey: 'secret-key' });
    const vs = await Promise.all(['topic1 a', 'topic1 b', 'topic2 c'].map((t) => e.embed(t)));
    assert.equal(received.length, 1);
    assert.deepEqual(received[0], { model: 'fake-embed', input: ['topic1 a', 'topic1 b', 'topic2 c'], auth: 'Bearer secret-key' });
    assert.ok(vs.every((v) => v && Math.abs(Math.hypot(...v) - 1) < 1e-6), 'unit vectors');
  });

  test('an error or a timeout yields no vector, and says why', async () => {
    const reasons: string[] = [];
    mode = 'fail';
    const e = new EndpointEmbeddings({ baseUrl: base, model: 'fake-embed', onFallback: (r) => reasons.push(r) });
    assert.equal(await e.embed('topic1'), null);
    mode = 'slow';
    const slow = new EndpointEmbeddings({ baseUrl: base, model: 'fake-embed', timeoutMs: 100, onFallback: (r) => reasons.push(r) });
    assert.equal(await slow.embed('topic1'), null);
    assert.equal(reasons.length, 2);
    assert.match(reasons[0]!, /500/);
  });

  test('AMA intake embeds every question through the endpoint and stores the vector with its index entry; with the endpoint down it still takes every question', async () => {
    h = await amaHarness({ config: { ama: { offlineEmbeddings: false, embeddings: { baseUrl: base, model: 'fake-embed', timeoutMs: 2000, sameAbove: 0.9 } } } as unknown as Partial<Config> });
    const lines = [
      { group: 'a', platform: 'telegram' as const, text: 'topic1 When does the staking program open?' },
      { group: 'a', platform: 'discord' as const, text: 'topic1 ¿Cuándo abre el programa de staking?' },
      { group: 'b', platform: 'x' as const, text: 'topic2 Who audited the bridge contract?' },
    ];
    mode = 'ok';
    received.length = 0;
    useQuestionEmbeddings(new EndpointEmbeddings({ baseUrl: base, model: 'fake-embed' }));
    const withApi = await evalMerge(h.deps, { data: lines });
    assert.deepEqual(received.flatMap((r) => r.input), lines.map((l) => l.text), 'every question went to the endpoint, in order');
    assert.equal(withApi.n, 3);
    assert.ok(withApi.questions >= 2, 'the two topics stay apart');
    // The vector is kept with the question's index entry, so later questions are compared with it.
    const view = await amaSchedule(h.deps, { title: 'Embeddings', startsAt: Date.now(), durationMinutes: 60, chats: ['telegram:-1'], hosts: [] });
    await amaStart(h.deps, view.id);
    const env = amaEnv(h.deps);
    await ingestQuestion(env, (await getAma(env, view.id))!, { platform: 'telegram', chat: 'telegram:-1', user: 'telegram:user:1', userName: 'u', text: 'topic3 Is the bridge live?', at: Date.now(), via: 'ask', opId: 'emb/1' });
    const payloads = await h.deps.redis.hvals(`${indexPrefix(env, view.id)}q`);
    assert.equal(payloads.length, 1);
    assert.match(payloads[0]!.split('\x1f').at(-1)!, /^api:[A-Za-z0-9+/=]+$/u);
    // The endpoint down: every question is still taken (compared on words alone).
    mode = 'fail';
    const down = await evalMerge(h.deps, { data: lines });
    assert.equal(down.n, 3);
    assert.ok(down.questions >= 2, 'the two topics stay apart');
  });
});
