"""``synthcheck scan``: scan files and folders, stream the results, report a summary."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import NoReturn, TextIO

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
from synthcheck.engine.build import PROFILES
from synthcheck.engine.executor import DEFAULT_TIMEOUT_S, Executor, ProcessExecutor, ScanConfig
from synthcheck.engine.walk import WalkStats, expand_paths, read_path_list
from synthcheck.errors import BackboneError, ConfigError, ModelError
from synthcheck.intake.decode import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS
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


def _choose_profile(profile: str | None, calibration: str | None, err: Console) -> str:
    if calibration is None:
        chosen = profile or "auto"
    else:
        from synthcheck.fusion.calibration import load_profile

        fitted = load_profile(calibration).model_profile
        if profile is None:
            if fitted not in PROFILES:
                raise ConfigError(
                    f"calibration {calibration!r} was fitted for model {fitted!r}, which scan "
                    "cannot run; pass --profile to choose one of " + ", ".join(PROFILES)
                )
            chosen = fitted
        else:
            chosen = profile
            if fitted != profile:
                err.print(
                    f"[yellow]warning:[/] calibration {calibration!r} was fitted for model "
                    f"{fitted!r}, not {profile!r}; its thresholds may not fit"
                )
    if chosen not in PROFILES:
        raise ConfigError(f"unknown --profile {chosen!r}; choose one of {', '.join(PROFILES)}")
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
        min=1,
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
    profile: str | None = typer.Option(
        None,
        "--profile",
        help="Pixel model: auto, fast, thorough, or provenance (metadata "
        "evidence only). Default: auto, or the model of --calibration.",
        show_default=False,
    ),
    calibration: str | None = typer.Option(
        None,
        "--calibration",
        help="A calibration profile made by `synthcheck calibrate`.",
        show_default=False,
    ),
    heatmaps: Path | None = typer.Option(
        None,
        "--heatmaps",
        help="Write a heatmap overlay PNG per image into this folder. The heatmap scores up to 48 "
        "native-resolution tiles per image (with thorough about 5 s more per 1 MP image); the "
        "verdicts are the same as without it.",
        show_default=False,
    ),
    heatmap_tiles: int | None = typer.Option(
        None,
        "--heatmap-tiles",
        min=1,
        max=1024,
        help="Native tiles each heatmap scores (default 48, which covers 1.5 MP; more tiles "
        "cover larger images, each about 0.1 s with thorough). Needs --heatmaps.",
        show_default=False,
    ),
    max_pixels: int = typer.Option(
        DEFAULT_MAX_PIXELS,
        "--max-pixels",
        min=1,
        help="Refuse images with more pixels (decompression-bomb guard).",
    ),
    max_image_memory: int = typer.Option(
        DEFAULT_MAX_IMAGE_BYTES // 2**20,
        "--max-image-memory",
        min=1,
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
        min=256,
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
    err = stderr_console()
    started = time.perf_counter()
    stats = WalkStats()
    summary = ScanSummary()
    try:
        if not paths and from_list is None:
            raise ConfigError("name at least one file or folder, or pass --from-list FILE")
        out_format = _choose_format(fmt, output)
        if resume and output is None:
            raise ConfigError("--resume needs --output FILE (the results to resume from)")
        if cluster is not None and workers is not None:
            raise ConfigError("--workers and --cluster exclude each other")
        if heatmap_tiles is not None and heatmaps is None:
            raise ConfigError("--heatmap-tiles needs --heatmaps FOLDER (where the heatmaps go)")
        chosen_profile = _choose_profile(profile, calibration, err)
        files = _list_inputs(list(paths or []), from_list, stats, all_files)
        if not files:
            # Say so at once: loading the models first took 15 s to report "0 files".
            _no_images(list(paths or []), from_list, stats, err)
        config = ScanConfig(
            profile=chosen_profile,
            calibration=calibration,
            max_pixels=max_pixels,
            max_image_mb=max_image_memory,
            timeout=timeout or None,
            heatmaps_dir=None if heatmaps is None else str(heatmaps),
            heatmap_tiles=heatmap_tiles,
            max_memory_mb=max_memory,
        )
        detector = config.build()
    except (ConfigError, BackboneError, ModelError) as exc:
        fail(str(exc), console=err)
    if heatmaps is not None and detector.pixel_model is None:
        err.print("[yellow]warning:[/] --heatmaps needs a pixel model; profile provenance has none")
    summary.skipped.update(stats.skipped)
    n_workers = 1 if cluster is not None else (workers or default_workers())
    use_resume = output is not None and resume is not False and out_format != "table"

    with contextlib.ExitStack() as stack:
        # Where results go: a results store (resumable) and/or a streaming writer.
        store: ResultStore | None = None
        writer: ResultWriter | None = None
        rows_console = stdout_console()
        try:
            if out_format in ("jsonl", "csv") and output is not None:
                store = stack.enter_context(
                    ResultStore(
                        output,
                        fmt="csv" if out_format == "csv" else "jsonl",
                        resume=use_resume,
                        detector=detector.name,
                        on_existing=lambda r: summary.add(r, resumed=True),
                    )
                )
            elif out_format in ("json", "html"):
                journal = (
                    Path(f"{output}.results.jsonl")
                    if output is not None
                    else Path(stack.enter_context(tempfile.TemporaryDirectory())) / "r.jsonl"
                )
                store = stack.enter_context(
                    ResultStore(
                        journal,
                        resume=use_resume,
                        detector=detector.name,
                        on_existing=lambda r: summary.add(r, resumed=True),
                    )
                )
            elif output is not None:  # a table written to a file
                handle = stack.enter_context(output.open("w", encoding="utf-8"))
                rows_console = Console(file=handle, width=200, no_color=True, highlight=False)
                writer = TableWriter(rows_console)
            elif out_format == "table":
                writer = TableWriter(rows_console)
            elif out_format == "jsonl":
                writer = JsonlWriter(sys.stdout)
            else:
                writer = CsvWriter(sys.stdout)
            todo = [f for f in files if store is None or not store.is_done(f)]
            if workers is None and cluster is None and len(todo) < SMALL_SCAN:
                n_workers = 1  # starting a pool would cost more than it saves
            executor: Executor = make_executor(
                config, workers=n_workers, cluster=cluster, detector=detector
            )
        except ConfigError as exc:
            fail(str(exc), console=err)
        except OSError as exc:
            fail(f"{output}: {exc.strerror or exc}", console=err)
        stack.callback(executor.close)
        if n_workers > 1 or cluster is not None:
            del detector  # the workers build their own

        table_on_terminal = (
            writer is not None and isinstance(writer, TableWriter) and (output is None)
        )
        bar_console = rows_console if table_on_terminal else err
        report_failures = not quiet and not table_on_terminal
        interrupted = False
        with progress(
            bar_console, "scanning", len(todo), enabled=progress_wanted(bar_console, quiet)
        ) as (advance, live_console):
            if table_on_terminal and writer is not None:
                writer = TableWriter(live_console)
            batch_size = default_batch_size(n_workers, cluster)
            try:
                with _sigterm_as_interrupt():
                    for result in scan_paths(todo, executor, batch_size=batch_size):
                        summary.add(result)
                        if store is not None:
                            store.append(result)
                        if writer is not None:
                            writer.write(result)
                        if report_failures and result.error is not None:
                            live_console.print(
                                f"[red]failed:[/] {escape(printable(result.path))}: "
                                f"{escape(printable(result.error.message))}",
                                highlight=False,
                            )
                        advance(1)
            except KeyboardInterrupt:
                interrupted = True
                if isinstance(executor, ProcessExecutor):
                    executor.terminate()  # within a second, not after the batches in flight
            except BrokenPipeError:  # the reader went away (`| head`): stop quietly
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                raise typer.Exit(EXIT_BROKEN_PIPE) from None
        summary.seconds = time.perf_counter() - started
        if interrupted:
            kept = f"; {summary.total} results kept in {output}" if output is not None else ""
            err.print(f"interrupted{kept} (run the same command to resume)")
            raise typer.Exit(EXIT_INTERRUPTED)
        if writer is not None:
            writer.close(summary)
        if store is not None and out_format in ("json", "html"):
            _write_document(out_format, store, output, summary)
    _print_summary(
        summary, stats, err if out_format != "table" or output else stdout_console(), quiet
    )
    raise typer.Exit(EXIT_FAILURES if summary.n_errors else EXIT_OK)


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
