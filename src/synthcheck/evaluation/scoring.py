"""Score labelled images with a pixel model under several conditions, in batches, with a cache.

A score is keyed by (file sha256, model key, condition), so a second evaluation of the same
folder, another threshold, or a calibration followed by an evaluation costs no inference. Files
are read and hashed first; a file is decoded only when one of its scores (or its audit facts) is
missing. One bad file never stops the run: it is skipped with its reason, and a condition that
fails for one image (a transform or the model refusing it) leaves a NaN for that image only.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synthcheck.engine.detector import PixelModel
from synthcheck.errors import (
    ConfigError,
    InputError,
    ModelError,
    SynthcheckError,
)
from synthcheck.evaluation.bias_audit import ImageFacts, facts_of
from synthcheck.evaluation.dataset import LabelledImage
from synthcheck.evaluation.robustness import CLEAN, Transform, create_transform
from synthcheck.home import cache_dir
from synthcheck.intake.decode import DEFAULT_MAX_PIXELS, load_image_bytes, read_image_file
from synthcheck.intake.image import LoadedImage

__all__ = ["ScoreCache", "ScoredSet", "Skip", "model_key", "score_images"]

Progress = Callable[[int, int], None]


def model_key(model: PixelModel) -> str:
    """The cache identity of a model: its name plus its ``version`` or ``fingerprint`` attribute
    when it has one (models should expose one that changes when their weights change)."""
    tag = getattr(model, "fingerprint", None) or getattr(model, "version", None)
    return f"{model.name}@{tag}" if tag else model.name


class ScoreCache:
    """Scores and audit facts by image hash. In memory, or persisted in SQLite at ``path``
    (WAL mode, safe to share between runs; a killed run keeps what it committed)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._scores: dict[tuple[str, str, str], float] = {}
        self._facts: dict[str, ImageFacts] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS scores (sha256 TEXT, model TEXT, condition TEXT, "
                "p_ai REAL, PRIMARY KEY (sha256, model, condition))"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS facts (sha256 TEXT PRIMARY KEY, json TEXT)"
            )
            self._db.commit()

    @classmethod
    def for_model(cls, model: PixelModel, *, persist: bool = True) -> ScoreCache:
        """The shared on-disk cache (``<cache_dir>/evaluation-scores.sqlite``) when ``persist``
        and the model carries a version or fingerprint (without one a retrained model could be
        served stale scores), else an in-memory cache."""
        if persist and model_key(model) != model.name:
            return cls(cache_dir() / "evaluation-scores.sqlite")
        return cls()

    def get(self, sha256: str, model: str, condition: str) -> float | None:
        key = (sha256, model, condition)
        with self._lock:
            if key in self._scores:
                return self._scores[key]
            if self._db is None:
                return None
            row = self._db.execute(
                "SELECT p_ai FROM scores WHERE sha256=? AND model=? AND condition=?", key
            ).fetchone()
        if row is None:
            return None
        self._scores[key] = float(row[0])
        return float(row[0])

    def put(self, sha256: str, model: str, condition: str, p_ai: float) -> None:
        with self._lock:
            self._scores[(sha256, model, condition)] = p_ai
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)",
                    (sha256, model, condition, p_ai),
                )

    def get_facts(self, sha256: str) -> ImageFacts | None:
        with self._lock:
            if sha256 in self._facts:
                return self._facts[sha256]
            if self._db is None:
                return None
            row = self._db.execute("SELECT json FROM facts WHERE sha256=?", (sha256,)).fetchone()
        if row is None:
            return None
        facts = ImageFacts.from_dict(json.loads(row[0]))
        self._facts[sha256] = facts
        return facts

    def put_facts(self, sha256: str, facts: ImageFacts) -> None:
        with self._lock:
            self._facts[sha256] = facts
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO facts VALUES (?, ?)",
                    (sha256, json.dumps(facts.to_dict())),
                )

    def commit(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.commit()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.commit()
                self._db.close()
                self._db = None

    def __enter__(self) -> ScoreCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Skip:
    """A file left out, or one condition of it that failed."""

    path: str
    reason: str
    condition: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason, "condition": self.condition}


@dataclass
class ScoredSet:
    """The images that could be read, aligned arrays of their scores per condition (NaN where a
    condition failed), their audit facts, and what was skipped."""

    items: list[LabelledImage]
    sha256: list[str]
    facts: list[ImageFacts]
    scores: dict[str, NDArray[np.float64]]
    skipped: list[Skip] = field(default_factory=list)
    cached: int = 0
    computed: int = 0

    @property
    def labels(self) -> NDArray[np.int64]:
        return np.array([item.label for item in self.items], dtype=np.int64)


