"""``synthcheck project ...``: train your own detector from labelled folders, locally."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from synthcheck.cli._common import (
    EXIT_FAILURES,
    EXIT_OK,
    exit_on_error,
    fail,
    stderr_console,
    stdout_console,
)
from synthcheck.cli.app import app

__all__ = ["project_app"]

project_app = typer.Typer(
    name="project",
    help="Train your own detector: projects, import, train (CV sweep), review, predict.",
    no_args_is_help=True,
)
app.add_typer(project_app, name="project")

FORMAT_HELP = "Output: 'text' (default) or 'json' (one JSON object)."


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _check_format(fmt: str) -> None:
    if fmt not in ("text", "json"):
        fail(f"unknown --format {fmt!r}; choose text or json")


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=None) + "\n")
    sys.stdout.flush()


def _open(name: str) -> Any:
    from synthcheck.training import Project

    return Project.open(name)


@project_app.command("create")
def create(
    name: str = typer.Argument(..., help="Project name."),
    labels: str = typer.Option("real,ai", "--labels", help="Comma-separated label set."),
    ai_labels: str | None = typer.Option(
        None, "--ai-labels", help="Labels that count as AI for p_ai (default: all but 'real')."
    ),
    backbones: str | None = typer.Option(
        None,
        "--features",
        help="Feature extractors, comma-separated (backbone names and/or 'artifacts'); "
        "default: the most accurate installed backbone (CLIP when installed) plus 'artifacts'; "
        "efficientnet-lite0,artifacts is far faster.",
    ),
) -> None:
    """Create a project with a label set (any labels: real/ai, or generator names)."""
    from synthcheck.training import Project

    with (
        exit_on_error(),
        Project.create(
            name, _split(labels) or [], ai_labels=_split(ai_labels), extractors=_split(backbones)
        ) as p,
    ):
        stdout_console().print(
            f"created project {escape(p.name)!r}: labels {', '.join(p.labels)}; "
            f"AI labels {', '.join(p.ai_labels) or '(none)'}; features "
            f"{', '.join(p.extractors)}"
        )


@project_app.command("list")
def list_(fmt: str = typer.Option("text", "--format", help=FORMAT_HELP)) -> None:
    """List projects with their image counts and current model version."""
    from synthcheck.training import list_projects

    _check_format(fmt)
    with exit_on_error():
        rows = list_projects()
    if fmt == "json":
        _emit_json(rows)
        return
    if not rows:
        stdout_console().print("no projects yet; create one with: synthcheck project create NAME")
        return
    table = Table("project", "labels", "images", "labelled", "model")
    for r in rows:
        table.add_row(
            escape(r["name"]),
            ", ".join(r["labels"]),
            str(r["images"]),
            str(r["labelled"]),
            "-" if r["model_version"] is None else f"v{r['model_version']}",
        )
    stdout_console().print(table)


@project_app.command("show")
def show(
    name: str = typer.Argument(...),
    fmt: str = typer.Option("text", "--format", help=FORMAT_HELP),
) -> None:
    """Show a project: labels, counts, model versions and the current model's CV figures."""
    _check_format(fmt)
    with exit_on_error(), _open(name) as p:
        info = p.summary()
        models = p.models()
        current = p.current_model()
    if fmt == "json":
        _emit_json(info)
        return
    out = stdout_console()
    out.print(
        f"[bold]{escape(info['name'])}[/]: {info['images']} images "
        f"({', '.join(f'{k} {v}' for k, v in info['per_label'].items())}, "
        f"unlabelled {info['unlabelled']}); features {', '.join(info['extractors'])}"
    )
    for m in models:
        mark = "*" if current is not None and current.version == m.version else " "
        chosen = m.summary.chosen or {}
        score = m.summary.cv_score
        out.print(
            f" {mark} v{m.version}: CV {'-' if score is None else f'{score:.4f}'}  "
            f"{'+'.join(chosen.get('feature_set', []))} / {chosen.get('head', '?')}"
        )
    if current is not None and current.summary.cv_accuracy_per_class:
        acc = ", ".join(f"{k} {v:.3f}" for k, v in current.summary.cv_accuracy_per_class.items())
        out.print(f"current model CV accuracy per class: {acc}")


