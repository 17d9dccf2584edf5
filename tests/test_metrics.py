"""Metrics against scikit-learn and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from synthcheck.errors import ConfigError, DataError
from synthcheck.evaluation.metrics import (
    auc,
    auc_bootstrap_ci,
    auc_of,
    balanced_accuracy,
    expected_calibration_error,
    reliability_bins,
    roc_curve,
    tpr_at_fpr,
)


def _data(n: int, seed: int, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.normal(y * 0.8, 1.0)
    s = 1 / (1 + np.exp(-s))
    if ties:
        s = np.round(s, 1)
    return s, y


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_matches_sklearn(seed: int, ties: bool) -> None:
    s, y = _data(300, seed, ties)
    assert auc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert auc_of(s[y == 1], s[y == 0]) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_roc_curve_matches_sklearn(ties: bool) -> None:
    s, y = _data(200, 5, ties)
    curve = roc_curve(s, y)
    fpr, tpr, _ = sk_roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(curve.fpr, fpr)
    np.testing.assert_allclose(curve.tpr, tpr)
    assert np.trapezoid(curve.tpr, curve.fpr) == pytest.approx(auc(s, y))


def test_roc_thresholds_give_their_points() -> None:
    s, y = _data(100, 7)
    curve = roc_curve(s, y)
    for t, f, r in zip(curve.thresholds[1:], curve.fpr[1:], curve.tpr[1:], strict=True):
        assert np.mean(s[y == 0] >= t) == pytest.approx(f)
        assert np.mean(s[y == 1] >= t) == pytest.approx(r)


def test_tpr_at_fpr_respects_the_budget() -> None:
    s, y = _data(2000, 3)
    for budget in (0.01, 0.05, 0.2):
        tpr, threshold = tpr_at_fpr(s, y, budget)
        assert np.mean(s[y == 0] >= threshold) <= budget
        assert np.mean(s[y == 1] >= threshold) == pytest.approx(tpr)
    assert tpr_at_fpr(s, y, 0.01)[0] <= tpr_at_fpr(s, y, 0.05)[0]


def test_perfect_and_inverted_separation() -> None:
    y = np.array([0, 0, 0, 1, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    assert auc(s, y) == 1.0
    assert auc(1 - s, y) == 0.0
    assert tpr_at_fpr(s, y, 0.0)[0] == 1.0
    assert balanced_accuracy(s, y, 0.5) == 1.0
    assert balanced_accuracy(s, y, 0.75) == pytest.approx(0.5 * (2 / 3 + 1))


def test_bootstrap_interval_contains_the_estimate_and_shrinks() -> None:
    small = _data(100, 11)
    large = _data(3000, 11)
    lo_s, hi_s = auc_bootstrap_ci(*small, n_boot=400)
    lo_l, hi_l = auc_bootstrap_ci(*large, n_boot=400)
    assert lo_s <= auc(*small) <= hi_s
    assert lo_l <= auc(*large) <= hi_l
    assert hi_l - lo_l < hi_s - lo_s
    assert auc_bootstrap_ci(*small, n_boot=400, seed=3) == auc_bootstrap_ci(
        *small, n_boot=400, seed=3
    )


def test_reliability_and_ece() -> None:
    # Scores of 0.25 with a quarter AI and 0.75 with three quarters AI: perfectly calibrated.
    s = np.array([0.25] * 8 + [0.75] * 8)
    y = np.array([1, 0, 0, 0] * 2 + [1, 1, 1, 0] * 2)
    assert expected_calibration_error(s, y) == pytest.approx(0.0)
    bins = reliability_bins(s, y)
    assert [(b.count, b.fraction_ai) for b in bins] == [(8, 0.25), (8, 0.75)]
    # Always saying 0.9 on a balanced set is off by 0.4.
    assert expected_calibration_error(np.full(10, 0.9), np.array([0, 1] * 5)) == pytest.approx(0.4)
    # A score of exactly 1.0 falls in the last bin.
    assert reliability_bins(np.array([1.0, 0.0]), np.array([1, 0]))[-1].high == 1.0


@pytest.mark.parametrize(
    ("scores", "labels", "match"),
    [
        ([0.1, 0.2], [0, 0], "no AI images"),
        ([0.1, 0.2], [1, 1], "no real images"),
        ([0.1, 0.2], [0, 1, 1], "2 scores but 3 labels"),
        ([0.1, float("nan")], [0, 1], "finite"),
        ([0.1, 0.2], [0, 2], "labels must be"),
    ],
)
def test_bad_input(scores: list[float], labels: list[int], match: str) -> None:
    with pytest.raises(DataError, match=match):
        auc(scores, labels)


def test_bad_parameters() -> None:
    s, y = _data(50, 0)
    with pytest.raises(ConfigError, match="n_boot"):
        auc_bootstrap_ci(s, y, n_boot=1)
    with pytest.raises(ConfigError, match="max_fpr"):
        tpr_at_fpr(s, y, 1.5)
    with pytest.raises(ConfigError, match="n_bins"):
        reliability_bins(s, y, 0)
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        reliability_bins(s * 3, y)
