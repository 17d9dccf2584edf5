"""Terminal summaries (rich) of an evaluation report and a calibration profile."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from synthcheck.evaluation.calibration import Calibration
from synthcheck.evaluation.report import EvaluationReport

__all__ = ["duration", "print_calibration", "print_report", "progress_bar"]


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2.5 h``: a time estimate at the precision it deserves."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _LineProgress:
    """Progress off a terminal (a log file, CI, a pipe): a plain line when work starts, at most
    one every ``every`` seconds after that, and one at the end, each with the time left at the
    rate so far. A run of ten minutes is then never silent."""

    def __init__(self, console: Console, description: str, every: float) -> None:
        self.console = console
        self.description = description
        self.every = every
        self.start = time.monotonic()
        self.last = self.start
        self.printed = -1

    def __call__(self, done: int, of: int) -> None:
        now = time.monotonic()
        finished = of > 0 and done >= of
        due = self.printed < 0 or finished or now - self.last >= self.every
        if of <= 0 or done == self.printed or not due:
            return
        self.last, self.printed = now, done
        elapsed = now - self.start
        line = f"{self.description}: {done}/{of} done, {duration(elapsed)}"
        if 0 < done < of:
            line += f", about {duration(elapsed / done * (of - done))} left"
        self.console.print(line, highlight=False, markup=False)


@contextmanager
def progress_bar(
    console: Console, description: str, total: int, *, every: float = 15.0
) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with the time left on ``console`` when it is a terminal, else plain
    progress lines (at most one per ``every`` seconds); yields the ``progress(done, total)``
    callback that scoring and feature extraction call."""
    if not console.is_terminal:
        yield _LineProgress(console, description, every)
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(done: int, of: int) -> None:
            bar.update(task, completed=done, total=of)

        yield advance


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def print_report(report: EvaluationReport, console: Console) -> None:
    """The bias audit first, then the headline, the robustness table and the breakdowns."""
    r = report
    console.print(
        f"[bold]Evaluation of {r.model}[/]: {r.n_real} real, {r.n_ai} AI images; "
        f"{r.skipped_files} files skipped, {r.ignored_files} entries left out by the folder "
        "walk (not images, hidden, link loops, special files)"
    )
    for note in r.notes:
        console.print(f"[yellow]note:[/] {note}")
    alarm = " [red](read this before the numbers)[/]" if r.bias.warnings else ""
    console.print(f"[bold]Dataset-bias audit[/]{alarm}")
    for finding in r.bias.findings:
        style = {"warning": "yellow", "ok": "green", "skipped": "dim"}[finding.severity]
        console.print(f"  [{style}]{finding.severity:>7}[/] {finding.check}: {finding.message}")
    t = r.thresholds
    source = f"calibration {r.calibration!r}" if r.calibration else "default thresholds"
    c = r.clean
    ci = f" ({_f(c.auc_ci[0])}–{_f(c.auc_ci[1])})" if c.auc_ci else ""
    console.print(
        f"[bold]Clean[/]: AUC {_f(c.auc)}{ci}, TPR@1%FPR {_p(c.tpr_at_1)}, TPR@5%FPR "
        f"{_p(c.tpr_at_5)}; at AI ≥ {t.ai_threshold:.4f} ({source}): balanced accuracy "
        f"{_p(c.balanced_accuracy)}, real called AI {_p(c.fpr_at_threshold)}, AI caught "
        f"{_p(c.tpr_at_threshold)}; ECE {_f(r.ece)}"
    )
    table = Table(title="Robustness", title_justify="left")
    failures = any(cond.failed for cond in r.conditions)
    columns = ["condition", "AUC", "95% CI", "TPR@1%", "TPR@5%", "FPR@thr", "TPR@thr"]
    for column in [*columns, "failed"] if failures else columns:
        table.add_column(column, justify="left" if column == "condition" else "right")
    for cond in r.conditions:
        row = [
            cond.condition,
            _f(cond.auc),
            f"{_f(cond.auc_ci[0], 2)}–{_f(cond.auc_ci[1], 2)}" if cond.auc_ci else "–",
            _p(cond.tpr_at_1),
            _p(cond.tpr_at_5),
            _p(cond.fpr_at_threshold),
            _p(cond.tpr_at_threshold),
        ]
        table.add_row(*row, *([str(cond.failed)] if failures else []))
    console.print(table)
    for title, groups in (("Per generator", r.generators), ("Per source", r.sources)):
        if not groups:
            continue
        table = Table(title=title, title_justify="left")
        for column in ("name", "class", "n", "AUC", "called AI", "mean p_ai"):
            table.add_column(column, justify="left" if column in ("name", "class") else "right")
        for g in groups:
            table.add_row(g.name, g.label, str(g.n), _f(g.auc), _p(g.flagged), _f(g.mean_score))
        console.print(table)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def print_calibration(calibration: Calibration, console: Console) -> None:
    """What the calibration promises, with its uncertainty and warnings."""
    p = calibration
    t = p.thresholds
    console.print(
        f"[bold]Calibration profile {p.name!r}[/] for {p.model_name or p.model_profile}: "
        f"{p.n_real} real photos, target FPR {p.target_fpr:g}"
    )
    console.print(f"  AI threshold   p_ai ≥ {t.ai_threshold:.4f}")
    console.print(f"  real threshold p_ai ≤ {t.real_threshold:.4f} (between them: unsure)")
    shares = p.outcome_shares()
    if shares is not None:
        real, unsure, ai = shares
        console.print(
            f"  [bold]on photos like these:[/] about {_pct(real)} will read real, "
            f"{_pct(unsure)} unsure and {_pct(ai)} AI (measured on these {p.n_real} photos; "
            f"rule: {_pct(p.real_share)} real, --real-share)"
        )
    console.print(
        f"  false positives on these photos: {_p(p.empirical_fpr)} "
        f"(95% CI {_p(p.fpr_ci[0])}–{_p(p.fpr_ci[1])}); expected on new photos like them: "
        f"at most {_p(p.fpr_bound)}"
    )
    if p.tpr is not None and p.tpr_ci is not None:
        console.print(
            f"  recall on {p.n_ai} known-AI images: {_p(p.tpr)} "
            f"(95% CI {_p(p.tpr_ci[0])}–{_p(p.tpr_ci[1])})"
        )
    if p.skipped:
        files = "file" if p.skipped == 1 else "files"
        console.print(f"  [yellow]{p.skipped} {files} could not be scored and were skipped[/]")
    for warning in p.warnings:
        console.print(f"  [yellow]warning:[/] {warning}")
