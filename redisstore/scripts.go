package redisstore

import "github.com/redis/go-redis/v9"

// Hash fields of a session record. Times are Unix milliseconds, the version
// is a decimal string compared as a string (Lua never turns it into a
// floating-point number).
const (
	fieldData     = "d" // Record.Data, raw bytes
	fieldVersion  = "v" // Record.Version
	fieldOwner    = "o" // Record.Owner, "" for none
	fieldCreated  = "c" // Record.Created
	fieldModified = "m" // Record.Modified
	fieldExpiry   = "x" // Record.Expiry (the logical expiry, by the store's clock)
	fieldIndexed  = "i" // the owner's index set is known to live until then
)

// readRecordLua defines, for the save and touch scripts, readRecord(k):
// it returns nil when no key k exists, false and a reason when k holds a
// hash that is not a well-formed record (the same checks as decodeRecord:
// every field present, a canonical non-zero uint64 version, times of at
// most 18 digits), and otherwise the fields {v, x, o, i}. A key of another
// type makes HLEN fail with WRONGTYPE, which aborts the script; the store
// reports that as a corrupt record too.
const readRecordLua = `
local function isTime(s)
  if not s then return false end
  local d = string.match(s, '^-?(%d+)$')
  return d ~= nil and #d <= 18
end
local function isVersion(s)
  if not s or not string.match(s, '^[1-9]%d*$') then return false end
  return #s < 20 or (#s == 20 and s <= '18446744073709551615')
end
local function readRecord(k)
  if redis.call('HLEN', k) == 0 then
    return nil
  end
  local cur = redis.call('HMGET', k, 'v', 'x', 'o', 'i', 'c', 'm')
  if not isVersion(cur[1]) then return false, 'field "v": missing or not a version' end
  if not isTime(cur[2]) then return false, 'field "x": missing or not a time' end
  if not cur[3] then return false, 'field "o" missing' end
  if cur[4] and not isTime(cur[4]) then return false, 'field "i": not a time' end
  if not isTime(cur[5]) then return false, 'field "c": missing or not a time' end
  if not isTime(cur[6]) then return false, 'field "m": missing or not a time' end
  if redis.call('HEXISTS', k, 'd') == 0 then return false, 'field "d" missing' end
  return {cur[1], cur[2], cur[3], cur[4]}
end
`

// Status codes in the first element of the save and touch scripts' replies.
const (
	statusRefused = 0 // conflict (save) or no live record (touch)
	statusDone    = 1
	statusCorrupt = 2 // the key holds a hash that is not a record; the reason follows
)

// saveScript is the compare-and-set save.
//
//	KEYS[1] session key
//	ARGV[1] expected version ("0": no live record)
//	ARGV[2] new version
//	ARGV[3] data
//	ARGV[4] owner ("" for none)
//	ARGV[5] created (ms)
//	ARGV[6] now (ms)
//	ARGV[7] expiry (ms)
//	ARGV[8] index target (ms): how long to keep the owner's set alive
//
// Returns {0, stored version} on conflict, {2, reason} when the key holds a
// corrupt record (left as it is), {1, 0} when saved and the owner index
// needs nothing, {1, 1} when saved and the caller must add the key to the
// owner's set and keep the set alive until ARGV[8] (the record already says
// it is, see fieldIndexed; the caller repairs that on failure).
var saveScript = redis.NewScript(readRecordLua + `
local k = KEYS[1]
local now = tonumber(ARGV[6])
local cur, reason = readRecord(k)
if cur == false then
  return {2, reason}
end
local exists = cur ~= nil
cur = cur or {}
local v = cur[1]
if v and tonumber(cur[2]) <= now then
  v = false
end
if (v or '0') ~= ARGV[1] then
  return {0, v or '0'}
end
if tonumber(ARGV[7]) <= now then
  redis.call('DEL', k)
  return {1, 0}
end
if exists and not v then
  redis.call('DEL', k)
end
local owner = ARGV[4]
local push = 0
if owner ~= '' and (not v or cur[3] ~= owner or not cur[4] or tonumber(cur[4]) < tonumber(ARGV[7])) then
  push = 1
end
redis.call('HSET', k, 'd', ARGV[3], 'v', ARGV[2], 'o', owner, 'c', ARGV[5], 'm', ARGV[6], 'x', ARGV[7])
if owner == '' then
  redis.call('HDEL', k, 'i')
elseif push == 1 then
  redis.call('HSET', k, 'i', ARGV[8])
end
redis.call('PEXPIREAT', k, ARGV[7])
return {1, push}
`)

// touchScript pushes the expiry of a live record.
//
//	KEYS[1] session key
//	ARGV[1] expiry (ms)
//	ARGV[2] now (ms)
//	ARGV[3] index target (ms)
//
// Returns {0} when there is no live record, {2, reason} when the key holds
// a corrupt record (left as it is), {1} when touched, {1, owner} when
// touched and the owner's set must be kept alive until ARGV[3].
var touchScript = redis.NewScript(readRecordLua + `
local k = KEYS[1]
local now = tonumber(ARGV[2])
local cur, reason = readRecord(k)
if cur == false then
  return {2, reason}
end
if not cur or tonumber(cur[2]) <= now then
  return {0}
end
if tonumber(ARGV[1]) <= now then
  redis.call('DEL', k)
  return {1}
end
redis.call('HSET', k, 'x', ARGV[1], 'm', ARGV[2])
redis.call('PEXPIREAT', k, ARGV[1])
local owner = cur[3]
if owner ~= '' and (not cur[4] or tonumber(cur[4]) < tonumber(ARGV[1])) then
  redis.call('HSET', k, 'i', ARGV[3])
  return {1, owner}
end
return {1}
`)

// indexScript adds a member to an owner's set and keeps the set alive at
// least until a target time.
//
//	KEYS[1] owner set key
//	ARGV[1] member (store key)
//	ARGV[2] target (ms)
//	ARGV[3] now (ms)
var indexScript = redis.NewScript(`
local k = KEYS[1]
redis.call('SADD', k, ARGV[1])
local ttl = redis.call('PTTL', k)
if ttl < 0 or tonumber(ARGV[3]) + ttl < tonumber(ARGV[2]) then
  redis.call('PEXPIREAT', k, ARGV[2])
end
return 1
`)

// unindexScript forgets that a record's owner set was extended, after the
// extension failed, so that the next Save or Touch tries again.
//
//	KEYS[1] session key
//	ARGV[1] the target the record claims
var unindexScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'i') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'i', '0')
end
return 1
`)
