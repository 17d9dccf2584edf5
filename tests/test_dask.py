"""Scanning on a real Dask cluster (scheduler and two worker processes on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from typer.testing import CliRunner

from scan_corpus import make_corpus, many_images
from synthcheck.cli.main import app
from synthcheck.engine.batch import batched, scan_paths
from synthcheck.engine.executor import DaskExecutor, ScanConfig, SerialExecutor
from synthcheck.errors import ConfigError

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

CONFIG = ScanConfig(profile="provenance")


def comparable(results: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for r in results:
        d = r.to_dict() if not isinstance(r, dict) else dict(r)
        d.pop("seconds")
        out[d["path"]] = d
    return out


def _children() -> set[int]:
    # multiprocessing's resource tracker lives as long as this process, by design
    return {
        p.pid
        for p in psutil.Process().children(recursive=True)
        if "resource_tracker" not in " ".join(p.cmdline())
    }


def _detectors_built() -> int:
    from synthcheck.engine import executor

    return len(executor._DETECTORS)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    before = _children()
    local = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    try:
        yield local
    finally:
        local.close()
    leftover = _children() - before
    _, alive = psutil.wait_procs([psutil.Process(pid) for pid in leftover], timeout=10)
    assert not alive, f"processes left behind: {[p.cmdline() for p in alive]}"


def test_cluster_results_equal_local_results(tmp_path: Path, cluster: Any) -> None:
    files = [str(p) for p in make_corpus(tmp_path).values() if p.suffix != ".txt"]
    files += [str(p) for p in many_images(tmp_path / "more", 20)]
    local = comparable(scan_paths(files, SerialExecutor(CONFIG)))
    with distributed.Client(cluster, set_as_default=False) as client:
        executor = DaskExecutor(CONFIG, client=client, max_in_flight=3)
        remote = comparable(executor.map_unordered(batched(files, 4)))
        executor.close()  # a client passed in stays open for its owner
        built = client.run(_detectors_built)
    # each worker process built its detector once and reused it for every batch it ran
    assert set(built.values()) <= {0, 1} and sum(built.values()) >= 1
    assert remote == local
    assert len(remote) == len(files)


def test_cli_scan_on_the_cluster(tmp_path: Path, cluster: Any) -> None:
    make_corpus(tmp_path / "in")
    args = ["scan", "--profile", "provenance", str(tmp_path / "in"), "-f", "jsonl"]
    local = CliRunner().invoke(app, [*args, "--workers", "1"])
    remote = CliRunner().invoke(app, [*args, "--cluster", cluster.scheduler_address])
    assert remote.exit_code == local.exit_code == 1  # the malformed file, on both
    rows = [json.loads(line) for line in remote.stdout.splitlines()]
    assert comparable(rows) == comparable(json.loads(x) for x in local.stdout.splitlines())


def test_unreachable_scheduler_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler"):
        DaskExecutor(CONFIG, "tcp://127.0.0.1:9", connect_timeout=1)
