"""The project store: one SQLite database under the synthcheck home folder.

Layout of the home folder::

    <home>/projects.sqlite3     projects, images, labels, cached features and projections,
                                model versions
    <home>/blobs/ab/<sha256>    copies of imported files (only with ``--copy``)

Durability: the database runs in WAL mode with foreign keys on; every import batch and every
training result is one transaction, so a crash or ``kill -9`` loses at most the batch in flight
and never leaves a half-written row. Readers never block the writer.

Copy vs reference policy: an image is identified by the SHA-256 of its bytes. By default the store
keeps a *reference* (the absolute path it was imported from) and the cached features, which is
all that training needs: once features are cached, moving or deleting the original does not stop
retraining or review. Reading the pixels again (a new backbone, a new feature version) needs the
file: it is read from the recorded path, or from the home's blob store when the image was imported
with ``copy=True`` (``--copy``), which makes the project independent of the original folder at
the cost of disk space. The same file imported twice (same bytes) is one image; importing it
into another project shares its cached features.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synthcheck.errors import ProjectError, ProjectNotFoundError
from synthcheck.home import synthcheck_home
from synthcheck.training.model_summary import ModelSummary

__all__ = [
    "DB_NAME",
    "SCHEMA_VERSION",
    "ImageRow",
    "ModelRow",
    "ProjectRow",
    "Store",
]

DB_NAME = "projects.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    labels TEXT NOT NULL,
    ai_labels TEXT NOT NULL,
    settings TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    blob TEXT,
    format TEXT,
    width INTEGER,
    height INTEGER,
    nbytes INTEGER,
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS project_images (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL REFERENCES images(sha256),
    label TEXT,
    source TEXT NOT NULL,
    added REAL NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (project_id, sha256)
);
CREATE INDEX IF NOT EXISTS project_images_seq ON project_images(project_id, seq);
CREATE TABLE IF NOT EXISTS features (
    sha256 TEXT NOT NULL REFERENCES images(sha256),
    extractor TEXT NOT NULL,
    version TEXT NOT NULL,
    dim INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (sha256, extractor, version)
);
CREATE TABLE IF NOT EXISTS models (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    created REAL NOT NULL,
    summary TEXT NOT NULL,
    file BLOB NOT NULL,
    UNIQUE (project_id, version)
);
CREATE TABLE IF NOT EXISTS current_models (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS projections (
    key TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS predictions (
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    predicted TEXT NOT NULL,
    confidence REAL NOT NULL,
    p_ai REAL,
    proba TEXT NOT NULL,
    out_of_fold INTEGER NOT NULL,
    PRIMARY KEY (model_id, sha256)
);
"""


@dataclass(frozen=True)
class ProjectRow:
    """A project as stored: its label set, which labels count as AI, and training settings."""

    id: int
    name: str
    labels: tuple[str, ...]
    ai_labels: tuple[str, ...]
    settings: dict[str, Any]
    created: float


@dataclass(frozen=True)
class ImageRow:
    """One image of a project, with its label (None when unlabelled)."""

    sha256: str
    path: str
    blob: str | None
    label: str | None
    source: str
    added: float
    seq: int
    format: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class ModelRow:
    """One trained model version (``file`` is the exported model, see :mod:`.modelfile`)."""

    id: int
    project_id: int
    version: int
    created: float
    summary: ModelSummary


def _validate_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ProjectError("a project name must be a non-empty string")
    name = name.strip()
    bad = [c for c in name if c in "/\\:" or ord(c) < 32]
    if bad or len(name) > 100:
        raise ProjectError(
            f"invalid project name {name!r}: use at most 100 characters, without / \\ : "
            "or control characters"
        )
    return name


