"""Scan reports: JSONL, CSV, JSON, the terminal table and a self-contained HTML file."""

from synthcheck.reports.html import write_html
from synthcheck.reports.rows import CSV_COLUMNS, headline
from synthcheck.reports.summary import ScanSummary
from synthcheck.reports.writers import (
    CsvWriter,
    JsonlWriter,
    ResultWriter,
    TableWriter,
    write_json,
)

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "CsvWriter",
    "JsonlWriter",
    "ResultWriter",
    "ScanSummary",
    "TableWriter",
    "headline",
    "write_html",
    "write_json",
]

#: Output formats of ``synthcheck scan``.
FORMATS = ("table", "jsonl", "json", "csv", "html")
