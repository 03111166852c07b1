/**
 * Scam detection for crypto chats, as pure functions: support-DM lures, seed phrase / private key requests,
 * wallet-drainer and look-alike domains, and the chat's link allowlist. The cross-chat paste check needs Redis
 * and lives in the hook. Every rule runs on folded text (homoglyphs mapped to ASCII) with linear-time patterns.
 */
import { domainToUnicode } from 'node:url';
import { skeleton } from './unicode.js';

/** Why a message was judged a scam. */
export type ScamKind = 'seed-request' | 'support-lure' | 'lookalike-domain' | 'drainer-link' | 'link-not-allowed' | 'cross-chat-paste';

/** A scam verdict with its reason in words (for the audit log and the notice). */
export interface ScamHit {
  kind: ScamKind;
  reason: string;
}

/** Short public labels, for notices and the daily tally. */
export const SCAM_LABELS: Record<ScamKind, string> = {
  'seed-request': 'asks for a seed phrase or private key',
  'support-lure': 'a "DM me for support" lure',
  'lookalike-domain': 'a look-alike of a known site',
  'drainer-link': 'a wallet-drainer link',
  'link-not-allowed': 'a link to a site not on this chat\'s list',
  'cross-chat-paste': 'the same message pasted across chats',
};

/** Sites scammers imitate whose names are brands: their look-alikes, a swapped TLD, the name inside another domain or one typo count. */
export const KNOWN_DOMAINS = [
  'metamask.io', 'uniswap.org', 'binance.com', 'binance.us', 'coinbase.com', 'opensea.io', 'pancakeswap.finance', 'trustwallet.com',
  'trezor.io', 'etherscan.io', 'bscscan.com', 'arbitrum.io', '1inch.io', 'magiceden.io', 'kucoin.com', 'bybit.com',
  'walletconnect.com', 'walletconnect.network', 'coingecko.com', 'coinmarketcap.com', 'polygonscan.com', 'solscan.io',
];
/** Sites whose names are also ordinary words (bitcoin, ledger): only a homoglyph copy of the name counts. */
export const KNOWN_WORD_DOMAINS = [
  'ledger.com', 'phantom.app', 'optimism.io', 'lido.fi', 'aave.com', 'curve.fi', 'blur.io', 'solana.com', 'ethereum.org',
  'bitcoin.org', 'kraken.com', 'okx.com', 'rainbow.me', 'safe.global', 'chain.link', 'telegram.org', 'telegram.me', 't.me',
  'discord.com', 'discord.gg', 'discordapp.com', 'github.com', 'github.io', 'twitter.com', 'x.com', 'youtube.com', 'youtu.be',
];

// Top-level domains a bare `word.tld` must end in to count as a link (with a scheme or www. any TLD counts),
// so "e.g." or "v2.0" are not links. Cheap TLDs that drainer kits favour are included on purpose.
const TLDS = new Set(
  ('com net org io co me app xyz finance fi gg tv ai dev info biz pro site online live top club shop store tech ' +
    'link click claims claim network digital world today space fun vip cc ws su ru cn uk de fr es it nl eu us ca au ' +
    'in br jp kr ch se no pl tr ua vn id ph sg hk tk ml ga cf gq pw icu cyou buzz rest bond sbs cfd lol one ' +
    'exchange money cash trade market capital global foundation dao gold bet win io2 so to ly is ms la ac ag im').split(' '),
);

const DRAINER_WORDS = /(claim|airdrop|giveaway|reward|bonus|rectif|validat|revoke|restore|recover|migrat|dapp|wallet-?connect|sync)/;
const LURE_WITH_LINK = /\b(connect (your|ur) wallet|claim (your|ur|the|free)? ?(airdrop|tokens?|rewards?|nft|allocation|bonus)|free (airdrop|mint|tokens?|crypto)|(validate|sync|rectify|restore|verify) (your|ur) wallet|wallet (validation|sync|rectification|verification))\b/;

