"""A document's token features as compact bytes (the gate's index stores them): an indexed
document is rebuilt from them without tokenising its text again.

The words stay packed when read back (:class:`PackedWords`): a candidate's alignment reads only
the words at its passages' edges.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence
from typing import overload

import lz4.block
import numpy as np
from numba import njit

from .features import Features

# Packed features (``pack_features``): a version byte, then the LZ4 block (its size first) of a
# header (tokens, sentences, bytes of words, 0), the token hashes (uint64), start deltas,
# lengths and segments (uint32), sentence starts (uint32), token flags (uint8: 1 a name, 2
# inside quotation marks; version 2 bodies written before quotes were marked hold 1 or 0) and the
# normalised words joined by spaces. Version 1 held the same body compressed with zlib (still
# read): LZ4 decompresses it several times faster, which matters in every gate check, for
# somewhat larger bodies.
_PACK_VERSION = 2
_ZLIB_VERSION = 1
_HEADER = struct.Struct("<4I")


class PackedWords(Sequence[str]):
    """Normalised words kept as their UTF-8 bytes joined by spaces (the gate's packed
    features), each cut out and decoded when read.

    A stored candidate's alignment reads only the words at its passages' edges: decoding
    a few hundred words into a tuple was a fifth of rebuilding the candidate at a check, and
    the tuple, a young object holding every word, was most of what the cycle collector
    walked in its frequent collections.

    Args:
        data: The words' bytes, joined by single spaces.
        bounds: Where each word starts in ``data``, then ``len(data) + 1``.
    """

    __slots__ = ("_bounds", "_data")

    def __init__(self, data: bytes, bounds: np.ndarray) -> None:
        self._data = data
        self._bounds = bounds

    @property
    def data(self) -> bytes:
        """The words' bytes, joined by single spaces."""
        return self._data

    @property
    def bounds(self) -> np.ndarray:
        """Where each word starts in :attr:`data`, then ``len(data) + 1``."""
        return self._bounds

    def __len__(self) -> int:
        return len(self._bounds) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        count = len(self._bounds) - 1
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("word index out of range")
        return self._data[self._bounds[index] : self._bounds[index + 1] - 1].decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data.decode("utf-8").split(" ") if len(self) else ())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PackedWords({tuple(self)!r})"


def pack_features(features: Features) -> bytes | None:
    """A document's token features as compact bytes, for the index: an indexed candidate is
    rebuilt from them without tokenising its text again. None when a word holds a space (the
    separator of the packed words; no tokeniser output does) or an offset passes 4 GiB."""
    n = len(features.words)
    words = " ".join(features.words).encode("utf-8")
    if words.count(b" ") != max(n - 1, 0) or (n and int(features.ends[-1]) >= 2**32):
        return None
    starts = features.starts
    deltas = np.diff(starts, prepend=0) if n else starts
    body = b"".join(
        (
            _HEADER.pack(n, len(features.sentence_starts), len(words), 0),
            np.ascontiguousarray(features.hashes, dtype="<u8").tobytes(),
            np.asarray(deltas, dtype="<u4").tobytes(),
            np.asarray(features.ends - starts, dtype="<u4").tobytes(),
            np.asarray(features.segments, dtype="<u4").tobytes(),
            np.asarray(features.sentence_starts, dtype="<u4").tobytes(),
            (
                np.asarray(features.names, dtype=np.uint8)
                | (np.asarray(features.quoted, dtype=np.uint8) << 1)
            ).tobytes(),
            words,
        )
    )
    return bytes([_PACK_VERSION]) + lz4.block.compress(body)


def unpack_features(packed: bytes) -> Features:
    """Inverse of :func:`pack_features`.

    Raises:
        ValueError: bytes of another version, or damaged.
    """
    version = packed[0] if packed else None
    try:
        if version == _PACK_VERSION:
            raw = lz4.block.decompress(packed[1:])
        elif version == _ZLIB_VERSION:
            raw = zlib.decompress(packed[1:])
        else:
            raise ValueError(f"packed features of version {packed[:1]!r}, expected {_PACK_VERSION}")
    except (zlib.error, lz4.block.LZ4BlockError) as exc:
        raise ValueError(f"damaged packed features: {exc}") from None
    if len(raw) < _HEADER.size:
        raise ValueError("damaged packed features: wrong length")
    n, sentences, size, _ = _HEADER.unpack_from(raw)
    body = _HEADER.size + 21 * n + 4 * sentences
    if len(raw) != body + size:
        raise ValueError("damaged packed features: wrong length")
    hashes, starts, ends, segments, sentence_starts, names, quoted, bounds = _unpack_arrays(
        np.frombuffer(raw, dtype=np.uint8), n, sentences
    )
    kind = np.int32 if not n or int(ends[-1]) < 2**31 else np.int64  # as extract_features
    return Features(
        words=PackedWords(raw[body:], bounds) if n else (),
        starts=starts.astype(kind),
        ends=ends.astype(kind),
        hashes=hashes,
        sentence_starts=sentence_starts,
        segments=segments,
        names=names,
        quoted=quoted,
    )


@njit(cache=True, nogil=True)
def _unpack_arrays(raw, n, sentences):  # type: ignore[no-untyped-def]
    """The arrays of a packed body (``raw``: its bytes, header included), as
    :func:`pack_features` laid them out, little-endian: hashes, starts and ends (int64),
    segments (int32), sentence starts (int64), names, quoted tokens, and where each word
    starts in the words' bytes (then their length + 1: :class:`~dedup.text.packed.PackedWords`)."""
    hashes = np.empty(n, dtype=np.uint64)
    starts = np.empty(n, dtype=np.int64)
    ends = np.empty(n, dtype=np.int64)
    segments = np.empty(n, dtype=np.int32)
    sentence_starts = np.empty(sentences, dtype=np.int64)
    names = np.empty(n, dtype=np.bool_)
    quoted = np.empty(n, dtype=np.bool_)
    at = 16  # after the header
    for i in range(n):
        value = np.uint64(0)
        for byte in range(8):
            value |= np.uint64(raw[at + 8 * i + byte]) << np.uint64(8 * byte)
        hashes[i] = value
    at += 8 * n
    position = 0
    for i in range(n):
        position += _u32(raw, at + 4 * i)
        starts[i] = position
        ends[i] = position + _u32(raw, at + 4 * (n + i))
        segments[i] = _u32(raw, at + 4 * (2 * n + i))
    at += 12 * n
    for i in range(sentences):
        sentence_starts[i] = _u32(raw, at + 4 * i)
    at += 4 * sentences
    for i in range(n):
        names[i] = (raw[at + i] & 1) != 0
        quoted[i] = (raw[at + i] & 2) != 0
    at += n
    bounds = np.empty(n + 1, dtype=np.int64)
    bounds[0] = 0
    word = 1
    for i in range(at, len(raw)):
        if raw[i] == 32 and word < n:  # a space
            bounds[word] = i - at + 1
            word += 1
    bounds[n] = len(raw) - at + 1
    return hashes, starts, ends, segments, sentence_starts, names, quoted, bounds


@njit(cache=True, nogil=True, inline="always")
def _u32(raw, at):  # type: ignore[no-untyped-def]
    return (
        np.int64(raw[at])
        | (np.int64(raw[at + 1]) << 8)
        | (np.int64(raw[at + 2]) << 16)
        | (np.int64(raw[at + 3]) << 24)
    )
