from __future__ import annotations

import json

import pytest

from synthcheck.results import ErrorInfo, Evidence, ScanResult, SignalResult

STABLE_KEYS = {"path", "verdict", "p_ai", "signals", "error"}


def _result() -> ScanResult:
    sig = SignalResult(
        name="generator-metadata",
        kind="provenance",
        verdict="ai",
        score=0.99,
        summary="AUTOMATIC1111 parameters",
        evidence=(Evidence("Model: sd_xl_base", field="parameters", value="sd_xl_base"),),
        decisive=True,
        details={"tool": "AUTOMATIC1111", "model": "sd_xl_base"},
    )
    return ScanResult(path="a.png", verdict="ai", p_ai=0.98765, signals=[sig], sha256="ab" * 32)


def test_jsonl_contract_has_stable_keys_and_round_trips() -> None:
    d = _result().to_dict()
    assert d.keys() >= STABLE_KEYS
    assert set(d["signals"][0]) >= {"name", "verdict", "score", "evidence"}
    line = json.dumps(d)
    back = ScanResult.from_dict(json.loads(line))
    assert back.to_dict() == d


def test_error_result_serialises_type_and_message() -> None:
    r = ScanResult(path="x.jpg", verdict="error", error=ErrorInfo("truncated", "x.jpg: truncated"))
    d = r.to_dict()
    assert d["p_ai"] is None and d["signals"] == []
    assert d["error"] == {"type": "truncated", "message": "x.jpg: truncated"}


def test_heatmap_grid_is_never_serialised() -> None:
    r = _result()
    r.heatmap_grid = [[0.1, 0.9]]
    assert "heatmap_grid" not in r.to_dict()


@pytest.mark.parametrize("score", [-0.01, 1.01])
def test_signal_score_outside_unit_interval_is_rejected(score: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        SignalResult(name="s", kind="pixel", verdict="none", score=score, summary="")


def test_signal_unknown_verdict_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown verdict"):
        SignalResult(name="s", kind="pixel", verdict="maybe", score=0.5, summary="")  # type: ignore[arg-type]
