"""Batch scans: the generator behind ``synthcheck scan``, the Python API and the server.

>>> for result in scan(["photos/"], profile="provenance", workers=2):  # doctest: +SKIP
...     print(result.path, result.verdict, result.p_ai)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from synthcheck.engine.detector import Detector
from synthcheck.engine.executor import (
    DEFAULT_TIMEOUT_S,
    DaskExecutor,
    Executor,
    ProcessExecutor,
    ScanConfig,
    SerialExecutor,
)
from synthcheck.engine.walk import WalkStats, expand_paths
from synthcheck.errors import ConfigError
from synthcheck.intake.decode import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS
from synthcheck.results import ScanResult

__all__ = ["batched", "default_batch_size", "make_executor", "scan", "scan_paths"]


def batched(paths: Iterable[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of at most ``size`` paths."""
    if size < 1:
        raise ConfigError(f"batch size must be at least 1, got {size}")
    it = iter(paths)
    while batch := list(islice(it, size)):
        yield batch


def default_batch_size(workers: int, cluster: str | None) -> int:
    """Paths per task: small enough for a smooth progress bar, large enough to amortise IPC."""
    if cluster is not None:
        return 16
    return 1 if workers == 1 else 4


def make_executor(
    config: ScanConfig,
    *,
    workers: int = 1,
    cluster: str | None = None,
    detector: Detector | None = None,
) -> Executor:
    """The backend for these options: Dask when ``cluster`` is given, a process pool when
    ``workers`` > 1, else this process (reusing ``detector`` when given)."""
    if cluster is not None:
        return DaskExecutor(config, cluster)
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    if workers == 1 and config.max_memory_mb is None:
        return SerialExecutor(config, detector)
    # A memory cap is enforced on worker processes, never on the caller's own process.
    return ProcessExecutor(config, workers)


def scan_paths(
    paths: Iterable[str],
    executor: Executor,
    *,
    batch_size: int = 4,
    skip: Callable[[str], bool] | None = None,
    on_skip: Callable[[str], None] | None = None,
) -> Iterator[ScanResult]:
    """Scan ``paths`` on ``executor``, yielding results as they complete.

    ``skip(path)`` true leaves a file out (a resumed scan's finished files); ``on_skip`` is told
    about each one. Paths are consumed lazily, so a long listing is never held twice.
    """

    def todo() -> Iterator[str]:
        for path in paths:
            if skip is not None and skip(path):
                if on_skip is not None:
                    on_skip(path)
                continue
            yield path

    yield from executor.map_unordered(batched(todo(), batch_size))


def scan(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    profile: str = "auto",
    workers: int = 1,
    cluster: str | None = None,
    calibration: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_image_mb: int = DEFAULT_MAX_IMAGE_BYTES // 2**20,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    max_memory_mb: int | None = None,
    heatmaps: str | os.PathLike[str] | None = None,
    heatmap_tiles: int | None = None,
    all_files: bool = False,
    batch_size: int | None = None,
    stats: WalkStats | None = None,
) -> Iterator[ScanResult]:
    """Scan files and folders; yield one :class:`ScanResult` per file as each completes.

    ``profile`` is a pixel-model profile ("auto", "fast", "thorough") or "provenance" (no pixel
    model). ``workers`` > 1 uses a local process pool; ``cluster`` ("tcp://HOST:PORT") a Dask
    scheduler. ``timeout`` limits the seconds per file (None: no limit), ``max_image_mb`` the
    memory one image may need to decode and analyse (checked on its header), ``max_memory_mb``
    the resident memory of
    each worker process (a file that needs more is reported, the scan goes on); ``heatmaps``
    names a folder for heatmap overlays, each scoring up to ``heatmap_tiles`` native tiles
    (default 48). Files left out by the folder walk are counted in
    ``stats`` when given. A missing path raises :class:`~synthcheck.errors.ConfigError` before
    anything is scanned; a bad file gives a result with verdict "error".

    Worker processes are started with ``spawn``, so a script that calls this with ``workers`` > 1
    must do so under ``if __name__ == "__main__":`` (the usual multiprocessing rule).
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    files = list(expand_paths(items, stats=stats, all_files=all_files))
    config = ScanConfig(
        profile=profile,
        calibration=calibration,
        max_pixels=max_pixels,
        max_image_mb=max_image_mb,
        timeout=timeout,
        heatmaps_dir=None if heatmaps is None else os.fspath(heatmaps),
        heatmap_tiles=heatmap_tiles,
        max_memory_mb=max_memory_mb,
    )
    executor = make_executor(config, workers=workers, cluster=cluster)
    size = batch_size if batch_size is not None else default_batch_size(workers, cluster)
    try:
        yield from scan_paths(files, executor, batch_size=size)
    finally:
        executor.close()
