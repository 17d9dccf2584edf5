"""``synthcheck project evaluate NAME``: the ``evaluate`` report card for a trained project."""

from __future__ import annotations

from pathlib import Path

import typer

from synthcheck.cli.evaluate import evaluate
from synthcheck.cli.project import project_app

__all__ = ["project_evaluate"]


@project_app.command("evaluate")
def project_evaluate(
    name: str = typer.Argument(..., help="The project whose current model is evaluated."),
    real: Path | None = typer.Option(
        None, "--real", help="Folder of real photos the project did not train on."
    ),
    ai: Path | None = typer.Option(
        None, "--ai", help="Folder of AI images the project did not train on."
    ),
    csv_file: Path | None = typer.Option(
        None, "--csv", help="CSV with path,label[,generator,source] instead of the two folders."
    ),
    calibration: str | None = typer.Option(
        None, "--calibration", help="Calibration profile whose thresholds are the active ones."
    ),
    robustness: bool = typer.Option(
        True, "--robustness/--no-robustness", help="Run the laundering sweep (JPEG, resize, ...)."
    ),
    conditions: str | None = typer.Option(
        None, "--conditions", help="Comma-separated transforms instead of the full sweep."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the full report as JSON."),
    html_out: Path | None = typer.Option(
        None, "--html", help="Write a self-contained HTML report."
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Evaluate at most this many images per class (random)."
    ),
) -> None:
    """Report card of a project's current model on held-out labelled images (its cross-validated
    figures are in `project show`): bias audit, AUC, TPR at 1%/5% FPR, per generator and source,
    calibration and the robustness sweep."""
    evaluate(
        real=real,
        ai=ai,
        csv_file=csv_file,
        model=f"project:{name}",
        calibration=calibration,
        robustness=robustness,
        conditions=conditions,
        json_out=json_out,
        html_out=html_out,
        limit=limit,
        seed=0,
        bootstrap=1000,
        batch_size=8,
        cache=True,
    )
