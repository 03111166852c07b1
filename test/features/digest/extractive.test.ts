import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lead3, longest3, parseDialogue, summarizeExtractive, toThirdPerson, cleanText } from '../../../src/features/digest/extractive.js';
import { evalSummaries } from '../../../src/features/digest/eval.js';
import { scoreRouge } from '../../../src/features/digest/rouge.js';
import { sharedData } from '../../helpers/data.js';

// Data lives next to the project (never copied into it): ../shared/data.
const SAMSUM = 'samsum/samsum.validation.jsonl';
const DIALOGSUM = 'dialogsum/dialogsum.dev.jsonl';

function firstRecords(file: string, n: number): { dialogue: string; summary: string }[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, n).map((l) => JSON.parse(l) as { dialogue: string; summary: string });
}

function meanR1(rows: { dialogue: string; summary: string }[], f: (d: string) => string): number {
  let s = 0;
  for (const r of rows) s += scoreRouge(r.summary, f(r.dialogue)).rouge1.f1;
  return (100 * s) / rows.length;
}

for (const [name, file] of [['SAMSum validation', SAMSUM], ['DialogSum dev', DIALOGSUM]] as const) {
  test(`extractive beats Lead-3 on ROUGE-1, first 200 records of ${name}`, { timeout: 60_000 }, () => {
    const rows = firstRecords(sharedData(file), 200);
    const ext = meanR1(rows, (d) => summarizeExtractive(parseDialogue(d)));
    const lead = meanR1(rows, (d) => lead3(parseDialogue(d)));
    const leadRaw = meanR1(rows, (d) => d.split(/\r?\n/).filter(Boolean).slice(0, 3).join(' '));
    const longest = meanR1(rows, (d) => longest3(parseDialogue(d)));
    console.log(`${name}: extractive ${ext.toFixed(2)}  lead3 ${lead.toFixed(2)} (raw ${leadRaw.toFixed(2)})  longest3 ${longest.toFixed(2)}`);
    assert.ok(ext > lead, `extractive ${ext} should beat normalized Lead-3 ${lead}`);
    assert.ok(ext > leadRaw, `extractive ${ext} should beat raw Lead-3 ${leadRaw}`);
  });
}

test('first person becomes the speaker, "you" the addressee', () => {
  assert.equal(toThirdPerson('I baked cookies', 'Amanda'), 'Amanda baked cookies');
  assert.equal(toThirdPerson("I'm coming and I think my car is fine", 'Jon'), "Jon is coming and Jon thinks Jon's car is fine");
  assert.equal(toThirdPerson('Can I go with you?', 'Ann', 'Bob'), 'Can Ann go with Bob?');
  assert.equal(toThirdPerson('Do you want some?', 'Ann', 'Bob'), 'Does Bob want some?');
});

test('parsing and cleaning chat lines', () => {
  assert.deepEqual(parseDialogue('Amanda: I baked  cookies.\r\nJerry: Sure!\ncontinued line'), [
    { user: 'Amanda', text: 'I baked  cookies.' },
    { user: 'Jerry', text: 'Sure! continued line' },
  ]);
  assert.equal(cleanText('look <file_photo> :) so cool!!! https://x.co/a 😀'), 'look so cool!');
  assert.equal(summarizeExtractive([]), '');
  const s = summarizeExtractive(parseDialogue('Amanda: I baked cookies. Do you want some?\nJerry: Sure!\nAmanda: I\'ll bring you tomorrow :-)'));
  assert.match(s, /Amanda baked cookies/);
});

test('evalSummaries: summary1..3 references, predictions file, progress', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'th-eval-'));
  try {
    const data = join(dir, 'd.jsonl');
    const preds = join(dir, 'p.jsonl');
    await writeFile(data, [
      JSON.stringify({ dialogue: 'Ann: I will buy milk.\nBob: ok', summary1: 'Ann will buy milk.', summary2: 'Ann buys milk.', summary3: 'Milk.' }),
      JSON.stringify({ dialogue: 'Cid: The launch is on Friday.\nDee: great', summary: 'The launch is on Friday.' }),
    ].join('\n') + '\n');
    const seen: number[] = [];
    const r = await evalSummaries({ data, predictions: preds, method: 'lead3', onProgress: (d) => seen.push(d) });
    assert.equal(r.n, 2);
    assert.deepEqual(seen, [1, 2]);
    assert.ok(r.rouge1 > 0 && r.rouge1 <= 100);
    const lines = (await readFile(preds, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { summary: string });
    assert.equal(lines.length, 2);
    assert.equal(typeof lines[0]?.summary, 'string');
    const ext = await evalSummaries({ data });
    assert.equal(ext.n, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
