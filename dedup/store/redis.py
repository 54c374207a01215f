"""The Redis store: one index shared by several gate workers, on one Redis server.

``RedisStore("redis://host:port/db?prefix=name")`` keeps an index under keys that start with
the prefix (``dedup`` by default), so several indexes can share one Redis database:

- ``{prefix}:doc:{id}``: the document (a :class:`~dedup.store.StoredDocument` as JSON);
- ``{prefix}:band:`` + 8 bytes: the ids of the documents having that LSH band key (a set;
  the key's name ends in the uint64 band key as 8 raw big-endian bytes);
- ``{prefix}:terms``: term -> document frequency (a hash; the field is the uint64 term key
  as 8 raw big-endian bytes);
- ``{prefix}:count``: the number of documents;
- ``{prefix}:meta``: the schema version and the index settings (a hash).

Every operation is one round trip whatever the size of the document, and every write is
atomic: ``add`` is one server-side Lua script that checks the id (absent, same fingerprint, or
another text) and writes the document, its band keys, term frequencies and count. A script
runs alone on the server, so two workers adding the same id get one ``"added"`` and one
``"exists"``, and a client that dies never leaves a document half written (Redis does not
roll a script back, so only a server-side error half way could: the server out of memory, or
a key of another type under the prefix). Replacing a text (``replace=True``) and ``remove``
need the old version's keys: ``remove`` reads the record first, a replacing ``add`` gets it
back from its first call, and the second call unindexes it (and writes the new version)
unless the record changed in between, when it goes round again. ``candidates`` counts the
ids of all band keys in one script, ``get_many`` is one MGET, ``document_frequencies`` one
HMGET (with the count, in one MULTI); ``add_many`` pipelines its adds in one round trip.

What a call costs is the number of Redis commands it runs, so the scripts run few: band keys
travel as one binary string (8 bytes a key) and the script names the sets itself, and term
frequencies are read with one HMGET and written with one HSET (and one HDEL) instead of a
HINCRBY per term. The scripts name keys they build, so the store needs one Redis server (and
its replicas), not a Redis Cluster.

Durability is the server's: with Redis's defaults (RDB snapshots) an acknowledged add can be
lost when the server stops abruptly. Run the server with ``appendonly yes`` (and
``appendfsync always`` to survive power loss as the SQLite store does, ``everysec`` to lose
at most a second) when the index must survive a crash.

The driver is optional: ``pip install 'dedup[redis]'``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from ..errors import ConfigError, StoreError
from .base import ConflictError, StoredDocument, display_location, keyed_terms

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "dedup"
_UINT64 = (1 << 64) - 1
_MAX_RETRIES = 50  # times a document may change under a remove before it gives up
_CHUNK = 5000  # band keys, ids or terms per server call (keeps each reply bounded)
# Version of the key layout: 3 since band keys are binary and term frequencies are written in
# bulk (2 had decimal band keys), 4 since records may carry the gate's packed token features
# (base64 in the JSON; dedup before that cannot read such records). A version 3 index is
# upgraded when opened (its records have no features: the gate re-tokenises their texts); an
# index under another version is refused, not misread. 5 since TF-IDF terms are 64-bit keys
# (``features.term_key``) stored as 8 bytes: versions 3 and 4 are upgraded when opened, their
# records' terms keyed and the frequencies counted again (``RedisStore._upgrade``).
SCHEMA_VERSION = 5
_UPGRADABLE = (3, 4)
_UPGRADE_LOCK_SECONDS = 3600

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
_CANDIDATES_LUA = """
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
_ADD_LUA = (
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
_REMOVE_LUA = (
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


def _key_bytes(keys: Iterable[int]) -> bytes:
    """Band keys (distinct) as one string of 8-byte big-endian unsigned integers."""
    values = list(keys)
    try:
        array = np.asarray(values, dtype=np.uint64)
    except OverflowError:  # signed int64 keys (as SQLite keeps them)
        array = np.asarray([int(k) & _UINT64 for k in values], dtype=np.uint64)
    return np.unique(array).astype(">u8").tobytes()


def _term_fields(terms: Iterable[int], *, distinct: bool = False) -> list[bytes]:
    """Term keys (uint64) as their fields of the term frequency hash, 8 bytes big-endian
    each, in order, or sorted and each once with ``distinct``."""
    values = terms if isinstance(terms, np.ndarray) else list(terms)
    packed = np.asarray(values, dtype=np.uint64).astype(">u8").tobytes()
    fields = [packed[i : i + 8] for i in range(0, len(packed), 8)]
    return sorted(set(fields)) if distinct else fields


def _redis_module() -> Any:
    """The redis driver, imported on first use."""
    try:
        import redis
    except ImportError as exc:
        raise ConfigError(
            "the Redis backend needs the redis package: pip install 'dedup[redis]'"
        ) from exc
    return redis


def _split_prefix(url: str) -> tuple[str, str]:
    """The URL without the ``prefix`` query parameter (unknown to the driver), and the prefix."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    prefix = prefixes[-1] if prefixes else DEFAULT_PREFIX
    if not prefix:
        raise ConfigError(
            f"empty prefix in the index URL {display_location(url)!r}: give a name "
            "(?prefix=news) or leave the parameter out for the default 'dedup'"
        )
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


class RedisStore:
    """The shared store: one index on a Redis server, under one key prefix.

    Args:
        url: ``redis://[[user]:password@]host:port/db[?prefix=name]`` (also ``rediss://``
            and ``unix:///path/to/socket?db=0``); the prefix defaults to ``dedup``.
        timeout: Seconds to wait for the server to connect or answer.

    Raises:
        ConfigError: the redis package is missing, or the URL is invalid.
        StoreError: the server cannot be reached, or the prefix holds another schema.
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        redis = _redis_module()
        self.url = display_location(url)
        driver_url, self.prefix = _split_prefix(url)
        self._errors = redis.exceptions
        try:
            self._client = redis.Redis.from_url(
                driver_url, socket_connect_timeout=timeout, socket_timeout=timeout
            )
        except ValueError as exc:
            raise ConfigError(
                f"invalid Redis URL {self.url!r}: {exc}: use redis://host:port/db"
            ) from exc
        self._doc_prefix = f"{self.prefix}:doc:"
        self._band_prefix = f"{self.prefix}:band:"
        self._terms = f"{self.prefix}:terms"
        self._meta = f"{self.prefix}:meta"
        self._count = f"{self.prefix}:count"
        self._add_script = self._client.register_script(_ADD_LUA)
        self._remove_script = self._client.register_script(_REMOVE_LUA)
        self._candidates_script = self._client.register_script(_CANDIDATES_LUA)
        with self._calls("open the index"):
            pipe = self._client.pipeline(transaction=True)
            pipe.hsetnx(self._meta, "schema", SCHEMA_VERSION)
            pipe.hget(self._meta, "schema")
            schema = pipe.execute()[1]
            if int(schema) in _UPGRADABLE:
                schema = self._upgrade()
        if int(schema) != SCHEMA_VERSION:
            raise StoreError(
                f"index {self.url} (prefix {self.prefix!r}) has schema version "
                f"{schema.decode()}, this dedup reads {SCHEMA_VERSION} (and upgrades "
                f"{', '.join(map(str, _UPGRADABLE))}): rebuild it under another prefix "
                "(?prefix=name)"
            )

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, prefix={self.prefix!r})"

    def _upgrade(self) -> bytes:
        """Bring an index of version 3 or 4 to the current one: every record's terms as keys
        (records without features stay readable: the gate re-tokenises their texts), then
        the term frequencies counted again and the version set, in one transaction.

        One process upgrades (it holds a lock key); others opening the index meanwhile wait
        for the version to change. Writers of an older dedup must be stopped first: what they
        add meanwhile is not counted. An upgrade that dies half way is run again whole by the
        next process to open the index once its lock has expired (an hour). Returns the schema
        version then recorded."""
        lock = f"{self.prefix}:upgrade"
        while True:
            schema = self._client.hget(self._meta, "schema")
            if schema is None or int(schema) not in _UPGRADABLE:
                return schema or str(SCHEMA_VERSION).encode()
            if self._client.set(lock, "1", nx=True, ex=_UPGRADE_LOCK_SECONDS):
                break
            time.sleep(0.2)
        try:
            log.info("%s: upgrading schema %s to %d", self.url, schema.decode(), SCHEMA_VERSION)
            frequencies: Counter[int] = Counter()
            pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self._doc_prefix) + "*"
            batch: list[bytes] = []
            for key in self._client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) == 1000:
                    self._key_terms(batch, frequencies)
                    batch = []
            self._key_terms(batch, frequencies)
            pipe = self._client.pipeline(transaction=True)
            pipe.delete(self._terms)
            items = list(zip(_term_fields(frequencies), frequencies.values()))
            for start in range(0, len(items), _CHUNK):
                pipe.hset(self._terms, mapping=dict(items[start : start + _CHUNK]))
            pipe.hset(self._meta, "schema", SCHEMA_VERSION)
            pipe.execute()
        finally:
            self._client.delete(lock)
        return str(SCHEMA_VERSION).encode()

    def _key_terms(self, keys: list[bytes], frequencies: Counter[int]) -> None:
        """Rewrite the records under ``keys`` with their terms as keys, and count them."""
        if not keys:
            return
        pipe = self._client.pipeline(transaction=False)
        for key, raw in zip(keys, self._client.mget(keys)):
            if raw is None:
                continue
            record = json.loads(raw)
            record["terms"] = keyed_terms(record["terms"])
            frequencies.update(record["terms"])
            pipe.set(key, json.dumps(record, ensure_ascii=False))
        pipe.execute()

    @contextmanager
    def _calls(self, action: str) -> Iterator[None]:
        """Driver errors as StoreError naming the server (never its password) and a hint."""
        try:
            yield
        except (self._errors.ConnectionError, self._errors.TimeoutError) as exc:
            raise StoreError(
                f"cannot {action}: Redis at {self.url} did not answer ({exc}): start "
                "redis-server there, or check the host, port and password of the URL"
            ) from exc
        except self._errors.RedisError as exc:
            raise StoreError(f"cannot {action} in Redis at {self.url}: {exc}") from exc

    def _doc_key(self, doc_id: str) -> str:
        return self._doc_prefix + doc_id

    def _keys(self, doc_id: str) -> list[str]:
        """KEYS of the add and remove scripts for a document."""
        return [self._band_prefix, self._doc_key(doc_id), self._terms, self._count]

    # --- settings -------------------------------------------------------------------------

    def settings(self) -> dict[str, Any] | None:
        with self._calls("read the settings"):
            raw = self._client.hget(self._meta, "settings")
        return json.loads(raw) if raw is not None else None

    def init_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        with self._calls("record the settings"):
            pipe = self._client.pipeline(transaction=True)
            pipe.hsetnx(self._meta, "settings", json.dumps(settings, sort_keys=True))
            pipe.hget(self._meta, "settings")
            created, raw = pipe.execute()
        return settings if created else json.loads(raw)

    # --- writes ---------------------------------------------------------------------------

    def add(self, doc: StoredDocument, *, replace: bool = False) -> str:
        doc.added = doc.added or time.time()
        record = doc.to_json()
        bands, terms = _key_bytes(doc.band_keys), _term_fields(doc.terms, distinct=True)
        old_bands = b""
        old_terms: list[bytes] = []
        old_sha = ""
        flag = "1" if replace else ""
        with self._calls(f"add {doc.id!r}"):
            for _attempt in range(_MAX_RETRIES):
                reply = self._add_script(
                    keys=self._keys(doc.id),
                    args=[
                        doc.id,
                        record,
                        doc.fingerprint,
                        flag,
                        old_sha,
                        bands,
                        old_bands,
                        len(terms),
                        *terms,
                        *old_terms,
                    ],
                )
                if reply[0] == -1:  # replacing: unindex the version the script returned
                    old = StoredDocument.from_json(reply[1])
                    old_bands, old_terms = (
                        _key_bytes(old.band_keys),
                        _term_fields(old.terms, distinct=True),
                    )
                    old_sha = hashlib.sha1(reply[1]).hexdigest()
                    continue
                break
            else:
                raise StoreError(
                    f"cannot replace {doc.id!r} in Redis at {self.url}: other workers changed "
                    f"it {_MAX_RETRIES} times in a row; try again"
                )
        if reply[0] == 1:
            return "added"
        if reply[0] == 2:
            return "updated"
        if reply[1].decode("utf-8") == doc.fingerprint:
            return "exists"
        raise ConflictError(
            f"document {doc.id!r} is already in the index with a different "
            "text: remove it first, or add it with update"
        )

    def add_many(self, docs: Sequence[StoredDocument]) -> list[str]:
        """Add many documents in one pipelined round trip (each add atomic on its own)."""
        pipe = self._client.pipeline(transaction=False)
        for doc in docs:
            doc.added = doc.added or time.time()
            terms = _term_fields(doc.terms, distinct=True)
            self._add_script(
                keys=self._keys(doc.id),
                args=[
                    doc.id,
                    doc.to_json(),
                    doc.fingerprint,
                    "",
                    "",
                    _key_bytes(doc.band_keys),
                    b"",
                    len(terms),
                    *terms,
                ],
                client=pipe,
            )
        with self._calls(f"add {len(docs)} documents"):
            replies = pipe.execute()
        statuses = []
        for doc, reply in zip(docs, replies):
            if reply[0] == 1:
                statuses.append("added")
            elif reply[1].decode("utf-8") == doc.fingerprint:
                statuses.append("exists")
            else:
                statuses.append("conflict")
        return statuses

    def remove(self, doc_id: str) -> bool:
        key = self._doc_key(doc_id)
        with self._calls(f"remove {doc_id!r}"):
            for _attempt in range(_MAX_RETRIES):
                current = self._client.get(key)
                if current is None:
                    return False
                doc = StoredDocument.from_json(current)
                reply = self._remove_script(
                    keys=self._keys(doc_id),
                    args=[
                        doc_id,
                        hashlib.sha1(current).hexdigest(),
                        _key_bytes(doc.band_keys),
                        *_term_fields(doc.terms, distinct=True),
                    ],
                )
                if reply != -1:
                    return bool(reply)
                log.debug("%s: %r changed while being removed, retrying", self.url, doc_id)
        raise StoreError(
            f"cannot remove {doc_id!r} from Redis at {self.url}: other workers changed it "
            f"{_MAX_RETRIES} times in a row; try again"
        )

    # --- reads ----------------------------------------------------------------------------

    def get(self, doc_id: str) -> StoredDocument | None:
        with self._calls(f"read {doc_id!r}"):
            raw = self._client.get(self._doc_key(doc_id))
        return StoredDocument.from_json(raw) if raw is not None else None

    def get_many(self, doc_ids: Sequence[str], *, keys: bool = True) -> list[StoredDocument]:
        ids = list(doc_ids)
        found: list[StoredDocument] = []
        with self._calls("read documents"):
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                records = self._client.mget([self._doc_key(i) for i in chunk])
                found.extend(StoredDocument.from_json(r) for r in records if r is not None)
        return found

    def candidates(
        self, band_keys: Iterable[int], *, max_bucket: int | None = None
    ) -> dict[str, int]:
        keys = _key_bytes(band_keys)
        limit = "" if max_bucket is None else str(int(max_bucket))
        step = 8 * _CHUNK
        hits: dict[str, int] = {}
        with self._calls("look up band keys"):
            for start in range(0, len(keys), step):
                reply = self._candidates_script(
                    keys=[self._band_prefix], args=[keys[start : start + step], limit]
                )
                for member, count in zip(reply[::2], reply[1::2]):
                    doc_id = member.decode("utf-8")
                    hits[doc_id] = hits.get(doc_id, 0) + int(count)
        return hits

    def document_frequencies(self, terms: np.ndarray) -> tuple[int, np.ndarray]:
        unique = _term_fields(terms)
        with self._calls("read document frequencies"):
            pipe = self._client.pipeline(transaction=True)
            pipe.get(self._count)
            chunks = [unique[start : start + _CHUNK] for start in range(0, len(unique), _CHUNK)]
            for chunk in chunks:
                pipe.hmget(self._terms, chunk)
            count, *replies = pipe.execute()
        values = [value for reply in replies for value in reply]
        found = np.array([int(v) if v is not None else 0 for v in values], dtype=np.int64)
        return int(count or 0), np.maximum(found, 0)

    def count(self) -> int:
        with self._calls("count documents"):
            return int(self._client.get(self._count) or 0)

    def close(self) -> None:
        self._client.close()