class Store:
    """The SQLite store of every project in one home folder.

    ``Store(home)`` opens (and creates, on first use) ``<home>/projects.sqlite3``. One connection
    per Store; use it from one thread. Close it with :meth:`close` or a ``with`` block.
    """

    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self.home = synthcheck_home(home)
        self.path = self.home / DB_NAME
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise ProjectError(f"{self.path}: cannot open the project store: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row["value"]) > SCHEMA_VERSION:
                raise ProjectError(
                    f"{self.path} was written by a newer synthcheck (schema {row['value']}); "
                    "upgrade synthcheck to open it"
                )

    # -- plumbing ----------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: committed on success, rolled back on any exception."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"

    # -- projects ----------------------------------------------------------------------------
    def create_project(
        self,
        name: str,
        labels: Sequence[str],
        ai_labels: Sequence[str],
        settings: dict[str, Any],
    ) -> ProjectRow:
        name = _validate_name(name)
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM projects WHERE name=?", (name,)).fetchone():
                raise ProjectError(
                    f"project {name!r} already exists; pick another name or delete it first "
                    f"(synthcheck project delete {name})"
                )
            db.execute(
                "INSERT INTO projects(name, labels, ai_labels, settings, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    name,
                    json.dumps(list(labels)),
                    json.dumps(list(ai_labels)),
                    json.dumps(settings),
                    time.time(),
                ),
            )
        return self.project(name)

    def _project_from(self, row: sqlite3.Row) -> ProjectRow:
        return ProjectRow(
            id=int(row["id"]),
            name=str(row["name"]),
            labels=tuple(json.loads(row["labels"])),
            ai_labels=tuple(json.loads(row["ai_labels"])),
            settings=dict(json.loads(row["settings"])),
            created=float(row["created"]),
        )

    def project(self, name: str) -> ProjectRow:
        """The project called ``name``; :class:`ProjectError` (listing the known ones) if none."""
        row = self._db.execute("SELECT * FROM projects WHERE name=?", (name,)).fetchone()
        if row is None:
            known = [p.name for p in self.projects()]
            hint = f"known projects: {', '.join(known)}" if known else "there are no projects yet"
            raise ProjectNotFoundError(
                f"no project named {name!r} in {self.home} ({hint}); create it with "
                f"synthcheck project create {name}"
            )
        return self._project_from(row)

    def projects(self) -> list[ProjectRow]:
        rows = self._db.execute("SELECT * FROM projects ORDER BY name").fetchall()
        return [self._project_from(r) for r in rows]

    def update_project(
        self,
        project_id: int,
        *,
        labels: Sequence[str] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        with self.transaction() as db:
            if labels is not None:
                db.execute(
                    "UPDATE projects SET labels=? WHERE id=?",
                    (json.dumps(list(labels)), project_id),
                )
            if settings is not None:
                db.execute(
                    "UPDATE projects SET settings=? WHERE id=?", (json.dumps(settings), project_id)
                )

    def delete_project(self, name: str) -> None:
        project = self.project(name)
        with self.transaction() as db:
            db.execute("DELETE FROM projects WHERE id=?", (project.id,))

    # -- images ------------------------------------------------------------------------------
    def add_images(
        self,
        project_id: int,
        rows: Iterable[tuple[str, str, str | None, str | None, int, int, int, str | None, str]],
        *,
        added_rows: list[int] | None = None,
    ) -> tuple[int, int]:
        """Add ``(sha256, path, blob, format, width, height, nbytes, label, source)`` rows in one
        transaction. An image already in the project keeps its row; a label given now replaces
        its label. Returns (new images, duplicates merged); ``added_rows`` collects the indices
        of the rows that were new."""
        added = merged = 0
        now = time.time()
        with self.transaction() as db:
            seq = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM project_images WHERE project_id=?",
                (project_id,),
            ).fetchone()[0]
            for i, (sha, path, blob, fmt, width, height, nbytes, label, source) in enumerate(rows):
                db.execute(
                    "INSERT INTO images(sha256, path, blob, format, width, height, nbytes, added) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET "
                    "path=excluded.path, blob=COALESCE(excluded.blob, images.blob)",
                    (sha, path, blob, fmt, width, height, nbytes, now),
                )
                existing = db.execute(
                    "SELECT label FROM project_images WHERE project_id=? AND sha256=?",
                    (project_id, sha),
                ).fetchone()
                if existing is None:
                    seq += 1
                    db.execute(
                        "INSERT INTO project_images(project_id, sha256, label, source, added, seq) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (project_id, sha, label, source, now, seq),
                    )
                    added += 1
                    if added_rows is not None:
                        added_rows.append(i)
                else:
                    merged += 1
                    if label is not None and label != existing["label"]:
                        db.execute(
                            "UPDATE project_images SET label=? WHERE project_id=? AND sha256=?",
                            (label, project_id, sha),
                        )
        return added, merged

    def images(self, project_id: int) -> list[ImageRow]:
        """Every image of a project in import order."""
        rows = self._db.execute(
            "SELECT p.sha256, i.path, i.blob, p.label, p.source, p.added, p.seq, i.format, "
            "i.width, i.height FROM project_images p JOIN images i USING (sha256) "
            "WHERE p.project_id=? ORDER BY p.seq",
            (project_id,),
        ).fetchall()
        return [
            ImageRow(
                sha256=r["sha256"],
                path=r["path"],
                blob=r["blob"],
                label=r["label"],
                source=r["source"],
                added=r["added"],
                seq=r["seq"],
                format=r["format"],
                width=r["width"],
                height=r["height"],
            )
            for r in rows
        ]

    def find_images(self, project_id: int, ref: str) -> list[str]:
        """SHA-256s of the project's images matching ``ref``: a path (absolute or relative to
        the working directory) or a hash prefix of at least 6 hex digits."""
        shas: list[str] = []
        candidate = Path(ref).expanduser()
        if candidate.exists() or os.sep in ref or "/" in ref:
            path = str(candidate.resolve())
            shas = [
                r[0]
                for r in self._db.execute(
                    "SELECT p.sha256 FROM project_images p JOIN images i USING (sha256) "
                    "WHERE p.project_id=? AND (i.path=? OR p.source=?)",
                    (project_id, path, path),
                )
            ]
            if not shas and candidate.is_file():
                from synthcheck.training.importing import sha256_file

                sha = sha256_file(candidate)
                shas = [
                    r[0]
                    for r in self._db.execute(
                        "SELECT sha256 FROM project_images WHERE project_id=? AND sha256=?",
                        (project_id, sha),
                    )
                ]
            return shas
        prefix = ref.lower()
        if len(prefix) >= 6 and all(c in "0123456789abcdef" for c in prefix):
            shas = [
                r[0]
                for r in self._db.execute(
                    "SELECT sha256 FROM project_images WHERE project_id=? AND sha256 LIKE ?",
                    (project_id, prefix + "%"),
                )
            ]
        return shas

    def set_label(self, project_id: int, sha256: str, label: str | None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE project_images SET label=? WHERE project_id=? AND sha256=?",
                (label, project_id, sha256),
            )

    def remove_image(self, project_id: int, sha256: str) -> None:
        with self.transaction() as db:
            db.execute(
                "DELETE FROM project_images WHERE project_id=? AND sha256=?", (project_id, sha256)
            )

    def label_counts(self, project_id: int) -> dict[str | None, int]:
        rows = self._db.execute(
            "SELECT label, COUNT(*) FROM project_images WHERE project_id=? GROUP BY label",
            (project_id,),
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    # -- features ----------------------------------------------------------------------------
    def put_features(
        self, extractor: str, version: str, items: Iterable[tuple[str, NDArray[np.float32]]]
    ) -> None:
        """Cache float32 feature vectors, one transaction for the whole batch."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO features(sha256, extractor, version, dim, data) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        sha,
                        extractor,
                        version,
                        int(vec.size),
                        np.ascontiguousarray(vec, dtype=np.float32).tobytes(),
                    )
                    for sha, vec in items
                ],
            )

    def get_features(
        self, extractor: str, version: str, shas: Sequence[str]
    ) -> dict[str, NDArray[np.float32]]:
        """Cached vectors of ``shas`` for (extractor, version); missing ones are absent."""
        out: dict[str, NDArray[np.float32]] = {}
        chunk = 500
        for start in range(0, len(shas), chunk):
            part = list(shas[start : start + chunk])
            marks = ",".join("?" * len(part))
            for r in self._db.execute(
                f"SELECT sha256, data FROM features WHERE extractor=? AND version=? "
                f"AND sha256 IN ({marks})",
                (extractor, version, *part),
            ):
                out[r[0]] = np.frombuffer(r[1], dtype=np.float32)
        return out

    # -- projections (see synthcheck.training.sweep.ProjectionCache) ---------------------------
    def get_projection(self, key: str) -> dict[str, NDArray[np.float64]] | None:
        row = self._db.execute("SELECT data FROM projections WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        with np.load(io.BytesIO(row[0]), allow_pickle=False) as npz:
            return {k: np.asarray(npz[k], dtype=np.float64) for k in npz.files}

    def put_projection(self, key: str, arrays: dict[str, NDArray[np.float64]]) -> None:
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO projections(key, data, created) VALUES (?, ?, ?)",
                (key, buf.getvalue(), time.time()),
            )

    # -- models ------------------------------------------------------------------------------
    def add_model(
        self,
        project_id: int,
        summary: ModelSummary,
        file: bytes,
        predictions: Iterable[tuple[str, str, float, float | None, str, bool]],
        *,
        make_current: bool,
    ) -> ModelRow:
        """Store a new model version with its predictions (one transaction); the stored summary
        is ``summary`` with the new version number."""
        now = time.time()
        with self.transaction() as db:
            version = db.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM models WHERE project_id=?",
                (project_id,),
            ).fetchone()[0]
            summary = summary.with_version(int(version))
            cur = db.execute(
                "INSERT INTO models(project_id, version, created, summary, file) "
                "VALUES (?, ?, ?, ?, ?)",
                (project_id, version, now, json.dumps(summary.to_dict()), file),
            )
            model_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO predictions(model_id, sha256, predicted, confidence, p_ai, proba, "
                "out_of_fold) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(model_id, s, p, c, pa, pr, int(o)) for s, p, c, pa, pr, o in predictions],
            )
            if make_current:
                db.execute(
                    "INSERT OR REPLACE INTO current_models(project_id, model_id) VALUES (?, ?)",
                    (project_id, model_id),
                )
        return ModelRow(model_id, project_id, int(version), now, summary)

    def _model_from(self, row: sqlite3.Row) -> ModelRow:
        return ModelRow(
            id=int(row["id"]),
            project_id=int(row["project_id"]),
            version=int(row["version"]),
            created=float(row["created"]),
            summary=ModelSummary.from_dict(json.loads(row["summary"])),
        )

    def models(self, project_id: int) -> list[ModelRow]:
        rows = self._db.execute(
            "SELECT id, project_id, version, created, summary FROM models WHERE project_id=? "
            "ORDER BY version",
            (project_id,),
        ).fetchall()
        return [self._model_from(r) for r in rows]

    def current_model(self, project_id: int) -> ModelRow | None:
        row = self._db.execute(
            "SELECT m.id, m.project_id, m.version, m.created, m.summary FROM current_models c "
            "JOIN models m ON m.id=c.model_id WHERE c.project_id=?",
            (project_id,),
        ).fetchone()
        return None if row is None else self._model_from(row)

    def model_file(self, model_id: int) -> bytes:
        row = self._db.execute("SELECT file FROM models WHERE id=?", (model_id,)).fetchone()
        if row is None:
            raise ProjectNotFoundError(f"model {model_id} not found")
        return bytes(row[0])

    def predictions(self, model_id: int) -> dict[str, sqlite3.Row]:
        rows = self._db.execute(
            "SELECT sha256, predicted, confidence, p_ai, proba, out_of_fold FROM predictions "
            "WHERE model_id=?",
            (model_id,),
        ).fetchall()
        return {r["sha256"]: r for r in rows}
