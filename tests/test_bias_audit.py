"""Dataset-bias audit: JPEG quality from quantization tables and the shortcut checks."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthcheck.evaluation.bias_audit import (
    BiasAudit,
    ImageFacts,
    audit_bias,
    estimate_jpeg_quality,
    facts_of,
)
from synthcheck.intake import load_image


def _encode(fmt: str, size: tuple[int, int] = (64, 48), seed: int = 0, **params: object) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **params)
    return buffer.getvalue()


@pytest.mark.parametrize("quality", [10, 30, 50, 60, 75, 85, 90, 95, 100])
def test_jpeg_quality_is_recovered_from_ijg_tables(quality: int) -> None:
    assert estimate_jpeg_quality(_encode("JPEG", quality=quality)) == quality


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "BMP"])
def test_no_quality_for_other_formats(fmt: str) -> None:
    assert estimate_jpeg_quality(_encode(fmt)) is None


def test_no_quality_for_garbage() -> None:
    assert estimate_jpeg_quality(b"\xff\xd8\xff garbage") is None
    assert estimate_jpeg_quality(b"") is None


def test_facts_of_a_loaded_image(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    path = tmp_path / "cam.jpg"
    path.write_bytes(_encode("JPEG", (80, 60), quality=85, exif=exif.tobytes()))
    facts = facts_of(load_image(path))
    assert facts == ImageFacts("JPEG", 80, 60, path.stat().st_size, True, 85.0)
    assert ImageFacts.from_dict(facts.to_dict()) == facts
    png = tmp_path / "gen.png"
    png.write_bytes(_encode("PNG"))
    assert facts_of(load_image(png)).has_exif is False
    assert facts_of(load_image(png)).jpeg_quality is None


def _facts(
    n: int,
    *,
    fmt: str = "JPEG",
    side: tuple[int, int] = (800, 1200),
    quality: tuple[int, int] = (88, 95),
    exif: float = 0.5,
    bpp: tuple[float, float] = (0.3, 0.6),
    seed: int = 0,
) -> list[ImageFacts]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        w = int(rng.integers(*side))
        h = int(rng.integers(*side))
        out.append(
            ImageFacts(
                format=fmt,
                width=w,
                height=h,
                file_bytes=int(w * h * rng.uniform(*bpp)),
                has_exif=bool(rng.random() < exif),
                jpeg_quality=float(rng.integers(*quality)) if fmt == "JPEG" else None,
            )
        )
    return out


def _severity(audit: BiasAudit, check: str) -> str:
    return next(f.severity for f in audit.findings if f.check == check)


def test_matched_sets_raise_no_warning() -> None:
    audit = audit_bias(_facts(200, seed=1), _facts(200, seed=2))
    assert audit.warnings == []
    assert {f.check for f in audit.findings} == {
        "format", "pixel_count", "bytes_per_pixel", "jpeg_quality", "exif"
    }  # fmt: skip
    assert audit.summary["real"]["n"] == 200


def test_format_shortcut() -> None:
    audit = audit_bias(_facts(100, seed=1), _facts(100, fmt="PNG", bpp=(2, 3), seed=2))
    assert _severity(audit, "format") == "warning"
    assert audit.findings[0].severity == "warning"  # warnings first
    text = " ".join(f.message for f in audit.warnings)
    assert "JPEG 100%" in text and "PNG 100%" in text


def test_size_shortcut() -> None:
    audit = audit_bias(_facts(100, seed=1), _facts(100, side=(400, 520), seed=2))
    finding = next(f for f in audit.findings if f.check == "pixel_count")
    assert finding.severity == "warning"
    assert finding.shortcut_auc is not None and finding.shortcut_auc > 0.95
    assert finding.p_value is not None and finding.p_value < 1e-6


def test_jpeg_quality_shortcut() -> None:
    audit = audit_bias(_facts(100, seed=1), _facts(100, quality=(70, 76), seed=2))
    assert _severity(audit, "jpeg_quality") == "warning"


def test_exif_shortcut() -> None:
    audit = audit_bias(_facts(100, exif=0.9, seed=1), _facts(100, exif=0.0, seed=2))
    finding = next(f for f in audit.findings if f.check == "exif")
    assert finding.severity == "warning"
    assert "EXIF present in" in finding.message


def test_small_sets_skip_distribution_tests() -> None:
    audit = audit_bias(_facts(3, seed=1), _facts(3, seed=2))
    assert _severity(audit, "pixel_count") == "skipped"


def test_one_class_only() -> None:
    audit = audit_bias(_facts(5), [])
    assert [f.severity for f in audit.findings] == ["skipped"]
