"""Speed and memory of each installed backbone: images/s and ms/image at batch 1 and 16, load
time, peak RSS.

    nice -n 10 python benchmarks/bench_backbones.py [--repeats 3] [--threads N] [NAME[@F1,F2] ...]

``NAME@F1,F2`` computes only those features (``create_backbone(NAME, features=...)``, a graph
pruned to what they need); ``clip-vit-b16 clip-vit-b16@cls_l8`` compares the whole CLIP tower
with the 8 layers the default heads run.

Each backbone runs in its own process so that its peak RSS is its own. Crops are S x S (the
backbone's input size: 224 for CLIP and Lite0, 260 for Lite2) of seeded noise; the networks'
cost does not depend on content. "CPU ms/img" (user + system time of all threads) is less
sensitive than wall time to other processes on a shared machine; on an idle machine with T
threads, wall time is roughly CPU time / T. The load time is with the rewritten CLIP graph
already cached (the first load ever also rewrites it, timed separately as "first load").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

BATCHES = (1, 16)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, repeats: int, threads: int | None) -> dict[str, Any]:
    """Run in the child process: figures for one backbone."""
    from synthcheck.backbones import create_backbone

    backbone, features = _split(name)
    start = time.perf_counter()
    bb = create_backbone(backbone, threads=threads, batch_size=max(BATCHES), features=features)
    load_s = time.perf_counter() - start
    s = bb.input_size
    crops = np.random.default_rng(0).integers(0, 256, (max(BATCHES), s, s, 3), dtype=np.uint8)
    bb.features(crops[:2])  # warm-up: allocator, kernels
    out: dict[str, Any] = {"name": name, "input_size": s, "load_s": load_s}
    for batch in BATCHES:
        calls = max(BATCHES) // batch  # each round: the same number of images at every batch size
        best = best_cpu = float("inf")
        for _ in range(max(repeats, 1)):
            t0, c0 = time.perf_counter(), _cpu_seconds()
            for _ in range(calls):
                bb.features(crops[:batch])
            best = min(best, (time.perf_counter() - t0) / (calls * batch))
            best_cpu = min(best_cpu, (_cpu_seconds() - c0) / (calls * batch))
        out[f"cpu_ms_per_image_b{batch}"] = best_cpu * 1000
        out[f"ms_per_image_b{batch}"] = best * 1000
        out[f"images_per_s_b{batch}"] = 1.0 / best
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _split(name: str) -> tuple[str, list[str] | None]:
    """``NAME@F1,F2`` -> (NAME, [F1, F2]); plain NAME -> (NAME, None)."""
    backbone, at, listed = name.rpartition("@")
    if not at:
        return name, None
    return backbone, [f for f in listed.split(",") if f]


def first_load_s(name: str) -> float | None:
    """Seconds for a load with an empty cache (CLIP rewrites its graph), in a child process."""
    if _split(name) != ("clip-vit-b16", None):
        return None
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SYNTHCHECK_CACHE=cache)
        code = (
            "import time; t=time.perf_counter();"
            f"from synthcheck.backbones import create_backbone; create_backbone({name!r});"
            "print(time.perf_counter()-t)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Backbone speed and memory")
    parser.add_argument("names", nargs="*", help="backbones (default: every installed one)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds; the best is kept")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.repeats, args.threads)))
        return 0

    from synthcheck.backbones import backbone_available, list_backbones
    from synthcheck.backbones.runtime import default_threads

    names = args.names or [n for n in list_backbones() if backbone_available(n)]
    threads = args.threads or default_threads()
    print(
        f"CPUs available: {len(os.sched_getaffinity(0))}, ORT threads: {threads}, "
        f"load average at start: {os.getloadavg()[0]:.1f}"
    )
    rows = []
    for name in names:
        cmd = [sys.executable, __file__, "--child", name, "--repeats", str(args.repeats)]
        cmd += ["--threads", str(threads)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["first_load_s"] = first_load_s(name)
        rows.append(row)

    header = (
        f"{'backbone':28s} {'size':>4s} {'load s':>7s} {'1st load':>8s} "
        f"{'ms/img b1':>9s} {'img/s b1':>8s} {'ms/img b16':>10s} {'img/s b16':>9s} "
        f"{'CPU ms/img b1/b16':>17s} {'peak RSS':>9s}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        first = f"{r['first_load_s']:8.1f}" if r["first_load_s"] is not None else f"{'-':>8s}"
        print(
            f"{r['name']:28s} {r['input_size']:4d} {r['load_s']:7.1f} {first} "
            f"{r['ms_per_image_b1']:9.1f} {r['images_per_s_b1']:8.1f} "
            f"{r['ms_per_image_b16']:10.1f} {r['images_per_s_b16']:9.1f} "
            f"{r['cpu_ms_per_image_b1']:8.0f} /{r['cpu_ms_per_image_b16']:7.0f} "
            f"{r['peak_rss_mb']:7.0f} MB"
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
