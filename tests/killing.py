"""Run a Python snippet in a subprocess and kill -9 it once it prints a given line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def kill_when_printed(code: str, args: list[str], marker: str, *, timeout: float = 120) -> None:
    """Start ``python -c code *args``; SIGKILL it as soon as a line of its stdout starts with
    ``marker``. Fails the test if the marker never comes. Leaves no process behind."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith(marker):
                break
            if not line and proc.poll() is not None:
                raise AssertionError(
                    f"the subprocess ended (status {proc.returncode}) before {marker!r}"
                )
        else:
            raise AssertionError(f"the subprocess never printed {marker!r} within {timeout} s")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
