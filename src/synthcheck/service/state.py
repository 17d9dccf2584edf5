"""Objects the routes share: the detector (built once) and a bounded cache of heatmap PNGs."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

import numpy as np
from numpy.typing import NDArray

from synthcheck.engine.detector import Detector
from synthcheck.service.analysis import Analysis, InProcess, WorkerLanes
from synthcheck.service.jobs import JobRegistry
from synthcheck.service.settings import ServiceSettings

__all__ = ["HeatmapCache", "ServiceState"]


class HeatmapCache:
    """Rendered heatmap PNGs by content hash; least recently used entries are evicted."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, png: bytes) -> None:
        with self._lock:
            self._items[key] = png
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            png = self._items.get(key)
            if png is not None:
                self._items.move_to_end(key)
            return png


class ServiceState:
    """``analysis``: where uploads are analysed (default: worker processes built from the
    settings; with ``detector``, that object in this process; see service.analysis)."""

    def __init__(
        self,
        settings: ServiceSettings,
        detector: Detector | None = None,
        *,
        analysis: Analysis | None = None,
    ) -> None:
        self.settings = settings
        if analysis is None:
            if detector is not None:
                analysis = InProcess(detector, settings.workers)
            else:
                analysis = WorkerLanes(settings.scan_options(), settings.workers)
        self.analysis: Analysis = analysis
        self.heatmaps = HeatmapCache()
        self.jobs = JobRegistry()


def render_heatmap_png(pixels: NDArray[np.uint8], grid: NDArray[np.floating]) -> bytes:
    from synthcheck.pixel.heatmap import render_heatmap

    buf = io.BytesIO()
    render_heatmap(pixels, np.asarray(grid, dtype=np.float32)).save(buf, format="PNG")
    return buf.getvalue()
