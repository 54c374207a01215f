"""Read the Reuters-21578 SGML files into JSONL records (``id``, ``title``, ``date``, ``text``).

Usage: python benchmarks/reuters.py [--data ../shared/data/reuters21578] OUT.jsonl

The corpus is research data and stays outside the repository: this script reads it by path.
"""

from __future__ import annotations

import argparse
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reuters21578"
_STORY_RE = re.compile(r"<REUTERS\b[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.S)
_FIELD_RE = {
    name: re.compile(rf"<{name}>(.*?)</{name}>", re.S)
    for name in ("TITLE", "DATE", "BODY", "DATELINE")
}


def stories(data: Path = DEFAULT_DATA) -> Iterator[dict]:
    """Every story with a body, in file order."""
    for path in sorted(data.glob("reut2-*.sgm")):
        raw = path.read_bytes().decode("latin-1")
        for match in _STORY_RE.finditer(raw):
            fields = {}
            for name, pattern in _FIELD_RE.items():
                found = pattern.search(match.group(2))
                fields[name] = html.unescape(found.group(1)).strip() if found else ""
            body = fields["BODY"].replace("\x03", "").replace("Reuter\n", "").strip()
            if not body:
                continue
            dateline = fields["DATELINE"]
            text = f"{dateline} {body}" if dateline else body
            yield {
                "id": match.group(1),
                "title": fields["TITLE"] or None,
                "date": fields["DATE"],
                "text": text,
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    count = 0
    with args.out.open("w", encoding="utf-8") as handle:
        for story in stories(args.data):
            handle.write(json.dumps(story) + "\n")
            count += 1
            if args.limit and count >= args.limit:
                break
    print(f"wrote {count} stories to {args.out}")


if __name__ == "__main__":
    main()
