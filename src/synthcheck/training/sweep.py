"""The automatic sweep: feature sets x heads x hyperparameters, judged by stratified k-fold CV.

Representation. Each feature block (one output of one extractor) is standardised and rotated on
its principal components, keeping at most :data:`MAX_COMPONENTS` (randomised SVD for wide
blocks). Both steps are unsupervised and fitted once on every image of the project, labelled or
not: no label ever leaves its training fold (the held-out images' pixels do shape the
projection, as every project image's do in the deployed model), and the projection makes every
fit below cheap. Projections are cached in the store per image set, so a relabel skips them.

Search, in stages (each stage uses the ranking of the one before, so the cost stays bounded):

1. ridge on every single block;
2. ridge on combinations: the two best blocks, the best block plus the artifact features, and
   (with ``--init default``) the default detector's head logits alone and stacked on the best
   block;
3. logistic regression, the linear SVM and the MLP on the best feature set.

Selection: CV AUC for two labels (ties broken by balanced accuracy), balanced (macro) accuracy
for more. The chosen configuration is refitted on every labelled image; its out-of-fold scores
fit the calibrator and give the reported per-class accuracy, confusion matrix and AUC.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, log_softmax

from synthcheck.errors import DataError
from synthcheck.training.heads import HEAD_GRIDS, fit_heads, head_scores
from synthcheck.training.model import BlockTransform, Calibrator, TrainedModel

__all__ = [
    "MAX_COMPONENTS",
    "Candidate",
    "ProjectionCache",
    "RawBlock",
    "SweepResult",
    "check_labels",
    "projection_key",
    "run_sweep",
    "stratified_folds",
]

F64 = NDArray[np.float64]
MAX_COMPONENTS = 256
#: Heads tried last are preferred on exact ties (simpler first).
HEAD_ORDER = ("ridge", "logistic", "svm", "mlp")


@dataclass
class RawBlock:
    """One output of one extractor for every project image (rows aligned with the images)."""

    extractor: str
    version: str
    output: str
    start: int
    stop: int
    x: NDArray[np.floating[Any]]
    #: Fixed linear map from the extractor columns to ``x`` (stacked default-detector heads).
    pre_weight: F64 | None = None
    pre_bias: F64 | None = None

    @property
    def name(self) -> str:
        return f"{self.extractor}:{self.output}"

    @property
    def stacked(self) -> bool:
        return self.pre_weight is not None


@dataclass
class Candidate:
    """One evaluated configuration with its CV figures."""

    feature_set: tuple[str, ...]
    head: str
    value: float
    score: float
    balanced_accuracy: float
    auc: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature_set": list(self.feature_set),
            "head": self.head,
            "value": self.value,
            "score": round(self.score, 6),
            "balanced_accuracy": round(self.balanced_accuracy, 6),
            "auc": None if self.auc is None else round(self.auc, 6),
        }


@dataclass
class SweepResult:
    """The chosen model, its CV report and every candidate evaluated."""

    model: TrainedModel
    chosen: Candidate
    candidates: list[Candidate]
    oof_proba: F64  # labelled rows x classes, calibrated out-of-fold probabilities
    proba_all: F64  # every row x classes, from the final model
    accuracy_per_class: dict[str, float]
    confusion: list[list[int]]
    auc: float | None
    n_folds: int
    seconds: float
    baseline: Candidate | None = None
    notes: list[str] = field(default_factory=list)


def check_labels(y_labels: Sequence[str], labels: Sequence[str], k: int) -> None:
    """Raise :class:`DataError` unless at least two labels have >= ``k`` images each."""
    counts = {lab: 0 for lab in labels}
    for lab in y_labels:
        counts[lab] = counts.get(lab, 0) + 1
    present = {lab: c for lab, c in counts.items() if c > 0}
    if len(present) < 2:
        only = ", ".join(f"{lab!r}: {c}" for lab, c in present.items()) or "no labelled images"
        raise DataError(
            f"training needs labelled images of at least two labels ({only}); import images "
            "of the other label(s) with `synthcheck project import NAME DIR --label L`"
        )
    few = {lab: c for lab, c in present.items() if c < k}
    if few:
        detail = ", ".join(f"{lab!r} has {c}" for lab, c in few.items())
        raise DataError(
            f"{k}-fold cross-validation needs at least {k} images per label ({detail}); "
            f"import more images or train with fewer folds (--folds)"
        )


def stratified_folds(y: NDArray[np.int64], k: int, seed: int) -> list[NDArray[np.bool_]]:
    """Test masks of scikit-learn's shuffled stratified k-fold split (seeded with ``seed``)."""
    from sklearn.model_selection import StratifiedKFold

    split = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    masks = []
    for _, test in split.split(np.zeros(y.size), y):
        mask = np.zeros(y.size, dtype=np.bool_)
        mask[test] = True
        masks.append(mask)
    return masks


