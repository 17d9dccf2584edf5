"""The root Typer application; command modules attach themselves to it."""

from __future__ import annotations

import os
from typing import Any

import typer
import typer.core

from synthcheck.home import HOME_ENV

__all__ = ["app"]


def _flag_aware_type(self: typer.core.TyperOption, ctx: Any) -> str | None:
    # Recent Typer prints "<bool>" after every on/off flag (--help and --quiet included), which
    # reads as if the flag took a value; a flag shows no type.
    if self.is_flag:
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
) -> None:
    """synthcheck: evidence that an image is AI-generated or camera-made, computed locally."""
    if home is not None:
        os.environ[HOME_ENV] = home
