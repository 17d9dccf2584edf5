"""Evaluate any pixel model on labelled images: bias audit, metrics, robustness sweep, breakdowns.

    >>> report = evaluate_model(model, real_paths, ai_paths)             # the Python API
    >>> report = evaluate_model(model, items=items_from_folders(r, a)[0])  # with generator groups

Works for any :class:`synthcheck.engine.detector.PixelModel` (the default detector's, a project's,
a ``local-dir:`` one). Scores are the model's ``p_ai``; see :mod:`synthcheck.evaluation.scoring`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from synthcheck.engine.detector import PixelModel
from synthcheck.errors import DataError
from synthcheck.evaluation.bias_audit import audit_bias
from synthcheck.evaluation.calibration import load_calibration
from synthcheck.evaluation.dataset import AI, REAL, LabelledImage, items_from_paths
from synthcheck.evaluation.metrics import (
    auc_bootstrap_ci,
    auc_of,
    balanced_accuracy,
    expected_calibration_error,
    reliability_bins,
    roc_curve,
    tpr_at_fpr,
)
from synthcheck.evaluation.report import (
    ConditionResult,
    EvaluationReport,
    GroupResult,
    ImageRecord,
)
from synthcheck.evaluation.robustness import CLEAN, DEFAULT_SWEEP, create_transform
from synthcheck.evaluation.scoring import Progress, ScoreCache, ScoredSet, model_key, score_images
from synthcheck.fusion.rules import DEFAULT_THRESHOLDS, Thresholds

__all__ = ["evaluate_model"]

_ROC_POINTS = 200


def _condition(
    name: str,
    scores: NDArray[np.float64],
    labels: NDArray[np.int64],
    threshold: float,
    n_boot: int,
    seed: int,
) -> ConditionResult:
    ok = np.isfinite(scores)
    s, y = scores[ok], labels[ok]
    n_real, n_ai = int(np.sum(y == REAL)), int(np.sum(y == AI))
    description = create_transform(name).description
    failed = int(np.count_nonzero(~ok))
    if n_real == 0 or n_ai == 0:
        return ConditionResult(
            name, description, n_real, n_ai, None, None, None, None, None, None, None, failed
        )
    curve = roc_curve(s, y)
    step = max(1, len(curve.fpr) // _ROC_POINTS)
    keep = sorted({*range(0, len(curve.fpr), step), len(curve.fpr) - 1})
    return ConditionResult(
        condition=name,
        description=description,
        n_real=n_real,
        n_ai=n_ai,
        auc=auc_of(s[y == AI], s[y == REAL]),
        auc_ci=auc_bootstrap_ci(s, y, n_boot=n_boot, seed=seed) if n_boot else None,
        tpr_at_1=tpr_at_fpr(s, y, 0.01)[0],
        tpr_at_5=tpr_at_fpr(s, y, 0.05)[0],
        fpr_at_threshold=float(np.mean(s[y == REAL] >= threshold)),
        tpr_at_threshold=float(np.mean(s[y == AI] >= threshold)),
        balanced_accuracy=balanced_accuracy(s, y, threshold),
        failed=failed,
        roc=[(float(curve.fpr[i]), float(curve.tpr[i])) for i in keep],
    )


def _groups(
    kind: Literal["generator", "source"],
    scored: ScoredSet,
    clean: NDArray[np.float64],
    threshold: float,
) -> list[GroupResult]:
    labels = scored.labels
    ok = np.isfinite(clean)
    members: dict[tuple[str, int], list[int]] = {}
    for i, item in enumerate(scored.items):
        group = item.generator if kind == "generator" else item.source
        if group is not None and ok[i]:
            members.setdefault((group, item.label), []).append(i)
    out: list[GroupResult] = []
    for (name, label), rows in sorted(members.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        mine = clean[rows]
        others = clean[ok & (labels != label)]
        value: float | None = None
        if others.size:
            value = auc_of(mine, others) if label == AI else auc_of(others, mine)
        out.append(
            GroupResult(
                kind=kind,
                name=name,
                label="ai" if label == AI else "real",
                n=len(rows),
                auc=value,
                flagged=float(np.mean(mine >= threshold)),
                mean_score=float(np.mean(mine)),
            )
        )
    return out


def _verdict_rates(
    scores: NDArray[np.float64], labels: NDArray[np.int64], t: Thresholds
) -> dict[str, dict[str, float]]:
    rates: dict[str, dict[str, float]] = {}
    for label, name in ((REAL, "real"), (AI, "ai")):
        s = scores[(labels == label) & np.isfinite(scores)]
        ai = float(np.mean(s >= t.ai_threshold))
        real = float(np.mean(s <= t.real_threshold)) if t.real_threshold < t.ai_threshold else 0.0
        rates[name] = {"real": real, "unsure": max(0.0, 1.0 - ai - real), "ai": ai}
    return rates


def _active_thresholds(
    pixel_model: PixelModel, thresholds: Thresholds | None, calibration: str | None
) -> tuple[Thresholds, list[str]]:
    """``thresholds``, else the stored ``calibration`` profile's (with a note when it was fitted
    for another model), else the defaults; and the notes."""
    notes: list[str] = []
    active = thresholds
    if active is None and calibration:
        stored = load_calibration(calibration)
        active = stored.thresholds
        mismatch = stored.mismatch(model_key(pixel_model))
        if mismatch:
            notes.append(mismatch)
    return active or DEFAULT_THRESHOLDS, notes


def _condition_names(conditions: Sequence[str] | None, robustness: bool) -> list[str]:
    """The conditions to score, clean first; unknown names fail here, before any scoring."""
    names = (
        list(conditions)
        if conditions is not None
        else (list(DEFAULT_SWEEP) if robustness else [CLEAN])
    )
    names = [CLEAN, *(n for n in dict.fromkeys(names) if n != CLEAN)]
    for name in names:
        create_transform(name)
    return names


def _check_both_classes_scored(chosen: Sequence[LabelledImage], scored: ScoredSet) -> None:
    """:class:`DataError` naming the reasons when every image of a class was unreadable."""
    labels = scored.labels
    clean = scored.scores[CLEAN]
    for label, name in ((REAL, "real"), (AI, "AI")):
        if not np.any((labels == label) & np.isfinite(clean)):
            paths = {item.path for item in chosen if item.label == label}
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in scored.skipped if s.path in paths)[
                :400
            ]
            total = len(paths)
            raise DataError(f"none of the {total} {name} images could be scored ({reasons})")


def _image_records(scored: ScoredSet, names: list[str]) -> list[ImageRecord]:
    """One record per scored image with its score under each condition (None: unreadable)."""
    return [
        ImageRecord(
            path=item.path,
            label="ai" if item.label == AI else "real",
            generator=item.generator,
            source=item.source,
            scores={
                n: (float(scored.scores[n][i]) if np.isfinite(scored.scores[n][i]) else None)
                for n in names
            },
        )
        for i, item in enumerate(scored.items)
    ]


def evaluate_model(
    pixel_model: PixelModel,
    real_paths: Iterable[str | os.PathLike[str]] = (),
    ai_paths: Iterable[str | os.PathLike[str]] = (),
    *,
    items: Sequence[LabelledImage] | None = None,
    thresholds: Thresholds | None = None,
    calibration: str | None = None,
    robustness: bool = True,
    conditions: Sequence[str] | None = None,
    cache: ScoreCache | None = None,
    batch_size: int = 8,
    n_boot: int = 1000,
    seed: int = 0,
    ignored_files: int = 0,
    progress: Progress | None = None,
) -> EvaluationReport:
    """Score real and AI images with ``pixel_model`` and build the report.

    Give either ``real_paths`` and ``ai_paths`` or labelled ``items`` (with generator and source
    groups). The active threshold is ``thresholds``, else the stored ``calibration`` profile's,
    else the defaults. ``robustness`` runs the whole sweep; ``conditions`` picks transforms by name
    (clean is always first). Raises :class:`DataError` when a class is missing or every image of a
    class was unreadable; other unreadable files are skipped and listed in ``report.skipped``.
    """
    start = time.perf_counter()
    chosen = list(items) if items is not None else items_from_paths(real_paths, ai_paths)
    for label, name in ((REAL, "real"), (AI, "AI")):
        if not any(item.label == label for item in chosen):
            raise DataError(f"no {name} images given: evaluation needs both real and AI images")
    active, notes = _active_thresholds(pixel_model, thresholds, calibration)
    names = _condition_names(conditions, robustness)
    scored = score_images(
        pixel_model, chosen, names, cache=cache, batch_size=batch_size, progress=progress
    )
    _check_both_classes_scored(chosen, scored)
    labels = scored.labels
    clean = scored.scores[CLEAN]
    conditions_out = [
        _condition(name, scored.scores[name], labels, active.ai_threshold, n_boot, seed)
        for name in names
    ]
    ok = np.isfinite(clean)
    return EvaluationReport(
        model=model_key(pixel_model),
        thresholds=active,
        calibration=calibration if thresholds is None else None,
        n_real=int(np.sum(labels == REAL)),
        n_ai=int(np.sum(labels == AI)),
        bias=audit_bias(
            [f for f, y in zip(scored.facts, labels, strict=True) if y == REAL],
            [f for f, y in zip(scored.facts, labels, strict=True) if y == AI],
        ),
        conditions=conditions_out,
        verdict_rates=_verdict_rates(clean, labels, active),
        ece=expected_calibration_error(clean[ok], labels[ok]),
        reliability=reliability_bins(clean[ok], labels[ok]),
        generators=_groups("generator", scored, clean, active.ai_threshold),
        sources=_groups("source", scored, clean, active.ai_threshold),
        skipped=scored.skipped,
        images=_image_records(scored, names),
        ignored_files=ignored_files,
        seconds=time.perf_counter() - start,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        scores_cached=scored.cached,
        scores_computed=scored.computed,
        notes=notes,
    )