class ProjectionCache(Protocol):
    """Where fitted projections are kept between runs (the project store implements it)."""

    def get_projection(self, key: str) -> dict[str, F64] | None: ...

    def put_projection(self, key: str, arrays: dict[str, F64]) -> None: ...


def projection_key(raw: RawBlock, row_ids: Sequence[str], seed: int) -> str:
    """Identity of a block's projection: the block, its rows (image hashes) and the settings.
    Labels are not part of it: the projection never sees them, so a relabel reuses it."""
    digest = hashlib.sha256()
    for part in (raw.name, raw.version, str(MAX_COMPONENTS), str(seed), *row_ids):
        digest.update(part.encode())
        digest.update(b"\0")
    if raw.pre_weight is not None:
        digest.update(np.ascontiguousarray(raw.pre_weight).tobytes())
    return digest.hexdigest()


def _fit_block(
    raw: RawBlock, seed: int, cached: dict[str, F64] | None = None
) -> tuple[BlockTransform, F64]:
    x = np.asarray(raw.x, dtype=np.float64)
    if cached is not None:
        mean, scale, components = cached["mean"], cached["scale"], cached["components"]
        block = BlockTransform(
            raw.extractor,
            raw.version,
            raw.output,
            raw.start,
            raw.stop,
            mean,
            scale,
            components,
            raw.pre_weight,
            raw.pre_bias,
        )
        return block, ((x - mean) / scale) @ components
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-8] = 1.0
    # float32 for the projection search: half the cost, and the components need no more.
    xs = ((x - mean) / scale).astype(np.float32)
    rank = min(MAX_COMPONENTS, x.shape[0] - 1, x.shape[1])
    if x.shape[1] > rank:
        # Randomised range finder with one power iteration (Halko et al.): ample for the
        # leading components of standardised features, at a fraction of a full SVD's cost.
        rng = np.random.default_rng(seed)
        q, _r = np.linalg.qr(xs @ rng.standard_normal((x.shape[1], rank + 16), dtype=np.float32))
        q, _r = np.linalg.qr(xs @ (xs.T @ q))
        _u, _s, vt = np.linalg.svd(q.T @ xs, full_matrices=False)
    else:
        # Narrow blocks are rotated too: decorrelated columns keep the solvers well conditioned.
        _u, _s, vt = np.linalg.svd(xs, full_matrices=False)
    components = vt[:rank].T.astype(np.float64)
    z = ((x - mean) / scale) @ components
    block = BlockTransform(
        raw.extractor,
        raw.version,
        raw.output,
        raw.start,
        raw.stop,
        mean,
        scale,
        components,
        raw.pre_weight,
        raw.pre_bias,
    )
    return block, z


def _auc(y: NDArray[np.int64], s: F64) -> float:
    """ROC AUC of scores ``s`` for positives ``y == 1`` (ties counted half); NaN without both."""
    from sklearn.metrics import roc_auc_score

    pos = y == 1
    if pos.all() or not pos.any():
        return float("nan")
    return float(roc_auc_score(pos, s))


def _balanced_accuracy(y: NDArray[np.int64], pred: NDArray[np.int64]) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(y, pred))


def _predict_classes(scores: F64) -> NDArray[np.int64]:
    if scores.shape[1] == 1:
        return (scores[:, 0] > 0).astype(np.int64)
    return np.asarray(scores.argmax(axis=1), dtype=np.int64)


