"""The resumable results store: append, resume, torn rows, detector mismatch, locking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthcheck.errors import ConfigError
from synthcheck.reports.store import ResultStore, StoreFormat, read_results
from synthcheck.results import ErrorInfo, Evidence, ScanResult, SignalResult


def result(name: str, detector: str = "provenance-only") -> ScanResult:
    signal = SignalResult(
        "generator-metadata",
        "provenance",
        "ai",
        0.99,
        'made with a tool,\nsaid the "metadata"',
        (Evidence("tool: X", "PNG text", {"tool": "X"}),),
        decisive=True,
    )
    return ScanResult(
        path=f"/data/{name}",
        verdict="ai",
        signals=[signal],
        sha256="ab" * 32,
        format="PNG",
        width=3,
        height=2,
        notes=["a note"],
        detector=detector,
        seconds=0.01,
    )


def failed(name: str) -> ScanResult:
    return ScanResult(path=f"/data/{name}", verdict="error", error=ErrorInfo("truncated", "cut"))


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_round_trip_and_resume(tmp_path: Path, fmt: StoreFormat) -> None:
    out = tmp_path / f"out.{fmt}"
    with ResultStore(out, fmt=fmt) as store:
        store.append(result("a.png"))
        store.append(failed("b.jpg"))
    back = list(read_results(out, fmt))
    assert [r.to_dict() for r in back] == [result("a.png").to_dict(), failed("b.jpg").to_dict()]
    seen: list[str] = []
    with ResultStore(out, fmt=fmt, on_existing=lambda r: seen.append(r.path)) as store:
        assert store.is_done("/data/a.png") and store.is_done("/data//b.jpg")
        assert not store.is_done("/data/c.png")
        store.append(result("c.png"))
    assert seen == ["/data/a.png", "/data/b.jpg"]
    assert [r.path for r in read_results(out, fmt)] == [
        "/data/a.png",
        "/data/b.jpg",
        "/data/c.png",
    ]


def test_torn_last_row_is_cut(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with ResultStore(out) as store:
        store.append(result("a.png"))
    whole = out.read_bytes()
    out.write_bytes(whole + whole[:37])  # a kill in the middle of the second row
    with ResultStore(out) as store:
        assert store.done == {"/data/a.png"}
        store.append(result("b.png"))
    assert [json.loads(line)["path"] for line in out.read_text().splitlines()] == [
        "/data/a.png",
        "/data/b.png",
    ]


def test_no_resume_starts_over(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    with ResultStore(out, fmt="csv") as store:
        store.append(result("a.png"))
    with ResultStore(out, fmt="csv", resume=False) as store:
        assert store.done == set()
    assert out.read_text().count("\n") == 1  # only the header


def test_refuses_another_detector_and_foreign_files(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with ResultStore(out, detector="m/v1") as store:
        store.append(result("a.png", detector="m/v1"))
    with pytest.raises(ConfigError, match="m/v1"):
        ResultStore(out, detector="m/v2")
    with ResultStore(out, detector="m/v1") as store:
        assert store.is_done("/data/a.png")
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    with pytest.raises(ConfigError, match="line 1"):
        ResultStore(junk)
    wrong_csv = tmp_path / "other.csv"
    wrong_csv.write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="header"):
        ResultStore(wrong_csv, fmt="csv")


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with ResultStore(out), pytest.raises(ConfigError, match="another scan"):
        ResultStore(out)
    with ResultStore(out):  # the lock went with the first store
        pass


def test_unwritable_output(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open"):
        ResultStore(tmp_path / "no" / "such" / "dir" / "out.jsonl")


def test_reading_many_rows_streams_in_chunks(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    with ResultStore(out, fmt="csv") as store:
        for i in range(2500):
            store.append(result(f"{i}.png"))
    paths = [r.path for r in read_results(out, "csv")]
    assert len(paths) == 2500 and paths[-1] == "/data/2499.png"
