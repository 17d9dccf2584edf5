"""A short fuzzing smoke run (the long campaign is benchmarks/fuzz.py) plus kept regressions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from fuzzing import check_one, mutations, seed_corpus
from synthcheck.engine.detector import Detector

REGRESSIONS = Path(__file__).parent / "fuzz_regressions"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()  # every provenance signal; pixel models are fuzzed through intake anyway


def test_seed_corpus_scans_cleanly(detector: Detector, tmp_path: Path) -> None:
    seeds = seed_corpus()
    assert {"a.jpg", "a.png", "a.webp", "a.gif", "a.bmp", "a.tif"} <= seeds.keys()
    for name, data in seeds.items():
        assert check_one(detector, tmp_path / name, data) is None, name
        assert detector.scan_file(tmp_path / name).verdict != "error", name


def test_mutated_inputs_end_in_result_or_typed_error(detector: Detector, tmp_path: Path) -> None:
    rng = random.Random(20261122)
    problems = []
    gen = mutations(seed_corpus(), rng)
    for i in range(300):
        name, data = next(gen)
        problem = check_one(detector, tmp_path / f"m{i}_{name}", data, seconds=10)
        if problem:
            problems.append(f"{name}: {problem}")
    assert not problems, problems[:10]


@pytest.mark.parametrize(
    "case", sorted(REGRESSIONS.glob("*")) if REGRESSIONS.is_dir() else [], ids=lambda p: p.name
)
def test_kept_fuzz_regressions(detector: Detector, case: Path, tmp_path: Path) -> None:
    assert check_one(detector, tmp_path / case.name, case.read_bytes()) is None
