/**
 * Lua scripts for the AMA's state changes that many workers may make at once: a vote, an ask joining a
 * question, an answer, a status change, a merge, a split, a lifecycle transition. Each runs atomically in
 * Redis, so no read-modify-write race can lose a vote or post an answer twice. All keys share the project's
 * hash tag, so the scripts stay valid on a Redis Cluster.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { evalScript, queueScript } from '../../redis/scripts.js';
import { INDEX_LUA } from '../questions/index.js';
import { RANK_LUA } from './rank.js';

// Shared helper: the rank score of question n from its hash (see rank.ts for the formula and why).
const SCORE_FN = `
local function score(qkey, votes, epoch, tau)
  -- Questions asked before the start (pre-questions) all count as asked at the start.
  local created = math.max(tonumber(redis.call('HGET', qkey, 'createdAt')) or epoch, epoch)
  return ${RANK_LUA}
end
`;

/** KEYS q, sup, voters, askers, rank, names; ARGV user, add(1|0), epoch, tau, n, userName -> {changed, votes} or {-1} / {-2, into}. */
const VOTE = `${SCORE_FN}
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1, 0} end
if st == 'merged' then return {-2, tonumber(redis.call('HGET', KEYS[1], 'mergedInto'))} end
local changed
if ARGV[2] == '1' then
  changed = redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[1])
  if ARGV[6] ~= '' then redis.call('HSETNX', KEYS[6], ARGV[1], ARGV[6]) end
else
  changed = redis.call('SREM', KEYS[3], ARGV[1])
  if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
end
local votes = redis.call('SCARD', KEYS[2])
redis.call('HSET', KEYS[1], 'votes', votes)
if st == 'open' then redis.call('ZADD', KEYS[5], score(KEYS[1], votes, tonumber(ARGV[3]), tonumber(ARGV[4])), ARGV[5]) end
return {changed, votes}
`;

/**
 * An ask joins question n, and its text is indexed as one more entry of n (dedup.ts), so later asks are compared
 * with every way the question was asked.
 * KEYS q, asks, sup, askers, rank, ev, msg, names, idxSeq, idxQ, idxId, bucket...;
 * ARGV askJson, user, epoch, tau, n, evTtl, msgValue('' = none), msgTtl, userName, at, entry, payload, cap, seqBase
 * -> {1, votes, status} / {-1} gone / {-2, into} merged / {-3, n} this op already asked.
 */
const ADD_ASK = `${SCORE_FN}
${INDEX_LUA}
local prior = redis.call('GET', KEYS[6])
if prior then return {-3, tonumber(prior), ''} end
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1, 0, ''} end
if st == 'merged' then return {-2, tonumber(redis.call('HGET', KEYS[1], 'mergedInto')), ''} end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'askCount', 1)
redis.call('HSET', KEYS[1], 'lastAt', ARGV[10])
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('HSETNX', KEYS[8], ARGV[2], ARGV[9])
local votes = redis.call('SCARD', KEYS[3])
redis.call('HSET', KEYS[1], 'votes', votes)
if st == 'open' then redis.call('ZADD', KEYS[5], score(KEYS[1], votes, tonumber(ARGV[3]), tonumber(ARGV[4])), ARGV[5]) end
redis.call('SET', KEYS[6], ARGV[5], 'EX', ARGV[6])
if ARGV[7] ~= '' then redis.call('SET', KEYS[7], ARGV[7], 'EX', ARGV[8]) end
if #KEYS > 8 then idx_add(KEYS[9], KEYS[10], KEYS[11], {unpack(KEYS, 12)}, ARGV[11], ARGV[12], tonumber(ARGV[13]), tonumber(ARGV[14])) end
return {1, votes, st}
`;

/**
 * A new question, numbered and indexed for duplicate lookups in one step, so intake needs no lock: it refuses when a
 * bucket the caller's lookup read has changed since (another worker added a question that may be the same), and the
 * caller looks again. The question's own keys are built here from its number (all under the AMA's hash tag).
 * KEYS qseq, qs, rank, pending, names, ev, msg, idxSeq, idxQ, idxId, bucket...;
 * ARGV qPrefix, text, status, askJson, user, userName, at, epoch, tau, evTtl, msgAma ('' = none), msgTtl, check (1|0),
 * payload, cap, seqBase, head... -> {1, n} created / {-1, 0} a bucket changed / {-3, n} this op already asked.
 */
