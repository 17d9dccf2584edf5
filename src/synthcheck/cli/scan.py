"""``synthcheck scan``: scan files and folders, stream the results, report a summary.

The command runs in named phases: check the arguments, resolve the inputs, build the
:class:`~synthcheck.engine.options.ScanOptions` (and the detector), open the sinks where results
go (a resumable results store and/or a streaming writer), run the scan, finish the outputs and
print the summary.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Literal, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape

from synthcheck._text import printable
from synthcheck.cli._common import (
    EXIT_FAILURES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    default_workers,
    fail,
    progress,
    progress_wanted,
    stderr_console,
    stdout_console,
)
from synthcheck.cli.app import app
from synthcheck.engine.batch import default_batch_size, make_executor, scan_paths
from synthcheck.engine.detector import Detector
from synthcheck.engine.executor import Executor, ProcessExecutor
from synthcheck.engine.models import MODEL_CHOICES, parse_model_name
from synthcheck.engine.options import (
    DEFAULT_HEATMAP_TILES,
    DEFAULT_MAX_IMAGE_MB,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT_S,
    MAX_HEATMAP_TILES,
    MIN_HEATMAP_TILES,
    MIN_IMAGE_MB,
    MIN_MAX_PIXELS,
    MIN_MEMORY_MB,
    MIN_WORKERS,
    ScanOptions,
)
from synthcheck.engine.walk import WalkStats, expand_paths, read_path_list
from synthcheck.errors import BackboneError, ConfigError, ModelError, ProjectError
from synthcheck.reports import FORMATS
from synthcheck.reports.html import write_html
from synthcheck.reports.store import ResultStore
from synthcheck.reports.summary import ScanSummary
from synthcheck.reports.writers import CsvWriter, JsonlWriter, ResultWriter, TableWriter, write_json
from synthcheck.results import ScanResult

__all__ = ["scan"]

#: Below this many files a scan runs in-process unless --workers is given.
SMALL_SCAN = 64
#: The reader of stdout went away (128 + SIGPIPE, the shell convention).
EXIT_BROKEN_PIPE = 141

_SUFFIX_FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
    ".txt": "table",
}


def _choose_format(fmt: str | None, output: Path | None) -> str:
    if fmt is not None:
        value = fmt.lower()
        if value not in FORMATS:
            raise ConfigError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return value
    if output is not None:
        return _SUFFIX_FORMATS.get(output.suffix.lower(), "jsonl")
    return "table" if sys.stdout.isatty() else "jsonl"


def _choose_model(model: str | None, calibration: str | None, err: Console) -> str:
    """The model to run: ``--model``, else the one ``--calibration`` was fitted for, else auto."""
    if calibration is None:
        chosen = model or DEFAULT_MODEL
    else:
        from synthcheck.fusion.calibration import load_calibration

        fitted = load_calibration(calibration).model_profile
        if model is None:
            try:
                parse_model_name(fitted)
            except ConfigError:
                raise ConfigError(
                    f"calibration {calibration!r} was fitted for model {fitted!r}, which scan "
                    f"cannot run; pass --model to choose one of {MODEL_CHOICES}"
                ) from None
            chosen = fitted
        else:
            chosen = model
            if fitted != model:
                err.print(
                    f"[yellow]warning:[/] calibration {calibration!r} was fitted for model "
                    f"{fitted!r}, not {model!r}; its thresholds may not fit"
                )
    try:
        parse_model_name(chosen)
    except ConfigError as exc:
        raise ConfigError(f"--model: {exc}") from None
    return chosen


def _list_inputs(
    paths: list[Path], from_list: Path | None, stats: WalkStats, all_files: bool
) -> list[str]:
    for p in paths:
        if not os.path.lexists(p):
            raise ConfigError(f"{p}: no such file or folder")
        if not p.exists():
            raise ConfigError(f"{p}: broken symbolic link")
    listed = read_path_list(from_list) if from_list is not None else iter(())
    named = itertools.chain((str(p) for p in paths), listed)
    return list(expand_paths(named, stats=stats, all_files=all_files, missing="keep"))


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a scan like Ctrl-C: workers are shut down and the totals printed."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding application): leave it alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class _Request:
    """The command line of one scan, as given."""

    paths: list[Path]
    from_list: Path | None
    fmt: str | None
    output: Path | None
    resume: bool | None
    workers: int | None
    cluster: str | None
    model: str | None
    calibration: str | None
    heatmaps: Path | None
    heatmap_tiles: int | None
    max_pixels: int
    max_image_memory: int
    timeout: float
    max_memory: int | None
    all_files: bool
    quiet: bool


@dataclass
class _Sinks:
    """Where results go: a results store (resumable) and/or a streaming writer."""

    store: ResultStore | None = None
    writer: ResultWriter | None = None
    rows_console: Console | None = None
    #: A table drawn on the terminal (the progress bar then shares its console).
    table_on_terminal: bool = False


@app.command()
def scan(
    paths: list[Path] = typer.Argument(
        None, help="Image files and folders (folders are scanned recursively).", show_default=False
    ),
    from_list: Path | None = typer.Option(
        None,
        "--from-list",
        help="A file naming the images: one path per line, or a CSV with a "
        "'path' column. Relative paths are relative to the list's folder.",
        show_default=False,
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="table, jsonl, json, csv or html. Default: from the "
        "--output suffix, else a table on a terminal and JSONL otherwise.",
        show_default=False,
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write results here (streamed row by row).",
        show_default=False,
    ),
    resume: bool | None = typer.Option(
        None,
        "--resume/--no-resume",
        help="Skip files already in --output (default: on with "
        "--output). --no-resume starts the output over.",
        show_default=False,
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        "-w",
        min=MIN_WORKERS,
        help="Local worker processes (default: CPU count; 1 scans in this process).",
        show_default=False,
    ),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        help="Scan on a Dask cluster: scheduler address tcp://HOST:PORT "
        "(needs synthcheck[dask]; workers must see the same paths).",
        show_default=False,
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "--profile",
        help="Pixel model: auto, fast, thorough, provenance (metadata evidence only), "
        "local-dir:PATH or project:NAME; --profile is its old name. Default: auto, or the "
        "model of --calibration.",
        show_default=False,
    ),
    calibration: str | None = typer.Option(
        None,
        "--calibration",
        help="A calibration made by `synthcheck calibrate`.",
        show_default=False,
    ),
    heatmaps: Path | None = typer.Option(
        None,
        "--heatmaps",
        help="Write a heatmap overlay PNG per image into this folder. With thorough the heatmap "
        f"covers the whole image with up to {DEFAULT_HEATMAP_TILES} tiles (a larger photo is "
        "shrunk to fit them) and scores every 16-px patch of them; with fast it scores that many "
        "native tiles. The verdicts are the same as without it.",
        show_default=False,
    ),
    heatmap_tiles: int | None = typer.Option(
        None,
        "--heatmap-tiles",
        min=MIN_HEATMAP_TILES,
        max=MAX_HEATMAP_TILES,
        help=f"Tiles each heatmap scores (default {DEFAULT_HEATMAP_TILES}). With thorough more "
        "tiles see a large photo at a finer scale, each about 0.1 s. Needs --heatmaps.",
        show_default=False,
    ),
    max_pixels: int = typer.Option(
        DEFAULT_MAX_PIXELS,
        "--max-pixels",
        min=MIN_MAX_PIXELS,
        help="Refuse images with more pixels (decompression-bomb guard).",
    ),
    max_image_memory: int = typer.Option(
        DEFAULT_MAX_IMAGE_MB,
        "--max-image-memory",
        min=MIN_IMAGE_MB,
        help="MiB one image may need to decode and analyse, estimated from its header before "
        "decoding; larger images are reported and the scan goes on.",
    ),
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT_S,
        "--timeout",
        min=0,
        help="Seconds allowed per file; slower files are reported as timed out and the scan "
        "goes on. 0: no limit.",
    ),
    max_memory: int | None = typer.Option(
        None,
        "--max-memory",
        min=MIN_MEMORY_MB,
        help="MiB of resident memory allowed per worker process; a file that needs more "
        "is reported and the scan goes on in a fresh worker.",
        show_default=False,
    ),
    all_files: bool = typer.Option(
        False, "--all-files", help="In folders, also scan files without an image extension."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary."),
) -> None:
    """Scan images for evidence that they were AI-generated or camera-made.

    Exit status: 0 all files scanned, 1 some files failed (each is reported), 2 usage error.
    """
    request = _Request(
        paths=list(paths or []),
        from_list=from_list,
        fmt=fmt,
        output=output,
        resume=resume,
        workers=workers,
        cluster=cluster,
        model=model,
        calibration=calibration,
        heatmaps=heatmaps,
        heatmap_tiles=heatmap_tiles,
        max_pixels=max_pixels,
        max_image_memory=max_image_memory,
        timeout=timeout,
        max_memory=max_memory,
        all_files=all_files,
        quiet=quiet,
    )
    _run_scan(request)


def _run_scan(request: _Request) -> NoReturn:
    """The phases of one scan, from the command line to the exit status."""
    err = stderr_console()
    started = time.perf_counter()
    stats = WalkStats()
    summary = ScanSummary()
    try:
        out_format = _check_request(request)
        model = _choose_model(request.model, request.calibration, err)
        files = _resolve_inputs(request, stats, err)
        options = _build_options(request, model)
        detector = options.build()
    except (ConfigError, BackboneError, ModelError, ProjectError) as exc:
        fail(str(exc), console=err)
    if request.heatmaps is not None and detector.pixel_model is None:
        err.print("[yellow]warning:[/] --heatmaps needs a pixel model; profile provenance has none")
    summary.skipped.update(stats.skipped)
    with contextlib.ExitStack() as stack:
        prepared = _prepare(stack, request, out_format, options, detector, files, summary, err)
        sinks, todo, options, executor = prepared
        del detector  # a process pool or cluster builds its own; a serial executor holds it
        interrupted = _scan_into(sinks, todo, executor, options, summary, request.quiet, err)
        summary.seconds = time.perf_counter() - started
        _finish_outputs(sinks, out_format, request.output, summary, interrupted, err)
    console = err if out_format != "table" or request.output else stdout_console()
    _print_summary(summary, stats, console, request.quiet)
    raise typer.Exit(EXIT_FAILURES if summary.n_errors else EXIT_OK)


def _check_request(request: _Request) -> str:
    """Usage errors that need no file system; returns the output format."""
    if not request.paths and request.from_list is None:
        raise ConfigError("name at least one file or folder, or pass --from-list FILE")
    out_format = _choose_format(request.fmt, request.output)
    if request.resume and request.output is None:
        raise ConfigError("--resume needs --output FILE (the results to resume from)")
    if request.cluster is not None and request.workers is not None:
        raise ConfigError("--workers and --cluster exclude each other")
    if request.heatmap_tiles is not None and request.heatmaps is None:
        raise ConfigError("--heatmap-tiles needs --heatmaps FOLDER (where the heatmaps go)")
    return out_format


def _resolve_inputs(request: _Request, stats: WalkStats, err: Console) -> list[str]:
    """The files to scan; exits at once when there are none (before any model loads)."""
    files = _list_inputs(request.paths, request.from_list, stats, request.all_files)
    if not files:
        # Say so at once: loading the models first took 15 s to report "0 files".
        _no_images(request.paths, request.from_list, stats, err)
    return files


def _build_options(request: _Request, model: str) -> ScanOptions:
    """The scan options of this command line (the number of workers may still drop to one for
    a small scan, see :func:`_prepare`)."""
    from synthcheck.evaluation.models import model_loaders

    # On a cluster the Dask workers do the work; --workers and --cluster exclude each other.
    workers = 1 if request.cluster is not None else request.workers or default_workers()
    return ScanOptions(
        model=model,
        calibration=request.calibration,
        max_pixels=request.max_pixels,
        max_image_mb=request.max_image_memory,
        timeout=request.timeout or None,
        heatmaps_dir=None if request.heatmaps is None else str(request.heatmaps),
        heatmap_tiles=request.heatmap_tiles,
        max_memory_mb=request.max_memory,
        workers=workers,
        cluster=request.cluster,
        loaders=model_loaders(),
    )


def _prepare(
    stack: contextlib.ExitStack,
    request: _Request,
    out_format: str,
    options: ScanOptions,
    detector: Detector,
    files: list[str],
    summary: ScanSummary,
    err: Console,
) -> tuple[_Sinks, list[str], ScanOptions, Executor]:
    """Open the sinks, leave out the files already done and start the executor (returned with
    the options it runs); a bad output path or a bad executor option ends the command here."""
    try:
        use_resume = (
            request.output is not None and request.resume is not False and out_format != "table"
        )
        sinks = _open_sinks(stack, out_format, request.output, use_resume, detector.name, summary)
        todo = [f for f in files if sinks.store is None or not sinks.store.is_done(f)]
        if request.workers is None and request.cluster is None and len(todo) < SMALL_SCAN:
            # Starting a pool would cost more than it saves.
            options = dataclasses.replace(options, workers=1)
        executor = make_executor(options, detector=detector)
    except ConfigError as exc:
        fail(str(exc), console=err)
    except OSError as exc:
        fail(f"{request.output}: {exc.strerror or exc}", console=err)
    stack.callback(executor.close)
    return sinks, todo, options, executor


def _open_sinks(
    stack: contextlib.ExitStack,
    out_format: str,
    output: Path | None,
    use_resume: bool,
    detector_name: str,
    summary: ScanSummary,
) -> _Sinks:
    """Where results go for this format and output: JSONL and CSV files are their own results
    store; JSON and HTML documents are written at the end from a journal store; tables and
    standard output get a streaming writer."""

    def store(path: Path, fmt: Literal["jsonl", "csv"] = "jsonl") -> ResultStore:
        return stack.enter_context(
            ResultStore(
                path,
                fmt=fmt,
                resume=use_resume,
                detector=detector_name,
                on_existing=lambda r: summary.add(r, resumed=True),
            )
        )

    if out_format in ("jsonl", "csv") and output is not None:
        return _Sinks(store=store(output, "csv" if out_format == "csv" else "jsonl"))
    if out_format in ("json", "html"):
        if output is not None:
            journal = Path(f"{output}.results.jsonl")
        else:
            journal = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "r.jsonl"
        return _Sinks(store=store(journal))
    if output is not None:  # a table written to a file
        handle = stack.enter_context(output.open("w", encoding="utf-8"))
        console = Console(file=handle, width=200, no_color=True, highlight=False)
        return _Sinks(writer=TableWriter(console), rows_console=console)
    if out_format == "table":
        console = stdout_console()
        return _Sinks(writer=TableWriter(console), rows_console=console, table_on_terminal=True)
    writer: ResultWriter = (
        JsonlWriter(sys.stdout) if out_format == "jsonl" else CsvWriter(sys.stdout)
    )
    return _Sinks(writer=writer)


def _scan_into(
    sinks: _Sinks,
    todo: list[str],
    executor: Executor,
    options: ScanOptions,
    summary: ScanSummary,
    quiet: bool,
    err: Console,
) -> bool:
    """Scan ``todo`` into the sinks under a progress bar; True when interrupted (Ctrl-C or
    SIGTERM). A reader of stdout that goes away ends the command quietly."""
    bar_console = sinks.rows_console if sinks.table_on_terminal and sinks.rows_console else err
    report_failures = not quiet and not sinks.table_on_terminal
    enabled = progress_wanted(bar_console, quiet)
    with progress(bar_console, "scanning", len(todo), enabled=enabled) as (advance, live):
        if sinks.table_on_terminal:
            sinks.writer = TableWriter(live)
        record = _recorder(sinks, summary, live if report_failures else None, advance)
        batch_size = default_batch_size(options.workers, options.cluster)
        try:
            with _sigterm_as_interrupt():
                for result in scan_paths(todo, executor, batch_size=batch_size):
                    record(result)
        except KeyboardInterrupt:
            if isinstance(executor, ProcessExecutor):
                executor.terminate()  # within a second, not after the batches in flight
            return True
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
    return False


def _recorder(
    sinks: _Sinks,
    summary: ScanSummary,
    failures: Console | None,
    advance: Callable[[int], None],
) -> Callable[[ScanResult], None]:
    """What happens to each result: counted, stored, written, a failure named on ``failures``."""

    def record(result: ScanResult) -> None:
        summary.add(result)
        if sinks.store is not None:
            sinks.store.append(result)
        if sinks.writer is not None:
            sinks.writer.write(result)
        if failures is not None and result.error is not None:
            failures.print(
                f"[red]failed:[/] {escape(printable(result.path))}: "
                f"{escape(printable(result.error.message))}",
                highlight=False,
            )
        advance(1)

    return record


def _finish_outputs(
    sinks: _Sinks,
    out_format: str,
    output: Path | None,
    summary: ScanSummary,
    interrupted: bool,
    err: Console,
) -> None:
    """Close the writer and write a JSON or HTML document; an interrupted scan keeps what it
    has and exits with :data:`EXIT_INTERRUPTED`."""
    if interrupted:
        kept = f"; {summary.total} results kept in {output}" if output is not None else ""
        err.print(f"interrupted{kept} (run the same command to resume)")
        raise typer.Exit(EXIT_INTERRUPTED)
    if sinks.writer is not None:
        sinks.writer.close(summary)
    if sinks.store is not None and out_format in ("json", "html"):
        _write_document(out_format, sinks.store, output, summary)


def _results(store: ResultStore) -> Iterator[ScanResult]:
    yield from store.results()


def _write_document(
    out_format: str, store: ResultStore, output: Path | None, summary: ScanSummary
) -> None:
    with contextlib.ExitStack() as stack:
        if output is None:
            stream: TextIO = sys.stdout
        else:
            # Write beside the target and rename, so a report is never left half-written.
            tmp = output.with_name(f".{output.name}.tmp")
            # JSON escapes undecodable file names itself; HTML shows them backslash-escaped.
            stream = stack.enter_context(tmp.open("w", encoding="utf-8", errors="backslashreplace"))
        if out_format == "json":
            write_json(stream, _results(store), summary)
        else:
            write_html(stream, _results(store), summary)
    if output is not None:
        output.with_name(f".{output.name}.tmp").replace(output)


#: Skip reasons whose paths are worth naming: the user can fix them (many hidden files or files
#: without an image extension are expected, and only counted).
_NAMED_SKIPS = ("unreadable folder", "cannot open", "broken symbolic link")


def _print_skips(stats: WalkStats, console: Console) -> None:
    for reason, n in stats.skipped.most_common():
        console.print(f"  skipped {n}: {reason}", highlight=False, markup=False)
        if reason.startswith(_NAMED_SKIPS):
            named = [path for path, why in stats.examples if why == reason]
            for path in named[:10]:
                console.print(f"    {path}", highlight=False, markup=False)
            if n > len(named[:10]):
                console.print(f"    ... and {n - len(named[:10])} more", highlight=False)


def _no_images(
    paths: list[Path], from_list: Path | None, stats: WalkStats, err: Console
) -> NoReturn:
    where = ", ".join(str(p) for p in paths) or str(from_list)
    err.print(f"no images found in {where}", highlight=False, markup=False)
    _print_skips(stats, err)
    raise typer.Exit(EXIT_FAILURES)


def _print_summary(summary: ScanSummary, stats: WalkStats, console: Console, quiet: bool) -> None:
    if quiet:
        return
    console.print(summary.line(), highlight=False)
    if stats.duplicates:
        console.print(f"{stats.duplicates} paths named more than once were scanned once")
    _print_skips(stats, console)
    if summary.n_errors:
        shown = summary.errors[:10]
        console.print(f"{summary.n_errors} failed:", highlight=False)
        for path, code, message in shown:
            console.print(
                f"  {printable(path)}: {code}: {printable(message)}", highlight=False, markup=False
            )
        if summary.n_errors > len(shown):
            console.print(f"  ... and {summary.n_errors - len(shown)} more (see the output)")
