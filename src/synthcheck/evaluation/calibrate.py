"""Calibrate a pixel model on a folder of real photos (and optionally known-AI images)."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from synthcheck.engine.detector import PixelModel
from synthcheck.errors import DataError
from synthcheck.evaluation.calibration import (
    DEFAULT_REAL_SHARE,
    Calibration,
    fit_thresholds,
    validate_calibration_name,
    validate_target_fpr,
)
from synthcheck.evaluation.dataset import AI, REAL, items_from_paths
from synthcheck.evaluation.scoring import Progress, ScoreCache, model_key, score_images

__all__ = ["calibrate_model"]


def calibrate_model(
    pixel_model: PixelModel,
    real_paths: Iterable[str | os.PathLike[str]],
    *,
    name: str,
    target_fpr: float = 0.01,
    ai_paths: Iterable[str | os.PathLike[str]] = (),
    model_profile: str = "auto",
    real_dir: str | None = None,
    ai_dir: str | None = None,
    cache: ScoreCache | None = None,
    batch_size: int = 8,
    progress: Progress | None = None,
    real_share: float = DEFAULT_REAL_SHARE,
) -> Calibration:
    """Score the images and fit a :class:`Calibration` (not yet saved; see
    :func:`synthcheck.evaluation.save_calibration`). Unreadable files are skipped and counted;
    :class:`DataError` when no real photo could be scored. ``real_share``: the share of these
    photos the profile should call "real" (the rule: :mod:`synthcheck.evaluation.calibration`)."""
    validate_calibration_name(name)
    validate_target_fpr(target_fpr)
    items = items_from_paths(real_paths, ai_paths)
    if not any(item.label == REAL for item in items):
        raise DataError("no real photos given: calibration needs the user's real photos")
    scored = score_images(pixel_model, items, cache=cache, batch_size=batch_size, progress=progress)
    scores, labels = scored.scores["clean"], scored.labels
    ok = np.isfinite(scores)
    real = scores[ok & (labels == REAL)]
    ai = scores[ok & (labels == AI)]
    if real.size == 0:
        first = "; ".join(f"{s.path}: {s.reason}" for s in scored.skipped[:3])
        raise DataError(f"none of the real photos could be scored ({first})")
    skipped = len(items) - int(np.count_nonzero(ok))
    fit = fit_thresholds(real, target_fpr, ai if ai.size else None, real_share=real_share)
    return Calibration.from_fit(
        fit,
        name=name,
        model_profile=model_profile,
        model_name=model_key(pixel_model),
        real_dir=real_dir,
        ai_dir=ai_dir,
        skipped=skipped,
    )
