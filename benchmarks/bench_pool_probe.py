"""Does the broad native-resolution pool help the whole-image CLIP probe on sources it never saw?

    python benchmarks/bench_pool_probe.py extract --dev ../shared/data/dev --pool /work/pool \
        --cache /work/cache/pool-probe
    python benchmarks/bench_pool_probe.py eval --cache /work/cache/pool-probe

``extract`` caches the feature the shipped ``clip-global`` head reads (CLIP ViT-B/16 ``cls_l8`` of
the whole image seen at 224 px, exactly as at run time) for every dev-pool image and every pool
image. ``eval`` deals the pool's fake families and real sources to folds (both classes unseen in
each test fold) and compares, on the same held-out pool images:

* ``dev only``: a probe trained on the dev pool alone, as the shipped head was;
* ``dev + pool``: the same probe trained on the dev pool plus the pool's other folds.

It prints AUC and TPR at 5% / 1% FPR, and the share of held-out real photos above the threshold
that keeps 5% of the *training* reals' out-of-fold scores below it (a threshold chosen without
the test sources, as a shipped one must be).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.preprocessing import StandardScaler

from synthcheck.backbones.registry import create_backbone
from synthcheck.intake.decode import load_image
from synthcheck.pixel.devpool import load_devpool
from synthcheck.pixel.tiling import global_view


def _pool_rows(pool: Path) -> list[dict[str, str]]:
    with (pool / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def extract(dev: Path, pool: Path, cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    backbone = create_backbone("clip-vit-b16", features=("cls_l8",))
    jobs: list[tuple[str, Path, int, str]] = []
    for image in load_devpool(dev):
        jobs.append(("dev", image.path, image.label, f"dev:{image.group}"))
    for row in _pool_rows(pool):
        group = row["family"] if row["label"] == "fake" else row["source"]
        jobs.append(("pool", pool / row["file"], int(row["label"] == "fake"), f"pool:{group}"))
    for name in ("dev", "pool"):
        out = cache / f"{name}.npz"
        if out.is_file():
            print(f"{out} exists; skipped")
            continue
        part = [j for j in jobs if j[0] == name]
        feats, labels, groups = [], [], []
        start = time.perf_counter()
        for i, (_, path, label, group) in enumerate(part):
            image = load_image(path)
            view, _ = global_view(image.pixels, size=backbone.input_size)
            feats.append(backbone.features(view)["cls_l8"][0])
            labels.append(label)
            groups.append(group)
            if (i + 1) % 250 == 0:
                rate = (i + 1) / (time.perf_counter() - start)
                print(f"{name}: {i + 1}/{len(part)} ({rate:.1f} images/s)", flush=True)
        np.savez(out, x=np.stack(feats), y=np.array(labels), groups=np.array(groups))
        print(f"wrote {out}")


def _folds(groups: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    fold_of: dict[str, int] = {}
    for label in (1, 0):
        names, counts = np.unique(groups[y == label], return_counts=True)
        loads = [0] * k
        for name, count in sorted(zip(names, counts, strict=True), key=lambda t: (-t[1], t[0])):
            f = int(np.argmin(loads))
            fold_of[str(name)] = f
            loads[f] += int(count)
    return np.array([fold_of[str(g)] for g in groups])


def _probe(x: np.ndarray, y: np.ndarray, c: float) -> tuple[StandardScaler, LogisticRegression]:
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    return scaler, model.fit(scaler.transform(x), y)


def _tpr(y: np.ndarray, s: np.ndarray, fpr: float) -> float:
    fprs, tprs, _ = roc_curve(y, s)
    return float(np.interp(fpr, fprs, tprs))


def evaluate(cache: Path, k: int, c: float) -> None:
    dev = np.load(cache / "dev.npz")
    pool = np.load(cache / "pool.npz")
    folds = _folds(pool["groups"], pool["y"], k)
    results: dict[str, list[np.ndarray]] = {"dev only": [], "dev + pool": []}
    thresholds: dict[str, list[float]] = {"dev only": [], "dev + pool": []}
    held_y, held_groups = [], []
    for f in range(k):
        test = folds == f
        held_y.append(pool["y"][test])
        held_groups.append(pool["groups"][test])
        for name in results:
            if name == "dev only":
                x, y = dev["x"], dev["y"]
            else:
                x = np.concatenate([dev["x"], pool["x"][~test]])
                y = np.concatenate([dev["y"], pool["y"][~test]])
            scaler, model = _probe(x, y, c)
            score = model.decision_function(scaler.transform(pool["x"][test]))
            results[name].append(score)
            # The 95th percentile of the training reals' scores: a threshold fixed without the
            # held-out sources (in-sample scores; optimistic, so the held-out rate is a floor).
            train_real = model.decision_function(scaler.transform(x[y == 0]))
            thresholds[name].append(float(np.quantile(train_real, 0.95)))
    y_all = np.concatenate(held_y)
    print(f"{len(y_all)} held-out pool images ({int(y_all.sum())} generated), {k} folds, C={c}")
    for name, scores in results.items():
        s = np.concatenate(scores)
        over = np.concatenate([sc > t for sc, t in zip(scores, thresholds[name], strict=True)])
        print(
            f"{name:<11} AUC {roc_auc_score(y_all, s):.3f}  TPR@5% {_tpr(y_all, s, 0.05):.3f}  "
            f"TPR@1% {_tpr(y_all, s, 0.01):.3f}  held-out reals over the train-set 5% "
            f"threshold {over[y_all == 0].mean():.1%}, fakes over it {over[y_all == 1].mean():.1%}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("command", choices=("extract", "eval"))
    ap.add_argument("--dev", type=Path, default=Path("../shared/data/dev"))
    ap.add_argument("--pool", type=Path, default=Path("/work/pool"))
    ap.add_argument("--cache", type=Path, default=Path("/work/cache/pool-probe"))
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--C", type=float, default=0.05)
    args = ap.parse_args()
    if args.command == "extract":
        extract(args.dev, args.pool, args.cache)
    else:
        evaluate(args.cache, args.folds, args.C)
    return 0


if __name__ == "__main__":
    sys.exit(main())
