"""Render an :class:`EvaluationReport` as one self-contained HTML file (inline CSS and SVG)."""

from __future__ import annotations

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from synthcheck.evaluation.report import EvaluationReport
from synthcheck.evaluation.robustness import CLEAN
from synthcheck.evaluation.svg import histogram_svg, reliability_svg, roc_svg

__all__ = ["render_html"]

_ENV = Environment(
    loader=PackageLoader("synthcheck.evaluation", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def render_html(report: EvaluationReport, *, top_false_positives: int = 20) -> str:
    """The report as an HTML document (a string); plots are drawn as inline SVG."""
    from synthcheck._version import __version__

    clean = [(i.label, i.scores.get(CLEAN)) for i in report.images]
    real = np.array([s for label, s in clean if label == "real" and s is not None])
    ai = np.array([s for label, s in clean if label == "ai" and s is not None])
    t = report.thresholds
    curves = [(c.condition, c.roc) for c in report.conditions if c.roc]
    worst = sorted(
        (i for i in report.images if i.label == "real" and i.scores.get(CLEAN) is not None),
        key=lambda i: -(i.scores[CLEAN] or 0.0),
    )[:top_false_positives]
    template = _ENV.get_template("report.html.j2")
    return template.render(
        r=report,
        fmt=_fmt,
        pct=_pct,
        version=__version__,
        hist_svg=Markup(histogram_svg(real, ai, (t.real_threshold, t.ai_threshold))),
        reliability_svg=Markup(reliability_svg(report.reliability)),
        roc_svg=Markup(roc_svg(curves, "ROC per condition")),
        false_positives=worst,
    )
