/**
 * Benchmark of the duplicate index: mean microseconds per new question (prepare + find + add) as
 * the queue grows. Questions come from a seeded template generator shaped like AMA traffic: a
 * few dozen question forms over a crypto-project vocabulary, so popular term pairs (staking +
 * rewards, token + launch) fill their LSH buckets the way a real busy AMA would.
 */
import type { Redis } from 'ioredis';
import { QuestionIndex, prepare, type QuestionIndexOptions } from './index.js';
import { seededRandom } from '../../core/random.js';
import { loadSimilarityResources } from './resources.js';

const rng = seededRandom;

// Product nouns and modifiers combine into thousands of topics ("community staking dashboard"),
// so that, as in a real AMA, most questions are distinct while popular words recur everywhere.
const NOUNS = (
  'staking|bridge|airdrop|vesting|governance|app|wallet|marketplace|treasury|lending|launchpad|validator|referral|testnet|mainnet|burn|buyback|' +
  'liquidity|audit|roadmap|whitepaper|grant|ambassador|swap|SDK|API|explorer|oracle|restaking|insurance|points|leaderboard|quest|perpetuals|' +
  'vault|stablecoin|savings|card|extension|docs|bounty|node|client|prover|sequencer|studio|land|NFT|messaging|on-ramp|KYC|tax|dashboard|' +
  'faucet|multisig|relayer|indexer|subgraph|keeper|auction|lottery|raffle|presale|whitelist|allowlist|snapshot|claim|portal|analytics|' +
  'paymaster|plugin|widget|hackathon|incubator|accelerator|DAO|council|forum|proposal|delegation|slashing|emissions|rebase|bonding|' +
  'farm|pool|router|aggregator|orderbook|margin|futures|options|index|ETF|custody|escrow|payroll|invoice|remittance|loyalty|ticketing|' +
  'identity|reputation|storage|compute|rendering|streaming|royalties|licensing|metadata|minting|crafting|breeding|tournament|season|badge|guild'
).split('|');
const ADJS = (
  'community|mobile|cross-chain|gasless|private|public|official|new|upcoming|second|v2|v3|beta|enterprise|institutional|retail|Korean|Japanese|' +
  'Turkish|Vietnamese|Spanish|Russian|Chinese|Arabic|European|US|open-source|decentralized|on-chain|off-chain|zk|AI|social|gaming|DeFi|RWA|' +
  'seasonal|weekly|monthly|long-term|early|genesis|legacy|native|liquid|locked'
).split('|');
const V: Record<string, string[]> = {
  chain: 'Ethereum|Solana|Arbitrum|Optimism|Base|Polygon|Avalanche|BNB Chain|TON|Tron|Sui|Aptos|Near|Cosmos|zkSync|Starknet|Linea|Scroll|Blast|Mantle|Celestia|Sei|Injective|Fantom|Gnosis'.split('|'),
  exchange: 'Binance|Coinbase|Kraken|OKX|Bybit|KuCoin|Gate|MEXC|HTX|Bitget|Bitfinex|Upbit|Bithumb|Gemini|Uniswap|PancakeSwap|Raydium|Jupiter|Curve|dYdX'.split('|'),
  when: 'in Q1|in Q2|in Q3|in Q4|next month|this year|before the halving|after the audit|in January|in March|in June|in September|in December|next week|before mainnet|after the TGE'.split('|'),
  group: 'early users|holders|stakers|validators|testnet participants|NFT holders|liquidity providers|moderators|ambassadors|developers|Korean users|US users|small holders|whales|new users|retail investors'.split('|'),
  metric: 'total supply|circulating supply|market cap|fully diluted valuation|staking APY|inflation rate|team allocation|unlock schedule|listing price|presale price|burn rate|treasury balance|daily active users|TVL|transaction fee'.split('|'),
  partner: 'Google Cloud|Chainlink|Circle|Visa|Mastercard|a major bank|a gaming studio|a telecom|an exchange|a university|Samsung|a payment processor|a top VC|a Layer 2|an AI startup'.split('|'),
  asset: 'ETH|SOL|BTC|USDC|USDT|ARB|OP|MATIC|AVAX|BNB|TON|SUI|APT|ATOM|LINK|UNI|AAVE|DOGE|PEPE|the native token'.split('|'),
};

const TEMPLATES: string[] = [
  'I staked {amount} {asset} in {topic}, when do rewards arrive?',
  'Why is my claim of {amount} {asset} from {topic} stuck?',
  'When will {topic} launch on {chain}?',
  'When is {topic} going live {when}?',
  'Will {topic} be available to {group}?',
  'Is {topic} coming to {chain} {when}?',
  'How do I use {topic} with {asset}?',
  'How can {group} join {topic}?',
  'Why was {topic} delayed {when}?',
  'What is the {metric} of the token after {topic}?',
  'What will the {metric} be {when}?',
  'Will the token be listed on {exchange} {when}?',
  'Are there plans to list on {exchange} for {group}?',
  'Can I bridge {asset} from {chain} to use {topic}?',
  'Do you plan to add {topic} to {topic}?',
  'When will {topic} be supported for {group}?',
  'Is the partnership with {partner} related to {topic}?',
  'What does the deal with {partner} mean for {group}?',
  'How will {topic} affect the {metric}?',
  'Who is building {topic} on {chain}?',
  'Where can {group} find the docs for {topic}?',
  'Is there an airdrop for {group} who used {topic}?',
  'How much {asset} do I need for {topic}?',
  'Will {group} get rewards in {asset} for {topic}?',
  'Why did the {metric} change after {topic}?',
  'What happens to {group} if {topic} is paused?',
  'Is {topic} audited by {partner}?',
  'Can {group} vote on {topic} through governance?',
  'When is the next version of {topic} coming {when}?',
  'How safe is {topic} on {chain} compared to {exchange}?',
  'Will fees for {topic} be paid in {asset}?',
  'Is {topic} planned for {chain}?',
];

