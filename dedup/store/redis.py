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
atomic: ``add`` is one server-side Lua script (:mod:`dedup.store.redis_scripts`) that checks
the id (absent, same fingerprint, or another text) and writes the document, its band keys,
term frequencies and count. A script runs alone on the server, so two workers adding the same
id get one ``"added"`` and one ``"exists"``, and a client that dies never leaves a document
half written (Redis does not roll a script back, so only a server-side error half way could:
the server out of memory, or a key of another type under the prefix). Replacing a text
(``replace=True``) and ``remove`` need the old version's keys: ``remove`` reads the record
first, a replacing ``add`` gets it back from its first call, and the second call unindexes it
(and writes the new version) unless the record changed in between, when it goes round again.
``candidates`` counts the ids of all band keys in one script, ``get_many`` is one MGET,
``document_frequencies`` one HMGET (with the count, in one MULTI); ``add_many`` pipelines its
adds in one round trip. Older key layouts are upgraded when opened
(:mod:`dedup.store.redis_schema`).

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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from ..errors import ConfigError, MissingExtraError, StoreError
from .base import (
    ADDED,
    CONFLICT,
    EXISTS,
    UPDATED,
    Store,
    StoredDocument,
    chunks,
    display_location,
    settings_json,
)
from .keys import key_bytes, term_fields
from .redis_schema import SCHEMA_VERSION, open_schema
from .redis_scripts import ADD_LUA, CANDIDATES_LUA, CHUNK, REMOVE_LUA, KeyLayout

__all__ = ["DEFAULT_PREFIX", "SCHEMA_VERSION", "RedisStore"]

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "dedup"
_MAX_RETRIES = 50  # times a document may change under a replace or remove before it gives up