def fit_calibrator(scores: F64, y: NDArray[np.int64], n_classes: int) -> Calibrator:
    """Platt scaling (two labels) or temperature + offsets (more), on out-of-fold scores."""
    if n_classes == 2:
        s = scores[:, 0]
        t = (y == 1).astype(np.float64)

        def f2(p: F64) -> tuple[float, F64]:
            z = p[0] * s + p[1]
            loss = float((np.logaddexp(0.0, z) - t * z).sum() + 1e-3 * p[0] ** 2)
            g = expit(z) - t
            return loss, np.array([(g * s).sum() + 2e-3 * p[0], g.sum()])

        res = minimize(f2, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
        return Calibrator(float(res.x[0]), np.array([res.x[1]]))
    onehot = np.eye(n_classes)[y]

    def fk(p: F64) -> tuple[float, F64]:
        z = p[0] * scores + p[1:][None, :]
        ls = log_softmax(z, axis=1)
        g = np.exp(ls) - onehot
        loss = float(-(ls * onehot).sum())
        return loss, np.concatenate([[(g * scores).sum()], g.sum(axis=0)])

    res = minimize(fk, np.concatenate([[1.0], np.zeros(n_classes)]), jac=True, method="L-BFGS-B")
    return Calibrator(float(res.x[0]), np.asarray(res.x[1:], dtype=np.float64))


class _Evaluator:
    def __init__(
        self,
        z: dict[str, F64],
        labelled: NDArray[np.intp],
        y: NDArray[np.int64],
        n_classes: int,
        k: int,
        seed: int,
    ) -> None:
        self.z = z
        self.labelled = labelled
        self.y = y
        self.n_classes = n_classes
        self.tests = stratified_folds(y, k, seed)
        self.trains = [~t for t in self.tests]
        self.seed = seed
        self.results: dict[tuple[tuple[str, ...], str], list[tuple[Candidate, F64]]] = {}

    def features(self, fs: tuple[str, ...]) -> F64:
        return np.hstack([self.z[name][self.labelled] for name in fs])

    def evaluate(self, fs: tuple[str, ...], head: str) -> list[tuple[Candidate, F64]]:
        key = (fs, head)
        if key in self.results:
            return self.results[key]
        z = self.features(fs)
        fit = fit_heads(head, z, self.y, self.trains, self.n_classes, seed=self.seed)
        out = []
        for v, value in enumerate(fit.values):
            oof = np.zeros((z.shape[0], 1 if self.n_classes == 2 else self.n_classes))
            for j, test in enumerate(self.tests):
                oof[test] = head_scores(fit.params[j][v], z[test])
            bal = _balanced_accuracy(self.y, _predict_classes(oof))
            auc = _auc(self.y, oof[:, 0]) if self.n_classes == 2 else None
            score = auc if auc is not None else bal
            out.append((Candidate(fs, head, value, float(score), bal, auc), oof))
        self.results[key] = out
        return out

    def best_sets(self, n: int) -> list[tuple[str, ...]]:
        best: dict[tuple[str, ...], Candidate] = {}
        for (fs, _h), items in self.results.items():
            for cand, _ in items:
                if fs not in best or _rank(cand) > _rank(best[fs]):
                    best[fs] = cand
        return sorted(best, key=lambda fs: _rank(best[fs]), reverse=True)[:n]


def _rank(c: Candidate) -> tuple[float, float, int]:
    return (round(c.score, 6), round(c.balanced_accuracy, 6), -HEAD_ORDER.index(c.head))


def _encode_labels(
    labels_of_rows: Sequence[str | None], labels: Sequence[str], ai_labels: Sequence[str], k: int
) -> tuple[list[str], NDArray[np.intp], NDArray[np.int64]]:
    """Check the labels for ``k`` folds; return the classes present (with two, the AI label
    second), the indices of the labelled rows and their class numbers."""
    labelled_rows = [lab for lab in labels_of_rows if lab is not None]
    check_labels(labelled_rows, labels, k)
    present = [lab for lab in labels if lab in set(labelled_rows)]
    index = {lab: i for i, lab in enumerate(present)}
    labelled = np.flatnonzero([lab is not None for lab in labels_of_rows])
    y = np.array([index[str(labelled_rows[j])] for j in range(labelled.size)], dtype=np.int64)
    if len(present) == 2:
        ai_present = [lab for lab in present if lab in ai_labels]
        if len(ai_present) == 1 and present[1] != ai_present[0]:
            present = [present[1], present[0]]
            y = 1 - y
    return present, labelled, y


def _project_blocks(
    blocks: Sequence[RawBlock],
    row_ids: Sequence[str] | None,
    seed: int,
    cache: ProjectionCache | None,
) -> tuple[dict[str, BlockTransform], dict[str, F64]]:
    """Each block standardised and projected (:func:`_fit_block`): the transforms and the projected
    features. With ``row_ids`` and a ``cache``, a projection of the same rows is reused."""
    transforms: dict[str, BlockTransform] = {}
    z: dict[str, F64] = {}
    for raw in blocks:
        key = projection_key(raw, row_ids, seed) if row_ids is not None else None
        cached = cache.get_projection(key) if cache is not None and key is not None else None
        t, z[raw.name] = _fit_block(raw, seed, cached)
        transforms[raw.name] = t
        # A freshly fitted block always has components; the test narrows the type.
        if cached is None and cache is not None and key is not None and t.components is not None:
            cache.put_projection(
                key, {"mean": t.mean, "scale": t.scale, "components": t.components}
            )
    return transforms, z


def _search(ev: _Evaluator, blocks: Sequence[RawBlock], heads: Sequence[str]) -> None:
    """The search (module docstring): every block alone, then combinations built on the best
    block, with the first head; then the other heads on the best feature set."""
    first_head = "ridge" if "ridge" in heads else heads[0]
    singles: list[tuple[str, ...]] = [(raw.name,) for raw in blocks]
    for fs in singles:
        ev.evaluate(fs, first_head)
    ranked = ev.best_sets(len(singles))
    combos: list[tuple[str, ...]] = []
    top = ranked[0]
    order = {raw.name: i for i, raw in enumerate(blocks)}
    if len(ranked) > 1:
        combos.append((*top, *ranked[1]))
    for raw in blocks:
        if raw.extractor == "artifacts" and not raw.stacked and raw.name not in top:
            combos.append((*top, raw.name))
    stacked = tuple(raw.name for raw in blocks if raw.stacked)
    if stacked:
        combos.append(stacked)
        combos.append((*top, *stacked))
    canonical = [tuple(sorted(set(fs), key=order.__getitem__)) for fs in combos]
    for fs in dict.fromkeys(canonical):
        ev.evaluate(fs, first_head)
    best = ev.best_sets(1)[0]
    for head in ("logistic", "svm", "mlp"):
        if head in heads:
            ev.evaluate(best, head)


def _baseline_candidate(
    ev: _Evaluator, baseline: tuple[tuple[str, ...], str, float] | None
) -> Candidate | None:
    """The current model's configuration evaluated on the same folds (None when its features
    are not all available or it is not among the head's grid values)."""
    if baseline is None or not all(name in ev.z for name in baseline[0]):
        return None
    fs_b, head_b, value_b = baseline
    items = ev.evaluate(tuple(fs_b), head_b)
    matches = [c for c, _ in items if abs(c.value - value_b) <= 1e-12 * max(1.0, value_b)]
    return matches[0] if matches else None


def run_sweep(
    blocks: Sequence[RawBlock],
    labels_of_rows: Sequence[str | None],
    labels: Sequence[str],
    ai_labels: Sequence[str],
    *,
    k: int = 5,
    seed: int = 0,
    heads: Sequence[str] = HEAD_ORDER,
    baseline: tuple[tuple[str, ...], str, float] | None = None,
    row_ids: Sequence[str] | None = None,
    cache: ProjectionCache | None = None,
) -> SweepResult:
    """Sweep, cross-validate, choose and refit (see the module docstring).

    ``blocks`` hold features for every row; ``labels_of_rows`` the label of each row (None for
    unlabelled rows, which only enter the unsupervised projection and get final predictions).
    ``baseline`` (feature set, head, value) is also evaluated on the same folds, to tell whether
    the new choice beats the current model. With ``row_ids`` (one stable id per row, the image
    hashes) and a ``cache``, fitted projections are stored and reused while the rows are the
    same: retraining after a relabel skips them.

    BLAS runs single-threaded here: the sweep's matrices are small, and multi-threaded LAPACK
    calls on them were 10-40x slower on a busy 2-core machine (thread hand-offs dominate).
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=1, user_api="blas"):
        start = time.perf_counter()
        if not isinstance(k, int) or isinstance(k, bool) or k < 2:
            raise DataError(f"folds must be an integer >= 2, got {k!r}")
        unknown = [h for h in heads if h not in HEAD_GRIDS]
        if unknown:
            raise DataError(f"unknown heads {unknown}; choose from {', '.join(HEAD_GRIDS)}")
        present, labelled, y = _encode_labels(labels_of_rows, labels, ai_labels, k)
        n_classes = len(present)
        transforms, z = _project_blocks(blocks, row_ids, seed, cache)
        ev = _Evaluator(z, labelled, y, n_classes, k, seed)
        _search(ev, blocks, heads)
        baseline_cand = _baseline_candidate(ev, baseline)
        all_items = [item for items in ev.results.values() for item in items]
        chosen, oof_scores = max(all_items, key=lambda item: _rank(item[0]))
        model, oof_proba, proba_all = _refit(
            chosen, oof_scores, ev, transforms, present, ai_labels, seed
        )
        confusion, per_class = _confusion(y, oof_proba, present)
        return SweepResult(
            model=model,
            chosen=chosen,
            candidates=[c for c, _ in all_items],
            oof_proba=oof_proba,
            proba_all=proba_all,
            accuracy_per_class=per_class,
            confusion=confusion,
            auc=chosen.auc,
            n_folds=k,
            seconds=time.perf_counter() - start,
            baseline=baseline_cand,
        )


def _refit(
    chosen: Candidate,
    oof_scores: F64,
    ev: _Evaluator,
    transforms: dict[str, BlockTransform],
    present: list[str],
    ai_labels: Sequence[str],
    seed: int,
) -> tuple[TrainedModel, F64, F64]:
    """The chosen configuration refitted on every labelled image with its calibrator fitted on
    the out-of-fold scores: the model, the calibrated out-of-fold probabilities and the final
    model's probabilities for every row."""
    n_classes, y = len(present), ev.y
    everything = [np.ones(y.size, dtype=bool)]
    fit = fit_heads(
        chosen.head,
        ev.features(chosen.feature_set),
        y,
        everything,
        n_classes,
        values=[chosen.value],
        seed=seed,
        final=True,
    )
    params = fit.params[0][0]
    calibrator = fit_calibrator(oof_scores, y, n_classes)
    model = TrainedModel(
        labels=tuple(present),
        ai_labels=tuple(lab for lab in present if lab in ai_labels),
        blocks=[transforms[name] for name in chosen.feature_set],
        head=chosen.head,
        value=chosen.value,
        params=params,
        calibrator=calibrator,
    )
    oof_proba = calibrator.predict_proba(oof_scores)
    z_all = np.hstack([ev.z[name] for name in chosen.feature_set])
    proba_all = calibrator.predict_proba(head_scores(params, z_all))
    return model, oof_proba, proba_all


def _confusion(
    y: NDArray[np.int64], oof_proba: F64, present: list[str]
) -> tuple[list[list[int]], dict[str, float]]:
    """The out-of-fold confusion matrix (true class x predicted) and the accuracy per class."""
    from sklearn.metrics import confusion_matrix

    confusion = confusion_matrix(y, oof_proba.argmax(axis=1), labels=np.arange(len(present)))
    per_class = {
        lab: float(confusion[i, i] / max(1, confusion[i].sum())) for i, lab in enumerate(present)
    }
    return confusion.tolist(), per_class
