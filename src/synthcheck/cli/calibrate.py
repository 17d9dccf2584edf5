"""``synthcheck calibrate``: thresholds for a target false-positive rate on the user's photos."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from synthcheck.cli._common import exit_on_error
from synthcheck.cli.app import app
from synthcheck.errors import ConfigError, DataError

__all__ = ["calibrate", "calibrations"]


@app.command()
def calibrate(
    real_dir: Path = typer.Argument(..., help="Folder of your own real (camera) photos."),
    fpr: float = typer.Option(
        0.01, "--fpr", help="Target false-positive rate: the share of real photos called AI."
    ),
    name: str = typer.Option(
        "default", "--name", help="Profile name; use it later with scan/serve --calibration NAME."
    ),
    ai_dir: Path | None = typer.Option(
        None, "--ai-dir", help="Known-AI images: also report the recall the threshold costs."
    ),
    model: str = typer.Option(
        "auto",
        "--model",
        "--profile",
        help="Model to calibrate: auto, fast, thorough, project:NAME or local-dir:PATH "
        "(--profile is its old name).",
    ),
    real_share: float = typer.Option(
        0.9,
        "--real-share",
        help="Share of these photos that should read real (the rest: unsure, or AI above the "
        "AI threshold); the real threshold never goes above 0.5.",
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the profile here."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Images scored per batch."),
) -> None:
    """Set the thresholds on your own real photos for a target false-positive rate.

    Scores REAL_DIR with the model, puts the AI threshold where at most --fpr of such photos are
    called AI and the real threshold where --real-share of them read real (the rest: unsure),
    prints what the profile will do to photos like these, and stores the result as a named
    profile that scan, serve and project predict accept with --calibration NAME.
    """
    from synthcheck.evaluation.calibrate import calibrate_model
    from synthcheck.evaluation.calibration import (
        save_calibration,
        validate_calibration_name,
        validate_real_share,
        validate_target_fpr,
    )
    from synthcheck.evaluation.dataset import list_images
    from synthcheck.evaluation.models import concrete_spec, resolve_model
    from synthcheck.evaluation.scoring import ScoreCache
    from synthcheck.evaluation.terminal import print_calibration, progress_bar

    console = Console()
    err = Console(stderr=True)
    with exit_on_error(err):
        validate_calibration_name(name)
        validate_target_fpr(fpr)
        validate_real_share(real_share)
        real = list_images(real_dir)
        ai = list_images(ai_dir) if ai_dir is not None else None
        if not real.files:
            raise DataError(f"{real_dir}: no image files found")
        pixel_model = resolve_model(model)
        total = len(real.files) + (len(ai.files) if ai else 0)
        with (
            ScoreCache.for_model(pixel_model) as cache,
            progress_bar(err, "scoring", total) as advance,
        ):
            result = calibrate_model(
                pixel_model,
                real.files,
                name=name,
                target_fpr=fpr,
                ai_paths=ai.files if ai else (),
                model_profile=concrete_spec(model, pixel_model),
                real_dir=str(real_dir),
                ai_dir=str(ai_dir) if ai_dir is not None else None,
                cache=cache,
                batch_size=batch_size,
                progress=advance,
                real_share=real_share,
            )
        path = save_calibration(result)
    print_calibration(result, console)
    console.print(f"Saved to {path}; use it with [bold]--calibration {name}[/].")
    if json_out is not None:
        json_out.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")


@app.command()
def calibrations() -> None:
    """List the stored calibration profiles."""
    from rich.table import Table

    from synthcheck.evaluation.calibration import list_calibrations, load_calibration

    console = Console()
    names = list_calibrations()
    if not names:
        console.print("No calibration profiles yet; make one with `synthcheck calibrate REAL_DIR`.")
        return
    table = Table()
    for column in ("name", "model", "target FPR", "AI ≥", "real ≤", "real photos", "created"):
        table.add_column(column)
    for name in names:
        try:
            p = load_calibration(name)
        except ConfigError as exc:
            table.add_row(name, f"[red]unreadable: {exc}[/]", "", "", "", "", "")
            continue
        table.add_row(
            p.name,
            p.model_name or p.model_profile,
            f"{p.target_fpr:g}",
            f"{p.thresholds.ai_threshold:.4f}",
            f"{p.thresholds.real_threshold:.4f}",
            str(p.n_real),
            p.created,
        )
    console.print(table)
