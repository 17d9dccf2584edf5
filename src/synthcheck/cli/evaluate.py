"""``synthcheck evaluate``: a report card for any model on the user's labelled images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from synthcheck.cli._common import exit_on_error
from synthcheck.cli.app import app
from synthcheck.errors import ConfigError

if TYPE_CHECKING:
    from synthcheck.evaluation.dataset import LabelledImage
    from synthcheck.evaluation.report import EvaluationReport

__all__ = ["evaluate"]


@app.command()
def evaluate(
    real: Path | None = typer.Option(
        None, "--real", help="Folder of real photos (sub-folders name their sources)."
    ),
    ai: Path | None = typer.Option(
        None, "--ai", help="Folder of AI images (sub-folders name their generators)."
    ),
    csv_file: Path | None = typer.Option(
        None, "--csv", help="CSV with path,label[,generator,source] instead of the two folders."
    ),
    model: str = typer.Option(
        "auto",
        "--model",
        "--profile",
        help="auto (as in scan: CLIP when installed, else fast), fast, thorough, project:NAME "
        "or local-dir:PATH; 'default' means auto. --profile is its old name.",
    ),
    calibration: str | None = typer.Option(
        None, "--calibration", help="Calibration profile whose thresholds are the active ones."
    ),
    robustness: bool = typer.Option(
        True, "--robustness/--no-robustness", help="Run the laundering sweep (JPEG, resize, ...)."
    ),
    conditions: str | None = typer.Option(
        None,
        "--conditions",
        help="Comma-separated transforms to run instead of the full sweep (e.g. jpeg50,resize0.5).",
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write the full report as JSON."),
    html_out: Path | None = typer.Option(
        None, "--html", help="Write a self-contained HTML report."
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Evaluate at most this many images per class (random)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for --limit sampling and the bootstrap."),
    bootstrap: int = typer.Option(
        1000, "--bootstrap", min=0, help="Bootstrap resamples for AUC intervals (0 = none)."
    ),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Images scored per batch."),
    cache: bool = typer.Option(
        True,
        "--cache/--no-cache",
        help="Reuse scores stored on disk for models that carry a version (by file hash).",
    ),
) -> None:
    """Report card of a model on labelled images, with a robustness sweep.

    A dataset-bias audit first, then AUC, TPR at 1% and 5% FPR, accuracy at the active threshold,
    calibration, per-generator and per-source breakdowns and (with --robustness) the same under
    JPEG, resize, crop, WebP and screenshot laundering.
    """
    from synthcheck.evaluation.evaluate import evaluate_model
    from synthcheck.evaluation.models import resolve_model
    from synthcheck.evaluation.scoring import ScoreCache
    from synthcheck.evaluation.terminal import print_report, progress_bar

    console = Console()
    err = Console(stderr=True)
    with exit_on_error(err):
        items, ignored = _labelled_items(real, ai, csv_file, limit, seed)
        pixel_model = resolve_model(model)
        picked = _conditions(conditions)
        if robustness or conditions:
            _announce_sweep(err, len(items), picked)
        with (
            ScoreCache.for_model(pixel_model, persist=cache) as store,
            progress_bar(err, "scoring", len(items)) as advance,
        ):
            report = evaluate_model(
                pixel_model,
                items=items,
                calibration=calibration,
                robustness=robustness,
                conditions=picked,
                cache=store,
                batch_size=batch_size,
                n_boot=bootstrap,
                seed=seed,
                ignored_files=ignored,
                progress=advance,
            )
    print_report(report, console)
    _write_reports(report, json_out, html_out, console)


def _labelled_items(
    real: Path | None, ai: Path | None, csv_file: Path | None, limit: int | None, seed: int
) -> tuple[list[LabelledImage], int]:
    """The labelled images of --csv, or of --real and --ai (with the files ignored there),
    sampled down to --limit per class."""
    from synthcheck.evaluation.dataset import items_from_csv, items_from_folders, sample_items

    if csv_file is not None and (real is not None or ai is not None):
        raise ConfigError("give either --csv or --real and --ai, not both")
    if csv_file is not None:
        items, ignored = items_from_csv(csv_file), 0
    elif real is not None and ai is not None:
        items, ignored = items_from_folders(real, ai)
    else:
        raise ConfigError("give --real DIR and --ai DIR, or --csv FILE")
    if limit is not None:
        items = sample_items(items, limit, seed)
    return items, ignored


def _conditions(conditions: str | None) -> list[str] | None:
    """The transforms of --conditions (None: the full sweep, when --robustness is on)."""
    if not conditions:
        return None
    return [c.strip() for c in conditions.split(",") if c.strip()]


def _announce_sweep(err: Console, n_items: int, picked: list[str] | None) -> None:
    """The sweep scores every image once per condition: say so before a long silence."""
    from synthcheck.evaluation.robustness import CLEAN, DEFAULT_SWEEP

    chosen = DEFAULT_SWEEP if picked is None else picked
    n = 1 + len({c for c in chosen if c and c != CLEAN})
    err.print(
        f"scoring {n_items} images under {n} conditions (clean + {n - 1} laundered "
        f"versions: about {n} times a plain scan; --no-robustness skips the sweep)",
        highlight=False,
    )


def _write_reports(
    report: EvaluationReport, json_out: Path | None, html_out: Path | None, console: Console
) -> None:
    from synthcheck.evaluation.html import render_html

    if json_out is not None:
        json_out.write_text(json.dumps(report.to_dict(), indent=1) + "\n", encoding="utf-8")
        console.print(f"JSON report: {json_out}")
    if html_out is not None:
        html_out.write_text(render_html(report), encoding="utf-8")
        console.print(f"HTML report: {html_out}")
