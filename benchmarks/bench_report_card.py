"""Robustness report card of the default detector on the shared data (printed table).

    nice -n 10 python benchmarks/bench_report_card.py                      # cifar32 + dev, 200+200
    nice -n 10 python benchmarks/bench_report_card.py --sets dev --per-class 100 --profile fast
    python benchmarks/bench_report_card.py --sets dev --generators gpt4o_,kolors --html card.html

Sets (from ``../shared/data`` or ``$SYNTHCHECK_SHARED_DATA``):

``cifar32``  CIFAR-10 photos against 16 CIFAR-like generators. Neither the real source nor the
             generators are in the default detector's training data: a held-out test, at 32 px.
``dev``      the development pool, restricted to the images the default detector never trained
             on: the 1-in-20 hold-out of ``synthcheck.pixel.devpool`` (fixed by a hash of the file
             name), plus any ``held_out`` generators its ``manifest.json`` declares. These
             images come from generators and sources that *are* in the training data, so the dev
             card is an in-distribution reference; cifar32 is the unseen test.
             ``--generators`` / ``--sources`` (name prefixes) select other dev subsets.

For each set a fixed-seed sample of ``--per-class`` real and AI images is scored clean and under
every robustness transform; the table gives AUC and TPR at 5% FPR per condition, and the FPR /
TPR at the detector's active threshold. Exit status 2 when the pixel detector is unavailable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthcheck.errors import SynthcheckError  # noqa: E402
from synthcheck.evaluation import (  # noqa: E402
    EvaluationReport,
    evaluate_model,
    items_from_csv,
    render_html,
)
from synthcheck.evaluation.dataset import AI, REAL, LabelledImage, sample_items  # noqa: E402

SHARED = Path(os.environ.get("SYNTHCHECK_SHARED_DATA", REPO.parent / "shared" / "data"))


def _held_out(model: Any) -> tuple[list[str], list[str]]:
    """Generators / real sources the model declares as held out of training (may be empty)."""
    folder = getattr(model, "model_dir", None)
    if folder is None:
        return [], []
    manifest = Path(folder) / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return [], []
    held = data.get("held_out") or {}
    return list(held.get("generators", [])), list(held.get("sources", []))


def _never_trained(dev: Path, model: Any) -> set[Path]:
    """Dev images the default detector did not train on: the pixel package's fixed 1-in-20
    hold-out, plus every image of a generator the model's manifest declares held out."""
    from synthcheck.pixel.devpool import load_devpool

    generators, _ = _held_out(model)
    return {
        image.path
        for image in load_devpool(dev)
        if image.holdout or any(image.generator.startswith(g) for g in generators)
    }


def _select(
    items: list[LabelledImage], generators: list[str], sources: list[str]
) -> list[LabelledImage]:
    def keep(item: LabelledImage) -> bool:
        if item.label == AI and generators:
            return any((item.generator or "").startswith(g) for g in generators)
        if item.label == REAL and sources:
            return any((item.source or "").startswith(s) for s in sources)
        return True

    return [item for item in items if keep(item)]


def _print(report: EvaluationReport, title: str, seconds: float, n_scores: int) -> None:
    print(f"\n== {title}")
    print(
        f"model {report.model}; {report.n_real} real + {report.n_ai} AI; skipped "
        f"{report.skipped_files}; thresholds {report.thresholds.real_threshold:.3f} / "
        f"{report.thresholds.ai_threshold:.3f}; {n_scores} scores in {seconds:.0f} s "
        f"({n_scores / max(seconds, 1e-9):.1f} scores/s)"
    )
    for finding in report.bias.findings:
        print(f"  audit {finding.severity:>7} {finding.check}: {finding.message}")
    header = (
        f"{'condition':<12} {'AUC':>6} {'95% CI':>13} {'TPR@1%':>7} {'TPR@5%':>7} "
        f"{'FPR@thr':>8} {'TPR@thr':>8}"
    )
    print(header)
    print("-" * len(header))

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    for c in report.conditions:
        ci = f"{c.auc_ci[0]:.3f}-{c.auc_ci[1]:.3f}" if c.auc_ci else "-"
        auc = "-" if c.auc is None else f"{c.auc:.3f}"
        print(
            f"{c.condition:<12} {auc:>6} {ci:>13} {pct(c.tpr_at_1):>7} {pct(c.tpr_at_5):>7} "
            f"{pct(c.fpr_at_threshold):>8} {pct(c.tpr_at_threshold):>8}"
        )
    print(f"ECE {report.ece:.3f}; verdicts on real: {report.verdict_rates['real']}")
    print(f"{'generator / source':<32} {'n':>4} {'AUC':>6} {'called AI':>9}")
    for g in [*report.generators, *report.sources]:
        auc = "-" if g.auc is None else f"{g.auc:.3f}"
        print(f"{g.name[:32]:<32} {g.n:>4} {auc:>6} {100 * g.flagged:>8.1f}%")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sets", default="cifar32,dev", help="comma-separated: cifar32, dev")
    ap.add_argument("--profile", default="auto", help="auto, fast, thorough or local-dir:PATH")
    ap.add_argument("--per-class", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--generators", default="", help="dev: AI generator name prefixes to use")
    ap.add_argument("--sources", default="", help="dev: real source name prefixes to use")
    ap.add_argument("--no-robustness", action="store_true", help="clean condition only")
    ap.add_argument("--bootstrap", type=int, default=500)
    ap.add_argument("--json", type=Path, help="write the reports here (one JSON object per set)")
    ap.add_argument("--html", type=Path, help="write the first set's HTML report here")
    args = ap.parse_args(argv)

    from synthcheck.evaluation.models import resolve_model

    try:
        model = resolve_model(args.profile)
    except SynthcheckError as exc:
        print(f"the pixel detector is not available, nothing to measure: {exc}", file=sys.stderr)
        return 2
    reports: dict[str, Any] = {}
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        manifest = SHARED / name / "manifest.csv"
        if not manifest.is_file():
            print(f"skip {name}: {manifest} not found", file=sys.stderr)
            continue
        items = items_from_csv(manifest)
        title = f"{name}"
        if name == "dev":
            gens = [g for g in args.generators.split(",") if g]
            srcs = [s for s in args.sources.split(",") if s]
            if gens or srcs:
                items = _select(items, gens, srcs)
                title += f" (AI: {', '.join(gens) or 'all'}; real: {', '.join(srcs) or 'all'})"
            else:
                never_trained = _never_trained(manifest.parent, model)
                items = [i for i in items if Path(i.path) in never_trained]
                title += (
                    " - images never trained on (1-in-20 hold-out; their generators and sources"
                    " are in the training data)"
                )
        else:
            title += " - real source and generators unseen in training"
        items = sample_items(items, args.per_class, args.seed)
        start = time.perf_counter()
        report = evaluate_model(
            model, items=items, robustness=not args.no_robustness, n_boot=args.bootstrap,
            seed=args.seed,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        _print(report, title, seconds, report.scores_computed)
        reports[name] = report.to_dict()
        if args.html is not None and len(reports) == 1:
            args.html.write_text(render_html(report), encoding="utf-8")
    if args.json is not None:
        args.json.write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")
    return 0 if reports else 1


if __name__ == "__main__":
    raise SystemExit(main())