const CREATE = `${SCORE_FN}
${INDEX_LUA}
local prior = redis.call('GET', KEYS[6])
if prior then return {-3, tonumber(prior)} end
local buckets = {unpack(KEYS, 11)}
if ARGV[13] == '1' and not idx_unchanged(buckets, ARGV, 17) then return {-1, 0} end
local n = redis.call('INCR', KEYS[1])
local q = ARGV[1] .. n
redis.call('HSET', q, 'n', n, 'text', ARGV[2], 'status', ARGV[3], 'votes', 1, 'askCount', 1, 'createdAt', ARGV[7], 'lastAt', ARGV[7])
-- The first ask's index entry is the question number, known only now.
redis.call('RPUSH', q .. ':asks', (string.gsub(ARGV[4], '"ix":""', '"ix":"' .. n .. '"', 1)))
redis.call('SADD', q .. ':askers', ARGV[5])
redis.call('SADD', q .. ':sup', ARGV[5])
redis.call('HSETNX', KEYS[5], ARGV[5], ARGV[6])
redis.call('ZADD', KEYS[2], n, n)
if ARGV[3] == 'open' then
  redis.call('ZADD', KEYS[3], score(q, 1, tonumber(ARGV[8]), tonumber(ARGV[9])), n)
else
  redis.call('ZADD', KEYS[4], ARGV[7], n)
end
redis.call('SET', KEYS[6], n, 'EX', ARGV[10])
if ARGV[11] ~= '' then redis.call('SET', KEYS[7], ARGV[11] .. ':' .. n, 'EX', ARGV[12]) end
idx_add(KEYS[8], KEYS[9], KEYS[10], buckets, tostring(n), ARGV[14], tonumber(ARGV[15]), tonumber(ARGV[16]))
return {1, n}
`;

/** KEYS q, rank, answered, pending; ARGV text, at, by, n -> {1} answered, {2} same answer already, {3} other answer, {4} rejected, {-1} none, {-2, into}. */
const ANSWER = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1} end
if st == 'merged' then return {-2, tonumber(redis.call('HGET', KEYS[1], 'mergedInto'))} end
if st == 'answered' then
  if redis.call('HGET', KEYS[1], 'answer') == ARGV[1] then return {2} end
  return {3}
