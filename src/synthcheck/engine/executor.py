"""Where files get scanned: in this process, in a local process pool, or on a Dask cluster.

Every backend implements :class:`Executor`: ``map_unordered`` takes batches of file paths and
yields one :class:`~synthcheck.results.ScanResult` per path in order of completion, keeping only
a bounded number of batches in flight so that memory does not grow with the size of the scan.
Tasks carry paths, never pixels; each worker process builds its :class:`Detector` once from a
picklable :class:`~synthcheck.engine.options.ScanOptions` and reuses it.

The per-file time limit (``ScanOptions.timeout``) is enforced with ``SIGALRM`` where the scan runs
on a process's main thread (serial and process pool). Process-pool workers also arm a hard limit
(``faulthandler``, which fires even inside native code) that ends the worker; the pool is then
rebuilt and the batches it held are retried one file at a time, so only the culprit is reported.
Dask runs tasks on worker threads, where only the hard limit of the Dask deployment applies.
A one-worker process pool can also scan single files on request (``ProcessExecutor.scan_file``,
the HTTP service's lanes): a dead worker then names its file at once, without a retry.
"""

from __future__ import annotations

import faulthandler
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from synthcheck.engine.detector import Detector
from synthcheck.engine.options import DEFAULT_TIMEOUT_S, MIN_MEMORY_MB, MIN_WORKERS, ScanOptions
from synthcheck.errors import ConfigError, InputError, ScanTimeoutError
from synthcheck.intake.decode import load_image
from synthcheck.results import ErrorInfo, ScanResult

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MIN_MEMORY_MB",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "ScanConfig",
    "ScanOptions",
    "SerialExecutor",
    "process_running",
    "scan_batch",
    "scan_one",
]

#: Extra seconds past ``timeout`` before a process-pool worker is ended by the hard limit.
HARD_LIMIT_GRACE = 5.0
#: Exit status of a worker ended by its memory watchdog.
MEMORY_EXIT_CODE = 86


#: The old name of :class:`ScanOptions`.
ScanConfig = ScanOptions


class Executor(Protocol):
    """A scan backend."""

    def map_unordered(self, batches: Iterable[Sequence[str]]) -> Iterator[ScanResult]:
        """One result per path of every batch, in order of completion."""
        ...

    def close(self) -> None:
        """Release workers and connections; the executor cannot be used afterwards."""
        ...


# --------------------------------------------------------------------------- one file


class _Deadline:
    """Raise :class:`ScanTimeoutError` in the main thread once ``seconds`` have passed.

    After the first expiry it keeps firing every 50 ms, so that code which catches broad
    exceptions (a signal guarding against its own bugs) cannot swallow the timeout for long.
    """

    def __init__(self, path: str, seconds: float | None) -> None:
        self.path = path
        self.seconds = seconds
        self.expired = False
        self.armed = False
        self._previous: Any = None
        self.usable = (
            seconds is not None
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        )

    def _fire(self, signum: int, frame: FrameType | None) -> None:
        if not self.armed:
            return
        self.expired = True
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        raise ScanTimeoutError(self.path, f"scanning took longer than {self.seconds:g} s")

    def arm(self) -> None:
        if self.usable and self.seconds is not None:
            self._previous = signal.signal(signal.SIGALRM, self._fire)
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def disarm(self) -> None:
        if self.armed:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)


def _error_result(
    detector: Detector, path: str, code: str, message: str, start: float
) -> ScanResult:
    return ScanResult(
        path=path,
        verdict="error",
        error=ErrorInfo(code, message),
        detector=detector.name,
        seconds=time.perf_counter() - start,
    )


def _write_heatmap(result: ScanResult, pixels: Any, folder: str, legend: bool = True) -> None:
    from synthcheck.pixel.heatmap import render_heatmap

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    stem = Path(result.path).stem[:60] or "image"
    out = target / f"{stem}-{(result.sha256 or 'nohash')[:12]}.png"
    render_heatmap(pixels, result.heatmap_grid, legend=legend).save(out, format="PNG")
    result.heatmap = str(out)


