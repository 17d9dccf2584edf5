"""Where the service analyses uploads: in worker processes it can stop, or (embedding) in-process.

``synthcheck serve`` always uses :class:`WorkerLanes`: ``workers`` one-worker
:class:`~synthcheck.engine.executor.ProcessExecutor` lanes, each analysing one upload at a time
under the per-file time limit and memory cap of its :class:`ScanOptions`. A file that hangs a
parser (even inside native code that holds the GIL) or bloats a decoder ends only its own worker,
which the lane replaces; the event loop only ever awaits a thread that waits on a pipe, so the
health route and other requests stay answered meanwhile.

:class:`InProcess` runs a caller's own :class:`Detector` object in threads of the server process
(``create_app(detector=...)``: tests, embedding). It has no time limit or memory cap: those need
a process that can be ended, and a detector object cannot be handed to one.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Protocol

import anyio

from synthcheck.engine.detector import Detector
from synthcheck.engine.executor import ProcessExecutor
from synthcheck.engine.options import ScanOptions
from synthcheck.errors import InputError
from synthcheck.intake.decode import load_image
from synthcheck.results import ErrorInfo, ScanResult

__all__ = ["Analysis", "InProcess", "ScanOutcome", "WorkerLanes"]

#: (the result, the heatmap PNG when one was asked for and drawn)
ScanOutcome = tuple[ScanResult, bytes | None]


class Analysis(Protocol):
    #: The detector's name once known (None before the first file or warm-up).
    detector_name: str | None

    async def scan(self, path: Path, *, heatmap: bool) -> ScanOutcome:
        """Analyse the file at ``path``; never raises for a bad file."""
        ...

    async def start(self) -> None:
        """Prepare the workers (called once the server is up)."""
        ...

    def close(self) -> None: ...


class WorkerLanes:
    """``workers`` worker processes; each upload goes to a free one."""

    def __init__(self, config: ScanOptions, workers: int, *, start_method: str = "spawn") -> None:
        self.config = config
        self._lanes = [
            ProcessExecutor(config, 1, start_method=start_method) for _ in range(workers)
        ]
        self._idle = list(self._lanes)
        # Holders of the limiter own one idle lane each, so the list is never empty when popped.
        self._slots = anyio.CapacityLimiter(workers)
        self._heatmaps: Path | None = None  # made on the first heatmap request
        self.detector_name: str | None = None

    async def start(self) -> None:
        # Load the models in every worker now rather than on the first upload. A failure here
        # (a missing backbone) is not fatal: the first scan reports it per file.
        async with anyio.create_task_group() as group:
            for _ in self._lanes:
                group.start_soon(self._warm)

    async def _warm(self) -> None:
        async with self._slots:
            # Any idle lane: an upload may have taken (and so warmed) one already.
            lane = self._idle.pop()
            try:
                self.detector_name = await anyio.to_thread.run_sync(lane.warm)
            except Exception:  # reported per file by the first scan instead
                pass
            finally:
                self._idle.append(lane)

    async def scan(self, path: Path, *, heatmap: bool) -> ScanOutcome:
        async with self._slots:
            lane = self._idle.pop()
            # Upload paths are unique (random names), so heatmaps drawn from them never collide.
            folder = None
            if heatmap:
                if self._heatmaps is None:
                    self._heatmaps = Path(tempfile.mkdtemp(prefix="synthcheck-heatmaps-"))
                folder = str(self._heatmaps)
            try:
                result = await anyio.to_thread.run_sync(
                    lambda: lane.scan_file(str(path), heatmaps_dir=folder, legend=False)
                )
            finally:
                self._idle.append(lane)
        png = None
        if result.heatmap is not None:
            drawn = Path(result.heatmap)
            try:
                png = drawn.read_bytes()
            finally:
                drawn.unlink(missing_ok=True)
            result.heatmap = None  # a path on this machine: never sent to the client
        if result.detector is not None:
            self.detector_name = result.detector
        return result, png

    def close(self) -> None:
        for lane in self._lanes:
            lane.close()
        if self._heatmaps is not None:
            shutil.rmtree(self._heatmaps, ignore_errors=True)


class InProcess:
    """A given detector, run in threads of this process (``workers`` at a time)."""

    def __init__(self, detector: Detector, workers: int) -> None:
        self.detector = detector
        self.detector_name: str | None = detector.name
        self._limiter = anyio.CapacityLimiter(workers)

    async def start(self) -> None:
        return None

    def _scan(self, path: Path, heatmap: bool) -> ScanOutcome:
        start = time.perf_counter()
        detector = self.detector
        try:
            image = load_image(path, max_pixels=detector.max_pixels)
        except InputError as exc:
            error = ErrorInfo(exc.code, exc.reason)
            return ScanResult(
                path=str(path),
                verdict="error",
                error=error,
                detector=detector.name,
                seconds=time.perf_counter() - start,
            ), None
        result = detector.scan_image(image, start=start, heatmap=heatmap)
        png = None
        if heatmap and result.heatmap_grid is not None:
            from synthcheck.service.state import render_heatmap_png

            png = render_heatmap_png(image.pixels, result.heatmap_grid)
        return result, png

    async def scan(self, path: Path, *, heatmap: bool) -> ScanOutcome:
        return await anyio.to_thread.run_sync(self._scan, path, heatmap, limiter=self._limiter)

    def close(self) -> None:
        return None
