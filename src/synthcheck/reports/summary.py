"""Running totals of a scan: counts per verdict, failures, skips, files taken from a resumed run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from synthcheck.results import ScanResult

__all__ = ["VERDICTS", "ScanSummary"]

VERDICTS = ("ai", "unsure", "real", "error")

#: Failures kept verbatim for the end-of-scan report (the count is always complete).
MAX_ERROR_EXAMPLES = 20


@dataclass
class ScanSummary:
    """Totals over every result of a scan, including those resumed from an earlier run."""

    verdicts: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    error_types: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    resumed: int = 0
    seconds: float = 0.0

    def add(self, result: ScanResult, *, resumed: bool = False) -> None:
        self.verdicts[result.verdict] += 1
        if resumed:
            self.resumed += 1
        if result.error is not None:
            self.error_types[result.error.type] += 1
            if len(self.errors) < MAX_ERROR_EXAMPLES:
                self.errors.append((result.path, result.error.type, result.error.message))

    @property
    def total(self) -> int:
        return sum(self.verdicts.values())

    @property
    def n_errors(self) -> int:
        return self.verdicts["error"]

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    def line(self) -> str:
        """The one-line summary printed at the end of a scan."""
        parts = [f"{self.verdicts[v]} {v}" for v in ("ai", "unsure", "real")]
        text = f"{self.total} file{'' if self.total == 1 else 's'}: " + ", ".join(parts)
        text += f"; {self.n_errors} error{'s' if self.n_errors != 1 else ''}"
        text += f"; {self.n_skipped} skipped"
        if self.resumed:
            text += f"; {self.resumed} resumed from earlier results"
        if self.seconds > 0:
            text += f" ({self.seconds:.1f} s)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.total,
            "verdicts": {v: self.verdicts[v] for v in VERDICTS},
            "errors": self.n_errors,
            "error_types": dict(self.error_types),
            "skipped": self.n_skipped,
            "skipped_reasons": dict(self.skipped),
            "resumed": self.resumed,
            "seconds": round(self.seconds, 3),
        }
