"""Load benchmark: a real ``synthcheck serve`` on loopback, N concurrent clients for T seconds.

Prints errors (must be 0), requests/s, p50 / p95 latency and the server's peak RSS.

    python benchmarks/bench_server_load.py --clients 32 --seconds 60 --profile auto
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import numpy as np
from PIL import Image


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _payloads(n: int) -> list[bytes]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        arr = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=85)
        out.append(buf.getvalue())
    return out


async def _client(
    base: str, payloads: list[bytes], stop: float, lat: list[float], errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        i = 0
        while time.monotonic() < stop:
            body = payloads[i % len(payloads)]
            i += 1
            t0 = time.perf_counter()
            try:
                r = await client.post(
                    "/api/v1/detect", files={"files": ("x.jpg", body, "image/jpeg")}
                )
                if r.status_code != 200 or r.json()["results"][0]["verdict"] == "error":
                    errors.append(f"{r.status_code}: {r.text[:200]}")
            except Exception as exc:
                errors.append(repr(exc))
            lat.append(time.perf_counter() - t0)


async def _run(base: str, clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    payloads = _payloads(8)
    lat: list[float] = []
    errors: list[str] = []
    t0 = time.monotonic()
    stop = t0 + seconds
    await asyncio.gather(*(_client(base, payloads, stop, lat, errors) for _ in range(clients)))
    return lat, errors, time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--profile", default="auto")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "synthcheck.cli.main",
        "serve",
        "--port",
        str(port),
        "--profile",
        args.profile,
        "--workers",
        str(args.workers),
    ]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print(
                    "server did not start:", server.stderr.read().decode() if server.stderr else ""
                )
                return 1
            time.sleep(0.2)
        # warm the model before timing
        httpx.post(
            base + "/api/v1/detect",
            files={"files": ("w.jpg", _payloads(1)[0], "image/jpeg")},
            timeout=300,
        )
        lat, errors, wall = asyncio.run(_run(base, args.clients, args.seconds))
        rss = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lat_ms = sorted(x * 1000 for x in lat)
    p50 = statistics.median(lat_ms) if lat_ms else float("nan")
    p95 = lat_ms[int(0.95 * (len(lat_ms) - 1))] if lat_ms else float("nan")
    print(f"profile={args.profile} clients={args.clients} seconds={wall:.1f} cpus={os.cpu_count()}")
    print(
        f"{'requests':>10} {'errors':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'peak RSS MB':>12}"
    )
    print(
        f"{len(lat):>10} {len(errors):>7} {len(lat) / wall:>7.2f} {p50:>8.0f} {p95:>8.0f}"
        f" {rss:>12.0f}"
    )
    for e in errors[:5]:
        print("error:", e)
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
