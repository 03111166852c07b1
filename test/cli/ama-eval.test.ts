import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { isolatedRedis, TEST_REDIS_URL } from '../helpers/redis.js';
import { TOWNHALL } from '../helpers/cli.js';
import { sharedData } from '../helpers/data.js';

const run = promisify(execFile);
const iso = await isolatedRedis();
after(iso.cleanup);
const dir = mkdtempSync(path.join(tmpdir(), 'townhall-cli2-'));
const configFile = path.join(dir, 'townhall.yaml');
writeFileSync(configFile, `redis:\n  prefix: "${iso.keys.prefix}"\n`);
const env = { ...process.env, REDIS_URL: TEST_REDIS_URL, TOWNHALL_CONFIG: configFile, LOG_LEVEL: 'warn' };
const townhall = async (...args: string[]) => (await run(process.execPath, [...TOWNHALL, ...args], { env, maxBuffer: 1 << 24 })).stdout;

test('townhall ama schedule, list, start, end and recap work from the command line', async () => {
  const scheduled = JSON.parse((await townhall('ama', 'schedule', 'Listing AMA', '--at', 'in 2h', '--duration', '1h', '--chat', 'telegram:-1001', 'discord:5001', '--json')).trim()) as { id: string; title: string; status: string };
  assert.equal(scheduled.title, 'Listing AMA');
  assert.equal(scheduled.status, 'scheduled');
  const list = JSON.parse(await townhall('ama', 'list', '--json')) as { id: string }[];
  assert.ok(list.some((a) => a.id === scheduled.id));
  assert.match(await townhall('ama', 'start', scheduled.id), /^started /);
  assert.match(await townhall('ama', 'end', scheduled.id), /^ended /);
  const recap = await townhall('ama', 'recap', scheduled.id);
  assert.match(recap, /Listing AMA/);
  const json = JSON.parse(await townhall('ama', 'recap', scheduled.id, '--format', 'json')) as object;
  assert.equal(typeof json, 'object');
});

test('townhall ama schedule with a malformed time fails with one line', async () => {
  await assert.rejects(townhall('ama', 'schedule', 'x', '--at', 'someday', '--duration', '1h', '--chat', 'telegram:-1'), (e: { stderr: string }) => {
    assert.equal(e.stderr.trim().split('\n').length, 1, e.stderr);
    assert.match(e.stderr, /someday/);
    return true;
  });
});

test('townhall eval duplicates prints the contract JSON and writes one prediction per pair', async () => {
  const data = path.join(dir, 'pairs.jsonl');
  const pairs = [
    { label: 1, sentence1: 'When will the token be listed?', sentence2: 'When is the token listing date?' },
    { label: 0, sentence1: 'When is the launch?', sentence2: 'Where is the launch?' },
    { label: 0, sentence1: 'How do I enable 2FA?', sentence2: 'Are fees going down this year?' },
  ];
  writeFileSync(data, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const out = path.join(dir, 'pred.jsonl');
  const r = JSON.parse((await townhall('eval', 'duplicates', '--data', data, '--json', '--predictions', out)).trim().split('\n').pop()!) as Record<string, number>;
  for (const k of ['accuracy', 'precision', 'recall', 'f1', 'threshold', 'n']) assert.equal(typeof r[k], 'number', k);
  assert.equal(r.n, 3);
  const preds = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { label: number; score: number });
  assert.equal(preds.length, 3);
  assert.deepEqual(preds.map((p) => p.label), [1, 0, 0]);
});

test('townhall eval merge asks every line through AMA intake, prints the contract JSON and one question id per line', async () => {
  const data = path.join(dir, 'questions.jsonl');
  const lines = [
    { group: 'a', platform: 'telegram', text: 'When will the token be listed on Binance?' },
    { group: 'b', platform: 'discord', text: 'How do I reset my password?' },
    { group: 'a', platform: 'x', text: '@townhall_bot ¿Cuándo se lista el token en Binance?', lang: 'es' },
  ];
  writeFileSync(data, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const out = path.join(dir, 'merge-pred.jsonl');
  const r = JSON.parse((await townhall('eval', 'merge', '--data', data, '--json', '--predictions', out)).trim().split('\n').pop()!) as Record<string, number>;
  assert.deepEqual(Object.keys(r).sort(), ['cross_language_recall', 'f1', 'n', 'precision', 'questions', 'recall']);
  assert.deepEqual({ n: r.n, questions: r.questions, precision: r.precision, recall: r.recall, xl: r.cross_language_recall }, { n: 3, questions: 2, precision: 100, recall: 100, xl: 100 });
  const preds = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { question: string });
  assert.equal(preds.length, 3);
  assert.equal(preds[0]!.question, preds[2]!.question);
  assert.notEqual(preds[0]!.question, preds[1]!.question);
  // The throwaway AMA is gone afterwards.
  assert.deepEqual(await iso.redis.keys(`${iso.keys.prefix}:ama:eval*`), []);
});

test('townhall eval merge refuses a malformed line with its number', async () => {
  const data = path.join(dir, 'bad-questions.jsonl');
  writeFileSync(data, '{"group":"a","platform":"telegram","text":"ok?"}\n{"group":"a","text":"no platform"}\n');
  await assert.rejects(townhall('eval', 'merge', '--data', data, '--json'), (e: { stderr: string }) => {
    assert.match(e.stderr, /:2: expected/);
    return true;
  });
});

test('townhall eval summaries prints ROUGE F1 percentages and one summary per record', async () => {
  const data = path.join(dir, 'dialogues.jsonl');
  writeFileSync(data, JSON.stringify({ dialogue: 'Amanda: I baked cookies. Do you want some?\nJerry: Sure!\nAmanda: I will bring you tomorrow :-)', summary: 'Amanda baked cookies and will bring Jerry some tomorrow.' }) + '\n');
  const out = path.join(dir, 'summaries.jsonl');
  const r = JSON.parse((await townhall('eval', 'summaries', '--data', data, '--json', '--predictions', out)).trim().split('\n').pop()!) as Record<string, number>;
  assert.equal(r.n, 1);
  assert.ok(r.rouge1! > 20 && r.rouge1! <= 100, `rouge1 ${r.rouge1}`);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 1);
});

test('townhall eval threads prints link and conversation scores and one prediction line per log', { timeout: 120_000 }, async () => {
  const one = path.join(dir, 'one-log.jsonl');
  writeFileSync(one, readFileSync(sharedData('irc-disentanglement/ubuntu.dev.jsonl'), 'utf8').split('\n')[0] + '\n');
  const out = path.join(dir, 'links.jsonl');
  const r = JSON.parse((await townhall('eval', 'threads', '--data', one, '--json', '--predictions', out)).trim().split('\n').pop()!) as { link: Record<string, number>; conv: Record<string, number> };
  assert.deepEqual(Object.keys(r.link).sort(), ['f', 'p', 'r']);
  assert.deepEqual(Object.keys(r.conv).sort(), ['f', 'one_to_one', 'p', 'r', 'vi']);
  assert.ok(r.link.f! > 50, `link F ${r.link.f}`);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; links: [number, number][] });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.links.length >= 250, 'a link for every annotated message');
});
