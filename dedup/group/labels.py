"""The derivation label of a document, learned from data: a multinomial logistic regression
over what the scan knows of the document's reuse (:data:`FEATURES`), fitted on METER dev
(``benchmarks/fit_derivation.py``, cross-validated by story) and shipped as its parameters
(``derivation_model.json``: no corpus text)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

# What the model reads of a document, in its order (every value a share or a log count).
FEATURES = (
    "reused",  # share of the body inside shared passages
    "verbatim",  # inside verbatim passages
    "rewrite",  # inside rewritten passages only
    "word_overlap",  # share of its distinct words found in the texts it shares passages with
    "best_partner",  # share inside the passages of the one text that shares most
    "from_origin",  # share inside passages with texts that are the pair's origin
    "longest",  # the longest passage's share of the body
    "fragments",  # passages per 100 words of the body
    "partners",  # log(1 + texts it shares passages with)
    "origin_of",  # share of those texts whose origin it is
    "credits",  # 1: an agency's own byline, dateline or wire header; 0.5: another credit
    "length",  # log(1 + words of the body)
    # Of the candidates (shared passages or not), and of the wire copy among them (a text
    # with an agency's byline, dateline or wire header):
    "best_cosine",  # the highest TF-IDF cosine with a candidate
    "best_containment",  # the highest share of its 5-word shingles found in one
    "wire_cosine",  # the highest cosine with a candidate that is wire copy
    "wire_containment",  # the highest shingle containment in wire copy
    "wire_words",  # share of its distinct words found in the most similar wire copy
)
LABELS = ("wholly_derived", "partially_derived", "independent")


@dataclass(frozen=True)
class LabelModel:
    """A fitted multinomial logistic regression over standardised :data:`FEATURES`."""

    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    def predict(self, values: np.ndarray) -> list[str]:
        """The label of each row of ``values`` (``(n, len(FEATURES))``)."""
        scores = ((values - self.mean) / self.scale) @ self.coef.T + self.intercept
        return [self.classes[k] for k in np.argmax(scores, axis=1).tolist()]

    def to_dict(self) -> dict[str, object]:
        """The parameters as JSON."""
        return {
            "features": list(FEATURES),
            "classes": list(self.classes),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> LabelModel:
        """The model of :meth:`to_dict`'s JSON.

        Raises:
            ValueError: the parameters are for other features.
        """
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"the label model reads {data['features']}, not {list(FEATURES)}")
        return cls(
            tuple(data["classes"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            np.asarray(data["intercept"], dtype=np.float64),
        )


MODEL_FILE = "derivation_model.json"


@cache
def label_model() -> LabelModel | None:
    """The model shipped with dedup (``derivation_model.json`` beside this module); None
    only while a new one is being fitted (``benchmarks/fit_derivation.py``), when the
    labels fall back to :func:`~dedup.group.derivation.derivation_label`."""
    path = resources.files("dedup.group") / MODEL_FILE
    if not path.is_file():
        return None
    return LabelModel.from_dict(json.loads(path.read_text("utf-8")))


def label_features(
    length: int,
    coverage: dict[str, float],
    passages: np.ndarray,
    partner_cover: dict[int, float],
    origin_partners: set[int],
    origin_of: float,
    credits: float,
    candidates: tuple[float, float, float, float, float],
) -> list[float]:
    """One document's :data:`FEATURES`.

    Args:
        length: Words of its body.
        coverage: Its ``reused``, ``verbatim``, ``rewrite`` and ``word_overlap`` shares.
        passages: The token spans (``(n, 2)``) of its passages.
        partner_cover: Share of the body inside the passages shared with each partner.
        origin_partners: The partners that are the origin of their pair with it.
        origin_of: Its share of partners it is the origin of (of all it shares passages
            with, its re-runs included).
        credits: 1 for the wire's own marks, 0.5 for another credit, 0 for none.
        candidates: Its ``best_cosine``, ``best_containment``, ``wire_cosine``,
            ``wire_containment`` and ``wire_words``.
    """
    spans = np.asarray(passages).reshape(-1, 2)
    words = max(length, 1)
    partners = len(partner_cover)
    return [
        coverage["reused"],
        coverage["verbatim"],
        coverage["rewrite"],
        coverage["word_overlap"],
        max(partner_cover.values(), default=0.0),
        max((partner_cover[p] for p in origin_partners), default=0.0),
        float((spans[:, 1] - spans[:, 0]).max()) / words if len(spans) else 0.0,
        100.0 * len(spans) / words,
        math.log1p(partners),
        origin_of,
        credits,
        math.log1p(length),
        *candidates,
    ]
