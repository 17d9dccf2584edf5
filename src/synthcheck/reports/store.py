"""The resumable results store of a scan: its own output file, appended one row at a time.

A scan with ``--output FILE`` writes each result as one JSONL line (or one CSV row) with a single
``write`` call as soon as it is known, so a killed scan keeps every row it had written. A later
scan with the same output reads the file back, skips the files it already holds and appends the
rest: nothing is scanned twice and no row is duplicated or lost. A torn last row (the process was
killed in the middle of a write) is cut off and that file is scanned again.

Rows are keyed by path together with the detector that produced them; resuming an output written
by another detector (another profile or model version) is refused rather than mixed. Each row also
carries the file's content sha256. The file is locked while a scan writes it.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from synthcheck.errors import ConfigError
from synthcheck.reports.rows import CSV_COLUMNS, csv_row, jsonl_line, result_from_csv_row
from synthcheck.results import ScanResult

__all__ = ["ResultStore", "StoreFormat", "read_results"]

StoreFormat = Literal["jsonl", "csv"]


def _csv_line(values: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


_CSV_HEADER = _csv_line(list(CSV_COLUMNS))


def _parse_lines(
    path: Path, fmt: StoreFormat, lines: list[str], first_line: int = 1
) -> Iterator[ScanResult]:
    if fmt == "jsonl":
        for number, line in enumerate(lines, first_line):
            if not line.strip():
                continue
            try:
                yield ScanResult.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise ConfigError(
                    f"{path}: line {number} is not a synthcheck result ({exc}); "
                    "pass --no-resume to start over or choose another --output"
                ) from exc
        return
    if lines and lines[0] != _CSV_HEADER:
        raise ConfigError(
            f"{path}: not a synthcheck CSV (unexpected header); "
            "pass --no-resume to start over or choose another --output"
        )
    for number, row in enumerate(csv.DictReader(lines), first_line + 1):
        try:
            yield result_from_csv_row(row)
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: row {number} is not a synthcheck result ({exc})") from exc


def read_results(path: str | os.PathLike[str], fmt: StoreFormat = "jsonl") -> Iterator[ScanResult]:
    """Stream the complete rows of a results file (a torn last row is ignored)."""
    source = Path(path)
    # surrogateescape: a CSV row keeps a file name that is not UTF-8 as its original bytes
    # (see ResultStore._write), and reads it back as the same string.
    with source.open("r", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        chunk: list[str] = []
        first_line = 1
        for line in handle:
            if not line.endswith("\n"):
                break
            chunk.append(line)
            if len(chunk) >= 1024:
                yield from _parse_chunk(source, fmt, chunk, first_line)
                first_line += len(chunk)
                chunk = []
        if chunk:
            yield from _parse_chunk(source, fmt, chunk, first_line)


def _parse_chunk(
    path: Path, fmt: StoreFormat, chunk: list[str], first_line: int
) -> Iterator[ScanResult]:
    # Every CSV chunk after the first is parsed under the header it lacks.
    if fmt == "csv" and first_line > 1:
        yield from _parse_lines(path, fmt, [_CSV_HEADER, *chunk], first_line - 1)
    else:
        yield from _parse_lines(path, fmt, chunk, first_line)


def _key(path: str) -> str:
    return os.path.normpath(path)


class ResultStore:
    """A scan's results file opened for appending, resumed from unless ``resume`` is False.

    ``on_existing`` sees every result already in the file (for the scan's totals). Raises
    :class:`ConfigError` when the file is in use by another scan, is not a synthcheck results file
    or holds results of another detector.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fmt: StoreFormat = "jsonl",
        resume: bool = True,
        detector: str | None = None,
        on_existing: Callable[[ScanResult], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.fmt: StoreFormat = fmt
        self.done: set[str] = set()
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot open for writing: {exc.strerror}") from exc
        try:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise ConfigError(f"{self.path} is being written by another scan") from exc
            if resume:
                self._load(detector, on_existing)
            else:
                os.ftruncate(self._fd, 0)
            if self.fmt == "csv" and os.fstat(self._fd).st_size == 0:
                self._write(_CSV_HEADER)
        except BaseException:
            os.close(self._fd)
            raise

    def _load(self, detector: str | None, on_existing: Callable[[ScanResult], None] | None) -> None:
        complete = 0
        with open(self._fd, "rb", closefd=False) as raw:
            raw.seek(0)
            for line in raw:
                if not line.endswith(b"\n"):
                    break
                complete += len(line)
        size = os.fstat(self._fd).st_size
        if complete < size:  # a torn last row from a killed scan: that file is scanned again
            os.ftruncate(self._fd, complete)
        if complete == 0:
            return
        for result in read_results(self.path, self.fmt):
            if detector and result.detector and result.detector != detector:
                raise ConfigError(
                    f"{self.path} holds results of detector {result.detector!r} but this scan "
                    f"uses {detector!r}; pass --no-resume to overwrite it or choose another "
                    "--output"
                )
            self.done.add(_key(result.path))
            if on_existing is not None:
                on_existing(result)

    def is_done(self, path: str) -> bool:
        return _key(path) in self.done

    def _write(self, text: str) -> None:
        # JSONL rows escape lone surrogates themselves (json_dumps); a CSV field cannot, so a file
        # name that is not UTF-8 is written back as the bytes it had on disk, reversibly.
        data = memoryview(text.encode("utf-8", "surrogateescape"))
        while data:
            written = os.write(self._fd, data)
            data = data[written:]

    def append(self, result: ScanResult) -> None:
        """Write one result as one row (one ``write`` call) and remember it as done."""
        self._write(jsonl_line(result) if self.fmt == "jsonl" else _csv_line(csv_row(result)))
        self.done.add(_key(result.path))

    def results(self) -> Iterator[ScanResult]:
        """Every result in the file, streamed from disk."""
        return read_results(self.path, self.fmt)

    def close(self) -> None:
        if self._fd >= 0:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