@project_app.command("delete")
def delete(
    name: str = typer.Argument(...),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a project, its labels and its model versions."""
    from synthcheck.training import delete_project

    if not yes and sys.stdin.isatty() and not typer.confirm(f"delete project {name!r}?"):
        raise typer.Exit(EXIT_OK)
    with exit_on_error():
        delete_project(name)
    stdout_console().print(f"deleted project {escape(name)!r}")


@project_app.command("import")
def import_(
    name: str = typer.Argument(..., help="Project name."),
    folder: Path | None = typer.Argument(
        None, help="Folder of images (with --label or --unlabelled) or of one sub-folder per label."
    ),
    label: str | None = typer.Option(None, "--label", help="Label every image under FOLDER."),
    unlabelled: bool = typer.Option(False, "--unlabelled", help="Import FOLDER without labels."),
    list_file: Path | None = typer.Option(
        None, "--from", help="CSV (path,label) or JSONL ({path, label}) list of images."
    ),
    copy: bool = typer.Option(
        False, "--copy", help="Keep a copy of each file in the home folder (default: reference)."
    ),
    fmt: str = typer.Option("text", "--format", help=FORMAT_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Import images: FOLDER --label L, FOLDER with one sub-folder per label, FOLDER
    --unlabelled, or --from FILE. Duplicates (same bytes) are merged; bad files are counted
    and reported, never fatal."""
    from synthcheck.evaluation.terminal import progress_bar
    from synthcheck.training.sources import from_folder, from_label_folders, from_list_file

    _check_format(fmt)
    if (folder is None) == (list_file is None):
        fail("give either FOLDER or --from FILE")
    if label is not None and unlabelled:
        fail("--label and --unlabelled exclude each other")
    err = stderr_console()
    with exit_on_error(), _open(name) as p:
        if list_file is not None:
            items = list(from_list_file(list_file))
        elif label is not None or unlabelled:
            p.check_label(label)
            items = list(from_folder(folder or Path(), label))
        else:
            items = list(from_label_folders(folder or Path(), p.labels))
        if quiet:
            report = p.import_items(items, copy=copy)
        else:
            # Import computes the project's features (CLIP by default: minutes for a
            # thousand images), so progress shows off a terminal too, as plain lines.
            label = "importing (features: " + ", ".join(p.extractors) + ")"
            with progress_bar(err, label, len(items)) as report_done:
                done = 0

                def advance(n: int = 1) -> None:
                    nonlocal done
                    done += n
                    report_done(done, len(items))

                report = p.import_items(items, copy=copy, progress=advance)
    if fmt == "json":
        _emit_json(report.to_dict())
    else:
        out = stdout_console()
        per = ", ".join(f"{k or 'unlabelled'} {v}" for k, v in sorted(report.labels.items()))
        images = "image" if report.added == 1 else "images"
        out.print(
            f"imported {report.added} new {images}{f' ({per})' if per else ''}; "
            f"{report.merged} duplicate{'' if report.merged == 1 else 's'} merged; "
            f"{report.failed} failed; {report.seconds:.1f} s "
            f"(features {report.seconds_features:.1f} s)"
        )
        for path, reason in report.failures[:20]:
            err.print(f"[yellow]skipped[/] {escape(path)}: {escape(reason)}")
        if report.failed > 20:
            err.print(f"... and {report.failed - 20} more")
        if report.skipped:
            left_out = ", ".join(f"{n} {reason}" for reason, n in report.skipped.most_common())
            err.print(f"left out by the folder walk: {escape(left_out)}")
    nothing = report.added + report.merged == 0
    if nothing and fmt != "json":
        err.print("[red]error:[/] no image was imported")
    # Some files failed, or nothing at all was imported (every file failed or none was found).
    raise typer.Exit(EXIT_FAILURES if report.failed or nothing else EXIT_OK)


@project_app.command("train")
def train(
    name: str = typer.Argument(...),
    folds: int = typer.Option(5, "--folds", help="Stratified cross-validation folds."),
    seed: int = typer.Option(0, "--seed", help="Seed of the folds and projections."),
    heads: str | None = typer.Option(
        None, "--heads", help="Heads to sweep, comma-separated: ridge, logistic, svm, mlp."
    ),
    force: bool = typer.Option(False, "--force", help="Save the new model even if not better."),
    features: str | None = typer.Option(
        None,
        "--features",
        help="Change the project's feature extractors first (comma-separated; kept).",
    ),
    init: str = typer.Option(
        "none",
        "--init",
        help="'default': fine-tune the default detector (stack on its heads' logits).",
    ),
    fmt: str = typer.Option("text", "--format", help=FORMAT_HELP),
) -> None:
    """Sweep heads x hyperparameters x feature sets with stratified k-fold CV; keep the new
    model version only when it beats the current one (or the labelled images changed)."""
    from synthcheck.evaluation.terminal import progress_bar
    from synthcheck.training.sweep import HEAD_ORDER

    _check_format(fmt)
    with exit_on_error(), _open(name) as p:
        if features is not None:
            p.set_extractors(_split(features) or [])
        label = "features (" + ", ".join(p.extractors) + ")"
        with progress_bar(stderr_console(), label, 0) as advance:
            report = p.train(
                folds=folds,
                seed=seed,
                heads=_split(heads) or HEAD_ORDER,
                force=force,
                init=init,
                progress=advance,
            )
    if fmt == "json":
        _emit_json(report.to_dict())
        return
    out = stdout_console()
    d = report.to_dict()
    chosen = d["chosen"]
    out.print(
        f"{report.n_labelled} labelled of {report.n_images} images, {report.folds}-fold CV; "
        f"features {report.seconds_features:.1f} s, sweep {report.seconds_sweep:.2f} s "
        f"({report.candidates} candidates)"
    )
    out.print(
        f"chosen: {' + '.join(chosen['feature_set'])} / {chosen['head']} ({chosen['value']:g})"
    )
    for lab, acc in report.accuracy_per_class.items():
        out.print(f"  CV accuracy {escape(lab)}: {acc:.4f}")
    if report.auc is not None:
        out.print(f"  CV AUC: {report.auc:.4f}")
    table = Table("true \\ predicted", *report.labels, title="confusion matrix (CV)")
    for lab, row in zip(report.labels, report.confusion, strict=True):
        table.add_row(lab, *map(str, row))
    out.print(table)
    out.print(report.message)
    for note in report.notes:
        out.print(f"note: {escape(note)}")
    for path, reason in report.skipped[:10]:
        stderr_console().print(f"[yellow]skipped[/] {escape(path)}: {escape(reason)}")


@project_app.command("review")
def review(
    name: str = typer.Argument(...),
    sort: str = typer.Option("confidence", "--sort", help="confidence (least first) or recent."),
    filter_: str | None = typer.Option(
        None, "--filter", help="disagree, agree, label:L or unlabelled."
    ),
    limit: int = typer.Option(20, "--limit", help="Show at most this many images."),
    fmt: str = typer.Option("text", "--format", help=FORMAT_HELP),
) -> None:
    """Review predictions (out-of-fold for labelled images) to find labelling mistakes."""
    _check_format(fmt)
    with exit_on_error(), _open(name) as p:
        items = p.review(sort=sort, filter=filter_, limit=limit)
    if fmt == "json":
        _emit_json([it.to_dict() for it in items])
        return
    table = Table("hash", "label", "predicted", "confidence", "p_ai", "path")
    for it in items:
        style = "red" if it.label is not None and it.label != it.predicted else ""
        table.add_row(
            it.sha256[:10],
            it.label or "-",
            it.predicted or "-",
            "-" if it.confidence is None else f"{it.confidence:.3f}",
            "-" if it.p_ai is None else f"{it.p_ai:.3f}",
            escape(it.path),
            style=style,
        )
    stdout_console().print(table)


@project_app.command("label")
def label_(
    name: str = typer.Argument(...),
    image: str = typer.Argument(..., help="Image path or hash prefix (>= 6 characters)."),
    label: str = typer.Argument(..., help="New label."),
) -> None:
    """Relabel one image (retrain to update the model)."""
    with exit_on_error(), _open(name) as p:
        sha = p.label(image, label)
    stdout_console().print(f"{sha[:12]} labelled {escape(label)!r}")


@project_app.command("remove")
def remove(
    name: str = typer.Argument(...),
    image: str = typer.Argument(..., help="Image path or hash prefix (>= 6 characters)."),
) -> None:
    """Remove one image from the project."""
    with exit_on_error(), _open(name) as p:
        sha = p.remove(image)
    stdout_console().print(f"{sha[:12]} removed from {escape(name)!r}")


@project_app.command("predict")
def predict(
    name: str = typer.Argument(...),
    paths: list[Path] = typer.Argument(..., help="Image files or folders."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl (default), csv or table."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
) -> None:
    """Scan images with provenance signals + the project's model (the `scan` JSONL contract;
    the model appears as the pixel signal 'project:NAME' and drives p_ai)."""
    from synthcheck.engine import Detector
    from synthcheck.reports import CsvWriter, JsonlWriter, ScanSummary, TableWriter
    from synthcheck.training.sources import walk_images

    if fmt not in ("jsonl", "csv", "table"):
        fail(f"unknown --format {fmt!r}; choose jsonl, csv or table")
    files: list[str] = []
    for path in paths:
        with exit_on_error():
            files.extend(walk_images(path) if path.is_dir() else [str(path)])
    with exit_on_error(), _open(name) as p:
        detector = Detector(pixel_model=p.model())
        stream = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            writer = (
                JsonlWriter(stream)
                if fmt == "jsonl"
                else CsvWriter(stream)
                if fmt == "csv"
                else TableWriter(Console(file=stream, highlight=False, soft_wrap=True))
            )
            summary = ScanSummary()
            for f in files:
                result = detector.scan_file(f)
                summary.add(result)
                writer.write(result)
            writer.close(summary)
        finally:
            if output:
                stream.close()
    raise typer.Exit(EXIT_FAILURES if summary.n_errors else EXIT_OK)


@project_app.command("export")
def export(
    name: str = typer.Argument(...),
    file: Path = typer.Argument(..., help="Model file to write (a zip: JSON + arrays)."),
    version: int | None = typer.Option(None, "--version", help="Model version (default current)."),
) -> None:
    """Export a trained model as one file (no pickle; safe to share)."""
    with exit_on_error(), _open(name) as p:
        p.export_model(file, version)
    stdout_console().print(f"wrote {escape(str(file))}")


@project_app.command("import-model")
def import_model(
    name: str = typer.Argument(..., help="Project to add the model to."),
    file: Path = typer.Argument(..., help="A file written by `synthcheck project export`."),
) -> None:
    """Add an exported model as the project's new current version."""
    with exit_on_error(), _open(name) as p:
        version = p.import_model(file)
    stdout_console().print(f"imported {escape(str(file))} as version {version} of {escape(name)!r}")
