"""Turn what the user named (files, folders, a list file) into the files to scan.

Folders are walked recursively, following symbolic links but never entering the same directory
twice (a symlink loop ends the descent there). Inside folders only files with an image extension
are taken unless ``all_files`` is set; a file named explicitly is always scanned (its type is
detected from its content). Everything left out is counted in :class:`WalkStats` with a reason:
broken links, FIFOs and devices, hidden entries, unreadable folders.

``--from-list`` files hold one path per line (blank lines and ``#`` comments ignored) or are a CSV
with a ``path`` (or ``file``) column; relative entries are taken relative to the list's folder.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from synthcheck.errors import ConfigError
from synthcheck.intake.sniff import IMAGE_EXTENSIONS

__all__ = ["WalkStats", "expand_paths", "read_path_list"]

#: How many skipped paths are kept as examples for the report (the counts are always complete).
MAX_SKIP_EXAMPLES = 50


@dataclass
class WalkStats:
    """What the walk left out: counts per reason and a few example paths."""

    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[str, str]] = field(default_factory=list)
    duplicates: int = 0

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    def skip(self, path: str, reason: str) -> None:
        self.skipped[reason] += 1
        if len(self.examples) < MAX_SKIP_EXAMPLES:
            self.examples.append((path, reason))


def _describe_non_file(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    return "not a regular file"


def _walk_folder(
    root: str, stats: WalkStats, all_files: bool, seen_dirs: set[tuple[int, int]]
) -> Iterator[str]:
    try:
        st = Path(root).stat()
    except OSError as exc:
        stats.skip(root, f"unreadable folder: {exc.strerror or exc}")
        return
    key = (st.st_dev, st.st_ino)
    if key in seen_dirs:
        stats.skip(root, "folder already visited (symbolic link loop or repeated folder)")
        return
    seen_dirs.add(key)
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        stats.skip(root, f"unreadable folder: {exc.strerror or exc}")
        return
    subdirs: list[str] = []
    for entry in entries:
        if entry.name.startswith("."):
            stats.skip(entry.path, "hidden")
            continue
        try:
            est = entry.stat(follow_symlinks=True)
        except OSError:
            stats.skip(entry.path, "broken symbolic link or vanished file")
            continue
        if stat.S_ISDIR(est.st_mode):
            subdirs.append(entry.path)
        elif not stat.S_ISREG(est.st_mode):
            stats.skip(entry.path, _describe_non_file(est.st_mode))
        elif all_files or Path(entry.name).suffix.lower() in IMAGE_EXTENSIONS:
            yield entry.path
        else:
            stats.skip(entry.path, "no image extension (use --all-files to scan it)")
    for sub in subdirs:
        yield from _walk_folder(sub, stats, all_files, seen_dirs)


def _candidates(
    path: str, mode: int, stats: WalkStats, all_files: bool, seen_dirs: set[tuple[int, int]]
) -> Iterable[str]:
    if stat.S_ISDIR(mode):
        return _walk_folder(path, stats, all_files, seen_dirs)
    if stat.S_ISREG(mode):
        return (path,)
    stats.skip(path, _describe_non_file(mode))
    return ()


def expand_paths(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    stats: WalkStats | None = None,
    all_files: bool = False,
    missing: Literal["error", "skip", "keep"] = "error",
) -> Iterator[str]:
    """Yield every file to scan under ``inputs``, each once, in a stable order.

    A missing input raises :class:`ConfigError` (a usage error) when ``missing`` is "error", is
    counted as skipped with "skip", and is passed on with "keep" (so that the scan reports it as
    a failed file, as for the entries of a path list). A FIFO or device named explicitly is
    skipped, never opened.
    """
    stats = stats if stats is not None else WalkStats()
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    for raw in inputs:
        path = os.fspath(raw)
        try:
            st = Path(path).stat()
        except OSError as exc:
            if missing == "error":
                raise ConfigError(f"{path}: no such file or folder") from exc
            if missing == "skip":
                stats.skip(path, f"cannot open: {exc.strerror or exc}")
                continue
            candidates: Iterable[str] = (path,)
        else:
            candidates = _candidates(path, st.st_mode, stats, all_files, seen_dirs)
        for file in candidates:
            key = os.path.normpath(file)
            if key in seen_files:
                stats.duplicates += 1
                continue
            seen_files.add(key)
            yield file


def read_path_list(list_file: str | os.PathLike[str]) -> Iterator[str]:
    """Paths named by a list file: one per line, or a CSV with a ``path`` or ``file`` column.

    Raises :class:`ConfigError` when the file cannot be read or a CSV has neither column.
    """
    source = Path(list_file)
    try:
        handle = source.open("r", encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the path list: {exc.strerror or exc}") from exc
    base = source.parent
    with handle:
        first = handle.readline()
        header = next(csv.reader(io.StringIO(first)), [])
        columns = [h.strip().lower() for h in header]
        is_csv = source.suffix.lower() == ".csv" or (
            len(columns) > 1 and ("path" in columns or "file" in columns)
        )
        if is_csv:
            column = "path" if "path" in columns else "file" if "file" in columns else None
            if column is None:
                raise ConfigError(
                    f"{source}: a CSV path list needs a 'path' (or 'file') column; "
                    f"found {', '.join(header) or 'no header'}"
                )
            index = columns.index(column)
            for row in csv.reader(handle):
                if len(row) > index and row[index].strip():
                    yield _resolve(base, row[index].strip())
            return
        for line in itertools.chain((first,), handle):
            entry = line.strip()
            if entry and not entry.startswith("#"):
                yield _resolve(base, entry)


def _resolve(base: Path, entry: str) -> str:
    path = Path(entry).expanduser()
    return str(path if path.is_absolute() else base / path)
