"""The library logs to the "synthcheck" logger, quiet by default; the CLI's -v / -vv shows it."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from synthcheck.engine.detector import Detector
from synthcheck.intake.decode import load_image_bytes
from synthcheck.intake.image import LoadedImage
from synthcheck.results import SignalResult
from synthcheck.signals.base import Signal


class _Broken(Signal):
    name = "broken-for-test"
    description = "Always fails."
    kind = "provenance"

    def analyze(self, image: LoadedImage) -> SignalResult:
        raise RuntimeError("boom")


def _image() -> LoadedImage:
    buf = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buf, format="PNG")
    return load_image_bytes(buf.getvalue(), "noise.png")


def test_a_failing_signal_is_logged_with_its_traceback_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    detector = Detector(signals=[])
    detector.signals = [_Broken()]
    with caplog.at_level(logging.DEBUG, logger="synthcheck"):
        result = detector.scan_image(_image())
    assert "signal failed: RuntimeError: boom" in result.signals[0].summary
    [record] = [r for r in caplog.records if r.name == "synthcheck.engine.detector"]
    assert record.levelno == logging.DEBUG and "broken-for-test" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


def test_the_library_is_quiet_by_default() -> None:
    code = (
        "import logging, synthcheck\n"
        "logging.getLogger('synthcheck.engine.detector').warning('not shown')\n"
        "print([type(h).__name__ for h in logging.getLogger('synthcheck').handlers])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "['NullHandler']"
    assert proc.stderr == ""


def test_verbose_flags_set_the_level_and_log_to_stderr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from synthcheck.cli.app import configure_logging
    from synthcheck.cli.main import app
    from synthcheck.home import HOME_ENV

    monkeypatch.setenv(HOME_ENV, str(tmp_path))

    logger = logging.getLogger("synthcheck")
    try:
        result = CliRunner().invoke(app, ["-vv", "calibrations"])
        assert result.exit_code == 0, result.output
        assert logger.level == logging.DEBUG
        configure_logging(1)
        assert logger.level == logging.INFO
        assert sum(type(h).__name__ == "_StderrHandler" for h in logger.handlers) == 1
    finally:
        configure_logging(0)
    assert logger.level == logging.NOTSET
    assert [type(h).__name__ for h in logger.handlers] == ["NullHandler"]
