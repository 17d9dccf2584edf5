"""Streaming writers: each result is written and flushed as soon as it is known.

JSONL and CSV hold nothing but the current row. The JSON document is written from a stream of
results (the scan's results file), so it never needs all results in memory either.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Protocol, TextIO

from rich.console import Console
from rich.markup import escape

from synthcheck._text import json_dumps, printable
from synthcheck.reports.rows import CSV_COLUMNS, csv_row, headline, jsonl_line
from synthcheck.reports.summary import ScanSummary
from synthcheck.results import ScanResult

__all__ = [
    "CsvWriter",
    "JsonlWriter",
    "ResultWriter",
    "TableWriter",
    "write_json",
]

VERDICT_STYLES = {"ai": "bold red", "real": "bold green", "unsure": "yellow", "error": "magenta"}


class ResultWriter(Protocol):
    def write(self, result: ScanResult) -> None: ...

    def close(self, summary: ScanSummary) -> None: ...


class JsonlWriter:
    """One JSON object per line (the ``synthcheck scan`` contract)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, result: ScanResult) -> None:
        self.stream.write(jsonl_line(result))
        self.stream.flush()

    def close(self, summary: ScanSummary) -> None:
        self.stream.flush()


class CsvWriter:
    """A header, then one row per result (see :data:`~synthcheck.reports.rows.CSV_COLUMNS`)."""

    def __init__(self, stream: TextIO, *, header: bool = True) -> None:
        self.stream = stream
        self._csv = csv.writer(stream, lineterminator="\n")
        if header:
            self._csv.writerow(CSV_COLUMNS)
            stream.flush()

    def write(self, result: ScanResult) -> None:
        self._csv.writerow(csv_row(result))
        self.stream.flush()

    def close(self, summary: ScanSummary) -> None:
        self.stream.flush()


class TableWriter:
    """Aligned rows on a terminal: verdict, p_ai, file and the evidence behind the verdict."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._header = False

    def write(self, result: ScanResult) -> None:
        if not self._header:
            self.console.print(f"[bold]{'verdict':<8} {'p_ai':>5}  file — evidence[/]")
            self._header = True
        style = VERDICT_STYLES.get(result.verdict, "")
        p_ai = "  -  " if result.p_ai is None else f"{result.p_ai:5.2f}"
        self.console.print(
            f"[{style}]{result.verdict:<8}[/] {p_ai}  {escape(printable(result.path))} — "
            f"[dim]{escape(printable(headline(result)))}[/]",
            soft_wrap=True,
            highlight=False,
        )

    def close(self, summary: ScanSummary) -> None:
        pass


def write_json(stream: TextIO, results: Iterable[ScanResult], summary: ScanSummary) -> None:
    """``{"summary": {...}, "results": [<JSONL objects>...]}``, written one result at a time."""
    stream.write('{"summary": ' + json.dumps(summary.to_dict()) + ', "results": [')
    for i, result in enumerate(results):
        stream.write(("\n" if i == 0 else ",\n") + json_dumps(result.to_dict()))
    stream.write("\n]}\n")
    stream.flush()
