"""The version of the Redis store's key layout: recorded in a new index, checked when one is
opened, and older layouts upgraded in place."""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from typing import Any

from ..errors import MissingIndexError
from .base import chunks, keyed_terms, unreadable_schema
from .keys import term_fields
from .redis_scripts import CHUNK, KeyLayout

log = logging.getLogger(__name__)

# Version of the key layout: 3 since band keys are binary and term frequencies are written in
# bulk (2 had decimal band keys), 4 since records may carry the gate's packed token features
# (base64 in the JSON; dedup before that cannot read such records). A version 3 index is
# upgraded when opened (its records have no features: the gate re-tokenises their texts); an
# index under another version is refused, not misread. 5 since TF-IDF terms are 64-bit keys
# (``features.term_key``) stored as 8 bytes: versions 3 and 4 are upgraded when opened, their
# records' terms keyed and the frequencies counted again (:func:`upgrade`).
SCHEMA_VERSION = 5
UPGRADABLE = (3, 4)
UPGRADE_LOCK_SECONDS = 3600
_BATCH = 1000  # records read and rewritten per round trip during an upgrade


def open_schema(client: Any, keys: KeyLayout, url: str, *, create: bool = True) -> None:
    """Record the current version in a new index (only with ``create``), upgrade an older
    one, or refuse.

    Raises:
        MissingIndexError: no index under the prefix, and ``create`` is false.
        StoreError: the index has a layout this dedup neither reads nor upgrades.
    """
    if not create and not client.hexists(keys.meta, "schema"):
        raise MissingIndexError(f"no index at {url} (prefix {keys.prefix!r})")
    pipe = client.pipeline(transaction=True)
    pipe.hsetnx(keys.meta, "schema", SCHEMA_VERSION)
    pipe.hget(keys.meta, "schema")
    schema = pipe.execute()[1]
    if int(schema) in UPGRADABLE:
        schema = upgrade(client, keys, url)
    if int(schema) != SCHEMA_VERSION:
        raise unreadable_schema(
            f"{url} (prefix {keys.prefix!r})",
            schema.decode(),
            SCHEMA_VERSION,
            UPGRADABLE,
            "rebuild it under another prefix (?prefix=name)",
        )


def upgrade(client: Any, keys: KeyLayout, url: str) -> bytes:
    """Bring an index of version 3 or 4 to the current one: every record's terms as keys
    (records without features stay readable: the gate re-tokenises their texts), then
    the term frequencies counted again and the version set, in one transaction.

    One process upgrades (it holds a lock key); others opening the index meanwhile wait
    for the version to change. Writers of an older dedup must be stopped first: what they
    add meanwhile is not counted. An upgrade that dies half way is run again whole by the
    next process to open the index once its lock has expired (an hour). Returns the schema
    version then recorded."""
    while True:
        schema = client.hget(keys.meta, "schema")
        if schema is None or int(schema) not in UPGRADABLE:
            return schema or str(SCHEMA_VERSION).encode()
        if client.set(keys.upgrade_lock, "1", nx=True, ex=UPGRADE_LOCK_SECONDS):
            break
        time.sleep(0.2)
    try:
        log.info("%s: upgrading schema %s to %d", url, schema.decode(), SCHEMA_VERSION)
        frequencies: Counter[int] = Counter()
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", keys.doc_prefix) + "*"
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=_BATCH):
            batch.append(key)
            if len(batch) == _BATCH:
                _key_terms(client, batch, frequencies)
                batch = []
        _key_terms(client, batch, frequencies)
        pipe = client.pipeline(transaction=True)
        pipe.delete(keys.terms)
        items = list(zip(term_fields(frequencies), frequencies.values()))
        for chunk in chunks(items, CHUNK):
            pipe.hset(keys.terms, mapping=dict(chunk))
        pipe.hset(keys.meta, "schema", SCHEMA_VERSION)
        pipe.execute()
    finally:
        client.delete(keys.upgrade_lock)
    return str(SCHEMA_VERSION).encode()


def _key_terms(client: Any, keys: list[bytes], frequencies: Counter[int]) -> None:
    """Rewrite the records under ``keys`` with their terms as keys, and count them."""
    if not keys:
        return
    pipe = client.pipeline(transaction=False)
    for key, raw in zip(keys, client.mget(keys)):
        if raw is None:
            continue
        record = json.loads(raw)
        record["terms"] = keyed_terms(record["terms"])
        frequencies.update(record["terms"])
        pipe.set(key, json.dumps(record, ensure_ascii=False))
    pipe.execute()
