"""Fit the derivation label model on METER dev and write its parameters into the package.

Usage: python benchmarks/fit_derivation.py [--meter ../shared/data/meter-dev] [--dry-run]

Scans the whole METER dev folder as a user would (nothing told), reads each newspaper
story's label features, prints the model's scores cross-validated by story (GroupKFold, 5
folds), then fits it on every story and writes ``dedup/group/derivation_model.json`` (the
coefficients only: no corpus text). ``dedup eval`` reports the cross-validated scores again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_METER = HERE.parents[1] / "shared" / "data" / "meter-dev"
MODEL = HERE.parent / "dedup" / "group" / "derivation_model.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meter", type=Path, default=DEFAULT_METER)
    parser.add_argument("--dry-run", action="store_true", help="print the scores, write nothing")
    args = parser.parse_args()
    if MODEL.exists() and not args.dry_run:
        MODEL.unlink()  # the scan's labels must not depend on the model being replaced
    from dedup import scan
    from dedup.evaluation.datasets import load_meter
    from dedup.evaluation.label_fit import cross_validated, fit, label_data
    from dedup.evaluation.metrics import class_scores, macro_f1

    data = load_meter(args.meter)
    found = label_data(data, scan([args.meter]))
    predicted = cross_validated(found)
    labels = ["wholly_derived", "partially_derived", "independent"]
    binary = lambda xs: ["independent" if x == "independent" else "derived" for x in xs]  # noqa: E731
    print(f"{len(found.ids)} stories, {int(found.linked.sum())} sharing a passage")
    print(
        f"3-way macro-F1 (cross-validated by story): {macro_f1(found.labels, predicted, labels):.3f}"
    )
    print(
        f"binary macro-F1: {macro_f1(binary(found.labels), binary(predicted), ['derived', 'independent']):.3f}"
    )
    for label, score in class_scores(found.labels, predicted, labels).items():
        print(
            f"  {label}: P {score.precision:.3f} R {score.recall:.3f} F1 {score.f1:.3f} ({score.support})"
        )
    if args.dry_run:
        return
    linked = found.linked
    model = fit(found.values[linked], [found.labels[k] for k in range(len(found.ids)) if linked[k]])
    MODEL.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MODEL.relative_to(HERE.parent)}")


if __name__ == "__main__":
    sys.exit(main())