/** A seeded generator of distinct AMA-style questions (`{id, text}`), for benchmarks and tests. */
export function questionGenerator(seed = 42, idPrefix = 'q'): () => { id: string; text: string } {
  const rand = rng(seed);
  const seen = new Set<string>();
  let n = 0;
  const pick = (list: string[]): string => list[Math.floor(rand() * list.length)]!;
  return () => {
    for (;;) {
      const t = pick(TEMPLATES).replace(/\{(\w+)\}/gu, (_m, k: string) => {
        if (k === 'topic') return `the ${pick(ADJS)} ${pick(NOUNS)}${rand() < 0.5 ? ` ${pick(NOUNS)}` : ''}`;
        if (k === 'amount') return String(Math.floor(rand() * 100_000));
        return pick(V[k]!);
      });
      // Chat variety: lower case, a dropped "?", a greeting — and never the same text twice.
      let text = rand() < 0.3 ? t.toLowerCase() : t;
      if (rand() < 0.2) text = text.replace(/\?$/u, '');
      if (rand() < 0.15) text = `${pick(['gm', 'hi team', 'hey admin', 'quick question:', 'ser'])} ${text}`;
      if (seen.has(text)) continue;
      seen.add(text);
      return { id: `${idPrefix}${n++}`, text };
    }
  };
}

/**
 * Fills an index under `prefix` to each size in turn and measures mean µs per new question
 * (prepare + findDuplicate + add, sequential) at that size; returns e.g. {"1000": 310.2, "100000": 330.5}.
 * Deletes every key under `prefix` when done.
 */
export async function benchDedup(
  redis: Redis,
  prefix: string,
  sizes: number[],
  opts: { samples?: number; seed?: number; index?: QuestionIndexOptions; onProgress?: (msg: string) => void } = {},
): Promise<Record<string, number>> {
  // The scorer reads WordNet and the dictionaries: loaded once, outside the timed part.
  await loadSimilarityResources();
  const index = new QuestionIndex(redis, prefix, opts.index ?? {});
  const next = questionGenerator(opts.seed ?? 42);
  const samples = opts.samples ?? 1000;
  const out: Record<string, number> = {};
  // Checked before the try: the cleanup below must never delete someone else's index.
  if ((await index.size()) > 0) throw new Error(`benchDedup: prefix ${prefix} already holds an index; use a fresh prefix`);
  try {
    let size = 0;
    let warm = false;
    for (const target of [...new Set(sizes)].sort((a, b) => a - b)) {
      const t0 = performance.now();
      // Prepare the next batch while Redis runs the previous one: client and server work overlap.
      let inflight: Promise<void> = Promise.resolve();
      while (size < target) {
        const batch = Array.from({ length: Math.min(5000, target - size) }, () => {
          const q = next();
          return { id: q.id, text: prepare(q.text) };
        });
        await inflight;
        inflight = index.addMany(batch);
        size += batch.length;
      }
      await inflight;
      opts.onProgress?.(`filled ${target} in ${Math.round(performance.now() - t0)} ms`);
      if (!warm) {
        // JIT and connection warm-up, read-only so the index does not change.
        for (let i = 0; i < Math.min(300, samples); i++) await index.findDuplicate(next().text);
        warm = true;
      }
      const qs = Array.from({ length: samples }, next);
      let found = 0;
      const cpu0 = process.cpuUsage();
      const t1 = performance.now();
      // Every sample pays the full price, find and add, whether or not a near-duplicate exists.
      for (const q of qs) {
        const p = prepare(q.text);
        if (await index.findDuplicate(p)) found++;
        await index.add(q.id, p);
      }
      const us = ((performance.now() - t1) * 1000) / samples;
      const cpu = process.cpuUsage(cpu0);
      size += samples;
      out[String(target)] = Math.round(us * 10) / 10;
      if (opts.onProgress) {
        // A plain PING round trip, measured right after, puts the figure in context on a busy machine.
        const t2 = performance.now();
        for (let i = 0; i < 200; i++) await redis.ping();
        const rtt = ((performance.now() - t2) * 1000) / 200;
        const cpuUs = (cpu.user + cpu.system) / samples;
        opts.onProgress(
          `${target}: ${out[String(target)]} µs/question = ${(us / rtt).toFixed(1)} PING round trips of ${rtt.toFixed(0)} µs; ` +
            `client CPU ${cpuUs.toFixed(0)} µs/question; ${found}/${samples} had a near-duplicate`,
        );
      }
    }
  } finally {
    await index.clear();
  }
  return out;
}
