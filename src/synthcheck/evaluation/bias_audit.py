"""Dataset-bias audit: do the real and AI sets differ in ways a detector could exploit instead of
the pixels?

Published detectors have scored near-perfectly on benchmarks where all real images were camera
JPEGs and all generated ones PNGs, then collapsed in the wild. Before any accuracy number is
reported, :func:`audit_bias` compares the two sets on file facts that carry no content:

``format``        share of each container format (total variation distance)
``pixel_count``   image size distribution (two-sample Kolmogorov–Smirnov test)
``bytes_per_pixel`` compression level (KS test)
``jpeg_quality``  quality estimated from the JPEG quantization tables (KS test, JPEGs only)
``exif``          share of files carrying EXIF (Fisher's exact test)

Each finding also gives the AUC that the fact alone reaches as a "detector" (0.5 = no shortcut);
a finding is a warning when the difference is both significant and large.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.stats import fisher_exact, ks_2samp

from synthcheck.evaluation.metrics import auc_of
from synthcheck.intake.image import LoadedImage
from synthcheck.intake.jpeg_quality import estimate_jpeg_quality

__all__ = [
    "BiasAudit",
    "BiasFinding",
    "ImageFacts",
    "audit_bias",
    "estimate_jpeg_quality",
    "facts_of",
]

#: A difference is a warning when significant at this level ...
SIGNIFICANCE = 0.01
#: ... and at least this large (KS statistic, total variation distance, share difference).
EFFECT = 0.2
#: Or when the fact alone separates the sets at least this well.
SHORTCUT_AUC = 0.75


@dataclass(frozen=True)
class ImageFacts:
    """File facts that carry no image content."""

    format: str
    width: int
    height: int
    file_bytes: int
    has_exif: bool
    jpeg_quality: float | None

    @property
    def pixel_count(self) -> int:
        return self.width * self.height

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "file_bytes": self.file_bytes,
            "has_exif": self.has_exif,
            "jpeg_quality": self.jpeg_quality,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageFacts:
        return cls(
            format=str(data["format"]),
            width=int(data["width"]),
            height=int(data["height"]),
            file_bytes=int(data["file_bytes"]),
            has_exif=bool(data["has_exif"]),
            jpeg_quality=None if data["jpeg_quality"] is None else float(data["jpeg_quality"]),
        )


def facts_of(image: LoadedImage) -> ImageFacts:
    """The audit facts of a decoded image."""
    return ImageFacts(
        format=image.format,
        width=image.width,
        height=image.height,
        file_bytes=len(image.data),
        has_exif=bool(image.metadata.exif),
        jpeg_quality=image.metadata.jpeg_quality,  # read by intake, for JPEGs only
    )


@dataclass(frozen=True)
class BiasFinding:
    """One comparison of the real and AI sets."""

    check: str
    severity: Literal["warning", "ok", "skipped"]
    message: str
    statistic: float | None = None
    p_value: float | None = None
    shortcut_auc: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "shortcut_auc": self.shortcut_auc,
        }


@dataclass(frozen=True)
class BiasAudit:
    """All findings, warnings first; ``summary`` describes each set."""

    findings: list[BiasFinding]
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def warnings(self) -> list[BiasFinding]:
        return [f for f in self.findings if f.severity == "warning"]

    def to_dict(self) -> dict[str, Any]:
        return {"findings": [f.to_dict() for f in self.findings], "summary": self.summary}


def _shortcut(real: np.ndarray, ai: np.ndarray) -> float | None:
    if real.size == 0 or ai.size == 0:
        return None
    value = auc_of(ai, real)
    return max(value, 1.0 - value)


def _share(counter: Counter[str], total: int) -> str:
    return ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in counter.most_common(3))


def _format_check(real: Sequence[ImageFacts], ai: Sequence[ImageFacts]) -> BiasFinding:
    rc, ac = Counter(f.format for f in real), Counter(f.format for f in ai)
    keys = set(rc) | set(ac)
    tvd = 0.5 * sum(abs(rc[k] / len(real) - ac[k] / len(ai)) for k in keys)
    message = f"formats: real {_share(rc, len(real))}; AI {_share(ac, len(ai))}"
    if tvd >= EFFECT:
        return BiasFinding(
            "format", "warning",
            f"{message}. The container format alone tells the sets apart "
            f"(total variation {tvd:.2f}); launder both the same way (see --robustness).",
            statistic=tvd,
        )  # fmt: skip
    return BiasFinding("format", "ok", message, statistic=tvd)


def _ks_check(check: str, label: str, real: np.ndarray, ai: np.ndarray, unit: str) -> BiasFinding:
    if real.size < 5 or ai.size < 5:
        return BiasFinding(check, "skipped", f"{label}: fewer than 5 values in a set")
    result = ks_2samp(real, ai)
    d, p = float(result.statistic), float(result.pvalue)
    shortcut = _shortcut(real, ai)
    medians = f"median real {np.median(real):.3g}{unit}, AI {np.median(ai):.3g}{unit}"
    big = (p < SIGNIFICANCE and d >= EFFECT) or (shortcut is not None and shortcut >= SHORTCUT_AUC)
    if big:
        alone = (
            f"; it alone separates the sets with AUC {shortcut:.2f}"
            if shortcut is not None and shortcut >= 0.6
            else ""
        )
        return BiasFinding(
            check, "warning", f"{label} differs ({medians}; KS D={d:.2f}, p={p:.2g}){alone}.",
            statistic=d, p_value=p, shortcut_auc=shortcut,
        )  # fmt: skip
    return BiasFinding(
        check, "ok", f"{label}: {medians} (KS D={d:.2f})", statistic=d, p_value=p,
        shortcut_auc=shortcut,
    )  # fmt: skip


def _exif_check(real: Sequence[ImageFacts], ai: Sequence[ImageFacts]) -> BiasFinding:
    r = sum(f.has_exif for f in real)
    a = sum(f.has_exif for f in ai)
    share_r, share_a = r / len(real), a / len(ai)
    _, p = fisher_exact([[r, len(real) - r], [a, len(ai) - a]])
    diff = abs(share_r - share_a)
    shortcut = 0.5 + diff / 2  # AUC of a binary feature
    message = f"EXIF present in {100 * share_r:.0f}% of real and {100 * share_a:.0f}% of AI files"
    if float(p) < SIGNIFICANCE and diff >= EFFECT:
        return BiasFinding(
            "exif", "warning",
            f"{message}; strip metadata from both sets, or evaluate pixels only after laundering.",
            statistic=diff, p_value=float(p), shortcut_auc=shortcut,
        )  # fmt: skip
    return BiasFinding(
        "exif", "ok", message, statistic=diff, p_value=float(p), shortcut_auc=shortcut
    )


def _summary(facts: Sequence[ImageFacts]) -> dict[str, Any]:
    quality = [f.jpeg_quality for f in facts if f.jpeg_quality is not None]
    return {
        "n": len(facts),
        "formats": dict(Counter(f.format for f in facts).most_common()),
        "median_width": float(np.median([f.width for f in facts])),
        "median_height": float(np.median([f.height for f in facts])),
        "median_kib": float(np.median([f.file_bytes for f in facts])) / 1024.0,
        "exif_share": float(np.mean([f.has_exif for f in facts])),
        "median_jpeg_quality": float(np.median(quality)) if quality else None,
    }


def audit_bias(real: Sequence[ImageFacts], ai: Sequence[ImageFacts]) -> BiasAudit:
    """Compare the two sets; warnings come first in ``findings``."""
    if not real or not ai:
        return BiasAudit([BiasFinding("all", "skipped", "the audit needs images of both classes")])

    def column(facts: Sequence[ImageFacts], fn: Any) -> np.ndarray:
        return np.array([fn(f) for f in facts], dtype=np.float64)

    def quality(facts: Sequence[ImageFacts]) -> np.ndarray:
        return np.array([f.jpeg_quality for f in facts if f.jpeg_quality is not None])

    findings = [
        _format_check(real, ai),
        _ks_check(
            "pixel_count", "image size (megapixels)",
            column(real, lambda f: f.pixel_count / 1e6), column(ai, lambda f: f.pixel_count / 1e6),
            " MP",
        ),
        _ks_check(
            "bytes_per_pixel", "file size per pixel",
            column(real, lambda f: f.file_bytes / max(1, f.pixel_count)),
            column(ai, lambda f: f.file_bytes / max(1, f.pixel_count)),
            " B/px",
        ),
        _ks_check("jpeg_quality", "JPEG quality", quality(real), quality(ai), ""),
        _exif_check(real, ai),
    ]  # fmt: skip
    order = {"warning": 0, "ok": 1, "skipped": 2}
    findings.sort(key=lambda f: order[f.severity])
    return BiasAudit(findings, {"real": _summary(real), "ai": _summary(ai)})
