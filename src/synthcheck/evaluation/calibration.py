"""Calibrate the decision thresholds on the user's own real photos, and store them by name.

The rule (:func:`fit_thresholds`), for ``n`` real scores and a target false-positive rate ``f``:

``ai_threshold``
    Allow ``k = floor(f * (n + 1)) - 1`` of the real photos at or above the threshold and put the
    threshold just above the ``(n - k)``-th smallest real score. For a new real photo drawn like
    the calibration set the chance of scoring at or above it is at most ``(k + 1) / (n + 1) <= f``
    (the split-conformal bound), and the empirical rate on the calibration set is ``<= k / n``.
    When ``f * (n + 1) < 1`` no threshold can support the target; the profile is still made with
    ``k = 0`` (above every real score) and a warning says how many more images are needed.
``real_threshold``
    Chosen so that a stated share of the real photos (``real_share``, default 0.9) read "real":
    the ``ceil(real_share * n)``-th smallest real score. It never goes above 0.5 (a photo the
    model leans AI on is not called real) nor above ``ai_threshold``. With known-AI images it is
    lowered when needed so that at most the target rate of AI images is reported "real" (the
    same order-statistic rule as above). What this does to the calibration photos (how many read
    real, unsure, AI) is measured and reported with the profile, so nobody learns it by
    scanning: an unsure share above ``1 - real_share`` (a cap bound) comes with a warning.

Scores are the pixel model's ``p_ai``. Fusion only ever lowers ``p_ai`` for real photos that carry
no AI provenance, so thresholds set on pixel scores are conservative for the fused verdict.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from synthcheck.errors import ConfigError, DataError
from synthcheck.evaluation.intervals import clopper_pearson, images_needed_for_fpr

# Profiles as stored files live below the engine (it reads them for `scan --calibration`); they
# are re-exported here, where they have always been imported from.
from synthcheck.fusion.calibration import (
    DEFAULT_REAL_SHARE,
    Calibration,
    CalibrationProfile,
    ThresholdFit,
    calibration_path,
    list_calibrations,
    list_profiles,
    load_calibration,
    load_profile,
    profile_path,
    save_calibration,
    save_profile,
    validate_calibration_name,
    validate_profile_name,
)
from synthcheck.fusion.rules import Thresholds

__all__ = [
    "DEFAULT_REAL_SHARE",
    "MAX_REAL_THRESHOLD",
    "Calibration",
    "CalibrationProfile",
    "ThresholdFit",
    "calibration_path",
    "fit_thresholds",
    "list_calibrations",
    "list_profiles",
    "load_calibration",
    "load_profile",
    "profile_path",
    "save_calibration",
    "save_profile",
    "validate_calibration_name",
    "validate_profile_name",
    "validate_real_share",
    "validate_target_fpr",
]

#: The real threshold never exceeds this: a photo the model leans AI on is not called real.
MAX_REAL_THRESHOLD = 0.5


def _scores(values: ArrayLike, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0.0 or arr.max() > 1.0):
        raise DataError(f"{what} scores must be finite numbers in [0, 1]")
    return arr


def _allowed_errors(rate: float, n: int) -> int:
    """Largest k with (k + 1) / (n + 1) <= rate, or -1 when even k = 0 exceeds it."""
    return math.floor(rate * (n + 1) + 1e-9) - 1


def fit_thresholds(
    real_scores: ArrayLike,
    target_fpr: float = 0.01,
    ai_scores: ArrayLike | None = None,
    *,
    real_share: float = DEFAULT_REAL_SHARE,
    confidence: float = 0.95,
) -> ThresholdFit:
    """Choose ``ai_threshold`` / ``real_threshold`` from real (and optionally AI) scores.

    See the module docstring for the rule. Raises :class:`DataError` without real scores and
    :class:`ConfigError` for a target outside (0, 0.5].
    """
    validate_target_fpr(target_fpr)
    validate_real_share(real_share)
    real = np.sort(_scores(real_scores, "real"))
    ai = np.sort(_scores(ai_scores, "AI")) if ai_scores is not None else np.empty(0)
    n = int(real.size)
    if n == 0:
        raise DataError("no real images were scored; calibration needs real photos")
    warnings: list[str] = []
    needed = images_needed_for_fpr(target_fpr)
    if n < needed:
        warnings.append(
            f"{n} real images are too few to confirm a false-positive rate of {target_fpr:g} "
            f"with 95% confidence: at least {needed} are needed (rule of three), "
            f"{needed - n} more"
        )
    k = _allowed_errors(target_fpr, n)
    if k < 0:
        k = 0
        warnings.append(
            f"even a threshold above every real score only bounds the expected false-positive "
            f"rate by 1/(n+1) = {1 / (n + 1):.3g}, above the target {target_fpr:g}"
        )
    pivot = float(real[n - k - 1])
    ai_threshold = min(1.0, float(np.nextafter(pivot, np.inf)))
    false_positives = int(np.count_nonzero(real >= ai_threshold))
    if false_positives > k:
        warnings.append(
            f"{false_positives} real images score {pivot:.4g} or more, the top of the scale; "
            "the threshold cannot separate them"
        )
    # The stated rule: at least `real_share` of these photos at or below the real threshold.
    wanted = float(real[max(math.ceil(real_share * n - 1e-9), 1) - 1])
    real_threshold = min(wanted, MAX_REAL_THRESHOLD, ai_threshold)
    ai_called_real = 0
    true_positives = 0
    tpr: float | None = None
    tpr_ci: tuple[float, float] | None = None
    if ai.size:
        m = int(ai.size)
        k_ai = _allowed_errors(target_fpr, m)
        # At most k_ai AI images may score at or below real_threshold.
        cap = float(np.nextafter(ai[max(k_ai, 0)], -np.inf))
        real_threshold = max(0.0, min(real_threshold, cap))
        ai_called_real = int(np.count_nonzero(ai <= real_threshold))
        true_positives = int(np.count_nonzero(ai >= ai_threshold))
        tpr = true_positives / m
        tpr_ci = clopper_pearson(true_positives, m, confidence)
    real_as_real = int(np.count_nonzero(real <= real_threshold))
    real_as_unsure = int(np.count_nonzero((real > real_threshold) & (real < ai_threshold)))
    if real_as_real < math.ceil(real_share * n - 1e-9):
        why = (
            "known-AI images score that low too"
            if real_threshold < min(wanted, MAX_REAL_THRESHOLD, ai_threshold)
            else f"the real threshold stops at {min(MAX_REAL_THRESHOLD, ai_threshold):.3g}"
        )
        warnings.append(
            f"only {real_as_real} of {n} real photos ({real_as_real / n:.0%}) read real, not "
            f"the {real_share:.0%} asked for ({why}); {real_as_unsure} ({real_as_unsure / n:.0%})"
            " will read unsure"
        )
    return ThresholdFit(
        thresholds=Thresholds(real_threshold=real_threshold, ai_threshold=ai_threshold),
        target_fpr=target_fpr,
        n_real=n,
        false_positives=false_positives,
        empirical_fpr=false_positives / n,
        fpr_bound=(false_positives + 1) / (n + 1),
        fpr_ci=clopper_pearson(false_positives, n, confidence),
        n_ai=int(ai.size),
        true_positives=true_positives,
        tpr=tpr,
        tpr_ci=tpr_ci,
        ai_called_real=ai_called_real,
        real_share=real_share,
        real_as_real=real_as_real,
        real_as_unsure=real_as_unsure,
        warnings=tuple(warnings),
    )


def validate_target_fpr(target_fpr: float) -> None:
    """Raise :class:`ConfigError` unless ``0 < target_fpr <= 0.5``."""
    if not 0.0 < target_fpr <= 0.5:
        raise ConfigError(f"target_fpr must be in (0, 0.5], got {target_fpr}")


def validate_real_share(real_share: float) -> None:
    """Raise :class:`ConfigError` unless ``0 < real_share < 1``."""
    if not 0.0 < real_share < 1.0:
        raise ConfigError(f"real_share must be in (0, 1), got {real_share}")
