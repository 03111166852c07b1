// Reply-link disentanglement: metric code on hand-made tables, the paper's "Previous" baseline on the
// Ubuntu dev split, explicit addressing, and the fitted model against the baseline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  conversations,
  evalThreads,
  goldGraph,
  maxWeightMatching,
  previousBaseline,
  readRecords,
  recordToMessages,
  scoreGraphs,
} from '../../../src/features/threads/eval.js';
import type { Link, LogGraph } from '../../../src/features/threads/eval.js';
import { ThreadLinker, linkMessage, prepare } from '../../../src/features/threads/model.js';
import type { ChatMessage, WindowMessage } from '../../../src/features/threads/model.js';
import { sharedData } from '../../helpers/data.js';

const dev = () => sharedData('irc-disentanglement/ubuntu.dev.jsonl');

const near = (a: number, b: number, tol = 0.05): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b} (±${tol})`);

test('metrics: a perfect prediction scores 100 everywhere', () => {
  const g: LogGraph = { from: 10, links: [[10, 10], [10, 11], [11, 12], [13, 13], [13, 14], [4, 15]] };
  const s = scoreGraphs([g], [g]);
  for (const v of [s.link.p, s.link.r, s.link.f, s.conv.vi, s.conv.one_to_one, s.conv.p, s.conv.r, s.conv.f]) near(v, 100);
});

test('metrics: a partial prediction gives the hand-computed values', () => {
  // Gold conversations {10,11,12} and {13,14}; auto splits 12 off the first one.
  const gold: LogGraph = { from: 10, links: [[10, 10], [10, 11], [11, 12], [13, 13], [13, 14]] };
  const auto: LogGraph = { from: 10, links: [[10, 10], [10, 11], [12, 12], [13, 13], [13, 14]] };
  const s = scoreGraphs([gold], [auto]);
  // 4 of 5 pairs shared.
  near(s.link.p, 80);
  near(s.link.r, 80);
  near(s.link.f, 80);
  // VI = H(auto|gold) = 3/5 * H(2/3, 1/3) = 0.55098 bits; 1 - 0.55098 / log2(5) = 76.27%.
  near(s.conv.vi, 100 * (1 - (0.6 * 0.9182958) / Math.log2(5)), 0.01);
  near(s.conv.vi, 76.27, 0.01);
  // One-to-one: {10,11}->A (2) + {13,14}->B (2) of 5 messages.
  near(s.conv.one_to_one, 80);
  // Exact match over clusters of size > 1: only {13,14} of 2 gold / 2 auto.
  near(s.conv.p, 50);
  near(s.conv.r, 50);
  near(s.conv.f, 50);
});

test('metrics: conversations join through context messages, which are then dropped', () => {
  const cl = conversations({ from: 10, links: [[5, 10], [5, 11], [12, 12]] });
  const sorted = cl.map((c) => c.join(',')).sort();
  assert.deepEqual(sorted, ['10,11', '12']);
});

test('metrics: one-to-one matching is the maximum-weight assignment', () => {
  assert.equal(maxWeightMatching([[3, 1], [2, 2]], 2), 5);
  assert.equal(maxWeightMatching([[1, 5, 0]], 3), 5);
  assert.equal(maxWeightMatching([[4], [7], [1]], 1), 7);
  assert.equal(maxWeightMatching([[0, 2, 0], [0, 3, 0], [1, 0, 0]], 3), 4);
});

test('"Previous" baseline on Ubuntu dev gives link F of about 30.2 (paper)', { timeout: 60_000 }, () => {
  const recs = readRecords(dev());
  const s = scoreGraphs(recs.map(goldGraph), recs.map(previousBaseline));
  near(s.link.f, 30.2, 0.05);
  near(s.conv.p, 0, 0.001);
});

function chat(): ChatMessage[] {
  const t = 1_700_000_000_000;
  return [
    { id: 'a1', user: 'alice', text: 'hi all', at: t },
    { id: 'b1', user: 'bob', text: 'grub does not boot after the kernel update', at: t + 20_000 },
    { id: 'a2', user: 'alice', text: 'my usb drive does not show up, it is formatted ntfs', at: t + 40_000 },
    { id: 'c1', user: 'carol', text: 'anyone here using kde plasma 6?', at: t + 50_000 },
    { id: 'b2', user: 'bob', text: 'still stuck at the grub rescue prompt', at: t + 55_000 },
  ];
}

test('an explicit nick address links to the addressed user\'s last message', () => {
  const msgs = chat();
  const reply: ChatMessage = { id: 'd1', user: 'dave', text: 'alice: did you try the disks app?', at: msgs[4]!.at + 5_000 };
  // Stateful (hot path).
  const linker = new ThreadLinker({ window: 50 });
  for (const m of msgs) linker.add(m);
  const r = linker.add(reply);
  assert.equal(r.parent, 'a2');
  assert.ok(r.score > 0 && r.score <= 1);
  // Stateless form over prepared messages.
  const window: WindowMessage[] = msgs.map((m) => prepare(m));
  assert.equal(linkMessage(reply, window).parent, 'a2');
  // "@nick" anywhere and platform mentions work the same way.
  assert.equal(linkMessage({ ...reply, text: 'try the disks app @alice' }, window).parent, 'a2');
  assert.equal(linkMessage({ ...reply, text: 'try the disks app', mentions: ['alice'] }, window).parent, 'a2');
  assert.equal(linkMessage({ ...reply, text: 'bob: boot-repair usually fixes a grub rescue prompt' }, window).parent, 'b2');
});

test('an explicit platform reply is a certain link; a greeting with no context starts a conversation', () => {
  const msgs = chat();
  const linker = new ThreadLinker();
  for (const m of msgs) linker.add(m);
  const r = linker.add({ id: 'e1', user: 'erin', text: 'same here', at: msgs[4]!.at + 1000, replyTo: 'c1' });
  assert.deepEqual({ parent: r.parent, score: r.score, conversation: r.conversation }, { parent: 'c1', score: 1, conversation: 'c1' });
  const first = new ThreadLinker().add({ id: 'x', user: 'zed', text: 'hi all', at: 0 });
  assert.equal(first.parent, null);
  assert.equal(first.conversation, 'x');
});

test('linkMessage over a sliding window matches ThreadLinker', { timeout: 60_000 }, () => {
  const msgs = recordToMessages(readRecords(dev())[0]!.messages_ascii).slice(0, 300);
  const linker = new ThreadLinker({ window: 40 });
  const expected = msgs.map((m) => linker.add(m).parent);
  const preps = msgs.map((m) => prepare(m));
  const got: (string | null)[] = [];
  const W = 40;
  for (let i = 0; i < preps.length; i++) {
    // Before the window is full, pass the linker's own history so both see the same state.
    const p = preps[i]!;
    const r = i < W ? null : linkMessage(p, preps.slice(i - W, i));
    p.parent = r ? r.parent : (expected[i] ?? null);
    got.push(p.parent);
  }
  assert.deepEqual(got.slice(W), expected.slice(W));
});

test('the fitted model beats the "Previous" baseline on Ubuntu dev', { timeout: 120_000 }, async () => {
  const s = await evalThreads({ data: dev() });
  assert.ok(s.link.f > 63.5, `link F ${s.link.f}`);
  assert.ok(s.link.f > 30.2 + 30, `link F ${s.link.f}`);
  assert.ok(s.conv.vi > 66.2 && s.conv.one_to_one > 50 && s.conv.f > 10, JSON.stringify(s.conv));
  // Every annotated message gets exactly one predicted link.
  const recs = readRecords(dev());
  const links: Link[] = [];
  const s2 = await evalThreads({ data: dev(), window: 50, predictor: (r) => {
    const g = previousBaseline(r);
    links.push(...g.links);
    return g;
  } });
  near(s2.link.f, 30.2, 0.05);
  assert.equal(links.length, recs.reduce((n, r) => n + r.annotated_to - r.annotated_from + 1, 0));
});