def _predict_many(model: PixelModel, images: list[LoadedImage]) -> list[float | str]:
    """p_ai per image, or the error message for an image the model refused (an
    :class:`InputError`; any other error is about the model and stops the run). Uses the model's
    ``predict_many`` (or ``predict_batch``) when it has one, one image at a time otherwise."""
    batch = getattr(model, "predict_many", None) or getattr(model, "predict_batch", None)
    if callable(batch) and len(images) > 1:
        try:
            return [_check(model, float(pred.p_ai)) for pred in batch(images)]
        except InputError:
            pass  # find the offending image one by one below
    out: list[float | str] = []
    for image in images:
        try:
            out.append(_check(model, float(model.predict(image).p_ai)))
        except InputError as exc:
            out.append(str(exc))
    return out


def _check(model: PixelModel, p: float) -> float:
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise ModelError(f"pixel model {model.name!r} returned p_ai={p}, outside [0, 1]")
    return p


def score_images(
    model: PixelModel,
    items: Sequence[LabelledImage],
    conditions: Sequence[str] = (CLEAN,),
    *,
    cache: ScoreCache | None = None,
    batch_size: int = 8,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: Progress | None = None,
) -> ScoredSet:
    """Score every item under every condition (names from
    :func:`synthcheck.evaluation.robustness.list_transforms`)."""
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    transforms: list[Transform] = [create_transform(c) for c in dict.fromkeys(conditions)]
    cache = cache if cache is not None else ScoreCache()
    key = model_key(model)
    kept: list[LabelledImage] = []
    hashes: list[str] = []
    facts: list[ImageFacts] = []
    rows: list[dict[str, float]] = []
    skipped: list[Skip] = []
    counts = {"cached": 0, "computed": 0}

    def flush(batch: list[tuple[int, LoadedImage]]) -> None:
        for transform in transforms:
            todo: list[tuple[int, LoadedImage]] = []
            copies: dict[str, list[int]] = {}  # identical files in one batch are scored once
            for row, image in batch:
                if transform.name in rows[row]:
                    continue
                if hashes[row] in copies:
                    copies[hashes[row]].append(row)
                    continue
                copies[hashes[row]] = [row]
                try:
                    todo.append((row, transform.apply(image)))
                except (SynthcheckError, OSError, ValueError) as exc:
                    skipped.append(Skip(kept[row].path, f"transform failed: {exc}", transform.name))
            results = _predict_many(model, [image for _, image in todo])
            for (row, _), result in zip(todo, results, strict=True):
                for same in copies[hashes[row]]:
                    if isinstance(result, str):
                        skipped.append(Skip(kept[same].path, result, transform.name))
                    else:
                        rows[same][transform.name] = result
                if not isinstance(result, str):
                    cache.put(hashes[row], key, transform.name, result)
                    counts["computed"] += 1
        cache.commit()

    pending: list[tuple[int, LoadedImage]] = []
    for done, item in enumerate(items, start=1):
        try:
            data = read_image_file(item.path)
        except InputError as exc:
            skipped.append(Skip(item.path, exc.reason))
            continue
        sha = hashlib.sha256(data).hexdigest()
        row_scores: dict[str, float] = {}
        for transform in transforms:
            value = cache.get(sha, key, transform.name)
            if value is not None:
                row_scores[transform.name] = value
        known = cache.get_facts(sha)
        image: LoadedImage | None = None
        if known is None or len(row_scores) < len(transforms):
            try:
                image = load_image_bytes(data, item.path, max_pixels=max_pixels)
            except InputError as exc:
                skipped.append(Skip(item.path, exc.reason))
                continue
            known = facts_of(image)
            cache.put_facts(sha, known)
        counts["cached"] += len(row_scores)
        kept.append(item)
        hashes.append(sha)
        facts.append(known)
        rows.append(row_scores)
        if image is not None:
            pending.append((len(rows) - 1, image))
        if len(pending) >= batch_size:
            flush(pending)
            pending = []
        if progress is not None and not pending:  # report only files whose scores are done
            progress(done, len(items))
    if pending:
        flush(pending)
    cache.commit()
    if progress is not None:
        progress(len(items), len(items))
    scores = {
        t.name: np.array([r.get(t.name, np.nan) for r in rows], dtype=np.float64)
        for t in transforms
    }
    return ScoredSet(
        kept, hashes, facts, scores, skipped, cached=counts["cached"], computed=counts["computed"]
    )
