"""The derivation label model: shipped parameters, features, cross-validation by story."""

from __future__ import annotations

import numpy as np

from dedup import scan
from dedup.evaluation import label_fit
from dedup.evaluation.label_fit import LabelData, cross_validated
from dedup.group.labels import FEATURES, LABELS, LabelModel, label_model


def test_the_shipped_model_reads_the_features_and_gives_the_labels():
    model = label_model()
    assert model is not None, "dedup/group/derivation_model.json is missing"
    assert set(model.classes) == set(LABELS)
    assert model.coef.shape == (len(LABELS), len(FEATURES))
    again = LabelModel.from_dict(model.to_dict())
    assert again.classes == model.classes and np.array_equal(again.coef, model.coef)


def test_a_model_for_other_features_is_refused():
    data = label_model().to_dict()
    data["features"] = data["features"][:-1]
    try:
        LabelModel.from_dict(data)
    except ValueError as exc:
        assert "reads" in str(exc)
    else:
        raise AssertionError("a model for other features was read")


def test_cross_validation_never_trains_on_a_story_it_labels(monkeypatch):
    stories = [f"s{k % 10}" for k in range(30)]  # ten stories of three texts, interleaved
    values = np.random.default_rng(1).random((30, len(FEATURES)))
    values[:, FEATURES.index("reused")] = 0.5
    labels = [LABELS[k % 3] for k in range(30)]
    found = LabelData([str(k) for k in range(30)], values, labels, stories, np.ones(30, bool))
    story_of = {tuple(row): story for row, story in zip(values.tolist(), stories)}
    folds: list[tuple[set[str], set[str]]] = []
    real_fit = label_fit.fit

    class Recorded:
        def __init__(self, trained: set[str], model: LabelModel) -> None:
            self.trained, self.model = trained, model

        def predict(self, rows: np.ndarray) -> list[str]:
            folds.append((self.trained, {story_of[tuple(r)] for r in rows.tolist()}))
            return self.model.predict(rows)

    def recording_fit(train_values, train_labels):
        trained = {story_of[tuple(r)] for r in train_values.tolist()}
        return Recorded(trained, real_fit(train_values, train_labels))

    monkeypatch.setattr(label_fit, "fit", recording_fit)
    predicted = cross_validated(found, folds=5)
    assert len(folds) == 5 and all(label in LABELS for label in predicted)
    for trained, tested in folds:
        assert tested and not tested & trained
    assert set().union(*(tested for _, tested in folds)) == set(stories)


def test_a_copy_is_derived_and_an_unrelated_text_independent(tmp_path):
    wire = (
        "The organisation accused the two directors of hiding losses of twelve million pounds "
        "from investors over three years, the court heard on Monday. Prosecutors said the "
        "directors had moved the money through companies registered in Jersey and Guernsey "
        "before the collapse. Both men deny fraud and the trial continues this week.\n"
    )
    (tmp_path / "wire.txt").write_text("By Jane Doe, PA News\n" + wire, encoding="utf-8")
    (tmp_path / "copy.txt").write_text(wire, encoding="utf-8")
    (tmp_path / "other.txt").write_text(
        "Farmers in the north of the county reported a late harvest after weeks of rain, and "
        "grain prices rose on the local exchange as merchants waited for dry weather.\n",
        encoding="utf-8",
    )
    labels = {d.id: d.derivation["label"] for d in scan([tmp_path]).documents}
    assert labels["copy.txt"] != "independent"
    assert labels["wire.txt"] == "independent"  # the origin, not a copy
    assert labels["other.txt"] == "independent"
