"""Bounded-time mutation fuzzing campaign over intake and every metadata parser.

    python benchmarks/fuzz.py --minutes 10 [--seed 1] [--save tests/fuzz_regressions]

Prints inputs run, inputs/s and findings; each finding is saved for a regression test.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import check_one, mutations, seed_corpus
from synthcheck.engine.detector import Detector


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save", type=Path, default=None, help="folder to keep crashing inputs in")
    args = ap.parse_args()
    detector = Detector()
    rng = random.Random(args.seed)
    seeds = seed_corpus()
    stop = time.monotonic() + args.minutes * 60
    runs = 0
    findings: list[tuple[str, str]] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in mutations(seeds, rng):
            if time.monotonic() > stop:
                break
            problem = check_one(detector, Path(tmp) / name, data, seconds=10)
            runs += 1
            if problem:
                findings.append((name, problem))
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    (args.save / f"crash_{len(findings):03d}_{name}").write_bytes(data)
    wall = time.monotonic() - t0
    print(
        f"seeds={len(seeds)} inputs={runs} seconds={wall:.0f} inputs/s={runs / wall:.1f}"
        f" findings={len(findings)}"
    )
    for name, problem in findings[:20]:
        print(f"  {name}: {problem}")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
