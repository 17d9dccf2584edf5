"""Shared test fixtures. Data from ../shared/data is optional: tests needing it skip when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SYNTHCHECK_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "fixtures" / "manifest.csv").is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
