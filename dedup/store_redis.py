"""The Redis store: one index shared by several gate workers, on one Redis server.

``RedisStore("redis://host:port/db?prefix=name")`` keeps an index under keys that start with
the prefix (``dedup`` by default), so several indexes can share one Redis database:

- ``{prefix}:doc:{id}``: the document (a :class:`~dedup.store.StoredDocument` as JSON);
- ``{prefix}:band:{key}``: the ids of the documents having that LSH band key (a set; keys
  are the uint64 band keys in decimal);
- ``{prefix}:terms``: term -> document frequency (a hash);
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
HMGET (with the count, in one MULTI). Scripts rather than WATCH/MULTI/EXEC: one round trip
instead of three, and no retries; with hundreds of band keys per document the commands
themselves, not the round trips, are then most of the cost (``benchmarks/gate_store.py``).

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
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import ConfigError, StoreError
from .store import SCHEMA_VERSION, ConflictError, StoredDocument, display_location

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "dedup"
_UINT64 = (1 << 64) - 1
_MAX_RETRIES = 50  # times a document may change under a remove before it gives up
_CHUNK = 5000  # band keys, ids or terms per server call (keeps each reply bounded)

# Ids sharing band keys, with the number of keys shared: counted on the server, so one reply
# carries each candidate once instead of every member of every set.
_CANDIDATES_LUA = """
local counts = {}
local order = {}
for _, key in ipairs(KEYS) do
    for _, member in ipairs(redis.call('SMEMBERS', key)) do
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

# Unindex (KEYS[first_key..last_key] are the old version's band keys, ARGV[first_arg..last_arg]
# its terms) and index (the new version's) a document; KEYS[1..3] are its key, the term
# frequencies and the count, ARGV[1] its id. Terms no document has left are deleted, as the
# SQLite store does.
_FUNCTIONS_LUA = """
local function unindex(first_key, last_key, first_arg, last_arg)
    redis.call('DEL', KEYS[1])
    for i = first_key, last_key do
        redis.call('SREM', KEYS[i], ARGV[1])
    end
    for i = first_arg, last_arg do
        if redis.call('HINCRBY', KEYS[2], ARGV[i], -1) <= 0 then
            redis.call('HDEL', KEYS[2], ARGV[i])
        end
    end
    redis.call('DECR', KEYS[3])
end

local function index(record, first_key, last_key, first_arg, last_arg)
    redis.call('SET', KEYS[1], record)
    for i = first_key, last_key do
        redis.call('SADD', KEYS[i], ARGV[1])
    end
    for i = first_arg, last_arg do
        redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
    end
    redis.call('INCR', KEYS[3])
end
"""

# add: KEYS = doc, terms, count, new band keys..., old band keys...;
# ARGV = id, record, fingerprint, replace ('1' or ''), SHA-1 of the old record ('' when not
# read yet), number of new band keys, number of new terms, new terms..., old terms...
# Reply: {1} added, {2} updated, {0, fingerprint} the id holds that fingerprint (the same
# text, or another one without replace: nothing written), {-1, record} replacing needs the
# current record's keys (the caller reads them from it and calls again).
_ADD_LUA = (
    _FUNCTIONS_LUA
    + """
local new_keys, new_terms = tonumber(ARGV[6]), tonumber(ARGV[7])
local status = 1
local current = redis.call('GET', KEYS[1])
if current then
    local fingerprint = cjson.decode(current)['fingerprint']
    if fingerprint == ARGV[3] or ARGV[4] ~= '1' then
        return {0, fingerprint}
    end
    if redis.sha1hex(current) ~= ARGV[5] then
        return {-1, current}
    end
    unindex(4 + new_keys, #KEYS, 8 + new_terms, #ARGV)
    status = 2
end
index(ARGV[2], 4, 3 + new_keys, 8, 7 + new_terms)
return {status}
"""
)

