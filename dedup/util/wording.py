"""How messages for people say numbers."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun``, the noun plural unless the count is one: ``1 document``,
    ``1,204 documents`` (``plural``: a plural other than ``noun + "s"``)."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
