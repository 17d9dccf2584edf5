"""The shipped detector on the native-resolution training pool, whose sources it never saw.

    python scripts/build_pool.py ... --out /work/pool          # the pool (see data/README.md)
    synthcheck scan /work/pool --profile thorough -f jsonl -o pool.jsonl
    python benchmarks/bench_pool.py report --pool /work/pool --scan pool.jsonl

    python benchmarks/bench_pool.py launder --pool /work/pool --kind s75q85 --out /work/pool-s75q85
    synthcheck scan /work/pool-s75q85 ... ; bench_pool.py report --pool /work/pool-s75q85 ...

The pool (``scripts/build_pool.py``) shares no repository with the dev pool the default model was
trained on, so every generator family and every real source in it is unseen: this is the
leave-family-out and leave-source-out protocol with both sides held out at once. ``report`` prints
AUC and TPR at 5% and 1% FPR overall and on the slices the issue names (families released 2025 or
later, photoreal fakes), then per family the share called "ai" and mean p_ai, and per real source
the shipped verdict's false-positive rate ("ai") and its "unsure" share. ``launder`` writes a copy
of the pool with the same processing for both classes (``q60``: JPEG quality 60; ``half``: 0.5x
resize; ``s75q85``: 0.75x resize then JPEG quality 85) and the manifest beside it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.metrics import roc_auc_score, roc_curve


def _tpr_at(y: np.ndarray, s: np.ndarray, fpr: float) -> float:
    fprs, tprs, _ = roc_curve(y, s)
    return float(np.interp(fpr, fprs, tprs))


def _metrics(y: np.ndarray, s: np.ndarray) -> str:
    if len(set(y.tolist())) < 2:
        return "n/a (one class)"
    return (
        f"AUC {roc_auc_score(y, s):.3f}  TPR@5% {_tpr_at(y, s, 0.05):.3f}  "
        f"TPR@1% {_tpr_at(y, s, 0.01):.3f}  (n={len(y)}, fakes {int(y.sum())})"
    )


def _rows(pool: Path, scan: Path) -> list[dict[str, str]]:
    by_file: dict[str, dict[str, object]] = {}
    with scan.open(encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            if line.strip():
                result = json.loads(line)
                rel = Path(result["path"]).resolve().relative_to(pool.resolve())
                by_file[str(rel)] = result
    rows = []
    with (pool / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            result = by_file.get(row["file"])
            if result is None or result["p_ai"] is None:
                continue
            rows.append({**row, "p_ai": str(result["p_ai"]), "verdict": str(result["verdict"])})
    return rows


def report(pool: Path, scan: Path) -> None:
    rows = _rows(pool, scan)
    y = np.array([r["label"] == "fake" for r in rows], dtype=int)
    s = np.array([float(r["p_ai"]) for r in rows])
    real = y == 0
    print(f"{len(rows)} scored images from {pool}")
    print(f"all                      {_metrics(y, s)}")
    recent = np.array([r["label"] == "real" or int(r.get("year") or 0) >= 2025 for r in rows])
    print(f"fakes released 2025+     {_metrics(y[recent], s[recent])}")
    photoreal = np.array([r["label"] == "real" or r.get("photoreal") == "yes" for r in rows])
    print(f"photoreal fakes          {_metrics(y[photoreal], s[photoreal])}")
    called_ai = np.array([r["verdict"] == "ai" for r in rows])
    unsure = np.array([r["verdict"] == "unsure" for r in rows])
    if real.all() or not real.any():
        print("the verdict split needs both classes")
        return
    print(
        f"shipped verdict: reals called ai {called_ai[real].mean():.1%}, unsure "
        f"{unsure[real].mean():.1%}; fakes called ai {called_ai[~real].mean():.1%}, "
        f"unsure {unsure[~real].mean():.1%}"
    )
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        key = r["family"] if r["label"] == "fake" else r["source"]
        groups[(r["label"], key)].append(i)
    print("\nper fake family: n, called ai, unsure, mean p_ai (year, photoreal)")
    for (label, key), idx in sorted(groups.items(), key=lambda kv: s[kv[1]].mean()):
        if label == "fake":
            first = rows[idx[0]]
            print(
                f"  {key:<28} {len(idx):>4} {called_ai[idx].mean():>6.0%} "
                f"{unsure[idx].mean():>6.0%} {s[idx].mean():>6.2f}  "
                f"({first.get('year')}, {first.get('photoreal')})"
            )
    print("\nper real source: n, called ai (false positives), unsure, mean p_ai")
    for (label, key), idx in sorted(groups.items(), key=lambda kv: -s[kv[1]].mean()):
        if label == "real":
            print(
                f"  {key:<28} {len(idx):>4} {called_ai[idx].mean():>6.0%} "
                f"{unsure[idx].mean():>6.0%} {s[idx].mean():>6.2f}"
            )


def launder(pool: Path, kind: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with (pool / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        for row in reader:
            with Image.open(pool / row["file"]) as im:
                im = im.convert("RGB")
                if kind in ("half", "s75q85"):
                    scale = 0.5 if kind == "half" else 0.75
                    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
                    im = im.resize(size, Image.Resampling.BICUBIC)
                target = (out / row["file"]).with_suffix(".jpg" if kind != "half" else ".png")
                target.parent.mkdir(parents=True, exist_ok=True)
                if kind == "half":
                    im.save(target, "PNG")
                else:
                    buf = io.BytesIO()
                    im.save(buf, "JPEG", quality=60 if kind == "q60" else 85)
                    target.write_bytes(buf.getvalue())
            rows.append({**row, "file": str(target.relative_to(out))})
    with (out / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    if (pool / "README.md").is_file():
        shutil.copy(pool / "README.md", out / "README.md")
    print(f"wrote {len(rows)} images to {out}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("command", choices=("report", "launder"))
    ap.add_argument("--pool", type=Path, required=True)
    ap.add_argument("--scan", type=Path, help="JSONL of `synthcheck scan` over --pool")
    ap.add_argument("--kind", choices=("q60", "half", "s75q85"), default="s75q85")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.command == "report":
        if args.scan is None:
            ap.error("report needs --scan")
        report(args.pool, args.scan)
    else:
        if args.out is None:
            ap.error("launder needs --out")
        launder(args.pool, args.kind, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
