"""Executors: serial and process pool agree, batches are pulled lazily, crashes are isolated."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from scan_corpus import make_corpus, many_images
from synthcheck.engine import executor as ex
from synthcheck.engine.batch import batched, make_executor, scan_paths
from synthcheck.engine.executor import ProcessExecutor, ScanConfig, SerialExecutor
from synthcheck.errors import ConfigError
from synthcheck.results import ScanResult

CONFIG = ScanConfig(profile="provenance")


def comparable(results: Iterator[ScanResult] | list[ScanResult]) -> dict[str, dict[str, Any]]:
    out = {}
    for r in results:
        d = r.to_dict()
        d.pop("seconds")
        out[r.path] = d
    return out


def test_serial_and_process_pool_agree(tmp_path: Path) -> None:
    files = [str(p) for p in make_corpus(tmp_path).values() if p.suffix != ".txt"]
    files += [str(p) for p in many_images(tmp_path / "more", 6)]
    serial = comparable(scan_paths(files, SerialExecutor(CONFIG), batch_size=3))
    pool = ProcessExecutor(CONFIG, 2)
    try:
        pooled = comparable(scan_paths(files, pool, batch_size=2))
    finally:
        pool.close()
    assert pooled == serial
    assert len(serial) == len(files)
    assert serial[str(tmp_path / "broken.jpg")]["verdict"] == "error"


def test_process_pool_pulls_batches_lazily(tmp_path: Path) -> None:
    files = [str(p) for p in many_images(tmp_path, 4)]
    pulled = 0

    def batches() -> Iterator[list[str]]:
        nonlocal pulled
        for i in range(1000):
            pulled += 1
            yield [files[i % len(files)]]

    pool = ProcessExecutor(CONFIG, 1, max_in_flight=2)
    try:
        stream = pool.map_unordered(batches())
        assert isinstance(stream, Generator)  # closing it stops the feeding
        next(stream)
        assert pulled <= 3  # in flight + the one being read, never the whole listing
        stream.close()
    finally:
        pool.close()


def _crash_on_bad(detector: Any, path: str, config: ScanConfig) -> ScanResult:
    if path.endswith("crash.png"):
        os._exit(3)
    return ScanResult(path=path, verdict="unsure", detector=detector.name)


def test_a_crashing_file_is_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ex, "scan_one", _crash_on_bad)
    paths = [str(tmp_path / f"{i}.png") for i in range(7)]
    paths.insert(3, str(tmp_path / "crash.png"))
    pool = ProcessExecutor(CONFIG, 2, start_method="fork")  # forked workers inherit the patch
    try:
        results = {r.path: r for r in pool.map_unordered(batched(paths, 3))}
    finally:
        pool.close()
    assert set(results) == set(paths)  # nothing lost, nothing doubled
    crashed = results[str(tmp_path / "crash.png")]
    assert crashed.verdict == "error" and crashed.error is not None
    assert crashed.error.type == "worker_crashed"
    assert all(r.verdict == "unsure" for p, r in results.items() if not p.endswith("crash.png"))


def _hang_on_stuck(detector: Any, path: str, config: ScanConfig) -> ScanResult:
    if path.endswith("stuck.png"):
        while True:  # ignores the soft time limit, as native code would
            with contextlib.suppress(BaseException):
                time.sleep(10)
    return ScanResult(path=path, verdict="unsure", detector=detector.name)


def test_hard_time_limit_ends_a_stuck_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ex, "scan_one", _hang_on_stuck)
    monkeypatch.setattr(ex, "HARD_LIMIT_GRACE", 0.5)
    paths = [str(tmp_path / "a.png"), str(tmp_path / "stuck.png"), str(tmp_path / "b.png")]
    pool = ProcessExecutor(ScanConfig(profile="provenance", timeout=0.5), 1, start_method="fork")
    started = time.monotonic()
    try:
        results = {r.path: r for r in pool.map_unordered(batched(paths, 3))}
    finally:
        pool.close()
    assert time.monotonic() - started < 30
    stuck = results[str(tmp_path / "stuck.png")]
    assert stuck.error is not None and "hard time limit of 1 s" in stuck.error.message
    assert results[str(tmp_path / "b.png")].verdict == "unsure"


def test_scan_config_and_executor_choice() -> None:
    with pytest.raises(ConfigError, match="timeout"):
        ScanConfig(timeout=0)
    with pytest.raises(ConfigError, match="max_pixels"):
        ScanConfig(max_pixels=0)
    with pytest.raises(ConfigError, match="workers"):
        make_executor(CONFIG, workers=0)
    with pytest.raises(ConfigError, match="unknown model 'turbo'"):
        ScanConfig(profile="turbo").build()
    assert isinstance(make_executor(CONFIG, workers=1), SerialExecutor)
    pool = make_executor(CONFIG, workers=3)
    assert isinstance(pool, ProcessExecutor) and pool.workers == 3
    pool.close()
    with pytest.raises(ConfigError, match="batch size"):
        list(batched(["a"], 0))
    assert list(batched("abcde", 2)) == [["a", "b"], ["c", "d"], ["e"]]