def _redis_module() -> Any:
    """The redis driver, imported on first use."""
    try:
        import redis
    except ImportError as exc:
        raise MissingExtraError(
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


def _glob(text: str) -> str:
    """``text`` as a literal in a Redis glob pattern (SCAN's MATCH)."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


@dataclass
class _Indexed:
    """A version of a document as the scripts take it: its band keys and terms, and the SHA-1
    of its record (checked by the script that unindexes it: '' when not read)."""

    bands: bytes = b""
    terms: list[bytes] = field(default_factory=list)
    sha: str = ""

    @classmethod
    def of(cls, doc: StoredDocument) -> _Indexed:
        return cls(key_bytes(doc.band_keys), term_fields(doc.terms, distinct=True))

    @classmethod
    def of_record(cls, raw: bytes) -> _Indexed:
        """The version stored as ``raw`` (to unindex it)."""
        indexed = cls.of(StoredDocument.from_json(raw))
        indexed.sha = hashlib.sha1(raw).hexdigest()
        return indexed


def _add_args(doc: StoredDocument, replace: bool, new: _Indexed, old: _Indexed) -> list[Any]:
    """ARGV of :data:`~dedup.store.redis_scripts.ADD_LUA`."""
    flag = "1" if replace else ""
    head = [doc.id, doc.to_json(), doc.fingerprint, flag, old.sha, new.bands, old.bands]
    return [*head, len(new.terms), *new.terms, *old.terms]


def _status(reply: list[Any], fingerprint: str) -> str:
    """What the add script's reply (not -1) means for a document of ``fingerprint``."""
    if reply[0] == 1:
        return ADDED
    if reply[0] == 2:
        return UPDATED
    return EXISTS if reply[1].decode("utf-8") == fingerprint else CONFLICT


class RedisStore(Store):
    """The shared store: one index on a Redis server, under one key prefix.

    Args:
        url: ``redis://[[user]:password@]host:port/db[?prefix=name]`` (also ``rediss://``
            and ``unix:///path/to/socket?db=0``); the prefix defaults to ``dedup``.
        timeout: Seconds to wait for the server to connect or answer.

    Raises:
        ConfigError: the redis package is missing, or the URL is invalid.
        StoreError: the server cannot be reached, or the prefix holds another schema.
    """

    def __init__(self, url: str, *, timeout: float = 10.0, create: bool = True) -> None:
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
        self._keys = KeyLayout(self.prefix)
        self._add_script = self._client.register_script(ADD_LUA)
        self._remove_script = self._client.register_script(REMOVE_LUA)
        self._candidates_script = self._client.register_script(CANDIDATES_LUA)
        with self._calls("open the index"):
            open_schema(self._client, self._keys, self.url, create=create)

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

    def _changed_too_often(self, action: str) -> StoreError:
        """The error of a write that other workers raced ``_MAX_RETRIES`` times in a row;
        ``action`` names it ("remove 'id' from")."""
        return StoreError(
            f"cannot {action} Redis at {self.url}: other workers changed it "
            f"{_MAX_RETRIES} times in a row; try again"
        )

    def settings(self) -> dict[str, Any] | None:
        with self._calls("read the settings"):
            raw = self._client.hget(self._keys.meta, "settings")
        return json.loads(raw) if raw is not None else None

    def init_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        with self._calls("record the settings"):
            pipe = self._client.pipeline(transaction=True)
            pipe.hsetnx(self._keys.meta, "settings", settings_json(settings))
            pipe.hget(self._keys.meta, "settings")
            created, raw = pipe.execute()
        return settings if created else json.loads(raw)

    def _add(self, doc: StoredDocument, *, replace: bool) -> str:
        doc.stamp()
        new, old = _Indexed.of(doc), _Indexed()
        with self._calls(f"add {doc.id!r}"):
            for _attempt in range(_MAX_RETRIES):
                reply = self._add_script(
                    keys=self._keys.script_keys(doc.id), args=_add_args(doc, replace, new, old)
                )
                if reply[0] != -1:
                    return _status(reply, doc.fingerprint)
                old = _Indexed.of_record(reply[1])  # replacing: unindex the version returned
        raise self._changed_too_often(f"replace {doc.id!r} in")

    def add_many(self, docs: Sequence[StoredDocument]) -> list[str]:
        """Add many documents in one pipelined round trip (each add atomic on its own)."""
        pipe = self._client.pipeline(transaction=False)
        for doc in docs:
            doc.stamp()
            args = _add_args(doc, False, _Indexed.of(doc), _Indexed())
            self._add_script(keys=self._keys.script_keys(doc.id), args=args, client=pipe)
        with self._calls(f"add {len(docs)} documents"):
            replies = pipe.execute()
        return [_status(reply, doc.fingerprint) for doc, reply in zip(docs, replies)]

    def remove(self, doc_id: str) -> bool:
        with self._calls(f"remove {doc_id!r}"):
            for _attempt in range(_MAX_RETRIES):
                current = self._client.get(self._keys.doc(doc_id))
                if current is None:
                    return False
                old = _Indexed.of_record(current)
                reply = self._remove_script(
                    keys=self._keys.script_keys(doc_id),
                    args=[doc_id, old.sha, old.bands, *old.terms],
                )
                if reply != -1:
                    return bool(reply)
                log.debug("%s: %r changed while being removed, retrying", self.url, doc_id)
        raise self._changed_too_often(f"remove {doc_id!r} from")

    def get(self, doc_id: str) -> StoredDocument | None:
        with self._calls(f"read {doc_id!r}"):
            raw = self._client.get(self._keys.doc(doc_id))
        return StoredDocument.from_json(raw) if raw is not None else None

    def dates(self) -> list[tuple[str, Any, float]]:
        found: list[tuple[str, Any, float]] = []
        with self._calls("list documents"):
            pattern = _glob(self._keys.doc_prefix) + "*"
            names = list(self._client.scan_iter(match=pattern, count=1000))
            for chunk in chunks(names, CHUNK):
                for raw in self._client.mget(chunk):
                    if raw is None:  # removed since the scan
                        continue
                    record = json.loads(raw)
                    date = (record.get("meta") or {}).get("date")
                    found.append((record["id"], date, float(record.get("added") or 0)))
        return found

    def get_many(self, doc_ids: Sequence[str], *, keys: bool = True) -> list[StoredDocument]:
        found: list[StoredDocument] = []
        with self._calls("read documents"):
            for chunk in chunks(list(doc_ids), CHUNK):
                records = self._client.mget([self._keys.doc(i) for i in chunk])
                found.extend(StoredDocument.from_json(r) for r in records if r is not None)
        return found

    def candidates(
        self, band_keys: Iterable[int], *, max_bucket: int | None = None
    ) -> dict[str, int]:
        limit = "" if max_bucket is None else str(int(max_bucket))
        hits: dict[str, int] = {}
        with self._calls("look up band keys"):
            for chunk in chunks(key_bytes(band_keys), 8 * CHUNK):
                reply = self._candidates_script(keys=[self._keys.band_prefix], args=[chunk, limit])
                for member, count in zip(reply[::2], reply[1::2]):
                    doc_id = member.decode("utf-8")
                    hits[doc_id] = hits.get(doc_id, 0) + int(count)
        return hits

    def document_frequencies(self, terms: np.ndarray) -> tuple[int, np.ndarray]:
        fields = term_fields(terms)
        with self._calls("read document frequencies"):
            pipe = self._client.pipeline(transaction=True)
            pipe.get(self._keys.count)
            for chunk in chunks(fields, CHUNK):
                pipe.hmget(self._keys.terms, chunk)
            count, *replies = pipe.execute()
        values = [value for reply in replies for value in reply]
        found = np.array([int(v) if v is not None else 0 for v in values], dtype=np.int64)
        return int(count or 0), np.maximum(found, 0)

    def count(self) -> int:
        with self._calls("count documents"):
            return int(self._client.get(self._keys.count) or 0)

    def close(self) -> None:
        self._client.close()
