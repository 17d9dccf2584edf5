"""Batch scans: the generator behind ``synthcheck scan``, the Python API and the server.

>>> for result in scan(["photos/"], profile="provenance", workers=2):  # doctest: +SKIP
...     print(result.path, result.verdict, result.p_ai)

The keywords of :func:`scan` are the fields of :class:`~synthcheck.engine.options.ScanOptions`
(``profile`` is the old name of ``model``); a ready ``options=ScanOptions(...)`` is accepted too.
"""

from __future__ import annotations

import ast
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from types import FrameType

from synthcheck.engine.detector import Detector
from synthcheck.engine.executor import DaskExecutor, Executor, ProcessExecutor, SerialExecutor
from synthcheck.engine.options import (
    DEFAULT_MAX_IMAGE_MB,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT_S,
    MIN_BATCH_SIZE,
    MIN_WORKERS,
    ScanOptions,
)
from synthcheck.engine.walk import WalkStats, expand_paths
from synthcheck.errors import ConfigError
from synthcheck.results import ScanResult

__all__ = ["batched", "default_batch_size", "make_executor", "scan", "scan_paths"]


def batched(paths: Iterable[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of at most ``size`` paths."""
    if size < MIN_BATCH_SIZE:
        raise ConfigError(f"batch size must be at least {MIN_BATCH_SIZE}, got {size}")
    it = iter(paths)
    while batch := list(islice(it, size)):
        yield batch


def default_batch_size(workers: int, cluster: str | None) -> int:
    """Paths per task: small enough for a smooth progress bar, large enough to amortise IPC."""
    if cluster is not None:
        return 16
    return 1 if workers == 1 else 4


def _is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    consts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(consts) == 1


def unguarded_main_script(frame: FrameType | None = None) -> str | None:
    """The path of the ``__main__`` script when this call runs at its top level *outside* an
    ``if __name__ == "__main__":`` block, else None.

    Worker processes are started with ``spawn``, which re-runs such a script in every worker
    before the worker can take a task: the script would start a scan of its own there, which
    multiprocessing refuses, and every file would come back as ``worker_crashed``. When the
    source cannot be read the answer is None (the caller is trusted to have the guard).
    """
    main = sys.modules.get("__main__")
    if main is None:
        return None
    spec_name = getattr(getattr(main, "__spec__", None), "name", None)
    if spec_name is not None and (spec_name == "__main__" or spec_name.endswith(".__main__")):
        return None  # `python -m package`: multiprocessing does not re-run a package's __main__
    path = getattr(main, "__file__", None)
    if not isinstance(path, str):
        return None  # the REPL, `python -c`, notebooks: nothing is re-run
    frame = frame if frame is not None else sys._getframe(1)
    while frame is not None:
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            break
        frame = frame.f_back
    if frame is None:
        return None  # called from a function: re-running the script does not reach this call
    line = frame.f_lineno
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_guard(node.test) and node.body:
            first, last = node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno
            if first <= line <= last:
                return None
    return path


def make_executor(
    config: ScanOptions,
    *,
    workers: int | None = None,
    cluster: str | None = None,
    detector: Detector | None = None,
) -> Executor:
    """The backend for these options: Dask when ``cluster`` is given, a process pool when
    ``workers`` > 1, else this process (reusing ``detector`` when given). ``workers`` and
    ``cluster`` default to the options' own."""
    workers = config.workers if workers is None else workers
    cluster = config.cluster if cluster is None else cluster
    if cluster is not None:
        return DaskExecutor(config, cluster)
    if workers < MIN_WORKERS:
        raise ConfigError(f"workers must be at least {MIN_WORKERS}, got {workers}")
    if workers == 1 and config.max_memory_mb is None:
        return SerialExecutor(config, detector)
    script = unguarded_main_script()
    if script is not None:
        # A pasted example should run, not crash every file: scan here, and say how to get the
        # pool. (A memory cap cannot be enforced on this process, so that case stays an error.)
        advice = (
            f'put the call under `if __name__ == "__main__":` in {script} '
            "(worker processes re-run the script's top level when they start)"
        )
        if config.max_memory_mb is not None:
            raise ConfigError(f"max_memory_mb needs worker processes: {advice}")
        warnings.warn(
            f"synthcheck: scanning in this process instead of {workers} workers; to use "
            f"them, {advice}",
            RuntimeWarning,
            stacklevel=3,
        )
        return SerialExecutor(config, detector)
    # A memory cap is enforced on worker processes, never on the caller's own process.
    return ProcessExecutor(config, workers)


def scan_paths(
    paths: Iterable[str],
    executor: Executor,
    *,
    batch_size: int = 4,
) -> Iterator[ScanResult]:
    """Scan ``paths`` on ``executor``, yielding results as they complete. Paths are consumed
    lazily, so a long listing is never held twice."""
    yield from executor.map_unordered(batched(paths, batch_size))


def scan(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    options: ScanOptions | None = None,
    profile: str = DEFAULT_MODEL,
    workers: int = MIN_WORKERS,
    cluster: str | None = None,
    calibration: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_image_mb: int = DEFAULT_MAX_IMAGE_MB,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    max_memory_mb: int | None = None,
    heatmaps: str | os.PathLike[str] | None = None,
    heatmap_tiles: int | None = None,
    all_files: bool = False,
    batch_size: int | None = None,
    stats: WalkStats | None = None,
) -> Iterator[ScanResult]:
    """Scan files and folders; yield one :class:`ScanResult` per file as each completes.

    ``profile`` is a model name ("auto", "fast", "thorough", "provenance" for no pixel model,
    or "local-dir:PATH"; see :mod:`synthcheck.engine.models`). ``workers`` > 1 uses a local
    process pool; ``cluster`` ("tcp://HOST:PORT") a Dask
    scheduler. ``timeout`` limits the seconds per file (None: no limit), ``max_image_mb`` the
    memory one image may need to decode and analyse (checked on its header), ``max_memory_mb``
    the resident memory of
    each worker process (a file that needs more is reported, the scan goes on); ``heatmaps``
    names a folder for heatmap overlays, each scoring up to ``heatmap_tiles`` native tiles
    (default 48). ``options`` gives all of these at once as a
    :class:`~synthcheck.engine.options.ScanOptions` (then leave those keywords out). Files left
    out by the folder walk are counted in
    ``stats`` when given. A missing path or a bad option raises
    :class:`~synthcheck.errors.ConfigError` before anything is scanned; a bad file gives a result
    with verdict "error".

    Worker processes are started with ``spawn``, which re-runs a script's top level in each
    worker; a script that calls this with ``workers`` > 1 outside ``if __name__ == "__main__":``
    therefore gets a ``RuntimeWarning`` and a scan in this process instead of per-file crashes.
    """
    from_keywords = ScanOptions(
        model=profile,
        calibration=calibration,
        max_pixels=max_pixels,
        max_image_mb=max_image_mb,
        timeout=timeout,
        heatmaps_dir=None if heatmaps is None else os.fspath(heatmaps),
        heatmap_tiles=heatmap_tiles,
        max_memory_mb=max_memory_mb,
        workers=workers,
        cluster=cluster,
        batch_size=batch_size,
    )
    if options is None:
        options = from_keywords
    elif from_keywords != ScanOptions():
        raise ConfigError("pass the scan options either as options=ScanOptions(...) or as keywords")
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    files = list(expand_paths(items, stats=stats, all_files=all_files))
    executor = make_executor(options)
    size = options.batch_size or default_batch_size(options.workers, options.cluster)
    try:
        yield from scan_paths(files, executor, batch_size=size)
    finally:
        executor.close()
