"""What a stored model version says about itself: its cross-validated figures, the configuration
the sweep chose, and the labelled data it was trained on.

:class:`ModelSummary` is the one place that names the keys of the JSON stored with each version
(the ``models.summary`` column) and written into a trained model file's metadata; everything else
reads the typed fields. :meth:`ModelSummary.to_dict` writes the same JSON as before the class
existed and :meth:`ModelSummary.from_dict` reads any of it, old rows included (missing keys are
None; keys it does not know are kept in ``extra`` and written back).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["ModelSummary"]

# The stored keys in the order they are written. The first five are written always (None when
# unknown, as an imported model without the figures has them); the rest only when set.
_ALWAYS = ("cv_score", "cv_metric", "cv_accuracy_per_class", "cv_auc", "chosen")
_WHEN_SET = (
    "cv_balanced_accuracy",
    "n_labelled",
    "n_images",
    "fingerprint",
    "folds",
    "imported_from",
    "version",
)
#: The keys an imported model's summary copies from the model file's metadata.
_IMPORTED = ("cv_score", "cv_metric", "chosen", "cv_accuracy_per_class", "cv_auc")


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ModelSummary:
    """A model version's summary. Every field is optional: an imported model knows only what its
    file's metadata said, and rows written by older versions may lack newer keys.

    ``cv_score`` is the sweep's selection score (``cv_metric``: ``"auc"`` with two classes, else
    ``"balanced_accuracy"``); ``chosen`` the chosen candidate (``feature_set``, ``head``,
    ``value``, ...); ``fingerprint`` the SHA-256 of the labelled images and their labels, which
    tells whether the labelled data changed since; ``version`` is set by the store.
    """

    cv_score: float | None = None
    cv_metric: str | None = None
    cv_accuracy_per_class: dict[str, float] | None = None
    cv_auc: float | None = None
    chosen: dict[str, Any] | None = None
    cv_balanced_accuracy: float | None = None
    n_labelled: int | None = None
    n_images: int | None = None
    fingerprint: str | None = None
    folds: int | None = None
    imported_from: str | None = None
    version: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- reading and writing the stored JSON ------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stored JSON object (the keys the store has always written)."""
        out: dict[str, Any] = {key: getattr(self, key) for key in _ALWAYS}
        for key in _WHEN_SET:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSummary:
        """A summary from stored JSON or a model file's metadata; values of the wrong type read
        as missing (a model file may come from anywhere)."""
        per_class = data.get("cv_accuracy_per_class")
        chosen = data.get("chosen")
        known = {*_ALWAYS, *_WHEN_SET}
        return cls(
            cv_score=_float(data.get("cv_score")),
            cv_metric=_str(data.get("cv_metric")),
            cv_accuracy_per_class=(
                {str(k): float(v) for k, v in per_class.items() if _float(v) is not None}
                if isinstance(per_class, Mapping)
                else None
            ),
            cv_auc=_float(data.get("cv_auc")),
            chosen=dict(chosen) if isinstance(chosen, Mapping) else None,
            cv_balanced_accuracy=_float(data.get("cv_balanced_accuracy")),
            n_labelled=_int(data.get("n_labelled")),
            n_images=_int(data.get("n_images")),
            fingerprint=_str(data.get("fingerprint")),
            folds=_int(data.get("folds")),
            imported_from=_str(data.get("imported_from")),
            version=_int(data.get("version")),
            extra={k: v for k, v in data.items() if k not in known},
        )

    @classmethod
    def imported(cls, metadata: Mapping[str, Any], source: str) -> ModelSummary:
        """The summary of a model imported from file ``source``: the CV figures and the choice
        its metadata records, nothing about data this project never trained on."""
        return replace(cls.from_dict({k: metadata.get(k) for k in _IMPORTED}), imported_from=source)

    # -- what the rest of training asks of it -----------------------------------------------
    def with_version(self, version: int) -> ModelSummary:
        return replace(self, version=version)

    @property
    def score_or_worst(self) -> float:
        """``cv_score``, or minus infinity when unknown (anything beats it)."""
        return -math.inf if self.cv_score is None else self.cv_score

    def baseline(self) -> tuple[tuple[str, ...], str, float] | None:
        """The chosen (feature set, head, value), for the sweep to evaluate on its folds; None
        when the summary does not record a usable choice."""
        ch = self.chosen
        if ch is None:
            return None
        return (tuple(ch["feature_set"]), str(ch["head"]), float(ch["value"]))
