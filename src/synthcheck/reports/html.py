"""The HTML scan report: one self-contained file (inline CSS and SVG, images as data URIs).

Up to ``detail_limit`` results every image gets a card with its thumbnail, heatmap and evidence.
Larger scans get a summary instead: counts, the p_ai histogram and cards for the ``top_n`` most
suspicious images only. Results are read in one streaming pass; at most ``max(detail_limit,
top_n)`` of them are held at once.
"""

from __future__ import annotations

import heapq
import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from synthcheck.engine.cautions import CAUTION_PREFIX
from synthcheck.pixel.heatmap import LEGEND_WORDS, colorize
from synthcheck.reports.images import file_data_uri, thumbnail_data_uri
from synthcheck.reports.rows import headline, plain_verdict, signal_word, tampered_manifest
from synthcheck.reports.summary import ScanSummary
from synthcheck.reports.svg import histogram_svg
from synthcheck.results import ScanResult

__all__ = ["DETAIL_LIMIT", "TOP_N", "suspicion", "write_html"]

#: Scans up to this many files show every image; larger ones show the top-N.
DETAIL_LIMIT = 500
TOP_N = 100
HISTOGRAM_BINS = 20


def suspicion(result: ScanResult) -> tuple[int, float]:
    """Sort key, highest first: "ai" verdicts, then p_ai (or the strongest signal score)."""
    if result.p_ai is not None:
        score = float(result.p_ai)
    else:
        scores = [s.score for s in result.signals if s.verdict != "none"]
        score = max(scores, default=0.5)
    return (1 if result.verdict == "ai" else 0, score)


@dataclass
class _Card:
    result: ScanResult
    thumbnail: str | None
    heatmap: str | None
    headline: str
    #: Plain words first (issue 27): the verdict as a sentence, then what could mislead.
    plain: str = ""
    alerts: tuple[str, ...] = ()
    #: Notes that are neither cautions nor the heatmap's: shown with the details.
    notes: tuple[str, ...] = ()
    heatmap_note: str | None = None


def _card(result: ScanResult, thumbnails: bool) -> _Card:
    thumb = thumbnail_data_uri(result.path) if thumbnails and result.verdict != "error" else None
    alerts: list[str] = []
    tampered = tampered_manifest(result)
    if tampered is not None:
        alerts.append(
            "Its C2PA Content Credentials fail validation: the file was changed after signing, "
            "or the credentials belong to another image. " + tampered.summary
        )
    alerts += [n[len(CAUTION_PREFIX) :] for n in result.notes if n.startswith(CAUTION_PREFIX)]
    mute = next((n for n in result.notes if n.startswith("heatmap uninformative")), None)
    others = tuple(n for n in result.notes if not n.startswith(CAUTION_PREFIX) and n is not mute)
    return _Card(
        result,
        thumb,
        file_data_uri(result.heatmap),
        headline(result),
        plain_verdict(result),
        tuple(alerts),
        others,
        mute,
    )


def _legend_gradient() -> str:
    """The heatmap's colour ramp as a CSS gradient (the same colours as the PNG overlay)."""
    stops = colorize(np.linspace(0.0, 1.0, 11))
    return ", ".join(f"rgb({r},{g},{b}) {i * 10}%" for i, (r, g, b) in enumerate(stops))


def write_html(
    stream: TextIO,
    results: Iterable[ScanResult],
    summary: ScanSummary,
    *,
    title: str = "synthcheck scan report",
    detail_limit: int = DETAIL_LIMIT,
    top_n: int = TOP_N,
    thumbnails: bool = True,
) -> None:
    """Write the report for ``results`` (streamed once) with the totals of ``summary``."""
    bins = [0] * HISTOGRAM_BINS
    n_scored = 0
    kept: list[ScanResult] = []
    heap: list[tuple[tuple[int, float], int, ScanResult]] = []
    total = 0
    for i, result in enumerate(results):
        total += 1
        if result.p_ai is not None:
            n_scored += 1
            bins[min(int(result.p_ai * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
        if total <= detail_limit:
            kept.append(result)
        item = (suspicion(result), -i, result)
        if len(heap) < top_n:
            heapq.heappush(heap, item)
        else:
            heapq.heappushpop(heap, item)
        if total > detail_limit and kept:
            kept = []  # too many: only the top-N will be shown
    detailed = total <= detail_limit
    chosen = kept if detailed else [r for _, _, r in sorted(heap, reverse=True)]
    if detailed:
        chosen = sorted(chosen, key=suspicion, reverse=True)
    env = Environment(
        loader=PackageLoader("synthcheck.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context: dict[str, Any] = {
        "title": title,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "summary": summary.to_dict(),
        "errors": summary.errors,
        "detailed": detailed,
        "total": total,
        "top_n": top_n,
        "cards": [_card(r, thumbnails) for r in chosen],
        "histogram": histogram_svg(bins) if n_scored else None,
        "n_scored": n_scored,
        "escape": html.escape,
        "signal_word": signal_word,
        "legend_words": LEGEND_WORDS,
        "legend_gradient": _legend_gradient(),
    }
    stream.write(env.get_template("scan_report.html.j2").render(**context))
    stream.flush()
