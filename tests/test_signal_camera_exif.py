"""The camera-exif signal on EXIF blocks written at test time."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from imagegen import make_jpeg, make_webp
from synthcheck.intake import load_image
from synthcheck.results import SignalResult
from synthcheck.signals import create_signal


def camera_exif(
    *,
    make: str | None = "Canon",
    model: str | None = "Canon EOS R5",
    software: str | None = None,
    exposure: bool = True,
    gps: bool = True,
    maker_note: bool = True,
) -> bytes:
    ex = Image.Exif()
    if make:
        ex[0x010F] = make
    if model:
        ex[0x0110] = model
    if software:
        ex[0x0131] = software
    sub: Any = ex.get_ifd(0x8769)
    if exposure:
        sub[0x829A] = IFDRational(1, 250)
        sub[0x829D] = IFDRational(28, 10)
        sub[0x8827] = 400
        sub[0x920A] = IFDRational(50, 1)
        sub[0x9003] = "2024:05:01 10:11:12"
        sub[0xA434] = "RF24-105mm F4 L IS USM"
    if maker_note:
        sub[0x927C] = b"CANON\x00" + bytes(range(64))
    if gps:
        g: Any = ex.get_ifd(0x8825)
        g[1] = "N"
        g[2] = (IFDRational(48, 1), IFDRational(51, 1), IFDRational(0, 1))
        g[3] = "E"
        g[4] = (IFDRational(2, 1), IFDRational(21, 1), IFDRational(0, 1))
    return ex.tobytes()


def analyze(path: Path) -> SignalResult:
    return create_signal("camera-exif").analyze(load_image(path))


def test_full_camera_record_is_weak_real(tmp_path: Path) -> None:
    result = analyze(make_jpeg(tmp_path / "c.jpg", exif=camera_exif()))
    assert result.verdict == "real" and not result.decisive
    assert 0.4 <= result.score < 0.45
    assert result.details["camera"] == "Canon EOS R5"
    assert result.details["exposure"] == {
        "exposure time": "1/250 s",
        "f-number": "f/2.8",
        "ISO": "400",
        "focal length": "50 mm",
    }
    assert result.details["lens"] == "RF24-105mm F4 L IS USM"
    assert set(result.details["camera_fields"]) == {
        "make_model",
        "exposure",
        "lens",
        "capture_time",
        "gps",
        "maker_notes",
    }
    assert "weak evidence" in result.summary


def test_thin_record_scores_closer_to_no_information(tmp_path: Path) -> None:
    full = analyze(make_jpeg(tmp_path / "a.jpg", exif=camera_exif())).score
    thin = analyze(
        make_jpeg(tmp_path / "b.jpg", exif=camera_exif(gps=False, maker_note=False))
    ).score
    assert full < thin < 0.5


def test_make_and_model_alone_are_no_evidence(tmp_path: Path) -> None:
    exif = camera_exif(exposure=False, gps=False, maker_note=False)
    result = analyze(make_jpeg(tmp_path / "m.jpg", exif=exif))
    assert result.verdict == "none" and result.score == 0.5
    assert "no capture settings" in result.summary


def test_editing_software_is_noted(tmp_path: Path) -> None:
    exif = camera_exif(software="Adobe Photoshop Lightroom Classic 13.0 (Windows)")
    result = analyze(make_webp(tmp_path / "e.webp", exif=exif))
    assert result.verdict == "real"
    assert result.details["editor"] == "Adobe Lightroom"
    assert any("edited with Adobe Lightroom" in e.message for e in result.evidence)


@pytest.mark.parametrize("software", ["Stable Diffusion", "DALL·E 3", "Adobe Firefly"])
def test_generator_in_software_points_to_ai(tmp_path: Path, software: str) -> None:
    exif = camera_exif(software=software, exposure=False, gps=False, maker_note=False)
    result = analyze(make_jpeg(tmp_path / "g.jpg", exif=exif))
    assert result.verdict == "ai" and not result.decisive
    assert result.score > 0.5


def test_no_exif(tmp_path: Path) -> None:
    result = analyze(make_jpeg(tmp_path / "n.jpg"))
    assert result.verdict == "none" and result.summary == "no EXIF"


@pytest.mark.parametrize(
    "raw",
    [b"II*\x00\xff\xff\xff\x7f", b"MM\x00*\x00\x00\x00\x08\xff\xff" + b"\x00" * 8, b"garbage"],
)
def test_damaged_exif_never_raises(tmp_path: Path, raw: bytes) -> None:
    image = load_image(make_jpeg(tmp_path / "d.jpg"))
    image.metadata.exif = raw
    result = create_signal("camera-exif").analyze(image)
    assert result.verdict == "none" and result.score == 0.5


def test_damaged_entry_keeps_the_rest_of_the_record(tmp_path: Path) -> None:
    make, model = b"Canon\x00", b"Canon EOS R5\x00"
    data_at = 8 + 2 + 3 * 12 + 4
    entries = struct.pack("<HHII", 0x010F, 2, len(make), data_at)
    entries += struct.pack("<HHII", 0x0110, 2, len(model), data_at + len(make))
    entries += struct.pack("<HHII", 0x010E, 2, 5000, 0xFFFF)  # points past the end
    raw = b"II*\x00" + struct.pack("<IH", 8, 3) + entries + b"\x00" * 4 + make + model
    image = load_image(make_jpeg(tmp_path / "d.jpg"))
    image.metadata.exif = raw
    result = create_signal("camera-exif").analyze(image)
    assert result.details["camera"] == "Canon EOS R5"
    assert any("partly damaged" in e.message for e in result.evidence)
