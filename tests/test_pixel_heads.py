"""The small trained heads: estimator contract, validation, and lossless save/load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synthcheck.errors import ConfigError, DataError, ModelError
from synthcheck.pixel.devpool import family_of, real_group_of
from synthcheck.pixel.fitting import tpr_at_fpr
from synthcheck.pixel.heads import LinearProbe, PlattCalibrator, StackedFusion


def _data(n: int = 200, d: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 1, (n, d)) + y[:, None] * np.linspace(0.2, 1.5, d)
    return x, y


def test_probe_follows_the_estimator_contract(tmp_path: Path) -> None:
    x, y = _data()
    probe = LinearProbe(C=0.5)
    assert probe.fit(x, y) is probe
    assert probe.coef_.shape == (6,) and probe.n_features_in_ == 6
    scores = probe.decision_function(x)
    assert np.mean((scores > 0) == (y == 1)) > 0.8
    probe.save(tmp_path / "p.npz", version=np.array("v1"))
    loaded, extra = LinearProbe.load(tmp_path / "p.npz")
    np.testing.assert_allclose(loaded.decision_function(x), scores)
    assert str(extra["version"]) == "v1"


@pytest.mark.parametrize(
    ("kwargs", "x", "y", "match"),
    [
        ({"C": 0.0}, np.zeros((4, 2)), np.array([0, 1, 0, 1]), "C must be > 0"),
        ({}, np.zeros(4), np.array([0, 1, 0, 1]), "X must be 2-D"),
        ({}, np.zeros((4, 2)), np.array([0, 1, 0]), "one label per row"),
        ({}, np.zeros((4, 2)), np.array([1, 1, 1, 1]), "both classes"),
    ],
)
def test_probe_rejects_bad_input_precisely(
    kwargs: dict[str, Any], x: np.ndarray, y: np.ndarray, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        LinearProbe(**kwargs).fit(x, y)


def test_unfitted_or_mismatched_probe_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not fitted"):
        LinearProbe().decision_function(np.zeros((1, 3)))
    x, y = _data()
    probe = LinearProbe().fit(x, y)
    with pytest.raises(ModelError, match="6 features"):
        probe.decision_function(np.zeros((2, 5)))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz")
    with pytest.raises(ModelError, match="cannot read"):
        LinearProbe.load(bad)


def test_platt_and_fusion_are_monotone_and_round_trip() -> None:
    x, y = _data(d=2)
    platt = PlattCalibrator().fit(x[:, 1], y)
    p = platt.predict_proba(np.array([-3.0, 0.0, 3.0]))
    assert (np.diff(p) > 0).all() and ((p > 0) & (p < 1)).all()
    fusion = StackedFusion(["a", "b"]).fit(x, y)
    again = StackedFusion.from_dict(fusion.to_dict())
    np.testing.assert_allclose(again.predict_proba(x), fusion.predict_proba(x))
    with pytest.raises(ModelError, match="malformed"):
        StackedFusion.from_dict({"inputs": ["a"]})


def test_fusion_weights_are_non_negative_unless_asked() -> None:
    # Two correlated scores where, given the first, the second is anti-correlated with the label:
    # an unconstrained stack gives it a negative weight, so more "generated" evidence from it
    # would lower the fused score.
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 4000)
    a = 2.0 * y + rng.normal(size=4000)
    b = a + rng.normal(scale=0.3, size=4000) - 0.8 * y
    z = np.stack([a, b], axis=1)
    free = StackedFusion(["a", "b"], positive=False).fit(z, y)
    assert free.coef_[1] < 0
    kept = StackedFusion(["a", "b"]).fit(z, y)
    assert kept.positive and (kept.coef_ >= 0).all() and kept.coef_[0] > 0
    # With the constraint inactive, the same optimum as scikit-learn's.
    good = np.stack([a, y + rng.normal(size=4000)], axis=1)
    np.testing.assert_allclose(
        StackedFusion(["a", "b"]).fit(good, y).coef_,
        StackedFusion(["a", "b"], positive=False).fit(good, y).coef_,
        rtol=1e-3,
        atol=1e-4,
    )
    assert StackedFusion.from_dict(kept.to_dict()).positive is True
    legacy = {k: v for k, v in free.to_dict().items() if k != "positive"}
    assert StackedFusion.from_dict(legacy).positive is False


def test_fusion_fit_that_stops_short_of_the_optimum_is_refused() -> None:
    from synthcheck.pixel.heads import _nonnegative_logistic

    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 2000)
    z = np.stack([3.0 * y + rng.normal(size=2000), y + rng.normal(size=2000)], axis=1)
    w, _ = _nonnegative_logistic(z, y, 1.0)
    assert (w > 0).all()
    with pytest.raises(ModelError, match=r"did not converge.*projected gradient"):
        _nonnegative_logistic(z, y, 1.0, max_iter=1)
    bad = np.where(z > 4, np.inf, z)
    with pytest.raises(ConfigError, match=r"NaN or infinite values in \d+ rows \(first: row"):
        StackedFusion(["a", "b"]).fit(bad, y)


def test_tpr_at_fpr() -> None:
    y = np.array([0] * 100 + [1] * 10)
    s = np.concatenate([np.arange(100) / 100, np.full(10, 2.0)])
    assert tpr_at_fpr(y, s, 0.05) == 1.0
    assert tpr_at_fpr(y, -s, 0.05) == 0.0


def test_generator_families() -> None:
    assert family_of("sd15_deliberate_20") == "sd15-finetunes"
    assert family_of("sd2_768_txt2img") == family_of("sd1_txt2img") == "sd-official"
    assert family_of("ddim_keras_celeba64") == family_of("ddpm_imagenet64") == "ddpm-ddim"
    assert real_group_of("kodak24") == "benchmarks"
    with pytest.raises(DataError, match="no known family"):
        family_of("midjourney_v7")


@pytest.mark.shared
def test_every_dev_pool_generator_has_a_family(shared_data: Path) -> None:
    from synthcheck.pixel.devpool import load_devpool

    images = load_devpool(shared_data / "dev")
    assert len(images) > 1000
    assert {im.label for im in images} == {0, 1}
    held = [im for im in images if im.holdout]
    assert 0.03 < len(held) / len(images) < 0.07
