"""Unseen-source protocol for the default pixel heads on the dev pool plus the native-resolution
pool (issue #25, section 3): every generator family and every real source is held out together.

Images are dealt to ``--folds`` folds by group (:func:`synthcheck.pixel.fitting.group_folds`: a
generator family, merged across both pools, or a real source), so each test fold holds families
*and* real sources that its training folds never saw. Per fold, exactly as
``scripts/train_default.py fit`` trains the shipped model:

1. each head's probe is fitted on the training folds' clean and laundered views;
2. with several heads, their non-negative stacked fusion is fitted on the training folds'
   out-of-fold logits (inner group folds);
3. the decision scaling (:func:`synthcheck.pixel.fitting.decision_scaling`) is fitted on those
   inner out-of-fold scores, so the p_ai thresholds 0.3 / 0.7 are chosen without the test
   sources (steps 2-3 are :func:`synthcheck.pixel.fitting.fit_profile`, as the trainer calls it);
4. the held-out fold is scored in every view that was extracted (clean, aug1, JPEG q60, 0.5x).

It prints AUC and TPR at 5% / 1% FPR per condition and slice (all, dev pool, native pool,
families released 2025+, photoreal fakes), each head's own AUC and its mean fusion weight, the
verdict rates at the fixed thresholds, and the real sources with the most false "ai" verdicts.

    python benchmarks/bench_unseen.py --pool /work/pool2 --cache /work/cache/v4 \
        --heads clip-global
    python benchmarks/bench_unseen.py --pool /work/pool2 --cache /work/cache/v4 \
        --heads clip-global --keys clip-global=cls_l6,cls_l8,cls_l9

Needs the features of ``scripts/train_default.py extract --pool ...`` (same --cache).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from synthcheck.pixel.devpool import VIEWS, DevImage, load_training_images  # noqa: E402
from synthcheck.pixel.fitting import (  # noqa: E402
    HeadSpec,
    fit_probe,
    fit_profile,
    group_folds,
    head_blocks,
    load_feature_blocks,
)
from synthcheck.pixel.profiles import BACKBONE_TILES, HEAD_SPECS  # noqa: E402

CONDITIONS = ("clean", "aug1", "jpeg60", "half")


def _meta(images: list[DevImage], dev: Path, pools: list[Path]) -> list[dict[str, Any]]:
    """Per image: which pool ("dev" or the pool folder's name), release year and photoreal flag of
    its generator (fakes)."""
    fam: dict[str, tuple[int, bool]] = {}
    with (REPO / "data" / "dev_families.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            fam[row["generator"]] = (int(row["year"]), row["photoreal"] == "yes")
    by_path: dict[Path, tuple[int, bool, str]] = {}
    for pool in pools:
        with (pool / "manifest.csv").open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                by_path[pool / row["file"]] = (
                    int(row["year"] or 0),
                    row["photoreal"] == "yes",
                    pool.name,
                )
    out = []
    for im in images:
        if im.path in by_path:
            year, photoreal, name = by_path[im.path]
        else:
            (year, photoreal), name = fam.get(im.generator, (0, False)), "dev"
        out.append({"pool": name, "year": year, "photoreal": photoreal})
    return out


def _tpr(y: np.ndarray, s: np.ndarray, fpr: float) -> float:
    fprs, tprs, _ = roc_curve(y, s)
    return float(np.interp(fpr, fprs, tprs))


def _line(name: str, y: np.ndarray, s: np.ndarray) -> str:
    if len(np.unique(y)) < 2:
        return f"  {name:<26} (one class only)"
    return (
        f"  {name:<26} n={len(y):>5} fakes={int(y.sum()):>5}  AUC {roc_auc_score(y, s):.3f}  "
        f"TPR@5% {_tpr(y, s, 0.05):.3f}  TPR@1% {_tpr(y, s, 0.01):.3f}"
    )


def run_folds(
    images: list[DevImage],
    blocks: dict[str, Any],
    specs: list[HeadSpec],
    k: int,
    trainable: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Held-out p_ai (images x views, NaN where a view was not extracted), per-head held-out
    logits (images x views x heads) and the fusion weights of each fold. Images outside
    ``trainable`` keep their place in the folds (the same folds as without it) but are never
    trained on."""
    n = len(images)
    has = np.ones(n, bool)
    for s in specs:
        has &= ~np.isnan(blocks[s.name].x[:, 0]).any(axis=1)
    idx_all = np.flatnonzero(has)
    labels = np.array([im.label for im in images])
    groups = np.array([im.group for im in images])
    folds = np.full(n, -1)
    folds[idx_all] = group_folds(groups[idx_all], labels[idx_all], k)
    p = np.full((n, len(VIEWS)), np.nan)
    head_z = np.full((n, len(VIEWS), len(specs)), np.nan)
    weights = []
    for f in range(k):
        train, test = idx_all[folds[idx_all] != f], idx_all[folds[idx_all] == f]
        if trainable is not None:
            train = train[trainable[train]]
        probes = [fit_probe(images, blocks[s.name], train, s.C) for s in specs]
        fusion, decision, _ = fit_profile(images, blocks, specs, train)
        weights.append(fusion.coef_)
        for v in range(len(VIEWS)):
            x = [blocks[s.name].x[test, v] for s in specs]
            ok = ~np.any([np.isnan(xi).any(axis=1) for xi in x], axis=0)
            if not ok.any():
                continue
            z = np.stack(
                [pr.decision_function(xi[ok]) for pr, xi in zip(probes, x, strict=True)], axis=1
            )
            head_z[test[ok], v] = z
            p[test[ok], v] = fusion.predict_proba(z)
        print(
            f"fold {f}: train {len(train)}, test {len(test)} "
            f"({int(labels[test].sum())} fakes, {len(set(groups[test]))} groups); "
            f"scaling a={decision['scale']:.2f} b={decision['shift']:.2f}",
            flush=True,
        )
    return p, head_z, weights


def report(
    images: list[DevImage],
    meta: list[dict[str, Any]],
    specs: list[HeadSpec],
    p: np.ndarray,
    head_z: np.ndarray,
    weights: list[np.ndarray],
) -> None:
    y_all = np.array([im.label for im in images])
    pool = np.array([m["pool"] for m in meta])
    year = np.array([m["year"] for m in meta])
    photoreal = np.array([m["photoreal"] for m in meta])
    real = y_all == 0
    native = pool != "dev"
    slices = {
        "all": np.ones(len(images), bool),
        "dev pool": pool == "dev",
        "native pool": native,
    }
    names = sorted(set(pool[native]))
    if len(names) > 1:  # pools given separately (e.g. two build rounds): each on its own too
        slices.update({f"  pool {n}": pool == n for n in names})
    slices.update(
        {
            "fakes 2025+ vs all reals": real | (year >= 2025),
            "photoreal fakes vs reals": real | photoreal,
            "native photoreal vs reals": native & (real | photoreal),
        }
    )
    for cond in CONDITIONS:
        v = VIEWS.index(cond)
        seen = ~np.isnan(p[:, v])
        if not seen.any():
            continue
        print(f"\ncondition {cond}")
        for name, m in slices.items():
            sel = seen & m
            if sel.any():
                print(_line(name, y_all[sel], p[sel, v]))
    v = VIEWS.index("clean")
    seen = ~np.isnan(p[:, v])
    print("\neach head alone (clean, held-out logits) and its mean fusion weight x scaling:")
    mean_w = np.mean(weights, axis=0)
    for h, s in enumerate(specs):
        auc = roc_auc_score(y_all[seen], head_z[seen, v, h])
        print(
            f"  {s.name:<14} [{'+'.join(s.keys) or s.block}] AUC {auc:.3f}  weight {mean_w[h]:.3f}"
        )
    print("\nverdicts at the fixed thresholds (p_ai >= 0.7 ai, <= 0.3 real), clean:")
    for name, m in (("all", seen), ("native pool", seen & native)):
        r, fk = m & real, m & ~real
        print(
            f"  {name:<12} reals: ai {np.mean(p[r, v] >= 0.7):.1%} unsure "
            f"{np.mean((p[r, v] > 0.3) & (p[r, v] < 0.7)):.1%} | fakes: ai "
            f"{np.mean(p[fk, v] >= 0.7):.1%} real {np.mean(p[fk, v] <= 0.3):.1%}"
        )
    by_source: dict[str, list[float]] = defaultdict(list)
    for i in np.flatnonzero(seen & real):
        by_source[images[i].group].append(float(p[i, v]))
    rates = sorted(
        ((np.mean(np.array(s) >= 0.7), len(s), g) for g, s in by_source.items()), reverse=True
    )
    over = sum(1 for r, n, _ in rates if r > 0.10)
    print(f"  real sources: {len(rates)}, above 10% called ai: {over}; worst:")
    for r, n, g in rates[:10]:
        print(f"    {g:<40} n={n:>4} called ai {r:.0%}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dev", type=Path, default=REPO.parent / "shared" / "data" / "dev")
    ap.add_argument("--pool", type=Path, action="append", default=[])
    ap.add_argument("--cache", type=Path, default=Path("/work/cache/v4"))
    ap.add_argument("--heads", default="clip-global", help="comma-separated heads to fuse")
    ap.add_argument(
        "--keys",
        action="append",
        default=[],
        help="HEAD=K1,K2: the backbone features a head reads (exploration); repeatable",
    )
    ap.add_argument("--C", action="append", default=[], help="HEAD=C (exploration); repeatable")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument(
        "--score-only",
        action="append",
        default=[],
        help="a --pool folder name, or a generator / real-source name, whose images are scored "
        "in the same folds but never trained on (what adding them to training changes); "
        "repeatable",
    )
    args = ap.parse_args(argv)

    images = load_training_images(args.dev, args.pool)
    raw = load_feature_blocks(args.cache, len(images), max_tiles=BACKBONE_TILES)
    known = {s.name: s for s in HEAD_SPECS}
    keys = {h: tuple(k.split(",")) for h, _, k in (v.partition("=") for v in args.keys)}
    cs = {h: float(c) for h, _, c in (v.partition("=") for v in args.C)}
    specs = []
    for name in args.heads.split(","):
        if name not in known:
            print(f"unknown head {name!r}; known: {', '.join(known)}", file=sys.stderr)
            return 2
        s = known[name]
        specs.append(HeadSpec(s.name, s.block, cs.get(name, s.C), keys.get(name, s.keys)))
        if s.block not in raw:
            print(f"no cached features for {name} ({s.block}) in {args.cache}", file=sys.stderr)
            return 2
    blocks = head_blocks(raw, specs)
    print(
        "heads: "
        + ", ".join(f"{s.name} [{'+'.join(s.keys) or s.block}] C={s.C}" for s in specs)
        + f"; {args.folds} group folds over {len(images)} images"
    )
    meta = _meta(images, args.dev, args.pool)
    trainable = None
    if args.score_only:
        skip = set(args.score_only)
        trainable = np.array(
            [
                m["pool"] not in skip and im.generator not in skip
                for m, im in zip(meta, images, strict=True)
            ]
        )
        print(f"never trained on: {', '.join(args.score_only)} ({int((~trainable).sum())} images)")
    p, head_z, weights = run_folds(images, blocks, specs, args.folds, trainable)
    report(images, meta, specs, p, head_z, weights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
