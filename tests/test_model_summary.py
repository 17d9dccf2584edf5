"""A model version's summary: a frozen dataclass over the JSON the store has always kept."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from synthcheck.training import Project
from synthcheck.training.model_summary import ModelSummary
from test_project_support import make_dataset

# Rows as the store wrote them before the summary was a class.
TRAINED: dict[str, Any] = {
    "cv_score": 0.93,
    "cv_metric": "auc",
    "cv_accuracy_per_class": {"real": 0.9, "ai": 0.95},
    "cv_auc": 0.93,
    "cv_balanced_accuracy": 0.925,
    "chosen": {"feature_set": ["artifacts:all"], "head": "ridge", "value": 1.0, "score": 0.93},
    "n_labelled": 20,
    "n_images": 21,
    "fingerprint": "ab" * 32,
    "folds": 5,
    "version": 3,
}
IMPORTED: dict[str, Any] = {
    "cv_score": None,
    "cv_metric": None,
    "chosen": None,
    "cv_accuracy_per_class": None,
    "cv_auc": None,
    "imported_from": "/tmp/model.zip",
    "version": 1,
}


@pytest.mark.parametrize("stored", [TRAINED, IMPORTED])
def test_stored_json_reads_and_writes_back_unchanged(stored: dict[str, Any]) -> None:
    summary = ModelSummary.from_dict(json.loads(json.dumps(stored)))
    assert summary.to_dict() == stored
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.cv_score = 1.0  # type: ignore[misc]


def test_typed_fields_and_what_training_asks_of_them() -> None:
    summary = ModelSummary.from_dict(TRAINED)
    assert summary.cv_score == 0.93 and summary.version == 3 and summary.folds == 5
    assert summary.baseline() == (("artifacts:all",), "ridge", 1.0)
    assert summary.score_or_worst == 0.93
    imported = ModelSummary.from_dict(IMPORTED)
    assert imported.baseline() is None and imported.score_or_worst == float("-inf")


def test_unknown_keys_survive_and_wrong_types_read_as_missing() -> None:
    summary = ModelSummary.from_dict({**TRAINED, "later_key": [1, 2], "cv_score": "high"})
    assert summary.cv_score is None and summary.extra == {"later_key": [1, 2]}
    assert summary.to_dict()["later_key"] == [1, 2]


def test_imported_summary_copies_only_the_cv_figures() -> None:
    summary = ModelSummary.imported({**TRAINED, "project": "other"}, "m.zip")
    assert summary.to_dict() == {
        "cv_score": 0.93,
        "cv_metric": "auc",
        "cv_accuracy_per_class": {"real": 0.9, "ai": 0.95},
        "cv_auc": 0.93,
        "chosen": TRAINED["chosen"],
        "imported_from": "m.zip",
    }


def test_the_store_keeps_the_same_json_keys(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Project.create("p", extractors=["artifacts"], home=home) as project:
        project.import_label_folders(make_dataset(tmp_path / "data", n=8))
        report = project.train(folds=3)
        exported = project.export_model(tmp_path / "m.zip")
    with Project.create("q", extractors=["artifacts"], home=home) as other:
        other.import_model(exported)
    db = sqlite3.connect(home / "projects.sqlite3")
    rows = [json.loads(r[0]) for r in db.execute("SELECT summary FROM models ORDER BY id")]
    db.close()
    assert set(rows[0]) == set(TRAINED)
    assert set(rows[1]) == set(IMPORTED)
    assert rows[0]["version"] == report.version == 1
    assert rows[1]["cv_score"] == rows[0]["cv_score"]
    assert rows[1]["imported_from"] == str(exported)
    with Project.open("p", home=home) as project:
        current = project.current_model()
        assert current is not None and current.summary == ModelSummary.from_dict(rows[0])
        assert project.summary()["current_model"] == rows[0]
