"""Receive uploads safely: size-capped streaming into a private temporary folder.

The client's file name is never used as a path: each upload is stored under a random name and the
original name is kept only as a label (stripped of any directory part) for the results.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from fastapi import HTTPException, UploadFile, status

__all__ = [
    "SavedUpload",
    "display_name",
    "received_uploads",
    "save_uploads",
    "stored_file_name",
    "upload_area",
]

#: Longest file name kept for a stored upload, in UTF-8 bytes (NAME_MAX of common file systems).
MAX_NAME_BYTES = 255

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SavedUpload:
    name: str  # the client's file name, sanitised, for display only
    path: Path  # where the bytes were written
    size: int


def display_name(raw: str | None) -> str:
    """The last path component of a client-supplied name, without control characters."""
    if not raw:
        return "upload"
    base = PureWindowsPath(PurePosixPath(raw).name).name
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in "\\/")
    return cleaned[:255] or "upload"


def stored_file_name(raw: str | None) -> str:
    """A client's file name that is to become a file name on disk (project uploads), unchanged;
    a 400 that says why for anything that is not a plain name.

    Unlike :func:`display_name` nothing is repaired: a project keeps the name for reviews, so a
    name is either usable as it is or refused, never silently turned into another one.
    """
    from synthcheck.service.escape import escape_controls

    name = raw or ""
    shown = repr(escape_controls(name[:80])) + ("..." if len(name) > 80 else "")
    problem = None
    if not name:
        problem = "it is empty"
    elif name in (".", ".."):
        problem = "it names a folder"
    elif "/" in name or "\\" in name:
        problem = "it is a path (send the file's name only)"
    elif not name.isprintable():
        problem = "it contains control or other non-printable characters"
    elif len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        problem = f"it is longer than {MAX_NAME_BYTES} bytes"
    elif name.strip() != name:
        problem = "it starts or ends with white space"
    if problem is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unusable file name {shown}: {problem}")
    return name


@contextmanager
def upload_area() -> Iterator[Path]:
    """A private temporary folder, removed with everything in it on exit."""
    with tempfile.TemporaryDirectory(prefix="synthcheck-upload-") as tmp:
        Path(tmp).chmod(0o700)
        yield Path(tmp)


async def save_uploads(
    files: list[UploadFile], area: Path, *, max_files: int, max_bytes: int
) -> list[SavedUpload]:
    if not files:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "no files in the request (field 'files')")
    if len(files) > max_files:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(files)} files in one request; the limit is {max_files}",
        )
    saved: list[SavedUpload] = []
    total = 0
    for upload in files:
        name = display_name(upload.filename)
        ext = Path(name).suffix.lower()[:10]
        target = area / f"{uuid.uuid4().hex}{ext if ext.isascii() else ''}"
        size = 0
        with target.open("wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise HTTPException(
                        status.HTTP_413_CONTENT_TOO_LARGE,
                        f"upload is over the {max_bytes} byte limit",
                    )
                out.write(chunk)
        saved.append(SavedUpload(name=name, path=target, size=size))
    return saved


@asynccontextmanager
async def received_uploads(
    files: list[UploadFile], *, max_files: int, max_bytes: int
) -> AsyncIterator[tuple[Path, list[SavedUpload]]]:
    """Save ``files`` under the limits into a private folder that is removed on exit."""
    with upload_area() as area:
        yield area, await save_uploads(files, area, max_files=max_files, max_bytes=max_bytes)