const SECRET = /\b(seed|secret|recovery|mnemonic|backup|wallet|pass) ?(phrases?|words?|keys?)\b|\b(12|24|twelve|twenty[ -]?four)[ -]?words?\b|\bprivate ?keys?\b|\bmnemonics?\b|\bkeystore\b/g;
const ASK = /\b(send|share|enter|type|provid|submit|verif|validat|sync|import|paste|giv|tell|drop|dm|pm|inbox|connect|restor|confirm|input|fill|post|upload|writ|need|requir)\w*/g;
const NEGATION = /\b(never|don'?t|do not|dont|not|no one|nobody|no admin|won'?t|will not|shouldn'?t|should not|nor)\b/;
const YOUR = /\b(your|ur|yours|you|ya)\b/;
const SECRET_THEN_ASK = /\b(your|ur) ((seed|secret|recovery|mnemonic|backup|wallet) ?(phrase|words?|keys?)|private ?keys?|(12|24) words?)\b.{0,40}\b(is|are|must be|will be)? ?(required|needed|necessary|mandatory)\b/;

const SUPPORT_LURES = [
  /\b(dm|pm|inbox|message|msg|text|contact|write|whatsapp)( to)? (me|us)\b.{0,40}\b(support|help|assist\w*|issues?|problems?|refunds?|recover\w*|fix\w*|withdraw\w*|stuck|questions?|quer(y|ies)|complain\w*|trouble)\b/,
  /\b(support|help|assistance|issues?|problems?|questions?|complaints?|queries|trouble)\b.{0,30}\b(dm|pm|inbox|message|msg|text|contact|write|whatsapp)( to)? (me|us)\b/,
  /\b(dm|pm|inbox|message|contact|reach|write to|text) @?[a-z0-9_]{0,32}(support|help|admin|desk|care|service)[a-z0-9_]{0,32}\b/,
  /\b(check|see|open) (your|ur) (dms?|pms?|inbox|direct messages?|private messages?)\b/,
  /\bi('ve| have)? ?(sent|send|dropped|messaged) (you|u) (a |an )?(dm|pm|message|inbox)\b/,
  /\bi('ll| will| can| could) (dm|pm|inbox|message) (you|u)\b.{0,40}\b(help|assist|support|fix|solve|resolve|recover)\b/,
  /\b(official|live|customer|technical|tech) (support|help|care|service)( team| desk| center| centre| agent)?\b.{0,40}\b(telegram|t\.me|wa\.me|whatsapp|discord\.gg|dm|pm|inbox)\b/,
];

/** Finds a request for a seed phrase or private key; warnings such as "never share your seed phrase" do not count. */
export function findSeedRequest(folded: string): string | null {
  if (SECRET_THEN_ASK.test(folded)) return 'says your seed phrase or private key is required';
  for (const m of folded.matchAll(SECRET)) {
    const end = m.index;
    const window = folded.slice(Math.max(0, end - 60), end);
    let ask: RegExpExecArray | null = null;
    for (const a of window.matchAll(ASK)) ask = a as RegExpExecArray;
    if (!ask) continue;
    const between = window.slice(ask.index);
    if (!YOUR.test(between) && !/^(dm|pm|inbox|send|share|drop|paste)\w* (me|us)\b/.test(between)) continue;
    const before = folded.slice(Math.max(0, end - 60 - 25), Math.max(0, end - 60) + ask.index);
    if (NEGATION.test(before.slice(-25))) continue;
    return `asks to ${ask[0]} a ${m[0]}`;
  }
  return null;
}

/** Finds a "DM me for support" style lure. */
export function findSupportLure(folded: string): string | null {
  for (const re of SUPPORT_LURES) {
    const m = re.exec(folded);
    if (m) return `support lure: "${m[0].slice(0, 60)}"`;
  }
  return null;
}

/** A host named in a message. */
export interface FoundHost {
  /** Lower case, IDN decoded. */
  host: string;
  /** As written (case kept: `Iedger.com` is a homoglyph of `ledger.com` only before lower-casing). */
  raw: string;
  /** The user-info part when the link hides its real host behind another name (`https://binance.com@evil.xyz`). */
  disguise?: string;
}

/**
 * Hosts named in a text and in the adapter's link list (Telegram hides text links behind words): IDN decoded,
 * user-info and ports removed. Tokenized, not regex-scanned, so it is linear in the text.
 */
export function extractHosts(clean: string, links: readonly string[] = []): FoundHost[] {
  const hosts = new Map<string, FoundHost>();
  const consider = (token: string) => {
    if (hosts.size >= 50 || !token.includes('.')) return;
    let t = token.replace(/^[^\p{L}\p{N}]+/u, '');
    const schemed = /^[a-z][a-z0-9+.-]{0,15}:\/\//i.test(t);
    t = t.replace(/^[a-z][a-z0-9+.-]{0,15}:\/\//i, '');
    const authorityFull = t.split(/[/?#\\]/, 1)[0] ?? '';
    const at = authorityFull.lastIndexOf('@');
    const userinfo = at > 0 ? authorityFull.slice(0, at) : '';
    const raw = authorityFull.slice(at + 1).replace(/:\d*$/, '').replace(/[^\p{L}\p{N}]+$/u, '');
    const host = raw.toLowerCase();
    const labels = host.split('.');
    if (labels.length < 2 || host.length > 253) return;
    if (!labels.every((l) => l.length >= 1 && l.length <= 63 && /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?$/u.test(l))) return;
    const tld = labels[labels.length - 1]!;
    if (/^\d+$/.test(tld)) return;
    const www = labels[0] === 'www';
    if (!schemed && !www && !TLDS.has(tld) && !tld.startsWith('xn--') && !/\P{ASCII}/u.test(tld)) return;
    const decoded = host.includes('xn--') ? domainToUnicode(host) || host : host;
    if (hosts.has(decoded)) return;
    const found: FoundHost = { host: decoded, raw: host.includes('xn--') ? decoded : raw };
    if (userinfo.includes('.') && (schemed || www)) found.disguise = userinfo.toLowerCase();
    hosts.set(decoded, found);
  };
  for (const l of links.slice(0, 100)) consider(l);
  let seen = 0;
  for (const token of clean.split(/[\s<>()[\]{}"'`,|*_~]+/)) {
    if (++seen > 5000) break;
    consider(token);
  }
  return [...hosts.values()];
}

/** True when `host` is `domain` or one of its subdomains. */
export function hostIsUnder(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/** True when one substitution, insertion, deletion or swap of neighbours turns `a` into `b`. */
export function editDistanceAtMostOne(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    // One substitution, or two neighbours swapped.
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/**
 * The look-alike of a protected domain that `host` is, or null. For `brands` (and a chat's own allowlist): homoglyphs,
 * a swapped TLD, the brand inside another domain, one typo. For `words`: only a homoglyph copy (`Iedger.com`).
 */
export function findLookalike(rawHost: string, brands: readonly string[], words: readonly string[] = []): string | null {
  const host = rawHost.toLowerCase();
  if (brands.some((d) => hostIsUnder(host, d)) || words.some((d) => hostIsUnder(host, d))) return null;
  const labels = rawHost.split('.');
  const regLabel = labels.length >= 2 ? labels[labels.length - 2]! : labels[0]!;
  const regSkel = skeleton(regLabel);
  const labelSkels = labels.slice(0, -1).map((l) => skeleton(l));
  for (const d of brands) {
    const brand = d.split('.').slice(-2, -1)[0] ?? d;
    const brandSkel = skeleton(brand);
    if (brandSkel.length < 3) continue;
    if (regSkel === brandSkel) return `${host} imitates ${d}`;
    if (brandSkel.length >= 5 && labelSkels.some((l) => l.includes(brandSkel))) return `${host} uses the name of ${d}`;
    if (brandSkel.length >= 6 && editDistanceAtMostOne(regSkel, brandSkel)) return `${host} is one letter off ${d}`;
  }
  for (const d of words) {
    const word = d.split('.').slice(-2, -1)[0] ?? d;
    if (word.length >= 3 && regLabel.toLowerCase() !== word && regSkel === skeleton(word)) return `${host} imitates ${d}`;
  }
  return null;
}

/** What detectScam needs about the message and the chat. */
export interface ScamInput {
  /** foldText() of the message. */
  folded: string;
  /** stripInvisible() of the message. */
  clean: string;
  /** Links the adapter saw (entities). */
  links?: readonly string[];
  /** extractHosts() of `clean` and `links`, when the caller has it already. */
  hosts?: readonly FoundHost[];
  /** The chat's allowlist; empty means every non-suspicious link is fine. */
  allowlist: readonly string[];
}

/** The first scam rule a message trips, or null. */
export function detectScam(input: ScamInput): ScamHit | null {
  const { folded, allowlist } = input;
  const seed = findSeedRequest(folded);
  if (seed) return { kind: 'seed-request', reason: seed };
  const lure = findSupportLure(folded);
  if (lure) return { kind: 'support-lure', reason: lure };
  const hosts = input.hosts ?? extractHosts(input.clean, input.links ?? []);
  if (!hosts.length) return null;
  const brands = [...allowlist, ...KNOWN_DOMAINS];
  const protectedDomains = [...brands, ...KNOWN_WORD_DOMAINS];
  for (const h of hosts) {
    if (h.disguise) return { kind: 'lookalike-domain', reason: `a link to ${h.host} disguised as ${h.disguise.slice(0, 60)}` };
    const look = findLookalike(h.raw, brands, KNOWN_WORD_DOMAINS);
    if (look) return { kind: 'lookalike-domain', reason: look };
  }
  const unknown = hosts.map((h) => h.host).filter((h) => !protectedDomains.some((d) => hostIsUnder(h, d)));
  for (const h of unknown) {
    const m = DRAINER_WORDS.exec(h);
    if (m) return { kind: 'drainer-link', reason: `${h}: "${m[1]}" in an unknown domain` };
  }
  if (unknown.length && LURE_WITH_LINK.test(folded)) return { kind: 'drainer-link', reason: `wallet lure with a link to ${unknown[0]}` };
  if (allowlist.length) {
    const bad = hosts.map((h) => h.host).find((h) => !allowlist.some((d) => hostIsUnder(h, d)));
    if (bad) return { kind: 'link-not-allowed', reason: `${bad} is not on the allowlist` };
  }
  return null;
}
