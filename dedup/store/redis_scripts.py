"""The Redis store's key layout and the Lua scripts it runs on the server.

A script runs alone on the server, so each write is atomic; band keys travel as one binary
string (8 bytes a key, :func:`~dedup.store.keys.key_bytes`) and the script names the sets
itself, and term frequencies are read with one HMGET and written with one HSET (and one HDEL)
instead of a HINCRBY per term: what a call costs is the number of Redis commands it runs.
The scripts name keys they build, so the store needs one Redis server (and its replicas), not
a Redis Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

CHUNK = 5000  # band keys, ids or terms per server call (keeps each reply bounded)


@dataclass(frozen=True)
class KeyLayout:
    """The names of an index's keys under its prefix (described in :mod:`dedup.store.redis`)."""

    prefix: str

    @property
    def doc_prefix(self) -> str:
        return f"{self.prefix}:doc:"

    @property
    def band_prefix(self) -> str:
        return f"{self.prefix}:band:"

    @property
    def terms(self) -> str:
        return f"{self.prefix}:terms"

    @property
    def meta(self) -> str:
        return f"{self.prefix}:meta"

    @property
    def count(self) -> str:
        return f"{self.prefix}:count"

    @property
    def upgrade_lock(self) -> str:
        return f"{self.prefix}:upgrade"

    def doc(self, doc_id: str) -> str:
        return self.doc_prefix + doc_id

    def script_keys(self, doc_id: str) -> list[str]:
        """KEYS of :data:`ADD_LUA` and :data:`REMOVE_LUA` for a document."""
        return [self.band_prefix, self.doc(doc_id), self.terms, self.count]


# Band keys arrive as one string of 8-byte keys; KEYS[1] is the prefix of the band sets.
_BANDS_LUA = """
local function each_band(blob, command, member)
    for i = 1, #blob, 8 do
        redis.call(command, KEYS[1] .. string.sub(blob, i, i + 7), member)
    end
end
"""

# Ids sharing band keys, with the number of keys shared: counted on the server, so one reply
# carries each candidate once instead of every member of every set. ARGV[1]: the band keys;
# ARGV[2]: the largest set read ('' for no limit; a larger one is left out, read by SCARD).
CANDIDATES_LUA = """
local counts = {}
local order = {}
local blob = ARGV[1]
local limit = tonumber(ARGV[2])
for i = 1, #blob, 8 do
    local key = KEYS[1] .. string.sub(blob, i, i + 7)
    local members = {}
    if not limit or redis.call('SCARD', key) <= limit then
        members = redis.call('SMEMBERS', key)
    end
    for _, member in ipairs(members) do
        local seen = counts[member]
        if seen then
            counts[member] = seen + 1
        else
            counts[member] = 1
            order[#order + 1] = member
        end
    end
end
local reply = {}
for _, member in ipairs(order) do
    reply[#reply + 1] = member
    reply[#reply + 1] = counts[member]
end
return reply
"""

# KEYS = band prefix, document, term frequencies, count. unindex/index take the document's
# id, record, band keys (one string) and the positions of its terms in ARGV. Term
# frequencies: one HMGET, then one HSET of the new values and one HDEL of those at zero
# (terms no document has left are deleted, as the SQLite store does).
_FUNCTIONS_LUA = (
    _BANDS_LUA
    + """
local function count_terms(first, last, delta)
    for start = first, last, 1000 do
        local stop = math.min(start + 999, last)
        local old = redis.call('HMGET', KEYS[3], unpack(ARGV, start, stop))
        local set, gone = {}, {}
        for i = start, stop do
            local value = (tonumber(old[i - start + 1]) or 0) + delta
            if value > 0 then
                set[#set + 1] = ARGV[i]
                set[#set + 1] = value
            else
                gone[#gone + 1] = ARGV[i]
            end
        end
        if #set > 0 then redis.call('HSET', KEYS[3], unpack(set)) end
        if #gone > 0 then redis.call('HDEL', KEYS[3], unpack(gone)) end
    end
end

local function unindex(id, bands, first_term, last_term)
    redis.call('DEL', KEYS[2])
    each_band(bands, 'SREM', id)
    count_terms(first_term, last_term, -1)
    redis.call('DECR', KEYS[4])
end

local function index(id, record, bands, first_term, last_term)
    redis.call('SET', KEYS[2], record)
    each_band(bands, 'SADD', id)
    count_terms(first_term, last_term, 1)
    redis.call('INCR', KEYS[4])
end
"""
)

# add: KEYS = band prefix, document, term frequencies, count; ARGV = id, record, fingerprint,
# replace ('1' or ''), SHA-1 of the old record ('' when not read yet), new band keys, old
# band keys, number of new terms, new terms..., old terms...
# Reply: {1} added, {2} updated, {0, fingerprint} the id holds that fingerprint (the same
# text, or another one without replace: nothing written), {-1, record} replacing needs the
# current record's keys (the caller reads them from it and calls again).
ADD_LUA = (
    _FUNCTIONS_LUA
    + """
local new_terms = tonumber(ARGV[8])
local status = 1
local current = redis.call('GET', KEYS[2])
if current then
    local fingerprint = cjson.decode(current)['fingerprint']
    if fingerprint == ARGV[3] or ARGV[4] ~= '1' then
        return {0, fingerprint}
    end
    if redis.sha1hex(current) ~= ARGV[5] then
        return {-1, current}
    end
    unindex(ARGV[1], ARGV[7], 9 + new_terms, #ARGV)
    status = 2
end
index(ARGV[1], ARGV[2], ARGV[6], 9, 8 + new_terms)
return {status}
"""
)

# remove: KEYS as add; ARGV = id, SHA-1 of the record read, its band keys, its terms...
# 1 when removed, 0 when not there, -1 when the record changed since it was read.
REMOVE_LUA = (
    _FUNCTIONS_LUA
    + """
local current = redis.call('GET', KEYS[2])
if not current then
    return 0
end
if redis.sha1hex(current) ~= ARGV[2] then
    return -1
end
unindex(ARGV[1], ARGV[3], 4, #ARGV)
return 1
"""
)
