"""Import images into a project: decode, hash, de-duplicate, cache features, commit per batch.

Each batch of :data:`BATCH_SIZE` files is decoded (a bad file is counted with its reason and the
import carries on), its features are computed for the project's extractors unless cached, and
the batch is committed: a crash or kill loses at most the batch in flight.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synthcheck.errors import InputError
from synthcheck.intake import load_image
from synthcheck.training.features import create_extractor
from synthcheck.training.sources import ImportItem
from synthcheck.training.store import Store

__all__ = ["BATCH_SIZE", "ImportReport", "import_items", "sha256_file"]

BATCH_SIZE = 32
#: Failed files kept with their reason in the report (the counts are always complete).
MAX_FAILURE_EXAMPLES = 50


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class ImportReport:
    """What an import did: new images, duplicates merged, failures by reason."""

    added: int = 0
    merged: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    failure_counts: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    #: Files the folder walk left out, by reason (not an image, hidden, not a regular file, ...).
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    seconds_features: float = 0.0

    def fail(self, path: str, code: str, reason: str) -> None:
        self.failed += 1
        self.failure_counts[code] += 1
        if len(self.failures) < MAX_FAILURE_EXAMPLES:
            self.failures.append((path, reason))

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "merged_duplicates": self.merged,
            "failed": self.failed,
            "failure_counts": dict(self.failure_counts),
            "failures": [{"path": p, "reason": r} for p, r in self.failures],
            "labels": {k or "(unlabelled)": v for k, v in self.labels.items()},
            "skipped": dict(self.skipped),
            "seconds": round(self.seconds, 3),
            "seconds_features": round(self.seconds_features, 3),
        }


def _copy_blob(store: Store, sha: str, data: bytes) -> str:
    target = store.blob_dir / sha[:2] / sha
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    return str(target)


def cache_features(
    store: Store,
    extractors: Sequence[str],
    pixels: dict[str, NDArray[np.uint8]],
    *,
    views: int = 1,
) -> float:
    """Compute and cache the features of ``pixels`` (sha256 -> image) that are not cached yet.
    Returns the seconds spent computing."""
    spent = 0.0
    shas = list(pixels)
    for name in extractors:
        ex = create_extractor(name, views=views)
        have = store.get_features(ex.name, ex.version, shas)
        todo = [s for s in shas if s not in have]
        if not todo:
            continue
        start = time.perf_counter()
        x = ex.compute([pixels[s] for s in todo])
        spent += time.perf_counter() - start
        store.put_features(ex.name, ex.version, zip(todo, x, strict=True))
    return spent


def import_items(
    store: Store,
    project_id: int,
    items: Iterable[ImportItem],
    extractors: Sequence[str],
    *,
    copy: bool = False,
    views: int = 1,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ``items`` (labels already validated) into project ``project_id``."""
    report = ImportReport()
    start = time.perf_counter()
    batch: list[ImportItem] = []

    def flush() -> None:
        rows = []
        pixels: dict[str, NDArray[np.uint8]] = {}
        for item in batch:
            try:
                image = load_image(item.path)
            except InputError as exc:
                report.fail(item.path, exc.code, exc.reason)
                continue
            except OSError as exc:  # pragma: no cover - intake maps I/O errors itself
                report.fail(item.path, "unreadable", f"{item.path}: {exc}")
                continue
            sha = image.sha256
            blob = _copy_blob(store, sha, image.data) if copy else None
            path = str(Path(item.path).resolve())
            rows.append(
                (
                    sha,
                    path,
                    blob,
                    image.format,
                    image.width,
                    image.height,
                    len(image.data),
                    item.label,
                    path,
                )
            )
            pixels.setdefault(sha, image.pixels)
        if rows:
            new: list[int] = []
            added, merged = store.add_images(project_id, rows, added_rows=new)
            # Per-label counts of the *new* images: duplicates are counted as merged only.
            for i in new:
                report.labels[rows[i][7] or ""] += 1
            report.added += added
            report.merged += merged
            report.seconds_features += cache_features(store, extractors, pixels, views=views)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for item in items:
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    report.seconds = time.perf_counter() - start
    return report
