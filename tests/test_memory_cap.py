"""A per-worker memory cap: a file that needs more memory is reported, the rest are scanned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthcheck.engine.batch import scan
from synthcheck.engine.executor import ScanConfig
from synthcheck.errors import ConfigError

pytestmark = pytest.mark.slow


def test_file_over_the_memory_cap_is_reported_and_the_scan_goes_on(tmp_path: Path) -> None:
    small = []
    for i in range(3):
        path = tmp_path / f"small{i}.png"
        Image.fromarray(np.full((64, 64, 3), 40 * i, dtype=np.uint8)).save(path)
        small.append(path)
    # 100 MP of flat colour: a tiny file whose decoded pixels need ~300 MB (+ the RGB copy).
    big = tmp_path / "big.png"
    Image.new("RGB", (10_000, 10_000), (10, 200, 30)).save(big, compress_level=1)
    results = {
        Path(r.path).name: r
        # The header budget would refuse the file before decoding; lifted, the cap must act.
        for r in scan(
            [*small, big], profile="provenance", workers=1, max_memory_mb=400, max_image_mb=8192
        )
    }
    assert set(results) == {"small0.png", "small1.png", "small2.png", "big.png"}
    assert results["big.png"].verdict == "error"
    assert results["big.png"].error is not None
    assert "memory cap of 400 MiB" in results["big.png"].error.message
    assert all(results[p.name].verdict != "error" for p in small)


def test_without_a_cap_the_same_file_scans(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.new("RGB", (10_000, 10_000), (10, 200, 30)).save(big, compress_level=1)
    [result] = list(scan([big], profile="provenance", workers=1, max_image_mb=8192))
    assert result.verdict == "unsure"


def test_default_image_budget_refuses_it_before_decoding(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    Image.new("RGB", (10_000, 10_000), (10, 200, 30)).save(big, compress_level=1)
    [result] = list(scan([big], profile="provenance", workers=1))
    assert result.error is not None and result.error.type == "too_large"
    assert "--max-image-memory" in result.error.message


def test_memory_cap_below_the_minimum_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 256"):
        ScanConfig(max_memory_mb=100)
