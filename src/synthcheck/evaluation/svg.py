"""Small inline-SVG plots for the HTML report: no plotting library, no external assets.

Every function returns one ``<svg>`` element as a string, sized by ``viewBox`` so it scales with
the page, with axis labels and a legend; text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
from numpy.typing import ArrayLike

from synthcheck.evaluation.metrics import ReliabilityBin

__all__ = ["PALETTE", "histogram_svg", "reliability_svg", "roc_svg"]

#: Colour-blind-safe palette (Okabe–Ito), used in order.
PALETTE = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
    "#999999",
)  # fmt: skip

_W, _H = 420, 320
_L, _R, _T, _B = 52, 14, 14, 44  # plot margins


def _x(v: float) -> float:
    return _L + v * (_W - _L - _R)


def _y(v: float) -> float:
    return _H - _B - v * (_H - _T - _B)


def _frame(x_label: str, y_label: str, title: str) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{escape(title)}" class="plot">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{_L}" y="{_T}" width="{_W - _L - _R}" height="{_H - _T - _B}" '
        'fill="none" stroke="#888"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{_x(tick):.1f}" y1="{_H - _B}" x2="{_x(tick):.1f}" y2="{_H - _B + 4}" '
            'stroke="#888"/>'
            f'<text x="{_x(tick):.1f}" y="{_H - _B + 16}" font-size="11" '
            f'text-anchor="middle">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{(_L + _W - _R) / 2:.1f}" y="{_H - 6}" font-size="12" '
        f'text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="14" y="{(_T + _H - _B) / 2:.1f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {(_T + _H - _B) / 2:.1f})">{escape(y_label)}</text>'
    )
    return parts


def _y_ticks(top: float, fmt: str = "{:g}") -> list[str]:
    parts = []
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{_L - 4}" y1="{_y(frac):.1f}" x2="{_L}" y2="{_y(frac):.1f}" stroke="#888"/>'
            f'<text x="{_L - 6}" y="{_y(frac) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{fmt.format(frac * top)}</text>'
        )
    return parts


def _legend(entries: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    longest = max((len(label) for label, _ in entries), default=0)
    parts = [
        f'<rect x="{x - 4:.1f}" y="{y - 13:.1f}" width="{22 + 6.5 * longest:.1f}" '
        f'height="{15 * len(entries) + 4}" fill="#fff" fill-opacity="0.85"/>'
    ]
    for i, (label, colour) in enumerate(entries):
        yy = y + 15 * i
        parts.append(
            f'<rect x="{x:.1f}" y="{yy - 9:.1f}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14:.1f}" y="{yy:.1f}" font-size="11">{escape(label)}</text>'
        )
    return parts


def roc_svg(curves: Sequence[tuple[str, Sequence[tuple[float, float]]]], title: str = "ROC") -> str:
    """ROC curves, one ``(label, [(fpr, tpr), ...])`` per condition, with the chance diagonal."""
    parts = [*_frame("false-positive rate (real called AI)", "true-positive rate", title)]
    parts += _y_ticks(1.0)
    parts.append(
        f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}" stroke="#bbb" '
        'stroke-dasharray="4 3"/>'
    )
    entries = []
    for i, (label, points) in enumerate(curves):
        colour = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{_x(f):.1f},{_y(t):.1f}" for f, t in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.6">'
            f"<title>{escape(label)}</title></polyline>"
        )
        entries.append((label, colour))
    parts += _legend(entries, _x(0.62), _y(0.05) - 15 * len(entries))
    parts.append("</svg>")
    return "".join(parts)


def histogram_svg(
    real: ArrayLike,
    ai: ArrayLike,
    thresholds: tuple[float, float] | None = None,
    *,
    bins: int = 20,
    title: str = "Score histogram",
) -> str:
    """Overlaid histograms (share of each class per bin) of real and AI scores in [0, 1], with
    the real / AI thresholds as vertical lines."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    real_arr = np.asarray(real, dtype=np.float64)
    ai_arr = np.asarray(ai, dtype=np.float64)
    shares = []
    for values in (real_arr, ai_arr):
        counts, _ = np.histogram(values, bins=edges)
        shares.append(counts / max(1, values.size))
    top = max(0.05, float(max(s.max(initial=0.0) for s in shares)))
    top = float(np.ceil(top * 20) / 20)
    parts = [*_frame("p_ai", "share of images", title), *_y_ticks(top, "{:.2f}")]
    width = (_W - _L - _R) / bins
    for colour, share, label in (
        (PALETTE[0], shares[0], f"real (n={real_arr.size})"),
        (PALETTE[1], shares[1], f"AI (n={ai_arr.size})"),
    ):
        for i, value in enumerate(share):
            if value <= 0:
                continue
            height = value / top * (_H - _T - _B)
            parts.append(
                f'<rect x="{_x(edges[i]):.1f}" y="{_y(0) - height:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" fill="{colour}" fill-opacity="0.55">'
                f"<title>{escape(label)}: {100 * value:.1f}% in "
                f"[{edges[i]:.2f}, {edges[i + 1]:.2f})</title></rect>"
            )
    if thresholds is not None:
        for value, name in zip(thresholds, ("real ≤", "AI ≥"), strict=True):
            parts.append(
                f'<line x1="{_x(value):.1f}" y1="{_T}" x2="{_x(value):.1f}" y2="{_H - _B}" '
                'stroke="#333" stroke-dasharray="3 3"/>'
                f'<text x="{_x(value) + 3:.1f}" y="{_T + 12}" font-size="10">'
                f"{escape(name)} {value:.3f}</text>"
            )
    parts += _legend(
        [(f"real (n={real_arr.size})", PALETTE[0]), (f"AI (n={ai_arr.size})", PALETTE[1])],
        _x(0.38), _T + 30,
    )  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def reliability_svg(bins: Sequence[ReliabilityBin], title: str = "Reliability diagram") -> str:
    """Mean score against the observed AI share per bin; the diagonal is perfect calibration and
    each dot's area shows how many images the bin holds."""
    parts = [*_frame("mean p_ai in bin", "observed share of AI images", title), *_y_ticks(1.0)]
    parts.append(
        f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}" stroke="#bbb" '
        'stroke-dasharray="4 3"/>'
    )
    total = max(1, sum(b.count for b in bins))
    points = " ".join(f"{_x(b.mean_score):.1f},{_y(b.fraction_ai):.1f}" for b in bins)
    parts.append(f'<polyline points="{points}" fill="none" stroke="{PALETTE[0]}"/>')
    for b in bins:
        radius = 2.5 + 9.0 * (b.count / total) ** 0.5
        parts.append(
            f'<circle cx="{_x(b.mean_score):.1f}" cy="{_y(b.fraction_ai):.1f}" r="{radius:.1f}" '
            f'fill="{PALETTE[0]}" fill-opacity="0.6"><title>[{b.low:.1f}, {b.high:.1f}): '
            f"{b.count} images, mean p_ai {b.mean_score:.2f}, AI share {b.fraction_ai:.2f}"
            "</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
