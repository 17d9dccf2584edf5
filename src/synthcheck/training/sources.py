"""What to import: a folder with one label, a folder-per-label layout, unlabelled images, or a
CSV / JSONL list of ``path,label``.

Every source yields :class:`ImportItem` (path + label or None). Folders are walked recursively
without following symbolic links (no loops) and keep files with an image extension; a list file
names files explicitly, relative paths being taken relative to the list's folder.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from synthcheck.engine.walk import WalkStats, expand_paths
from synthcheck.errors import DataError, ProjectError

__all__ = ["ImportItem", "from_folder", "from_label_folders", "from_list_file", "walk_images"]


@dataclass(frozen=True)
class ImportItem:
    """One file to import and its label (None: unlabelled)."""

    path: str
    label: str | None


def _check_dir(folder: Path) -> None:
    if not folder.exists():
        raise DataError(f"{folder}: folder not found; check the path")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder; give a folder of images (or use --from FILE)")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise DataError(f"{folder}: folder is not readable (permission denied)")


def walk_images(folder: str | os.PathLike[str], stats: WalkStats | None = None) -> list[str]:
    """Image files under ``folder`` (recursive, sorted, hidden entries skipped, symlink loops
    safe); what was left out is counted in ``stats``."""
    root = Path(folder)
    _check_dir(root)
    return list(expand_paths([root], stats=stats))


def from_folder(
    folder: str | os.PathLike[str], label: str | None, stats: WalkStats | None = None
) -> Iterator[ImportItem]:
    """Every image under ``folder`` with one ``label`` (None: unlabelled); files left out (not
    images, hidden, not regular files) are counted in ``stats``."""
    for path in walk_images(folder, stats):
        yield ImportItem(path, label)


def from_label_folders(
    folder: str | os.PathLike[str], labels: tuple[str, ...], stats: WalkStats | None = None
) -> Iterator[ImportItem]:
    """Folder-per-label layout: ``folder/<label>/...``; every sub-folder must be a project label."""
    root = Path(folder)
    _check_dir(root)
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subdirs:
        raise DataError(
            f"{root}: no sub-folders; the folder-per-label layout needs {root}/<label>/..., "
            "or give the label with --label L (or --unlabelled)"
        )
    unknown = [p.name for p in subdirs if p.name not in labels]
    if unknown:
        raise ProjectError(
            f"{root}: sub-folders {', '.join(map(repr, unknown))} are not labels of this project "
            f"({', '.join(labels)}); rename them, add the labels with "
            "`synthcheck project create --labels` on a new project, or import with --label"
        )
    for sub in subdirs:
        yield from from_folder(sub, sub.name, stats)


def from_list_file(list_file: str | os.PathLike[str]) -> Iterator[ImportItem]:
    """Rows of a CSV (header with ``path`` or ``file``, optional ``label``) or JSONL
    (``{"path": ..., "label": ...}`` per line). An empty label means unlabelled."""
    path = Path(list_file)
    if not path.is_file():
        raise DataError(f"{path}: list file not found")
    base = path.parent
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the list file: {exc}") from exc
    is_jsonl = path.suffix.lower() in (".jsonl", ".ndjson") or text.lstrip().startswith("{")
    if is_jsonl:
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{lineno}: not valid JSON: {exc.msg}") from None
            if not isinstance(row, dict) or not isinstance(row.get("path"), str):
                raise DataError(f'{path}:{lineno}: expected an object with a "path" string')
            label = row.get("label")
            yield ImportItem(_resolve(base, row["path"]), str(label) if label else None)
        return
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    key = "path" if "path" in fields else "file" if "file" in fields else None
    if key is None:
        raise DataError(f"{path}: the CSV needs a header with a 'path' column (and 'label')")
    for lineno, raw in enumerate(reader, 2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not row.get(key):
            raise DataError(f"{path}:{lineno}: empty path")
        yield ImportItem(_resolve(base, row[key]), row.get("label") or None)


def _resolve(base: Path, entry: str) -> str:
    p = Path(entry).expanduser()
    return str(p if p.is_absolute() else base / p)
