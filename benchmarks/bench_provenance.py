"""Provenance-only scan over the fixtures: files/s, milliseconds per signal, verdict counts.

Runs ``synthcheck.engine.Detector()`` with no pixel model (every registered provenance signal)
over every file in ``fixtures/manifest.csv``, timing the decode and each signal separately, and
prints throughput, per-signal latency (mean / p95 / max) and the verdicts, overall and per signal.

    python benchmarks/bench_provenance.py [--data ../shared/data] [--repeat 1]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from synthcheck.engine import Detector
from synthcheck.errors import InputError
from synthcheck.intake import load_image
from synthcheck.intake.image import LoadedImage
from synthcheck.results import SignalResult

REPO = Path(__file__).resolve().parents[1]


def _timed(
    analyze: Callable[[LoadedImage], SignalResult], sink: list[float]
) -> Callable[[LoadedImage], SignalResult]:
    def run(image: LoadedImage) -> SignalResult:
        start = time.perf_counter()
        try:
            return analyze(image)
        finally:
            sink.append((time.perf_counter() - start) * 1000)

    return run


def _row(name: str, ms: list[float]) -> str:
    ms_sorted = sorted(ms)
    p95 = ms_sorted[min(len(ms_sorted) - 1, int(0.95 * len(ms_sorted)))] if ms else 0.0
    mean = statistics.fmean(ms) if ms else 0.0
    top = max(ms) if ms else 0.0
    return f"  {name:<22} {mean:9.2f} {p95:9.2f} {top:9.2f} {sum(ms) / 1000:9.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the fixtures")
    args = parser.parse_args()
    root = args.data / "fixtures"
    with (root / "manifest.csv").open(newline="") as fh:
        files = [root / row["file"] for row in csv.DictReader(fh)]

    detector = Detector()
    per_signal: dict[str, list[float]] = defaultdict(list)
    for signal in detector.signals:
        signal.analyze = _timed(signal.analyze, per_signal[signal.name])  # type: ignore[method-assign,assignment]
    decode_ms: list[float] = []
    verdicts: Counter[str] = Counter()
    signal_verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    failed: Counter[str] = Counter()

    wall = time.perf_counter()
    for _ in range(args.repeat):
        for path in files:
            start = time.perf_counter()
            try:
                image = load_image(path)
            except InputError as exc:
                failed[exc.code] += 1
                verdicts["error"] += 1
                continue
            decode_ms.append((time.perf_counter() - start) * 1000)
            result = detector.scan_image(image)
            verdicts[result.verdict] += 1
            for s in result.signals:
                key = f"{s.verdict}{' (decisive)' if s.decisive else ''}"
                signal_verdicts[s.name][key] += 1
    wall = time.perf_counter() - wall

    n = len(files) * args.repeat
    signal_s = sum(sum(v) for v in per_signal.values()) / 1000
    print(f"provenance-only scan of {len(files)} fixture files x {args.repeat} pass(es)")
    print(f"  wall {wall:.2f} s  ->  {n / wall:.1f} files/s (decode included)")
    print(
        f"  signals alone: {signal_s:.2f} s  ->  {len(decode_ms) / max(signal_s, 1e-9):.1f} files/s"
    )
    print(f"\n  {'stage (ms per file)':<22} {'mean':>9} {'p95':>9} {'max':>9} {'total s':>9}")
    print(_row("decode (intake)", decode_ms))
    for name, ms in sorted(per_signal.items()):
        print(_row(name, ms))
    print("\n  scan verdicts: " + ", ".join(f"{k} {v}" for k, v in verdicts.most_common()))
    if failed:
        print("  intake errors: " + ", ".join(f"{k} {v}" for k, v in failed.most_common()))
    for name, counts in sorted(signal_verdicts.items()):
        print(f"  {name:<20} " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))


if __name__ == "__main__":
    main()