# remove: KEYS = doc, terms, count, band keys...; ARGV = id, SHA-1 of the record read, terms...
# 1 when removed, 0 when not there, -1 when the record changed since it was read.
_REMOVE_LUA = (
    _FUNCTIONS_LUA
    + """
local current = redis.call('GET', KEYS[1])
if not current then
    return 0
end
if redis.sha1hex(current) ~= ARGV[2] then
    return -1
end
unindex(4, #KEYS, 3, #ARGV)
return 1
"""
)


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
        if int(schema) != SCHEMA_VERSION:
            raise StoreError(
                f"index {self.url} (prefix {self.prefix!r}) has schema version "
                f"{schema.decode()}, this dedup reads {SCHEMA_VERSION}: rebuild it under "
                "another prefix (?prefix=name)"
            )

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, prefix={self.prefix!r})"

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

    def _band_key(self, key: int) -> str:
        return f"{self._band_prefix}{int(key) & _UINT64}"

    def _band_keys(self, doc: StoredDocument) -> set[str]:
        return {self._band_key(k) for k in doc.band_keys}

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
        bands, terms = list(self._band_keys(doc)), list(set(doc.terms))
        head = [self._doc_key(doc.id), self._terms, self._count]
        old_bands: list[str] = []
        old_terms: list[str] = []
        old_sha = ""
        flag = "1" if replace else ""
        with self._calls(f"add {doc.id!r}"):
            for _attempt in range(_MAX_RETRIES):
                reply = self._add_script(
                    keys=[*head, *bands, *old_bands],
                    args=[
                        doc.id,
                        record,
                        doc.fingerprint,
                        flag,
                        old_sha,
                        len(bands),
                        len(terms),
                        *terms,
                        *old_terms,
                    ],
                )
                if reply[0] == -1:  # replacing: unindex the version the script returned
                    old = StoredDocument.from_json(reply[1])
                    old_bands, old_terms = list(self._band_keys(old)), list(set(old.terms))
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
            bands, terms = list(self._band_keys(doc)), list(set(doc.terms))
            self._add_script(
                keys=[self._doc_key(doc.id), self._terms, self._count, *bands],
                args=[
                    doc.id,
                    doc.to_json(),
                    doc.fingerprint,
                    "",
                    "",
                    len(bands),
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
                    keys=[key, self._terms, self._count, *self._band_keys(doc)],
                    args=[doc_id, hashlib.sha1(current).hexdigest(), *set(doc.terms)],
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

    def get_many(self, doc_ids: Sequence[str]) -> list[StoredDocument]:
        ids = list(doc_ids)
        found: list[StoredDocument] = []
        with self._calls("read documents"):
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                records = self._client.mget([self._doc_key(i) for i in chunk])
                found.extend(StoredDocument.from_json(r) for r in records if r is not None)
        return found

    def candidates(self, band_keys: Iterable[int]) -> dict[str, int]:
        keys = list({self._band_key(k) for k in band_keys})
        hits: dict[str, int] = {}
        with self._calls("look up band keys"):
            for start in range(0, len(keys), _CHUNK):
                reply = self._candidates_script(keys=keys[start : start + _CHUNK])
                for member, count in zip(reply[::2], reply[1::2]):
                    doc_id = member.decode("utf-8")
                    hits[doc_id] = hits.get(doc_id, 0) + int(count)
        return hits

    def document_frequencies(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        unique = list(set(terms))
        frequencies: dict[str, int] = {}
        with self._calls("read document frequencies"):
            pipe = self._client.pipeline(transaction=True)
            pipe.get(self._count)
            chunks = [unique[start : start + _CHUNK] for start in range(0, len(unique), _CHUNK)]
            for chunk in chunks:
                pipe.hmget(self._terms, chunk)
            count, *replies = pipe.execute()
        for chunk, values in zip(chunks, replies):
            for term, value in zip(chunk, values):
                if value is not None and int(value) > 0:
                    frequencies[term] = int(value)
        return int(count or 0), frequencies

    def count(self) -> int:
        with self._calls("count documents"):
            return int(self._client.get(self._count) or 0)

    def close(self) -> None:
        self._client.close()
