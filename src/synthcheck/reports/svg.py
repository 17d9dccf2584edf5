"""A p_ai histogram as inline SVG (no plotting library, nothing fetched)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["histogram_svg"]


def histogram_svg(
    counts: Sequence[int], *, width: int = 480, height: int = 160, label: str = "p_ai"
) -> str:
    """Bars for ``counts`` over [0, 1] in equal bins, with axis ticks at 0, 0.5 and 1."""
    n = len(counts)
    top = max(counts, default=0) or 1
    pad, base = 28, height - 22
    bar_w = (width - 2 * pad) / max(n, 1)
    bars = []
    for i, c in enumerate(counts):
        h = (base - 8) * c / top
        x = pad + i * bar_w
        colour = "#2e7d32" if (i + 0.5) / n < 0.5 else "#c62828"
        lo, hi = i / n, (i + 1) / n
        bars.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{label} {lo:.2f}–{hi:.2f}: {c}</title></rect>'
        )
    ticks = "".join(
        f'<text x="{pad + t * (width - 2 * pad):.1f}" y="{height - 6}" font-size="11" '
        f'text-anchor="middle">{t:g}</text>'
        for t in (0, 0.5, 1)
    )
    return (
        f'<svg role="img" aria-label="{label} histogram" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#555"/>'
        f'<text x="4" y="14" font-size="11">max {top}</text>' + "".join(bars) + ticks + "</svg>"
    )