def scan_one(detector: Detector, path: str, config: ScanOptions) -> ScanResult:
    """Scan one file under the config's time limit; never raises for a bad file."""
    start = time.perf_counter()
    deadline = _Deadline(path, config.timeout)
    try:
        try:
            deadline.arm()
            try:
                image = load_image(
                    path, max_pixels=detector.max_pixels, max_bytes=detector.max_image_bytes
                )
            except InputError as exc:
                if isinstance(exc, ScanTimeoutError):
                    raise
                return _error_result(detector, path, exc.code, exc.reason, start)
            result = detector.scan_image(
                image, start=start, heatmap=config.heatmaps_dir is not None
            )
            if config.heatmaps_dir is not None and result.heatmap_grid is not None:
                _write_heatmap(result, image.pixels, config.heatmaps_dir, config.heatmap_legend)
        finally:
            deadline.disarm()
    except ScanTimeoutError as exc:
        deadline.disarm()
        return _error_result(detector, path, exc.code, exc.reason, start)
    if deadline.expired:
        message = f"scanning took longer than {config.timeout:g} s"
        return _error_result(detector, path, ScanTimeoutError.code, message, start)
    return result


# ------------------------------------------------------------ per-process detector cache

_DETECTORS: dict[ScanOptions, Detector] = {}
_DETECTORS_LOCK = threading.Lock()


def _cached_detector(config: ScanOptions) -> Detector:
    with _DETECTORS_LOCK:
        detector = _DETECTORS.get(config)
        if detector is None:
            detector = _DETECTORS[config] = config.build()
        return detector


def scan_batch(config: ScanOptions, paths: Sequence[str]) -> list[ScanResult]:
    """Scan ``paths`` with this process's detector for ``config`` (built on first use).

    This is the task function of the process pool and of Dask workers.
    """
    detector = _cached_detector(config)
    return [scan_one(detector, p, config) for p in paths]


# ------------------------------------------------------------------------- serial


class SerialExecutor:
    """Scan in the calling process (``--workers 1``); the detector may be shared with the caller."""

    def __init__(self, config: ScanOptions, detector: Detector | None = None) -> None:
        self.config = config
        self.detector = detector if detector is not None else config.build()

    def map_unordered(self, batches: Iterable[Sequence[str]]) -> Iterator[ScanResult]:
        for batch in batches:
            for path in batch:
                yield scan_one(self.detector, path, self.config)

    def close(self) -> None:
        pass


# ------------------------------------------------------------------- process pool


def process_running(process: Any) -> bool:
    """Whether a pool worker process still runs.

    ``Process.is_alive`` alone can say True for ever: the pool's own management thread may have
    reaped the child already, and then ``waitpid`` fails and the process looks unfinished. A pid
    that no longer exists settles it.
    """
    if not process.is_alive():
        return False
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


_WORKER_CONFIG: ScanOptions | None = None


def _watch_memory(limit_mb: int, interval: float = 0.05) -> None:
    """End this process as soon as its resident memory passes ``limit_mb``.

    Native decoders cannot be interrupted safely mid-allocation, so the worker is ended instead;
    the parent sees a broken pool and retries the batch one file at a time, which names the file.
    """
    limit = limit_mb * 1024 * 1024
    page = os.sysconf("SC_PAGE_SIZE")
    statm = Path("/proc/self/statm")

    def watch() -> None:
        while True:
            resident = int(statm.read_bytes().split()[1]) * page
            if resident > limit:
                os.write(2, f"synthcheck worker: over the {limit_mb} MiB memory cap\n".encode())
                os._exit(MEMORY_EXIT_CODE)
            time.sleep(interval)

    if statm.exists():
        threading.Thread(target=watch, name="synthcheck-memory-watch", daemon=True).start()


def _init_worker(config: ScanOptions) -> None:
    global _WORKER_CONFIG
    _WORKER_CONFIG = config
    # Ctrl-C is handled by the parent, which shuts the pool down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if config.max_memory_mb is not None:
        _watch_memory(config.max_memory_mb)
    _cached_detector(config)


def _worker_detector_name() -> str:
    config = _WORKER_CONFIG
    if config is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("process-pool worker used before its initializer ran")
    return _cached_detector(config).name


