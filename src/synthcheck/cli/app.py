"""The root Typer application; command modules attach themselves to it."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    name="synthcheck",
    help="Tell whether images were made by a generative model or captured by a camera, locally.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
