"""Helpers shared by the command modules: consoles, the progress bar, exit codes, errors."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from synthcheck.errors import SynthcheckError

__all__ = [
    "EXIT_FAILURES",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "default_workers",
    "exit_on_error",
    "fail",
    "progress",
    "progress_wanted",
    "stderr_console",
    "stdout_console",
]

#: Everything was scanned / done.
EXIT_OK = 0
#: Some inputs failed (each is reported); the rest were processed.
EXIT_FAILURES = 1
#: A usage error: a missing path, a bad option value, an unusable model or profile.
EXIT_USAGE = 2
#: Stopped by Ctrl-C or SIGTERM (128 + SIGINT, the shell convention).
EXIT_INTERRUPTED = 130


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def progress_wanted(console: Console, quiet: bool = False) -> bool:
    """A progress bar only on an interactive terminal, never in CI or with ``--quiet``."""
    return not quiet and console.is_terminal and not os.environ.get("CI")


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def fail(message: str, code: int = EXIT_USAGE, console: Console | None = None) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    (console or stderr_console()).print(f"[red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


@contextmanager
def exit_on_error(console: Console | None = None) -> Iterator[None]:
    """The CLI's one error boundary: a :class:`SynthcheckError` raised inside becomes
    ``error: message`` on stderr and the exit status its class carries (``exit_code``: 2 for a
    usage error such as :class:`ConfigError`, else 1, e.g. a :class:`DataError`). Every command
    uses it, so one kind of error exits with one status whichever command raised it."""
    try:
        yield
    except SynthcheckError as exc:
        fail(str(exc), exc.exit_code, console)


@contextmanager
def progress(
    console: Console, description: str, total: int | None, *, enabled: bool = True
) -> Iterator[tuple[Callable[[int], None], Console]]:
    """A rich progress bar; yields ``(advance, console)``. Print through the yielded console so
    lines appear above the bar. When disabled, ``advance`` does nothing."""
    if not enabled:

        def ignore(n: int = 1) -> None:
            pass

        yield ignore, console
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance, bar.console
