"""Metrics for a binary detector from its scores: ROC, AUC with a bootstrap interval, TPR at a
fixed FPR, balanced accuracy at a threshold, and calibration error with reliability bins.

Conventions: label 1 is "AI", 0 is "real"; an image is called AI when ``score >= threshold``
(the rule :func:`synthcheck.fusion.fuse` applies to ``ai_threshold``).

The AUC is scikit-learn's ``roc_auc_score``; only the bootstrap interval ranks by hand, all
resamples at once (row-wise ``rankdata``), which a loop over ``roc_auc_score`` cannot match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

from synthcheck.errors import ConfigError, DataError

__all__ = [
    "ReliabilityBin",
    "RocCurve",
    "auc",
    "auc_bootstrap_ci",
    "auc_of",
    "balanced_accuracy",
    "expected_calibration_error",
    "reliability_bins",
    "roc_curve",
    "tpr_at_fpr",
]

FloatArray = NDArray[np.float64]


def _split(scores: ArrayLike, labels: ArrayLike) -> tuple[FloatArray, FloatArray]:
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel()
    if s.shape != y.shape:
        raise DataError(f"{s.size} scores but {y.size} labels")
    if not np.all(np.isfinite(s)):
        raise DataError("scores must be finite numbers")
    if not np.all(np.isin(y, (0, 1))):
        raise DataError("labels must be 0 (real) or 1 (AI)")
    pos, neg = s[y == 1], s[y == 0]
    if pos.size == 0 or neg.size == 0:
        missing = "AI" if pos.size == 0 else "real"
        raise DataError(f"metrics need both classes; there are no {missing} images")
    return pos, neg


def auc_of(ai_scores: ArrayLike, real_scores: ArrayLike) -> float:
    """AUC from the two groups' scores: Mann–Whitney U / (n_ai * n_real), ties count one half."""
    pos = np.asarray(ai_scores, dtype=np.float64).ravel()
    neg = np.asarray(real_scores, dtype=np.float64).ravel()
    if pos.size == 0 or neg.size == 0:
        raise DataError("AUC needs at least one AI and one real score")
    return _auc(pos, neg)


def _auc(pos: FloatArray, neg: FloatArray) -> float:
    from sklearn.metrics import roc_auc_score

    labels = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
    return float(roc_auc_score(labels, np.concatenate([pos, neg])))


def auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve: the chance a random AI image outscores a random real one."""
    return _auc(*_split(scores, labels))


def auc_bootstrap_ci(
    scores: ArrayLike,
    labels: ArrayLike,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of the AUC over stratified bootstrap resamples (classes resampled
    separately, so every resample keeps both classes at their sizes)."""
    if n_boot < 10:
        raise ConfigError(f"n_boot must be at least 10, got {n_boot}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence}")
    pos, neg = _split(scores, labels)
    rng = np.random.default_rng(seed)
    n_pos, n_neg = pos.size, neg.size
    # Vectorised in chunks: rank each resample's pooled scores row-wise, a few million at a time.
    chunk = max(1, 2_000_000 // (n_pos + n_neg))
    values = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        rows = min(chunk, n_boot - start)
        pick_pos = rng.integers(0, n_pos, (rows, n_pos))
        pick_neg = rng.integers(0, n_neg, (rows, n_neg))
        pooled = np.concatenate([pos[pick_pos], neg[pick_neg]], axis=1)
        u = rankdata(pooled, axis=1)[:, :n_pos].sum(axis=1) - n_pos * (n_pos + 1) / 2.0
        values[start : start + rows] = u / (n_pos * n_neg)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class RocCurve:
    """ROC points ordered by increasing FPR; ``thresholds[i]`` gives ``(fpr[i], tpr[i])`` with the
    rule ``score >= threshold`` (the first point, threshold +inf, calls nothing AI)."""

    fpr: FloatArray
    tpr: FloatArray
    thresholds: FloatArray


def roc_curve(scores: ArrayLike, labels: ArrayLike) -> RocCurve:
    """The ROC curve over every distinct score."""
    pos, neg = _split(scores, labels)
    cuts = np.unique(np.concatenate([pos, neg]))[::-1]
    pos_sorted, neg_sorted = np.sort(pos), np.sort(neg)
    tp = pos.size - np.searchsorted(pos_sorted, cuts, side="left")
    fp = neg.size - np.searchsorted(neg_sorted, cuts, side="left")
    return RocCurve(
        fpr=np.concatenate([[0.0], fp / neg.size]),
        tpr=np.concatenate([[0.0], tp / pos.size]),
        thresholds=np.concatenate([[np.inf], cuts]),
    )


def tpr_at_fpr(scores: ArrayLike, labels: ArrayLike, max_fpr: float) -> tuple[float, float]:
    """``(tpr, threshold)``: the best recall with a measured FPR at most ``max_fpr`` on these real
    images, and the threshold that achieves it."""
    if not 0.0 <= max_fpr <= 1.0:
        raise ConfigError(f"max_fpr must be in [0, 1], got {max_fpr}")
    curve = roc_curve(scores, labels)
    ok = np.flatnonzero(curve.fpr <= max_fpr + 1e-12)
    best = ok[np.argmax(curve.tpr[ok])]
    return float(curve.tpr[best]), float(curve.thresholds[best])


def balanced_accuracy(scores: ArrayLike, labels: ArrayLike, threshold: float) -> float:
    """Mean of the recall on AI images and the specificity on real ones, calling
    ``score >= threshold`` AI."""
    pos, neg = _split(scores, labels)
    return 0.5 * (float(np.mean(pos >= threshold)) + float(np.mean(neg < threshold)))


@dataclass(frozen=True)
class ReliabilityBin:
    """Scores in ``[low, high)`` (the last bin includes 1.0): how many, their mean, and the
    fraction that were AI."""

    low: float
    high: float
    count: int
    mean_score: float
    fraction_ai: float


def reliability_bins(
    scores: ArrayLike, labels: ArrayLike, n_bins: int = 10
) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1]; empty bins are left out."""
    if n_bins < 1:
        raise ConfigError(f"n_bins must be at least 1, got {n_bins}")
    _split(scores, labels)
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(np.float64)
    if s.min() < 0.0 or s.max() > 1.0:
        raise DataError("reliability needs probabilities in [0, 1]")
    index = np.minimum((s * n_bins).astype(int), n_bins - 1)
    bins = []
    for b in range(n_bins):
        mask = index == b
        if mask.any():
            bins.append(
                ReliabilityBin(
                    low=b / n_bins,
                    high=(b + 1) / n_bins,
                    count=int(mask.sum()),
                    mean_score=float(s[mask].mean()),
                    fraction_ai=float(y[mask].mean()),
                )
            )
    return bins


def expected_calibration_error(scores: ArrayLike, labels: ArrayLike, n_bins: int = 10) -> float:
    """Count-weighted mean gap between the mean score and the AI fraction per bin. It depends on
    the class balance of the evaluation set, which should be stated beside it."""
    bins = reliability_bins(scores, labels, n_bins)
    total = sum(b.count for b in bins)
    return sum(b.count * abs(b.mean_score - b.fraction_ai) for b in bins) / total