def _scan_batch_in_worker(
    paths: Sequence[str], heatmaps_dir: str | None = None, legend: bool = True
) -> list[ScanResult]:
    config = _WORKER_CONFIG
    if config is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("process-pool worker used before its initializer ran")
    # The detector is cached by the worker's own config; a heatmap folder given per call (the
    # server's ?heatmap=true) only changes what scan_one does, never which detector it uses.
    detector = _cached_detector(config)
    if heatmaps_dir is not None:
        config = replace(config, heatmaps_dir=heatmaps_dir, heatmap_legend=legend)
    out: list[ScanResult] = []
    hard_limit = None if config.timeout is None else config.timeout + HARD_LIMIT_GRACE
    with open(os.devnull, "w") as devnull:  # noqa: PTH123 - faulthandler needs a real fd
        for path in paths:
            if hard_limit is not None:
                faulthandler.dump_traceback_later(hard_limit, exit=True, file=devnull)
            try:
                out.append(scan_one(detector, path, config))
            finally:
                if hard_limit is not None:
                    faulthandler.cancel_dump_traceback_later()
    return out


class ProcessExecutor:
    """A local pool of worker processes (``--workers N``), each with its own detector."""

    def __init__(
        self,
        config: ScanOptions,
        workers: int,
        *,
        max_in_flight: int | None = None,
        start_method: str = "spawn",
    ) -> None:
        if workers < MIN_WORKERS:
            raise ConfigError(f"workers must be at least {MIN_WORKERS}, got {workers}")
        self.config = config
        self.workers = workers
        self.max_in_flight = max_in_flight or 2 * workers
        self._context = multiprocessing.get_context(start_method)
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=_init_worker,
            initargs=(self.config,),
        )

    def _crashed(self, path: str) -> ScanResult:
        limit = ""
        if self.config.timeout is not None:
            hard = self.config.timeout + HARD_LIMIT_GRACE
            limit = f", or ran past the hard time limit of {hard:g} s"
        if self.config.max_memory_mb is not None:
            limit += f", or went over the memory cap of {self.config.max_memory_mb} MiB"
        return ScanResult(
            path=path,
            verdict="error",
            error=ErrorInfo(
                "worker_crashed",
                f"the worker process died while scanning this file (a crash{limit})",
            ),
        )

    def map_unordered(self, batches: Iterable[Sequence[str]]) -> Iterator[ScanResult]:
        source = iter(batches)
        # Files of batches lost with a broken pool; each is retried alone so a crash names it.
        retry: deque[str] = deque()
        alone: Future[list[ScanResult]] | None = None
        in_flight: dict[Future[list[ScanResult]], list[str]] = {}
        pool = self._pool = self._pool or self._new_pool()
        exhausted = False
        while True:
            if retry or alone is not None:
                if not in_flight:
                    batch = [retry.popleft()]
                    alone = pool.submit(_scan_batch_in_worker, batch)
                    in_flight[alone] = batch
            else:
                while not exhausted and len(in_flight) < self.max_in_flight:
                    nxt = next(source, None)
                    if nxt is None:
                        exhausted = True
                    elif nxt:
                        batch = list(nxt)
                        in_flight[pool.submit(_scan_batch_in_worker, batch)] = batch
            if not in_flight:
                return
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            failed: list[tuple[Future[list[ScanResult]], list[str]]] = []
            for future in done:
                batch = in_flight.pop(future)
                try:
                    results = future.result()
                except BrokenProcessPool:
                    failed.append((future, batch))
                else:
                    if future is alone:
                        alone = None
                    yield from results
            if not failed:
                continue
            # The pool is broken: every batch still in it fails too. Keep what finished,
            # rebuild the pool and retry the rest one file at a time.
            wait(list(in_flight))
            for future, batch in list(in_flight.items()):
                if future.exception() is None:
                    yield from future.result()
                else:
                    failed.append((future, batch))
            in_flight.clear()
            pool.shutdown(wait=True, cancel_futures=True)
            pool = self._pool = self._new_pool()
            for future, batch in failed:
                if future is alone:
                    alone = None
                    yield self._crashed(batch[0])
                else:
                    retry.extend(batch)

    # -- one file at a time (the HTTP service: each of its lanes is a one-worker executor) -----

    def _single(self) -> ProcessPoolExecutor:
        if self.workers != 1:
            raise ConfigError(
                "scan_file and warm need a one-worker executor: only then does a crash of the "
                "worker name the file it was scanning"
            )
        pool = self._pool = self._pool or self._new_pool()
        return pool

    def warm(self) -> str:
        """Start the worker and build its detector now; returns the detector's name."""
        try:
            name: str = self._single().submit(_worker_detector_name).result()
        except BrokenProcessPool:
            self._drop_pool()
            raise
        return name

    def scan_file(
        self, path: str, *, heatmaps_dir: str | None = None, legend: bool = True
    ) -> ScanResult:
        """Scan one file in the worker and wait for its result (one caller at a time).

        ``heatmaps_dir`` asks for a heatmap PNG there (for this file only; ``legend`` adds the
        colour-scale strip below it). If the worker dies
        (hard time limit, memory cap, a crash in native code) the file is reported as
        ``worker_crashed`` at once, without the retry ``map_unordered`` needs to find the culprit
        of a shared batch, and the next call gets a fresh worker.
        """
        future = self._single().submit(_scan_batch_in_worker, [path], heatmaps_dir, legend)
        try:
            return future.result()[0]
        except BrokenProcessPool:
            self._drop_pool()
            return self._crashed(path)

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        self._drop_pool()

    def terminate(self) -> None:
        """Stop now (Ctrl-C): end the workers mid-file instead of waiting for their batches.

        ``close`` waits for the files in flight, which took 15 s under load; what they would
        have produced is not needed, and a resumed scan redoes them."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # Python 3.14 has this as ProcessPoolExecutor.terminate_workers; before, the pool only
        # exposes its processes through this attribute.
        processes = list(getattr(pool, "_processes", {}).values())
        for process in processes:
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + 1.0
        for process in processes:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process_running(process):  # stuck in native code that ignores SIGTERM
                process.kill()
                process.join(timeout=1.0)


# ---------------------------------------------------------------------------- Dask


class DaskExecutor:
    """Run the scan on a Dask distributed cluster (``--cluster tcp://HOST:PORT``).

    Pass a scheduler ``address`` or an existing ``client``. Tasks are batches of paths, so the
    workers must see the files at the same paths (a shared file system) and have synthcheck and
    the chosen profile's backbones installed. Results come back as they complete.
    """

    def __init__(
        self,
        config: ScanOptions,
        address: str | None = None,
        *,
        client: Any = None,
        max_in_flight: int | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise ConfigError(
                "scanning on a Dask cluster needs Dask distributed: pip install 'synthcheck[dask]'"
            ) from exc
        if client is None and address is None:
            raise ConfigError("DaskExecutor needs a scheduler address or a client")
        self.config = config
        self._owns_client = client is None
        if client is None:
            try:
                make_client: Any = distributed.Client
                client = make_client(address, timeout=connect_timeout, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        self.client = client
        self.max_in_flight = max_in_flight

    def _limit(self) -> int:
        if self.max_in_flight is not None:
            return self.max_in_flight
        threads = int(sum(self.client.nthreads().values()))
        return max(2, 2 * threads)

    def map_unordered(self, batches: Iterable[Sequence[str]]) -> Iterator[ScanResult]:
        import distributed

        as_completed: Any = distributed.as_completed

        source = iter(batches)
        pending: dict[str, list[str]] = {}

        def submit() -> Any:
            for nxt in source:
                batch = list(nxt)
                if batch:
                    future = self.client.submit(scan_batch, self.config, batch, pure=False)
                    pending[future.key] = batch
                    return future
            return None

        first = [f for f in (submit() for _ in range(self._limit())) if f is not None]
        if not first:
            return
        completed: Any = as_completed(first, loop=self.client.loop)
        for future in completed:
            batch = pending.pop(future.key)
            try:
                results: list[ScanResult] = future.result()
            except Exception as exc:  # a lost worker or a task failure: report, carry on
                log.info("a Dask task of %d files failed", len(batch), exc_info=True)
                message = f"the Dask task failed: {type(exc).__name__}: {exc}"
                results = [
                    ScanResult(path=p, verdict="error", error=ErrorInfo("worker_error", message))
                    for p in batch
                ]
            future.release()
            yield from results
            nxt_future = submit()
            if nxt_future is not None:
                completed.add(nxt_future)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