end
if st == 'rejected' then return {4} end
redis.call('HSET', KEYS[1], 'status', 'answered', 'answer', ARGV[1], 'answeredAt', ARGV[2], 'answeredBy', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[4], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
return {1}
`;

/** KEYS q, rank, pending; ARGV to(open|rejected), reason, n, epoch, tau -> {1} changed, {0} already, {-1} none, {-2, into}, {-3} not allowed. */
const SET_STATUS = `${SCORE_FN}
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {-1} end
if st == 'merged' then return {-2, tonumber(redis.call('HGET', KEYS[1], 'mergedInto'))} end
if st == ARGV[1] then return {0} end
if st == 'answered' then return {-3} end
if ARGV[1] == 'open' then
  redis.call('HSET', KEYS[1], 'status', 'open')
  redis.call('HDEL', KEYS[1], 'rejectReason')
  redis.call('ZREM', KEYS[3], ARGV[3])
  local votes = tonumber(redis.call('HGET', KEYS[1], 'votes')) or 0
  redis.call('ZADD', KEYS[2], score(KEYS[1], votes, tonumber(ARGV[4]), tonumber(ARGV[5])), ARGV[3])
else
  redis.call('HSET', KEYS[1], 'status', 'rejected', 'rejectReason', ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[3])
end
return {1}
`;

/**
 * KEYS qFrom, qTo, asksFrom, asksTo, supFrom, supTo, votersFrom, votersTo, askersFrom, askersTo, rank, qs, pending;
 * ARGV from, to, epoch, tau -> {1, votes} / {-1} missing / {-2} from already merged / {-3, into} target merged / {-4} answered into unanswered.
 */
const MERGE = `${SCORE_FN}
local sf = redis.call('HGET', KEYS[1], 'status')
local stt = redis.call('HGET', KEYS[2], 'status')
if not sf or not stt then return {-1, 0} end
if sf == 'merged' then return {-2, tonumber(redis.call('HGET', KEYS[1], 'mergedInto'))} end
if stt == 'merged' then return {-3, tonumber(redis.call('HGET', KEYS[2], 'mergedInto'))} end
if sf == 'answered' and stt ~= 'answered' then return {-4, 0} end
local asks = redis.call('LRANGE', KEYS[3], 0, -1)
for i = 1, #asks do redis.call('RPUSH', KEYS[4], asks[i]) end
redis.call('HINCRBY', KEYS[2], 'askCount', #asks)
redis.call('SUNIONSTORE', KEYS[6], KEYS[6], KEYS[5])
redis.call('SUNIONSTORE', KEYS[8], KEYS[8], KEYS[7])
redis.call('SUNIONSTORE', KEYS[10], KEYS[10], KEYS[9])
local votes = redis.call('SCARD', KEYS[6])
redis.call('HSET', KEYS[2], 'votes', votes)
redis.call('HSET', KEYS[1], 'status', 'merged', 'mergedInto', ARGV[2])
redis.call('ZREM', KEYS[11], ARGV[1])
redis.call('ZREM', KEYS[12], ARGV[1])
redis.call('ZREM', KEYS[13], ARGV[1])
if stt == 'open' then redis.call('ZADD', KEYS[11], score(KEYS[2], votes, tonumber(ARGV[3]), tonumber(ARGV[4])), ARGV[2]) end
return {1, votes}
`;

/**
 * Moves ask number k (0-based) of question n into a new question m.
 * KEYS qN, asksN, supN, votersN, askersN, qM, asksM, supM, askersM, rank, qs, pending;
 * ARGV k, m, epoch, tau, newStatus, n -> {1, askJson} / {-1} no such ask / {-2} only ask / {-3} n not splittable.
 */
const SPLIT = `${SCORE_FN}
local st = redis.call('HGET', KEYS[1], 'status')
if not st or st == 'merged' then return {-3, ''} end
local count = redis.call('LLEN', KEYS[2])
if count < 2 then return {-2, ''} end
local raw = redis.call('LINDEX', KEYS[2], tonumber(ARGV[1]))
if not raw then return {-1, ''} end
local ask = cjson.decode(raw)
local user = ask['user']
redis.call('LSET', KEYS[2], tonumber(ARGV[1]), '__split__')
redis.call('LREM', KEYS[2], 1, '__split__')
redis.call('HINCRBY', KEYS[1], 'askCount', -1)
local still = false
for _, r in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local a = cjson.decode(r)
  if a['user'] == user then still = true break end
end
if not still then
  redis.call('SREM', KEYS[5], user)
  if redis.call('SISMEMBER', KEYS[4], user) == 0 then redis.call('SREM', KEYS[3], user) end
end
local votesN = redis.call('SCARD', KEYS[3])
redis.call('HSET', KEYS[1], 'votes', votesN)
if st == 'open' then redis.call('ZADD', KEYS[10], score(KEYS[1], votesN, tonumber(ARGV[3]), tonumber(ARGV[4])), ARGV[6]) end
redis.call('HSET', KEYS[6], 'n', ARGV[2], 'text', ask['text'], 'status', ARGV[5], 'votes', 1, 'askCount', 1, 'createdAt', ask['at'], 'lastAt', ask['at'])
redis.call('RPUSH', KEYS[7], raw)
redis.call('SADD', KEYS[8], user)
redis.call('SADD', KEYS[9], user)
redis.call('ZADD', KEYS[11], ARGV[2], ARGV[2])
if ARGV[5] == 'open' then
  redis.call('ZADD', KEYS[10], score(KEYS[6], 1, tonumber(ARGV[3]), tonumber(ARGV[4])), ARGV[2])
else
  redis.call('ZADD', KEYS[12], ask['at'], ARGV[2])
end
return {1, raw}
`;

/**
 * A lifecycle transition with the live-chat index kept in step.
 * KEYS ama, liveAll, live:<group>...; ARGV fromList (space separated), to, field, ts, id -> previous status ('' = no such AMA).
 */
const TRANSITION = `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return '' end
if not string.find(' ' .. ARGV[1] .. ' ', ' ' .. st .. ' ', 1, true) then return st end
redis.call('HSET', KEYS[1], 'status', ARGV[2], ARGV[3], ARGV[4])
if ARGV[2] == 'live' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
  for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[5]) end
else
  redis.call('ZREM', KEYS[2], ARGV[5])
  for i = 3, #KEYS do
    if redis.call('GET', KEYS[i]) == ARGV[5] then redis.call('DEL', KEYS[i]) end
  end
end
return st
`;

/** KEYS due; ARGV id, now, leaseUntil -> 1 when this worker now holds the task. */
const CLAIM = `
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
`;

/** KEYS due, tasks; ARGV id, leaseScore, nextAt('' = done) -> 1 when applied (0: the task was re-scheduled meanwhile). */
const FINISH = `
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
`;

/** KEYS lock; ARGV token -> 1 when released. */
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

const DEFS = {
  amaVote: { lua: VOTE },
  amaAddAsk: { lua: ADD_ASK },
  amaCreate: { lua: CREATE },
  amaAnswer: { lua: ANSWER },
  amaSetStatus: { lua: SET_STATUS },
  amaMerge: { lua: MERGE },
  amaSplit: { lua: SPLIT },
  amaTransition: { lua: TRANSITION },
  amaClaim: { lua: CLAIM },
  amaFinish: { lua: FINISH },
  amaUnlock: { lua: UNLOCK },
} as const;

type ScriptName = keyof typeof DEFS;
type Arg = string | number;

/** The scripts as typed calls; `tx` variants queue them in a MULTI/pipeline. */
export interface AmaScripts {
  run(name: ScriptName, keys: string[], args: Arg[]): Promise<unknown>;
  queue(tx: ChainableCommander, name: ScriptName, keys: string[], args: Arg[]): void;
}

/** Typed callers of the scripts on a connection: EVALSHA, loaded on first use (see src/redis/scripts.ts). */
export function amaScripts(redis: Redis): AmaScripts {
  return {
    run: (name, keys, args) => evalScript(redis, DEFS[name].lua, keys, args),
    queue: (tx, name, keys, args) => queueScript(tx, DEFS[name].lua, keys, args),
  };
}
