"""Speed and memory of the default pixel detector per profile, on generated 1 MP JPEGs.

Each profile runs in a fresh subprocess (so peak RSS is its own) over the same images, one image
at a time as ``synthcheck scan`` does: intake decode, provenance signals, then the pixel heads.
Prints images/s, mean ms per stage and peak RSS, with the pure JPEG decode time (Pillow,
nothing else) beside it as the floor. Targets (issue 3): fast >= 40 images/s, thorough <= 300 ms
per image, peak RSS <= 1.5 GB, on 2 cores.

    python benchmarks/bench_speed.py [--n 30] [--profiles fast,thorough] [--heatmap]

``--heatmap`` also draws each image's heatmap grid, as ``scan --heatmaps`` does (its tiles are
scored only then); the grid's cost is its own stage.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def make_images(folder: Path, n: int, width: int = 1155, height: int = 866) -> list[Path]:
    """Photo-like 1 MP JPEGs (smooth shapes, texture and sensor-like noise), quality 90."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    paths = []
    for i in range(n):
        fx, fy = rng.uniform(20, 120, 2)
        base = 110 + 70 * np.sin(xx / fx + i) * np.cos(yy / fy)
        img = base[..., None] + rng.normal(0, 8, (height, width, 3)) + rng.uniform(-30, 30, 3)
        path = folder / f"img{i:03d}.jpg"
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def child(profile: str, folder: Path, heatmap: bool = False) -> dict[str, object]:
    sys.path.insert(0, str(REPO / "src"))
    from synthcheck.engine.detector import Detector
    from synthcheck.intake.decode import load_image
    from synthcheck.pixel import create_pixel_model

    paths = sorted(folder.glob("*.jpg"))
    t = time.perf_counter()
    model = create_pixel_model(profile)
    load_s = time.perf_counter() - t
    provenance = Detector(pixel_model=None)
    stages: dict[str, list[float]] = {"pure decode": [], "decode": [], "provenance": []}
    total: list[float] = []
    for i, p in enumerate(paths):
        t0 = time.perf_counter()
        with Image.open(p) as im:
            np.asarray(im.convert("RGB"))
        t1 = time.perf_counter()
        image = load_image(p)
        t2 = time.perf_counter()
        provenance.scan_image(image)
        t3 = time.perf_counter()
        res = model.predict(image, heatmap=heatmap)
        t4 = time.perf_counter()
        if i == 0:
            continue  # warm-up
        stages["pure decode"].append(t1 - t0)
        stages["decode"].append(t2 - t1)
        stages["provenance"].append(t3 - t2)
        for head, s in res.timings.items():
            stages.setdefault(f"pixel: {head}", []).append(s)
        stages.setdefault("pixel: fusion", []).append(t4 - t3 - sum(res.timings.values()))
        total.append(t4 - t1)
    return {
        "profile": profile + (" with heatmaps" if heatmap else ""),
        "model": model.name,
        "load_s": load_s,
        "images_per_s": len(total) / sum(total),
        "ms_per_image": 1000 * float(np.mean(total)),
        "stages_ms": {k: 1000 * float(np.mean(v)) for k, v in stages.items()},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=30, help="images per profile (the first is warm-up)")
    ap.add_argument("--profiles", default="fast,thorough")
    ap.add_argument("--heatmap", action="store_true", help="also draw every image's heatmap grid")
    ap.add_argument("--child", nargs=2, metavar=("PROFILE", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.heatmap)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        make_images(Path(tmp), args.n)
        rows = []
        for profile in args.profiles.split(","):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", profile, tmp]
                + (["--heatmap"] if args.heatmap else []),
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                print(f"{profile}: failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    for r in rows:
        print(f"\nprofile {r['profile']} ({r['model']}), 1 MP JPEG q90, {args.n - 1} timed images")
        print(
            f"  images/s {r['images_per_s']:.1f}   ms/image {r['ms_per_image']:.1f}   "
            f"peak RSS {r['peak_rss_mb']:.0f} MB   model load {r['load_s']:.2f} s"
        )
        for stage, ms in r["stages_ms"].items():
            note = (
                "  (floor: Pillow decode alone, not part of the total)"
                if stage == "pure decode"
                else ""
            )
            print(f"    {stage:<24} {ms:8.1f} ms{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
