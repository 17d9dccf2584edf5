"""Batch-scan throughput and client memory (provenance-only, so the engine's own costs show).

    python benchmarks/bench_scan.py [--files 2000] [--rss-files 10000] [--workers 2]

1. files/s of a provenance-only scan of small generated images: serial (in-process) versus the
   local process pool;
2. peak RSS of the ``synthcheck scan`` client process scanning ``--rss-files`` images with a
   process pool into JSONL and into the HTML report (target: <= 500 MB). The client runs in its
   own interpreter and reports its own ``ru_maxrss``; the workers' memory is not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from PIL import Image

from synthcheck.engine.batch import scan_paths
from synthcheck.engine.executor import ProcessExecutor, ScanConfig, SerialExecutor
from synthcheck.engine.walk import expand_paths

CLIENT = """
import resource, sys
from synthcheck.cli.main import app
try:
    app(sys.argv[1:])
finally:
    sys.stderr.write(f"\\nMAXRSS_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n")
"""


def make_images(folder: Path, n: int, size: tuple[int, int] = (64, 48)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    for i in range(n):
        arr = np.roll(base, i, axis=1)
        arr[0, 0] = (i % 256, (i // 256) % 256, 7)
        im = Image.fromarray(arr)
        if i % 2:
            im.save(folder / f"{i:06d}.jpg", quality=85)
        else:
            im.save(folder / f"{i:06d}.png")


def _children_cpu() -> float:
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            total += times.user + times.system
    return total


def throughput(files: list[str], workers: int, batch_size: int) -> tuple[float, float]:
    """files/s and CPU ms per file (this process and its workers together)."""
    config = ScanConfig(profile="provenance")
    executor = SerialExecutor(config) if workers == 1 else ProcessExecutor(config, workers)
    try:
        # warm up: workers start and build their detectors before the clock starts
        list(scan_paths(files[: 4 * workers], executor, batch_size=1))
        cpu = time.process_time() + _children_cpu()
        start = time.perf_counter()
        n = sum(1 for _ in scan_paths(files, executor, batch_size=batch_size))
        rate = n / (time.perf_counter() - start)
        cpu_ms = 1000 * (time.process_time() + _children_cpu() - cpu) / n
        return rate, cpu_ms
    finally:
        executor.close()


def client_rss(folder: Path, out: Path, workers: int) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            CLIENT,
            "scan",
            str(folder),
            "--profile",
            "provenance",
            "--workers",
            str(workers),
            "--quiet",
            "--no-resume",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "1"},
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"scan failed ({proc.returncode}): {proc.stderr[-2000:]}")
    kb = int(proc.stderr.rsplit("MAXRSS_KB", 1)[1].split()[0])
    return kb / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rss-files", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--big-size", type=int, default=512, help="side of the larger images")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_images(root / "imgs", max(args.files, args.rss_files))
        files = list(expand_paths([root / "imgs"]))
        make_images(root / "big", args.files // 4, (args.big_size, args.big_size))
        big = list(expand_paths([root / "big"]))
        print(f"provenance-only scan, {os.cpu_count()} CPUs, batches of {args.batch_size}")
        print(f"{'images':<28} {'backend':<20} {'files/s':>9} {'CPU ms/file':>12}")
        for label, sample in (
            (f"{args.files} x 64x48 PNG/JPEG", files[: args.files]),
            (f"{len(big)} x {args.big_size}x{args.big_size} PNG/JPEG", big),
        ):
            serial, serial_cpu = throughput(sample, 1, args.batch_size)
            print(f"{label:<28} {'serial (in-process)':<20} {serial:9.1f} {serial_cpu:12.2f}")
            pool, pool_cpu = throughput(sample, args.workers, args.batch_size)
            name = f"process pool x{args.workers}"
            print(
                f"{label:<28} {name:<20} {pool:9.1f} {pool_cpu:12.2f}"
                f"   ({pool / serial:.2f}x serial)"
            )
        print(
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: the speed-up is "
            "bounded by the CPU share this machine gives; CPU ms/file shows the pool's overhead"
        )
        every = root / "imgs"
        print(
            f"\nclient peak RSS, synthcheck scan of {len(files)} images, --workers {args.workers}"
        )
        print(f"{'output':<10} {'peak RSS MB':>12} {'seconds':>8} {'files/s':>8}")
        for name in ("out.jsonl", "out.csv", "report.html"):
            rss, seconds = client_rss(every, root / name, args.workers)
            print(f"{name:<10} {rss:12.1f} {seconds:8.1f} {len(files) / seconds:8.1f}")
        print("target: client peak RSS <= 500 MB")


if __name__ == "__main__":
    main()
