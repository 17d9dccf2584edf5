"""Calibration: the order-statistic threshold rule, exact intervals, and stored profiles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from synthcheck.errors import ConfigError, DataError
from synthcheck.evaluation.calibration import (
    CalibrationProfile,
    fit_thresholds,
    list_profiles,
    load_profile,
    profile_path,
    save_profile,
)
from synthcheck.evaluation.intervals import clopper_pearson, images_needed_for_fpr
from synthcheck.fusion import Thresholds


@pytest.mark.parametrize("n", [300, 301, 999, 1000, 5000])
@pytest.mark.parametrize("fpr", [0.01, 0.05, 0.1])
def test_empirical_fpr_never_exceeds_target(n: int, fpr: float) -> None:
    scores = np.random.default_rng(n).beta(2, 5, size=n)
    fit = fit_thresholds(scores, fpr)
    flagged = int(np.count_nonzero(scores >= fit.thresholds.ai_threshold))
    assert flagged == fit.false_positives
    assert flagged / n <= fpr
    assert fit.fpr_bound <= fpr + 1e-12
    # The threshold is the lowest one with that guarantee: one real score lies just below it.
    assert np.count_nonzero(scores >= fit.thresholds.ai_threshold - 1e-12) > flagged


def test_threshold_generalises_to_new_real_photos() -> None:
    rng = np.random.default_rng(0)
    rates = []
    for _ in range(200):
        fit = fit_thresholds(rng.normal(0.3, 0.1, 400).clip(0, 1), 0.05)
        fresh = rng.normal(0.3, 0.1, 20_000).clip(0, 1)
        rates.append(np.mean(fresh >= fit.thresholds.ai_threshold))
    # The conformal rule bounds the expected rate on new photos by (k+1)/(n+1) = 20/401; the
    # tolerance is three standard errors of the mean of 200 trials.
    assert 0.045 <= float(np.mean(rates)) <= 20 / 401 + 3 * float(np.std(rates)) / np.sqrt(200)


def test_ties_at_the_pivot_do_not_break_the_bound() -> None:
    scores = np.array([0.2] * 50 + [0.9] * 50)
    fit = fit_thresholds(scores, 0.1)
    assert np.mean(scores >= fit.thresholds.ai_threshold) <= 0.1
    assert fit.thresholds.ai_threshold > 0.9


def test_too_few_images_warns_with_how_many_more() -> None:
    fit = fit_thresholds(np.linspace(0, 0.5, 40), 0.01)
    assert images_needed_for_fpr(0.01) == 300
    text = " ".join(fit.warnings)
    assert "300 are needed" in text and "260 more" in text
    assert fit.thresholds.ai_threshold > 0.5  # above every real score


def test_enough_images_gives_no_warning() -> None:
    # Real photos mostly score low; uniform scores would rightly warn about the unsure share.
    fit = fit_thresholds(np.random.default_rng(1).beta(1.2, 12, 400), 0.01)
    assert fit.warnings == ()


def test_real_scores_at_the_top_of_the_scale_are_reported() -> None:
    fit = fit_thresholds(np.array([0.1] * 90 + [1.0] * 10), 0.01)
    assert fit.thresholds.ai_threshold == 1.0
    assert fit.false_positives == 10
    assert any("top of the scale" in w for w in fit.warnings)


def test_unsure_band_and_recall_with_ai_scores() -> None:
    rng = np.random.default_rng(2)
    real = rng.beta(2, 6, 500)
    ai = rng.beta(6, 2, 500)
    fit = fit_thresholds(real, 0.05, ai)
    t = fit.thresholds
    assert t.real_threshold <= t.ai_threshold
    # The stated rule: 90% of the reals read real unless AI images (or the 0.5 cap) forbid it.
    assert fit.real_as_real >= 450 or fit.warnings
    assert fit.ai_called_real / 500 <= 0.05
    assert fit.ai_called_real == int(np.count_nonzero(ai <= t.real_threshold))
    assert fit.tpr == pytest.approx(np.mean(ai >= t.ai_threshold))
    assert fit.tpr is not None and fit.tpr_ci is not None
    assert fit.tpr_ci[0] <= fit.tpr <= fit.tpr_ci[1]


def test_real_threshold_keeps_the_stated_share_of_reals_real() -> None:
    # Issue 27: 100 real photos, --fpr 0.01 used to leave half of them "unsure" (the median rule).
    real = np.random.default_rng(5).beta(1.2, 12, 100)
    fit = fit_thresholds(real, 0.01)
    t = fit.thresholds
    assert fit.real_as_real == int(np.count_nonzero(real <= t.real_threshold)) >= 90
    unsure = int(np.count_nonzero((real > t.real_threshold) & (real < t.ai_threshold)))
    assert fit.real_as_unsure == unsure <= 10
    assert fit.warnings == (
        "100 real images are too few to confirm a false-positive rate of 0.01 with 95% "
        "confidence: at least 300 are needed (rule of three), 200 more",
    )
    assert fit_thresholds(real, 0.01, real_share=0.5).real_as_real == 50


def test_real_threshold_never_calls_a_leaning_ai_photo_real() -> None:
    real = np.linspace(0.3, 0.9, 200)
    fit = fit_thresholds(real, 0.05)
    assert fit.thresholds.real_threshold <= 0.5
    assert any("read unsure" in w for w in fit.warnings)


def test_real_share_is_validated() -> None:
    with pytest.raises(ConfigError):
        fit_thresholds([0.1, 0.2], 0.05, real_share=1.0)


def test_overlapping_ai_scores_lower_the_real_threshold() -> None:
    real = np.linspace(0.0, 0.6, 400)
    ai = np.linspace(0.1, 1.0, 400)
    fit = fit_thresholds(real, 0.01, ai)
    assert fit.thresholds.real_threshold < float(np.median(real))
    assert fit.ai_called_real <= 3


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 100), (50, 100), (100, 100), (1, 7)])
def test_clopper_pearson_matches_scipy(k: int, n: int) -> None:
    expected = binomtest(k, n).proportion_ci(0.95, method="exact")
    got = clopper_pearson(k, n)
    assert got == pytest.approx((expected.low, expected.high), abs=1e-9)


def test_clopper_pearson_rule_of_three() -> None:
    # Zero events in n trials: the one-sided 95% upper bound is about 3 / n.
    assert clopper_pearson(0, 300, 0.90)[1] == pytest.approx(3 / 300, rel=0.01)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"real_scores": [], "target_fpr": 0.01}, "no real images"),
        ({"real_scores": [0.1, 1.5], "target_fpr": 0.01}, r"in \[0, 1\]"),
        ({"real_scores": [0.1, float("nan")], "target_fpr": 0.01}, "finite"),
        ({"real_scores": [0.1], "target_fpr": 0.0}, "target_fpr"),
        ({"real_scores": [0.1], "target_fpr": 0.7}, "target_fpr"),
    ],
)
def test_bad_input(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises((DataError, ConfigError), match=match):
        fit_thresholds(**kwargs)  # type: ignore[arg-type]


def _profile(name: str = "newsroom") -> CalibrationProfile:
    fit = fit_thresholds(np.random.default_rng(3).random(500), 0.01, np.full(20, 0.995))
    return CalibrationProfile.from_fit(fit, name=name, model_profile="auto", model_name="m")


def test_profile_round_trip(tmp_path: Path) -> None:
    profile = _profile()
    path = save_profile(profile, home=tmp_path)
    assert path == tmp_path / "calibration" / "newsroom.json"
    assert json.loads(path.read_text())["thresholds"]["ai_threshold"] == (
        profile.thresholds.ai_threshold
    )
    loaded = load_profile("newsroom", home=tmp_path)
    assert loaded == profile
    assert isinstance(loaded.thresholds, Thresholds)
    assert isinstance(loaded.fpr_ci, tuple)
    assert list_profiles(home=tmp_path) == ["newsroom"]


def test_home_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHCHECK_HOME", str(tmp_path))
    save_profile(_profile("env"))
    assert load_profile("env").name == "env"
    assert (tmp_path / "calibration" / "env.json").is_file()


def test_missing_profile_names_the_known_ones(tmp_path: Path) -> None:
    save_profile(_profile("alpha"), home=tmp_path)
    save_profile(_profile("beta"), home=tmp_path)
    with pytest.raises(ConfigError, match="known: alpha, beta"):
        load_profile("gamma", home=tmp_path)
    with pytest.raises(ConfigError, match="none yet"):
        load_profile("gamma", home=tmp_path / "empty")


@pytest.mark.parametrize("name", ["", "../etc", "a/b", ".hidden", "x" * 65])
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="invalid calibration profile name"):
        profile_path(name, home=tmp_path)


@pytest.mark.parametrize("content", ["{not json", "[]", '{"name": "broken"}'])
def test_corrupt_profile_file(tmp_path: Path, content: str) -> None:
    folder = tmp_path / "calibration"
    folder.mkdir()
    (folder / "broken.json").write_text(content)
    with pytest.raises(ConfigError, match="broken"):
        load_profile("broken", home=tmp_path)


def test_build_detector_uses_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from synthcheck.engine.build import build_detector

    monkeypatch.setenv("SYNTHCHECK_HOME", str(tmp_path))
    profile = _profile("desk")
    save_profile(profile)
    detector = build_detector("provenance", calibration="desk")
    assert detector.thresholds == profile.thresholds
