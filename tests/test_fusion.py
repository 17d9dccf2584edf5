from __future__ import annotations

import pytest

from synthcheck.errors import ConfigError
from synthcheck.fusion import Thresholds, fuse
from synthcheck.results import SignalResult, SignalVerdict


def _sig(verdict: SignalVerdict, decisive: bool = False, score: float = 0.5) -> SignalResult:
    return SignalResult(
        name="x",
        kind="provenance",
        verdict=verdict,
        score=score,
        summary="",
        decisive=decisive,
    )


def test_no_evidence_and_no_pixels_is_unsure_never_real() -> None:
    assert fuse([], None) == ("unsure", None)
    assert fuse([_sig("none")], None) == ("unsure", None)
    # weak camera evidence alone is not proof of "real"
    assert fuse([_sig("real", score=0.4)], None) == ("unsure", None)


def test_decisive_ai_provenance_wins_over_pixels() -> None:
    verdict, p = fuse([_sig("ai", decisive=True, score=0.99)], 0.05)
    assert verdict == "ai"
    assert p is not None and p >= 0.99
    assert fuse([_sig("ai", decisive=True)], None) == ("ai", None)


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.0, "real"), (0.3, "real"), (0.31, "unsure"), (0.69, "unsure"), (0.7, "ai"), (1.0, "ai")],
)
def test_pixel_probability_bands(p: float, expected: str) -> None:
    assert fuse([], p)[0] == expected


def test_trusted_capture_lowers_but_does_not_override_strong_pixels() -> None:
    verdict_mid, p_mid = fuse([_sig("real", decisive=True, score=0.1)], 0.6)
    assert p_mid is not None and p_mid < 0.6
    assert verdict_mid in ("unsure", "real")
    verdict_hi, _ = fuse([_sig("real", decisive=True, score=0.1)], 0.999)
    assert verdict_hi == "ai"


def test_custom_thresholds_and_validation() -> None:
    t = Thresholds(real_threshold=0.1, ai_threshold=0.9)
    assert fuse([], 0.5, t)[0] == "unsure"
    assert fuse([], 0.95, t)[0] == "ai"
    with pytest.raises(ConfigError, match="real_threshold"):
        Thresholds(real_threshold=0.8, ai_threshold=0.2)
    with pytest.raises(ValueError):
        Thresholds(real_threshold=-0.1, ai_threshold=0.5)
