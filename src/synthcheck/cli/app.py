"""The root Typer application; command modules attach themselves to it."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import typer
import typer.core

from synthcheck.home import HOME_ENV

__all__ = ["app"]


def _flag_aware_type(self: typer.core.TyperOption, ctx: Any) -> str | None:
    # Recent Typer prints "<bool>" after every on/off flag (--help and --quiet included), which
    # reads as if the flag took a value; a flag (or a counted flag like -v) shows no type.
    if self.is_flag or self.count:
        return None
    return _typed(self, ctx)


_typed = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _flag_aware_type  # type: ignore[method-assign]

app = typer.Typer(
    name="synthcheck",
    help="Tell whether images were made by a generative model or captured by a camera, locally.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from synthcheck._version import __version__

        typer.echo(f"synthcheck {__version__}")
        raise typer.Exit()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(verbose: int) -> None:
    """``-v``: the library's INFO messages on stderr; ``-vv``: DEBUG too (a failing signal's
    traceback). Without either the library stays quiet. Calling again replaces the handler."""
    logger = logging.getLogger("synthcheck")
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    if verbose <= 0:
        logger.setLevel(logging.NOTSET)
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)


@app.callback()
def root(
    home: str | None = typer.Option(
        None,
        "--home",
        help=f"Folder for projects and calibration profiles (env {HOME_ENV}).",
        show_default=False,
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: int = typer.Option(
        0,
        "--verbose",
        "-v",
        count=True,
        show_default=False,
        help="Log what the library does on stderr: -v for INFO, -vv for DEBUG (a failing "
        "signal's traceback).",
    ),
) -> None:
    """synthcheck: evidence that an image is AI-generated or camera-made, computed locally."""
    configure_logging(verbose)
    if home is not None:
        os.environ[HOME_ENV] = home
