"""Scan throughput on a Dask cluster on loopback with 1 and with 2 worker processes.

    python benchmarks/bench_dask.py [--files 600] [--size 384] [--profile provenance]

Starts a LocalCluster (scheduler and worker processes on 127.0.0.1, one thread each), scans the
same generated images with 1 and then 2 workers through :class:`DaskExecutor`, and prints
files/s and the speed-up (target: 2 workers >= 1.8x one). Each worker builds its detector once
(a warm-up batch runs before the clock starts). Needs ``synthcheck[dask]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from synthcheck.engine.batch import batched
from synthcheck.engine.executor import DaskExecutor, ScanConfig


def make_images(folder: Path, n: int, size: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    paths = []
    for i in range(n):
        path = folder / f"{i:05d}.jpg"
        Image.fromarray(np.roll(base, i, axis=0)).save(path, quality=90)
        paths.append(str(path))
    return paths


def _cpu_seconds() -> float:
    return time.process_time()


def run(
    files: list[str], workers: int, config: ScanConfig, batch_size: int
) -> tuple[float, float, float]:
    """files/s, worker CPU ms per file, client + scheduler CPU ms per file."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        executor = DaskExecutor(config, client=client)
        # warm up every worker (its detector is built on first use)
        warm = [files[:1]] * (4 * workers)
        list(executor.map_unordered(warm))
        worker_cpu = sum(client.run(_cpu_seconds).values())
        local_cpu = time.process_time()
        start = time.perf_counter()
        n = sum(1 for _ in executor.map_unordered(batched(files, batch_size)))
        rate = n / (time.perf_counter() - start)
        worker_ms = 1000 * (sum(client.run(_cpu_seconds).values()) - worker_cpu) / n
        local_ms = 1000 * (time.process_time() - local_cpu) / n
        executor.close()
        return rate, worker_ms, local_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--size", type=int, default=384, help="side of the square JPEGs")
    parser.add_argument("--profile", default="provenance")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    config = ScanConfig(profile=args.profile)
    with tempfile.TemporaryDirectory() as tmp:
        files = make_images(Path(tmp), args.files, args.size)
        print(
            f"Dask LocalCluster on 127.0.0.1, {args.files} JPEGs {args.size}x{args.size}, "
            f"profile {args.profile}, batches of {args.batch_size}, {os.cpu_count()} CPUs"
        )
        print(
            f"{'workers':<8} {'files/s':>8} {'worker CPU ms/file':>19} {'client CPU ms/file':>19}"
        )
        one, w1, c1 = run(files, 1, config, args.batch_size)
        print(f"{1:<8} {one:8.1f} {w1:19.2f} {c1:19.2f}")
        two, w2, c2 = run(files, 2, config, args.batch_size)
        print(f"{2:<8} {two:8.1f} {w2:19.2f} {c2:19.2f}")
        print(f"speed-up with 2 workers: {two / one:.2f}x (target >= 1.8x)")
        load = os.getloadavg()[0]
        print(f"load average during the run: {load:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
