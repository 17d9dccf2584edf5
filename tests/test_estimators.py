"""One common test over every estimator, in the scikit-learn manner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from synthcheck.errors import ConfigError, DataError
from synthcheck.training import ImageClassifier
from test_project_support import make_dataset

#: Every public estimator, with fast constructor arguments for the tests.
ESTIMATORS: list[tuple[type[BaseEstimator], dict[str, Any]]] = [
    (ImageClassifier, {"extractors": ["artifacts"], "folds": 3}),
]
IDS = [cls.__name__ for cls, _ in ESTIMATORS]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str]]:
    root = make_dataset(tmp_path_factory.mktemp("est"), n=8)
    paths = sorted(str(p) for p in root.rglob("*.png"))
    return paths, [Path(p).parent.name for p in paths]


@pytest.mark.parametrize(("cls", "kwargs"), ESTIMATORS, ids=IDS)
def test_estimator_contract(
    cls: type[BaseEstimator], kwargs: dict[str, Any], dataset: tuple[list[str], list[str]]
) -> None:
    paths, labels = dataset
    est = cls(**kwargs)
    # Constructor stores parameters verbatim and learns nothing.
    assert est.get_params()["folds"] == kwargs["folds"]
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    with pytest.raises(NotFittedError):
        est.predict(paths[:1])
    # clone gives an unfitted copy with equal parameters; set_params round-trips.
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    twin.set_params(seed=3)
    assert twin.get_params()["seed"] == 3 and est.get_params()["seed"] == 0

    fitted = est.fit(paths, labels)
    assert fitted is est
    learned = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    assert {"classes_", "model_", "cv_report_"} <= set(learned)
    assert list(est.classes_) == sorted(set(labels))
    proba = est.predict_proba(paths)
    assert proba.shape == (len(paths), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    pred = est.predict(paths)
    assert (pred == np.asarray(labels, dtype=object)).mean() >= 0.9
    # A clone of a fitted estimator is unfitted.
    with pytest.raises(NotFittedError):
        clone(est).predict(paths[:1])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"folds": 1}, r"folds must be an int >= 2, got 1"),
        ({"folds": 2.5}, r"folds must be an int >= 2, got float"),
        ({"folds": True}, r"folds must be an int >= 2, got bool"),
        ({"heads": ["forest"]}, r"heads must be a non-empty subset of ridge, logistic, svm, mlp"),
        ({"heads": []}, r"heads must be a non-empty subset"),
        ({"seed": "x"}, r"seed must be an int, got 'x'"),
        ({"extractors": "artifacts"}, r"extractors must be a list of names"),
        ({"extractors": ["nope"]}, r"unknown feature extractor 'nope'"),
    ],
)
def test_parameter_validation_is_precise(
    params: dict[str, Any], message: str, dataset: tuple[list[str], list[str]]
) -> None:
    paths, labels = dataset
    est = ImageClassifier(**{"extractors": ["artifacts"], **params})
    with pytest.raises(ConfigError, match=message):
        est.fit(paths, labels)


def test_fit_data_errors(dataset: tuple[list[str], list[str]]) -> None:
    paths, labels = dataset
    est = ImageClassifier(extractors=["artifacts"], folds=3)
    with pytest.raises(DataError, match="2 paths but y has 3 labels"):
        est.fit(paths[:2], labels[:3])
    with pytest.raises(DataError, match="at least two labels"):
        est.fit(paths[:4], ["ai"] * 4)
    with pytest.raises(DataError, match="3-fold cross-validation needs at least 3 images"):
        est.fit(paths[:2] + paths[-2:], labels[:2] + labels[-2:])


def test_no_scikit_learn_hook_is_shadowed() -> None:
    # scikit-learn calls _validate_params with its own contract; ours must not replace it.
    assert "_validate_params" not in vars(ImageClassifier)
