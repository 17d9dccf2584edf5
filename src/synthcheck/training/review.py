"""Review a project's predictions: sort by confidence or recency, filter by (dis)agreement.

Labelled images carry their *out-of-fold* prediction (made by a model that never saw them), so
a confident disagreement with the label is a good hint of a labelling mistake; unlabelled images
carry the final model's prediction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from synthcheck.errors import ConfigError
from synthcheck.training.project_store import ProjectRecords
from synthcheck.training.store import ImageRow

__all__ = ["FILTERS", "SORTS", "ReviewItem", "review_items", "review_project"]

SORTS = ("confidence", "recent")
FILTERS = ("disagree", "agree", "label:L", "unlabelled")


@dataclass(frozen=True)
class ReviewItem:
    sha256: str
    path: str
    label: str | None
    predicted: str | None
    confidence: float | None
    p_ai: float | None
    proba: dict[str, float]
    out_of_fold: bool
    added: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "path": self.path,
            "label": self.label,
            "predicted": self.predicted,
            "confidence": None if self.confidence is None else round(self.confidence, 6),
            "p_ai": None if self.p_ai is None else round(self.p_ai, 6),
            "proba": self.proba,
            "out_of_fold": self.out_of_fold,
            "agrees": None
            if self.label is None or self.predicted is None
            else self.label == self.predicted,
        }


def review_items(
    rows: list[ImageRow],
    predictions: Mapping[str, sqlite3.Row],
    *,
    sort: str = "confidence",
    filter: str | None = None,
    limit: int | None = 50,
) -> list[ReviewItem]:
    """Join images with predictions, filter, sort and cut to ``limit`` (None: all)."""
    if sort not in SORTS:
        raise ConfigError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
    if (
        filter is not None
        and filter not in ("disagree", "agree", "unlabelled")
        and not (filter.startswith("label:") and len(filter) > len("label:"))
    ):
        raise ConfigError(f"unknown filter {filter!r}; choose one of {', '.join(FILTERS)}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive integer, got {limit!r}")
    items: list[ReviewItem] = []
    for r in rows:
        pred = predictions.get(r.sha256)
        item = ReviewItem(
            sha256=r.sha256,
            path=r.path,
            label=r.label,
            predicted=None if pred is None else str(pred["predicted"]),
            confidence=None if pred is None else float(pred["confidence"]),
            p_ai=None if pred is None or pred["p_ai"] is None else float(pred["p_ai"]),
            proba={} if pred is None else dict(json.loads(pred["proba"])),
            out_of_fold=bool(pred["out_of_fold"]) if pred is not None else False,
            added=r.added + r.seq * 1e-9,
        )
        if filter == "disagree" and not (
            item.label is not None and item.predicted is not None and item.label != item.predicted
        ):
            continue
        if filter == "agree" and not (item.label is not None and item.label == item.predicted):
            continue
        if filter == "unlabelled" and item.label is not None:
            continue
        if filter is not None and filter.startswith("label:") and item.label != filter[6:]:
            continue
        items.append(item)
    if sort == "confidence":
        items.sort(key=lambda it: (it.confidence is None, it.confidence or 0.0))
    else:
        items.sort(key=lambda it: it.added, reverse=True)
    return items if limit is None else items[:limit]


def review_project(
    records: ProjectRecords,
    *,
    sort: str = "confidence",
    filter: str | None = None,
    limit: int | None = 50,
) -> list[ReviewItem]:
    """The current model's predictions for a project's images (see :func:`review_items`); an
    error when the project has no trained model or ``filter`` names a label it lacks."""
    current = records.model_row(None)
    if filter is not None and filter.startswith("label:"):
        records.check_label(filter.removeprefix("label:"))
    return review_items(
        records.images(),
        records.store.predictions(current.id),
        sort=sort,
        filter=filter,
        limit=limit,
    )
