"""Labelled image sets for evaluation: from a real and an AI folder, or from a CSV.

Folder layout: the first-level sub-folder of a file under the AI folder names its generator, under
the real folder its source (files directly in the folder have neither). Only files with an image
extension are taken from folders; everything else is counted as ignored. A CSV has a header with
``path`` (or ``file``) and ``label`` columns and optionally ``generator`` and ``source``; relative
paths are relative to the CSV's folder. For real rows without a ``source``, the ``generator``
column is taken as the source (manifests often use one column for both).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthcheck.engine.walk import WalkStats, expand_paths
from synthcheck.errors import ConfigError, DataError

__all__ = [
    "AI",
    "REAL",
    "FolderListing",
    "LabelledImage",
    "items_from_csv",
    "items_from_folders",
    "items_from_paths",
    "list_images",
    "parse_label",
    "sample_items",
]

REAL = 0
AI = 1
_REAL_LABELS = frozenset({"real", "0", "camera", "human", "authentic"})
_AI_LABELS = frozenset({"ai", "1", "fake", "generated", "synthetic"})


@dataclass(frozen=True)
class LabelledImage:
    """One image to evaluate: ``label`` is 1 for AI and 0 for real."""

    path: str
    label: int
    generator: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class FolderListing:
    """The image files found under a folder and how many other files were ignored."""

    files: list[Path]
    ignored: int


def parse_label(value: str) -> int:
    """``real``/``0``/``camera`` → 0, ``ai``/``fake``/``1``/``generated`` → 1 (case-insensitive)."""
    token = value.strip().lower()
    if token in _REAL_LABELS:
        return REAL
    if token in _AI_LABELS:
        return AI
    raise DataError(f"unknown label {value!r}: use 'real' or 'ai' (or 'fake', 0 / 1)")


def list_images(folder: str | os.PathLike[str]) -> FolderListing:
    """Image files under ``folder`` (recursive, sorted, hidden entries and symlinked folders
    skipped so a link loop cannot recurse). Raises :class:`DataError` when it is not a folder."""
    root = Path(folder)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a folder"
        raise DataError(f"{root}: {what}")
    stats = WalkStats()
    files = [Path(p) for p in expand_paths([root], stats=stats)]
    return FolderListing(files, stats.n_skipped)


def _first_part(path: Path, root: Path) -> str | None:
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else None


def items_from_folders(
    real_dir: str | os.PathLike[str], ai_dir: str | os.PathLike[str]
) -> tuple[list[LabelledImage], int]:
    """Items from a real and an AI folder, and the number of entries the folder walk left out."""
    items: list[LabelledImage] = []
    ignored = 0
    for folder, label in ((real_dir, REAL), (ai_dir, AI)):
        listing = list_images(folder)
        if not listing.files:
            raise DataError(f"{folder}: no image files found (looked for {_ext_hint()})")
        ignored += listing.ignored
        root = Path(folder)
        for path in listing.files:
            group = _first_part(path, root)
            items.append(
                LabelledImage(
                    str(path),
                    label,
                    generator=group if label == AI else None,
                    source=group if label == REAL else None,
                )
            )
    return items, ignored


def items_from_paths(
    real_paths: Iterable[str | os.PathLike[str]], ai_paths: Iterable[str | os.PathLike[str]]
) -> list[LabelledImage]:
    """Items from two lists of files (no generator or source)."""
    return [LabelledImage(os.fspath(p), REAL) for p in real_paths] + [
        LabelledImage(os.fspath(p), AI) for p in ai_paths
    ]


def items_from_csv(csv_path: str | os.PathLike[str]) -> list[LabelledImage]:
    """Items from a CSV with ``path``/``file``, ``label`` and optional ``generator``, ``source``."""
    path = Path(csv_path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            rows = list(reader)
    except FileNotFoundError:
        raise DataError(f"{path}: CSV file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read the CSV ({exc})") from None
    column = {h: raw for h, raw in zip(header, reader.fieldnames or [], strict=True)}
    path_col = column.get("path") or column.get("file")
    label_col = column.get("label")
    if path_col is None or label_col is None:
        raise DataError(
            f"{path}: the CSV needs a header with 'path' (or 'file') and 'label' columns; "
            f"found {', '.join(header) or 'no header'}"
        )
    gen_col, src_col = column.get("generator"), column.get("source")
    base = path.parent
    items: list[LabelledImage] = []
    for line, row in enumerate(rows, start=2):
        file_value = (row.get(path_col) or "").strip()
        if not file_value:
            raise DataError(f"{path}, line {line}: empty path")
        try:
            label = parse_label(row.get(label_col) or "")
        except DataError as exc:
            raise DataError(f"{path}, line {line}: {exc}") from None
        generator = ((row.get(gen_col) or "").strip() or None) if gen_col else None
        source = ((row.get(src_col) or "").strip() or None) if src_col else None
        if label == REAL and source is None:
            source, generator = generator, None
        file_path = Path(file_value)
        if not file_path.is_absolute():
            file_path = base / file_path
        items.append(LabelledImage(str(file_path), label, generator, source))
    if not items:
        raise DataError(f"{path}: the CSV lists no images")
    return items


def sample_items(
    items: Sequence[LabelledImage], per_class: int, seed: int = 0
) -> list[LabelledImage]:
    """At most ``per_class`` items of each label, drawn without replacement with ``seed``, in
    their original order."""
    if per_class < 1:
        raise ConfigError(f"per_class must be at least 1, got {per_class}")
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for label in (REAL, AI):
        index = [i for i, item in enumerate(items) if item.label == label]
        if len(index) > per_class:
            index = sorted(rng.choice(index, size=per_class, replace=False).tolist())
        keep.extend(index)
    return [items[i] for i in sorted(keep)]


def _ext_hint() -> str:
    return "JPEG, PNG, WebP, HEIC/HEIF, AVIF, TIFF, GIF, BMP, DNG and camera RAW extensions"
