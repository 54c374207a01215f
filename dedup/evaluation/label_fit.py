"""Fitting the derivation label model (:mod:`dedup.group.labels`) on METER, and measuring it
cross-validated by story: every newspaper story of one METER story (one court case, one
showbiz item) is in the same fold, so the model is never scored on a story it has seen.

The features are what a folder scan of METER computes for each newspaper story (nothing
told which texts to compare); the labels are the journalists'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from ..group.derivation import compared
from ..group.labels import FEATURES, LabelModel
from ..models import ScanResult
from .datasets import MeterData

FOLDS = 5
# Regularisation of the logistic regression (scikit-learn's C), and class weights that make
# each label count alike (METER dev: 174 wholly, 248 partially, 129 non-derived stories).
C = 1.0


@dataclass
class LabelData:
    """The newspaper stories of a METER folder scan as the label model sees them.

    Attributes:
        ids: The stories' ids.
        values: Their features (``(n, len(FEATURES))``).
        labels: The journalists' labels (``non_derived`` as ``independent``).
        stories: Each one's METER story, the folds' unit.
        linked: Whether it shares a passage or is a candidate pair at all (the model labels
            only those).
    """

    ids: list[str]
    values: np.ndarray
    labels: list[str]
    stories: list[str]
    linked: np.ndarray


def label_data(data: MeterData, result: ScanResult) -> LabelData:
    """The stories' features, read off a folder scan of the data set."""
    documents = {doc.id: doc for doc in result.documents}
    ids = [story.id for story in data.newspapers]
    empty = [0.0] * len(FEATURES)
    values = np.array(
        [(documents[i].label_features if i in documents else None) or empty for i in ids],
        dtype=np.float64,
    )
    labels = ["independent" if data.labels[i] == "non_derived" else data.labels[i] for i in ids]
    linked = np.array([compared(row) for row in values.tolist()], dtype=bool)
    return LabelData(ids, values, labels, [data.story[i] for i in ids], linked)


def fit(values: np.ndarray, labels: list[str]) -> LabelModel:
    """A label model fitted on ``values`` (standardised) and ``labels``."""
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
    model.fit((values - mean) / scale, labels)
    return LabelModel(
        tuple(str(c) for c in model.classes_), mean, scale, model.coef_, model.intercept_
    )


def cross_validated(found: LabelData, folds: int = FOLDS) -> list[str]:
    """Each story's label predicted by a model fitted on the other folds (stories without a
    passage are ``independent``, as in a scan)."""
    predicted = ["independent"] * len(found.ids)
    linked = np.flatnonzero(found.linked)
    if not len(linked):
        return predicted
    labels = [found.labels[k] for k in linked]
    groups = [found.stories[k] for k in linked]
    splits = GroupKFold(n_splits=min(folds, len(set(groups)))).split(linked, labels, groups)
    for train, test in splits:
        model = fit(found.values[linked[train]], [labels[k] for k in train])
        for k, label in zip(test, model.predict(found.values[linked[test]])):
            predicted[linked[k]] = label
    return predicted
