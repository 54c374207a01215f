"""Recall and false links of a folder scan in each language of multilingual-dev.

Usage: python benchmarks/multilingual.py [--data ../shared/data/multilingual-dev]
       [--languages zh,ja,ko,de,fr,es] [--dedup-root DIR] [--sample 40]

For each language, the articles of ``<lang>.jsonl`` are scanned together with four re-runs
made of ``--sample`` of them (every article is whole news copy by one outlet):

- ``verbatim``: the article again, under a line of the re-running outlet's own;
- ``trimmed``: its first half (paragraphs, or sentences when it has one paragraph);
- ``dateline``: the article with the agency's dateline or credit put before it (Xinhua's
  ``新华社北京3月18日电``, ``【東京共同】``, ``(서울=연합뉴스)``, ``BERLIN (dpa) -``,
  ``PARIS (AFP) -``, ``MADRID (EFE) -``);
- ``mixed``: the first half of it and the first half of the next sampled article (the
  second half of an article is often its related-links block, boilerplate in both).

A re-run is *found* when the scan links it (relation not ``none``) to every article it was
made from, and *credited* when the dateline re-run names the agency. *Links among the
originals* are pairs of the data set's own articles that the scan links: the README says a
few are real copies of one story, so they are listed, not counted as errors. Prints one
markdown table. ``--dedup-root`` benchmarks another checkout (the code before a change).
Corpus text never leaves the data folder (the scan runs in a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data" / "multilingual-dev"

DATELINES = {
    "zh": ("新华社北京3月18日电 ", "Xinhua"),
    "ja": ("【東京共同】", "Kyodo"),
    "ko": ("(서울=연합뉴스) ", "Yonhap"),
    "de": ("BERLIN (dpa) - ", "dpa"),
    "fr": ("PARIS (AFP) - ", "AFP"),
    "es": ("MADRID (EFE) - ", "EFE"),
}
OWN_LINE = {
    "zh": "本报综合消息。",
    "ja": "ニュース速報です。",
    "ko": "속보입니다.",
    "de": "Eine Meldung unserer Redaktion.",
    "fr": "Une dépêche reprise par notre rédaction.",
    "es": "Una noticia de nuestra redacción.",
}


def halves(text: str) -> tuple[str, str]:
    """The text cut in two at a paragraph (or, for one paragraph, a sentence) boundary."""
    paragraphs = [p for p in text.split("\n") if p.strip()]
    if len(paragraphs) < 2:
        marks = [i + 1 for i, ch in enumerate(text) if ch in "。.!?！？"]
        cut = min(marks, key=lambda i: abs(i - len(text) / 2)) if marks else len(text) // 2
        return text[:cut], text[cut:]
    middle = len(paragraphs) // 2
    return "\n\n".join(paragraphs[:middle]), "\n\n".join(paragraphs[middle:])


def variants(lang: str, articles: list[dict], sample: int, seed: int) -> list[dict]:
    """The re-runs: id, text, kind and the ids of the articles they were made from."""
    rng = random.Random(seed)
    chosen = rng.sample(articles, min(sample, len(articles)))
    own = OWN_LINE[lang]
    dateline = DATELINES[lang][0]
    out = []
    for k, article in enumerate(chosen):
        text, source = article["text"], article["id"]
        first, _ = halves(text)
        following = chosen[(k + 1) % len(chosen)]
        out += [
            {"kind": "verbatim", "text": f"{own}\n\n{text}", "from": [source]},
            {"kind": "trimmed", "text": first, "from": [source]},
            {"kind": "dateline", "text": dateline + text, "from": [source]},
            {
                "kind": "mixed",
                "text": f"{first}\n\n{halves(following['text'])[0]}",
                "from": [source, following["id"]],
            },
        ]
    for number, item in enumerate(out):
        item["id"] = f"rerun-{number:04d}-{item['kind']}"
    return out


def measure(lang: str, path: Path, sample: int, seed: int) -> dict:
    from dedup import scan

    articles = [json.loads(line) for line in path.open(encoding="utf-8")]
    reruns = variants(lang, articles, sample, seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        records = [{"id": a["id"], "text": a["text"]} for a in articles]
        records += [{"id": r["id"], "text": r["text"]} for r in reruns]
        (folder / "corpus.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
        )
        clock = time.perf_counter()
        result = scan([folder / "corpus.jsonl"])
        seconds = time.perf_counter() - clock
    key = {d.id: d.id.split("#", 1)[1] for d in result.documents}
    linked = {frozenset((key[p.a], key[p.b])) for p in result.pairs if p.relation != "none"}
    credits = {key[d.id]: d.credits for d in result.documents}
    languages = [getattr(d, "language", None) for d in result.documents[: len(articles)]]
    row: dict = {"language": lang, "articles": len(articles), "seconds": round(seconds, 1)}
    for kind in ("verbatim", "trimmed", "dateline", "mixed"):
        items = [r for r in reruns if r["kind"] == kind]
        found = sum(all(frozenset((r["id"], s)) in linked for s in r["from"]) for r in items)
        row[kind] = f"{found}/{len(items)}"
    agency = DATELINES[lang][1]
    dated = [r for r in reruns if r["kind"] == "dateline"]
    row["credited"] = f"{sum(agency in credits[r['id']] for r in dated)}/{len(dated)}"
    originals = {a["id"] for a in articles}
    row["links among originals"] = sum(1 for pair in linked if pair <= originals)
    row["language read"] = f"{sum(x == lang for x in languages)}/{len(articles)}"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--languages", default="zh,ja,ko,de,fr,es")
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--dedup-root", type=Path, help="benchmark the dedup package in this folder"
    )
    args = parser.parse_args()
    if args.dedup_root:
        sys.path.insert(0, str(args.dedup_root))
    rows = [
        measure(lang, args.data / f"{lang}.jsonl", args.sample, args.seed)
        for lang in args.languages.split(",")
    ]
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("| " + " | ".join("---" for _ in columns) + " |")
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
