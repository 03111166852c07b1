/**
 * The optional OpenAI-compatible embeddings endpoint, against a local fake of it on 127.0.0.1: texts asked together
 * go out as one request, a failing or slow endpoint yields no vector (intake then compares offline), and AMA intake
 * uses the endpoint's vectors when it answers. The fake's vectors are a test of the wiring, never a quality figure.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EndpointEmbeddings } from '../../src/features/questions/embeddings.js';
import { useQuestionEmbeddings } from '../../src/features/ama/embeddings.js';
import { evalMerge } from '../../src/features/ama/eval-merge.js';
import type { Config } from '../../config/schema.js';
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

  test('AMA intake merges on the endpoint vectors when it answers, and on words alone when it fails', async () => {
    h = await amaHarness({ config: { ama: { offlineEmbeddings: false, embeddings: { baseUrl: base, model: 'fake-embed', timeoutMs: 2000, sameAbove: 0.9 } } } as unknown as Partial<Config> });
    const lines = [
      { group: 'a', platform: 'telegram' as const, text: 'topic1 When does the staking program open?' },
      { group: 'a', platform: 'discord' as const, text: 'topic1 Quand commence le programme ?' },
      { group: 'b', platform: 'x' as const, text: 'topic2 Who audited the bridge contract?' },
    ];
    mode = 'ok';
    received.length = 0;
    useQuestionEmbeddings(new EndpointEmbeddings({ baseUrl: base, model: 'fake-embed' }));
    const withApi = await evalMerge(h.deps, { data: lines });
    assert.ok(received.length >= 3, 'every question was embedded by the endpoint');
    assert.deepEqual({ p: withApi.precision, r: withApi.recall, q: withApi.questions }, { p: 100, r: 100, q: 2 });
    // The same file with the endpoint down: nothing lost, the words decide (they share nothing across languages here).
    mode = 'fail';
    const down = await evalMerge(h.deps, { data: lines });
    assert.equal(down.n, 3);
    assert.equal(down.questions, 3);
  });
});
