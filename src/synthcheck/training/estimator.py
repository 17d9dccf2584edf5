"""A scikit-learn estimator over image paths: the project sweep without a project store.

>>> from synthcheck.training import ImageClassifier
>>> clf = ImageClassifier(folds=5).fit(paths, labels)  # doctest: +SKIP
>>> clf.predict_proba(new_paths)[:, list(clf.classes_).index("ai")]  # doctest: +SKIP

``fit`` returns ``self``; learned state ends in ``_`` (``classes_``, ``model_``, ``cv_report_``);
parameters are validated at ``fit`` with precise messages; ``clone`` works through
``get_params``/``set_params``; using an unfitted estimator raises ``NotFittedError``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from synthcheck.errors import ConfigError, DataError
from synthcheck.intake import load_image
from synthcheck.training.features import (
    check_extractors,
    create_extractor,
    default_extractors,
)
from synthcheck.training.heads import HEAD_GRIDS
from synthcheck.training.model import TrainedModel
from synthcheck.training.sweep import HEAD_ORDER, RawBlock, run_sweep

__all__ = ["ImageClassifier"]

_BATCH = 32


def _load_features(
    paths: Sequence[str | os.PathLike[str]], extractors: Sequence[str]
) -> dict[str, NDArray[np.float32]]:
    exs = [create_extractor(name) for name in extractors]
    parts: dict[str, list[NDArray[np.float32]]] = {ex.name: [] for ex in exs}
    for start in range(0, len(paths), _BATCH):
        pixels = [load_image(p).pixels for p in paths[start : start + _BATCH]]
        for ex in exs:
            parts[ex.name].append(ex.compute(pixels))
    return {
        name: np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)
        for name, chunks in parts.items()
    }


class ImageClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Classify images (given as file paths) with the automatic sweep of a project.

    Parameters:
        extractors: feature extractors (backbone names and/or ``"artifacts"``); None uses the
            most accurate installed backbone plus the artifact features.
        folds: stratified CV folds of the sweep (>= 2).
        heads: heads the sweep may choose from (subset of ridge, logistic, svm, mlp).
        ai_labels: labels whose probability is ``p_ai`` (:meth:`predict_p_ai`); None: every
            label except ``"real"``.
        seed: seed of the folds and of the randomised projections.
    """

    def __init__(
        self,
        extractors: Sequence[str] | None = None,
        folds: int = 5,
        heads: Sequence[str] = HEAD_ORDER,
        ai_labels: Sequence[str] | None = None,
        seed: int = 0,
    ) -> None:
        self.extractors = extractors
        self.folds = folds
        self.heads = heads
        self.ai_labels = ai_labels
        self.seed = seed

    def _checked_params(self) -> list[str]:
        """Check the constructor parameters (ConfigError) and return the extractors to use. Not
        named `_validate_params`: that is scikit-learn's hook, with another contract."""
        if isinstance(self.folds, bool) or not isinstance(self.folds, int | np.integer):
            raise ConfigError(
                f"ImageClassifier: folds must be an int >= 2, got {type(self.folds).__name__}"
            )
        if self.folds < 2:
            raise ConfigError(f"ImageClassifier: folds must be an int >= 2, got {self.folds}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
            raise ConfigError(f"ImageClassifier: seed must be an int, got {self.seed!r}")
        heads = list(self.heads) if not isinstance(self.heads, str) else [self.heads]
        bad = [h for h in heads if h not in HEAD_GRIDS]
        if not heads or bad:
            raise ConfigError(
                f"ImageClassifier: heads must be a non-empty subset of "
                f"{', '.join(HEAD_GRIDS)}, got {list(heads)!r}"
            )
        if self.extractors is None:
            return default_extractors()
        if isinstance(self.extractors, str):
            raise ConfigError(
                "ImageClassifier: extractors must be a list of names, e.g. "
                f"[{self.extractors!r}], not a string"
            )
        return check_extractors(list(self.extractors))

    def fit(self, X: Sequence[str | os.PathLike[str]], y: Sequence[Any]) -> ImageClassifier:  # noqa: N803
        """Sweep and cross-validate on images ``X`` (paths) with labels ``y``; returns self."""
        extractors = self._checked_params()
        paths = list(X)
        labels = [str(v) for v in y]
        if len(paths) != len(labels):
            raise DataError(f"X has {len(paths)} paths but y has {len(labels)} labels")
        classes = sorted(set(labels))
        ai = (
            [str(v) for v in self.ai_labels]
            if self.ai_labels is not None
            else [c for c in classes if c != "real"]
        )
        feats = _load_features(paths, extractors)
        blocks = []
        for name in extractors:
            ex = create_extractor(name)
            for output, sl in ex.blocks().items():
                blocks.append(
                    RawBlock(ex.name, ex.version, output, sl.start, sl.stop, feats[name][:, sl])
                )
        result = run_sweep(
            blocks,
            labels,
            classes,
            ai,
            k=int(self.folds),
            seed=int(self.seed),
            heads=list(self.heads),
        )
        self.model_: TrainedModel = result.model
        self.classes_ = np.array(classes, dtype=object)
        self.extractors_ = extractors
        self.cv_report_ = {
            "cv_accuracy_per_class": result.accuracy_per_class,
            "cv_auc": result.auc,
            "cv_balanced_accuracy": result.chosen.balanced_accuracy,
            "confusion_matrix": result.confusion,
            "chosen": result.chosen.to_dict(),
        }
        return self

    def _proba_model_order(self, X: Sequence[str | os.PathLike[str]]) -> NDArray[np.float64]:  # noqa: N803
        check_is_fitted(self, "model_")
        feats = _load_features(list(X), self.extractors_)
        return self.model_.predict_proba(feats)

    def predict_proba(self, X: Sequence[str | os.PathLike[str]]) -> NDArray[np.float64]:  # noqa: N803
        """N x len(classes_) class probabilities (columns in ``classes_`` order)."""
        proba = self._proba_model_order(X)
        order = [list(self.model_.labels).index(c) for c in self.classes_]
        return proba[:, order]

    def predict(self, X: Sequence[str | os.PathLike[str]]) -> NDArray[Any]:  # noqa: N803
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]  # type: ignore[no-any-return]

    def predict_p_ai(self, X: Sequence[str | os.PathLike[str]]) -> NDArray[np.float64]:  # noqa: N803
        """Probability that each image is AI-generated (the total of the AI labels)."""
        return self.model_.p_ai(self._proba_model_order(X))
