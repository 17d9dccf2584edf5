"""File names of any bytes: every output format writes them, and resume matches them again."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagegen import make_png
from synthcheck._text import json_dumps, printable
from synthcheck.errors import CorruptImageError
from synthcheck.reports.store import ResultStore, read_results
from synthcheck.results import ScanResult

# A Latin-1 name (not UTF-8) and a name with an escape sequence that would drive a terminal.
RAW_NAMES = [b"caf\xe9.png", b"evil\x1b[31m.png"]


def _make(tmp_path: Path) -> list[str]:
    folder = tmp_path / "in"
    folder.mkdir()
    names = []
    for raw in RAW_NAMES:
        target = os.fsencode(folder) + b"/" + raw
        make_png(os.fsdecode(target))
        names.append(os.fsdecode(target))
    return names


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "synthcheck.cli.main", *args],
        capture_output=True,
        timeout=300,
        env={**os.environ, "CI": "1"},
    )


def test_json_dumps_round_trips_lone_surrogates() -> None:
    name = os.fsdecode(b"caf\xe9.png")
    text = json_dumps({"path": name, "note": "é"})
    text.encode("utf-8")  # valid UTF-8
    assert "é" in text  # readable text stays readable
    assert json.loads(text)["path"] == name


def test_printable_escapes_controls_and_undecodable_bytes() -> None:
    assert printable(os.fsdecode(b"a\xe9b")) == "a\\xe9b"
    assert printable("x\x1b[31my\x00\n") == "x\\x1b[31my\\x00\\x0a"
    assert printable("tab\tand é") == "tab\tand é"


def test_error_messages_escape_control_bytes() -> None:
    exc = CorruptImageError("a\x07.png", "chunk b'\x1b]0;x\x07' is damaged")
    assert "\x1b" not in str(exc) and "\x07" not in str(exc)
    assert exc.path == "a\x07.png"  # the result keeps the real name


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_store_round_trips_any_name(tmp_path: Path, fmt: str) -> None:
    name = os.fsdecode(b"/photos/caf\xe9.png")
    out = tmp_path / f"r.{fmt}"
    with ResultStore(out, fmt=fmt) as store:  # type: ignore[arg-type]
        store.append(ScanResult(path=name, verdict="unsure"))
    back = list(read_results(out, fmt))  # type: ignore[arg-type]
    assert [r.path for r in back] == [name]
    with ResultStore(out, fmt=fmt) as again:  # type: ignore[arg-type]
        assert again.is_done(name)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json", "html"])
def test_scan_to_a_file_with_hostile_names_finishes_and_resumes(tmp_path: Path, fmt: str) -> None:
    names = _make(tmp_path)
    out = tmp_path / f"out.{fmt}"
    args = ["scan", str(tmp_path / "in"), "--profile", "provenance", "--workers", "1"]
    first = _cli(*args, "--format", fmt, "--output", str(out))
    assert first.returncode == 0, first.stderr.decode("utf-8", "replace")
    assert b"\x1b[31m" not in first.stderr  # the name is escaped on the terminal
    data = out.read_bytes()
    if fmt == "jsonl":
        rows = [json.loads(line) for line in data.decode("utf-8").splitlines()]
        assert sorted(r["path"] for r in rows) == sorted(names)
    elif fmt == "csv":
        with out.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
            assert sorted(r["path"] for r in csv.DictReader(handle)) == sorted(names)
    elif fmt == "json":
        paths = [r["path"] for r in json.loads(data.decode("utf-8"))["results"]]
        assert sorted(paths) == sorted(names)
    else:
        assert b"caf\\xe9" in data or b"caf\\udce9" in data
    again = _cli(*args, "--format", fmt, "--output", str(out))
    assert again.returncode == 0, again.stderr.decode("utf-8", "replace")
    if fmt in ("jsonl", "csv"):
        assert out.read_bytes() == data  # both files were found done: nothing appended


def test_scan_to_stdout_with_hostile_names(tmp_path: Path) -> None:
    names = _make(tmp_path)
    for fmt in ("jsonl", "csv", "table"):
        done = _cli("scan", str(tmp_path / "in"), "--profile", "provenance", "--format", fmt)
        assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
        if fmt == "jsonl":
            rows = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
            assert sorted(r["path"] for r in rows) == sorted(names)
        if fmt == "table":
            assert b"\x1b[31m" not in done.stdout
