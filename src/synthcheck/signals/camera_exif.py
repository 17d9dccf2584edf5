"""Camera EXIF: make, model, lens, exposure, capture time, GPS and maker notes.

A camera leaves a dense, consistent EXIF record; generators leave none or a thin one. But EXIF is
trivially copied onto any file, so this is weak evidence toward a camera and never decisive: the
score does not drop below 0.4. Editing software is noted. A generator named in ``Software`` is
evidence the other way (the generator-metadata signal names it decisively).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from synthcheck.intake.image import LoadedImage
from synthcheck.results import Evidence, SignalResult
from synthcheck.signals._ai_tools import match_ai_tool, match_editor
from synthcheck.signals._exif import ExifData, exif_text, read_exif
from synthcheck.signals.base import Signal
from synthcheck.signals.registry import register_signal

__all__ = ["CameraExifSignal"]

MAKE, MODEL, SOFTWARE = 0x010F, 0x0110, 0x0131
EXPOSURE_TIME, F_NUMBER, ISO, DATETIME_ORIGINAL = 0x829A, 0x829D, 0x8827, 0x9003
FOCAL_LENGTH, MAKER_NOTE, LENS_MAKE, LENS_MODEL = 0x920A, 0x927C, 0xA433, 0xA434
BODY_SERIAL = 0xA431
GPS_LATITUDE, GPS_LONGITUDE = 2, 4

# Weight of each kind of camera evidence; the sum maps to a score between 0.5 and _FLOOR.
_WEIGHTS = {
    "make_model": 0.03,
    "exposure": 0.03,
    "lens": 0.01,
    "capture_time": 0.01,
    "gps": 0.01,
    "maker_notes": 0.02,
    "serial": 0.01,
}
_FLOOR = 0.4
_LABELS = {
    "make_model": "make/model",
    "exposure": "exposure",
    "lens": "lens",
    "capture_time": "capture time",
    "gps": "GPS",
    "maker_notes": "maker notes",
    "serial": "serial number",
}


def _number(value: Any) -> float | None:
    try:
        if isinstance(value, tuple) and len(value) == 2:
            return float(Fraction(int(value[0]), int(value[1])))
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if number == number and number > 0 else None  # drops NaN and zero


def _exposure_words(exif: ExifData) -> dict[str, str]:
    found: dict[str, str] = {}
    t = _number(exif.get(EXPOSURE_TIME))
    if t is not None:
        found["exposure time"] = f"1/{round(1 / t)} s" if t < 1 else f"{t:g} s"
    f = _number(exif.get(F_NUMBER))
    if f is not None:
        found["f-number"] = f"f/{f:.1f}"
    iso = exif.get(ISO)
    iso = iso[0] if isinstance(iso, tuple) and iso else iso
    if isinstance(iso, int) and iso > 0:
        found["ISO"] = str(iso)
    focal = _number(exif.get(FOCAL_LENGTH))
    if focal is not None:
        found["focal length"] = f"{focal:g} mm"
    return found


@register_signal
class CameraExifSignal(Signal):
    """Reads the camera record in EXIF; weak evidence toward a camera, never proof."""

    name = "camera-exif"
    description = (
        "Camera EXIF (make, model, lens, exposure, capture time, GPS, maker notes): weak "
        "evidence of a camera capture that is easy to copy, never proof; editing software noted."
    )
    kind = "provenance"

    def analyze(self, image: LoadedImage) -> SignalResult:
        exif = read_exif(image.metadata.exif)
        if exif is None:
            note = "no EXIF" if not image.metadata.exif else "EXIF present but unreadable"
            return self.none(note)
        evidence: list[Evidence] = []
        kinds: set[str] = set()
        details: dict[str, Any] = {}
        make, model = exif_text(exif.get(MAKE)), exif_text(exif.get(MODEL))
        if make or model:
            camera = " ".join(p for p in (make, model) if p)
            if make and model and model.lower().startswith(make.split()[0].lower()):
                camera = model
            kinds.add("make_model")
            details["camera"] = camera
            evidence.append(Evidence(f"camera: {camera}", "EXIF Make/Model", camera))
        exposure = _exposure_words(exif)
        if len(exposure) >= 2:
            kinds.add("exposure")
        if exposure:
            text = ", ".join(f"{k} {v}" for k, v in exposure.items())
            details["exposure"] = exposure
            evidence.append(Evidence(f"exposure: {text}", "EXIF exposure", exposure))
        lens = exif_text(exif.get(LENS_MODEL)) or exif_text(exif.get(LENS_MAKE))
        if lens:
            kinds.add("lens")
            details["lens"] = lens
            evidence.append(Evidence(f"lens: {lens}", "EXIF LensModel", lens))
        taken = exif_text(exif.get(DATETIME_ORIGINAL))
        if taken:
            kinds.add("capture_time")
            evidence.append(Evidence(f"captured at {taken}", "EXIF DateTimeOriginal", taken))
        if GPS_LATITUDE in exif.gps and GPS_LONGITUDE in exif.gps:
            kinds.add("gps")
            evidence.append(Evidence("GPS position recorded", "EXIF GPS", True))
        notes = exif.exif.get(MAKER_NOTE)
        if isinstance(notes, bytes) and len(notes) >= 16:
            kinds.add("maker_notes")
            evidence.append(
                Evidence(f"maker notes present ({len(notes)} bytes)", "EXIF MakerNote", len(notes))
            )
        if exif_text(exif.get(BODY_SERIAL)):
            kinds.add("serial")
            evidence.append(
                Evidence("camera body serial number recorded", "EXIF BodySerialNumber", True)
            )
        software = exif_text(exif.get(SOFTWARE))
        if software:
            details["software"] = software
            tool = match_ai_tool(software)
            if tool:
                evidence.insert(
                    0,
                    Evidence(
                        f"Software names the generator {tool}: {software}",
                        "EXIF Software",
                        software,
                    ),
                )
                details["tool"] = tool
                return self.result(
                    "ai",
                    0.85,
                    f"EXIF Software names the generator {tool}",
                    evidence,
                    details=details,
                )
            editor = match_editor(software)
            label = f"edited with {editor}" if editor else "software"
            evidence.append(Evidence(f"{label}: {software}", "EXIF Software", software))
            if editor:
                details["editor"] = editor
        details["camera_fields"] = sorted(kinds)
        if exif.notes:
            evidence.append(
                Evidence(f"EXIF partly damaged: {exif.notes[0]}", "EXIF", list(exif.notes))
            )
        if len(kinds) >= 2 and kinds & {"make_model", "maker_notes"}:
            score = max(_FLOOR, 0.5 - sum(_WEIGHTS[k] for k in kinds))
            what = details.get("camera", "a camera")
            found = ", ".join(_LABELS[k] for k in sorted(kinds))
            return self.result(
                "real",
                score,
                f"EXIF describes a capture by {what} ({found}; weak evidence, EXIF can be copied)",
                evidence,
                details=details,
            )
        summary = "EXIF present without a camera record"
        if "make_model" in kinds:
            summary = f"EXIF names {details['camera']} but records no capture settings"
        return self.result("none", 0.5, summary, evidence, details=details)
