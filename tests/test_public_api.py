"""Pins the public API: adding or removing a name here is a deliberate, reviewed change."""

from __future__ import annotations

import subprocess
import sys

import synthcheck

PUBLIC_API = [
    "Backbone",
    "BackboneError",
    "BackboneNotInstalledError",
    "CalibrationProfile",
    "ConfigError",
    "ContainerMetadata",
    "CorruptImageError",
    "DataError",
    "Detector",
    "ErrorInfo",
    "EvaluationReport",
    "Evidence",
    "FileUnreadableError",
    "ImageClassifier",
    "ImageTooLargeError",
    "InputError",
    "LoadedImage",
    "ModelError",
    "NotAnImageError",
    "PixelModel",
    "PixelPrediction",
    "Project",
    "ProjectError",
    "ScanOptions",
    "ScanResult",
    "ScanTimeoutError",
    "Signal",
    "SignalResult",
    "SynthcheckError",
    "Thresholds",
    "TruncatedImageError",
    "UnsupportedFormatError",
    "__version__",
    "build_detector",
    "calibrate_model",
    "create_backbone",
    "create_pixel_model",
    "create_signal",
    "evaluate_model",
    "list_backbones",
    "list_signals",
    "load_image",
    "load_image_bytes",
    "load_profile",
    "register_signal",
    "scan",
]


def test_public_api_is_pinned() -> None:
    assert sorted(synthcheck.__all__) == sorted(PUBLIC_API)


def test_every_public_name_resolves() -> None:
    for name in synthcheck.__all__:
        assert getattr(synthcheck, name) is not None, name


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        synthcheck.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_stays_light() -> None:
    code = (
        "import sys, synthcheck; "
        "print(','.join(m for m in ('onnxruntime', 'sklearn', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_private_modules_are_not_exported() -> None:
    assert not [n for n in synthcheck.__all__ if n.startswith("_") and n != "__version__"]
