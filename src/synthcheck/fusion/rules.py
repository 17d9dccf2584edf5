"""Fuse signal results (and the pixel model's probability) into one verdict.

Rules, in order:
1. Decisive AI provenance (a valid C2PA AI declaration, generator metadata, a watermark match)
   gives "ai" whatever the pixels say: a file that declares its generator is generated.
2. With a pixel probability ``p``: ``p >= ai_threshold`` gives "ai", ``p <= real_threshold``
   gives "real", anything between is "unsure". Decisive camera provenance (a valid, trusted C2PA
   ``digitalCapture`` claim) lowers ``p`` but never turns strong pixel evidence into "real".
3. Without a pixel probability: "unsure". Absence of evidence never gives "real".
4. When the pixels cannot carry a verdict (decoder fill after damaged data, a blank image) the
   pixel probability is reported but the verdict is at most "unsure": a damaged photo must not
   read as "real", nor a flat grey square as anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthcheck.errors import ConfigError
from synthcheck.results import ScanVerdict, SignalResult

__all__ = ["DEFAULT_THRESHOLDS", "Thresholds", "fuse"]


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on ``p_ai``; the band between them is reported as "unsure"."""

    real_threshold: float = 0.3
    ai_threshold: float = 0.7

    def __post_init__(self) -> None:
        if not 0.0 <= self.real_threshold <= self.ai_threshold <= 1.0:
            raise ConfigError(
                "thresholds must satisfy 0 <= real_threshold <= ai_threshold <= 1, got "
                f"real_threshold={self.real_threshold}, ai_threshold={self.ai_threshold}"
            )


DEFAULT_THRESHOLDS = Thresholds()


def fuse(
    signals: list[SignalResult],
    p_pixel: float | None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    pixels_reliable: bool = True,
) -> tuple[ScanVerdict, float | None]:
    """Return ``(verdict, p_ai)`` from provenance signals and the pixel probability."""
    decisive_ai = any(s.decisive and s.verdict == "ai" for s in signals)
    decisive_real = any(s.decisive and s.verdict == "real" for s in signals)
    p = p_pixel
    if decisive_ai:
        return "ai", (max(p, 0.99) if p is not None else None)
    if p is None or not pixels_reliable:
        return "unsure", p
    if decisive_real:
        # A trusted capture claim halves the odds of "ai" but cannot override strong pixel evidence.
        odds = p / max(1e-9, 1.0 - p) * 0.25
        p = odds / (1.0 + odds)
    if p >= thresholds.ai_threshold:
        return "ai", p
    if p <= thresholds.real_threshold:
        return "real", p
    return "unsure", p
