"""A scan config whose pixel model takes a minute per file, for interrupt tests.

It lives in its own module so that spawned pool workers can import it (the parent's sys.path,
tests/ included, is handed to them)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from synthcheck.engine.detector import Detector
from synthcheck.engine.executor import ScanConfig


class Sleeper:
    name = "sleeper"

    def predict(self, image: Any, *, heatmap: bool = False) -> Any:
        time.sleep(60)
        raise AssertionError("an interrupted scan should not get here")


@dataclass(frozen=True)
class SlowConfig(ScanConfig):
    def build(self) -> Detector:
        return Detector(signals=[], pixel_model=Sleeper())
