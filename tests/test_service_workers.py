"""The service analyses uploads in worker processes it can stop: a hanging or bloating upload
ends only its own worker, gets a per-file error result, and never stalls other requests."""

from __future__ import annotations

import contextlib
import io
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from e2e_support import running_server
from synthcheck.engine import executor as ex
from synthcheck.engine.executor import ScanConfig
from synthcheck.results import ScanResult
from synthcheck.service.analysis import WorkerLanes
from synthcheck.service.app import create_app
from synthcheck.service.settings import ServiceSettings


def _png(value: int = 40) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (value, value, value)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def hanging_lanes(monkeypatch: pytest.MonkeyPatch) -> WorkerLanes:
    real = ex.scan_one

    # Stands in for a parser stuck in native code: it ignores the soft (SIGALRM) time limit, so
    # only ending the worker process stops it. Uploads are stored under random names, so the
    # hostile file is told by its content.
    def patched(detector: Any, path: str, config: ScanConfig) -> ScanResult:
        if Path(path).read_bytes().startswith(b"STUCK"):
            while True:
                with contextlib.suppress(BaseException):
                    time.sleep(10)
        return real(detector, path, config)

    monkeypatch.setattr(ex, "scan_one", patched)
    monkeypatch.setattr(ex, "HARD_LIMIT_GRACE", 1.0)
    # Forked workers inherit the patches (spawned ones would import the real module).
    return WorkerLanes(ScanConfig(profile="provenance", timeout=2.0), 2, start_method="fork")


def test_health_answers_while_a_hostile_upload_holds_a_worker(hanging_lanes: WorkerLanes) -> None:
    app = create_app(ServiceSettings(profile="provenance"), analysis=hanging_lanes)
    stuck_files = [
        ("files", ("stuck.png", b"STUCK" + b"\0" * 100, "image/png")),
        ("files", ("fine.png", _png(), "image/png")),
    ]
    # Generous client timeouts: the machine running the tests may be busy; the bounds that
    # matter are asserted below.
    with running_server(app) as base, httpx.Client(base_url=base, timeout=300) as http:
        outcome: dict[str, Any] = {}

        def post() -> None:
            try:
                outcome["response"] = http.post("/api/v1/detect", files=stuck_files)
            except Exception as exc:  # reported by the assertion below, not lost in the thread
                outcome["error"] = exc

        worker = threading.Thread(target=post)
        started = time.monotonic()
        worker.start()
        time.sleep(0.5)  # the upload is in a worker by now
        latencies = []
        for _ in range(5):
            t0 = time.monotonic()
            assert http.get("/api/v1/health").status_code == 200
            latencies.append(time.monotonic() - t0)
        # The hostile upload is still being analysed while health answers ...
        assert worker.is_alive()
        assert max(latencies) < 1.0, latencies
        # ... and another detect request is served by the other worker meanwhile.
        other = http.post("/api/v1/detect", files=[("files", ("b.png", _png(90), "image/png"))])
        assert other.json()["results"][0]["verdict"] == "unsure"
        assert worker.is_alive()
        worker.join(timeout=300)
        elapsed = time.monotonic() - started
        assert "response" in outcome, outcome
        results = outcome["response"].json()["results"]
        # The timed-out file is a per-file error; the rest of the batch goes on.
        assert [r["path"] for r in results] == ["stuck.png", "fine.png"]
        assert results[0]["verdict"] == "error"
        assert results[0]["error"]["type"] == "worker_crashed"
        assert "hard time limit of 3 s" in results[0]["error"]["message"]
        assert results[0]["error"]["message"].startswith("stuck.png: ")
        assert results[1]["verdict"] == "unsure"
        assert elapsed < 120  # 2 s soft + 1 s grace: ended long before the 60 s default
        # The ended worker was replaced: both lanes serve again.
        again = http.post(
            "/api/v1/detect",
            files=[("files", (f"{i}.png", _png(10 * i), "image/png")) for i in range(4)],
        )
        assert [r["verdict"] for r in again.json()["results"]] == ["unsure"] * 4


def test_serve_defaults_to_workers_with_time_and_memory_limits() -> None:
    settings = ServiceSettings()
    assert settings.timeout == 60 and settings.max_memory_mb == 1280
    config = settings.scan_config()
    assert config.timeout == 60 and config.max_memory_mb == 1280
    app = create_app(settings)
    assert isinstance(app.state.synthcheck.analysis, WorkerLanes)
    assert app.state.synthcheck.analysis.config == config


def test_detect_in_spawned_workers_follows_scan_contract() -> None:
    # The default path: real spawned workers, built from the settings.
    app = create_app(ServiceSettings(profile="provenance", workers=1))
    with TestClient(app, base_url="http://localhost") as client:
        files = [
            ("files", ("plain.png", _png(), "image/png")),
            ("files", ("notes.jpg", b"plain text, not an image", "image/jpeg")),
        ]
        body = client.post("/api/v1/detect", files=files).json()
    results = body["results"]
    assert [r["path"] for r in results] == ["plain.png", "notes.jpg"]
    assert [r["verdict"] for r in results] == ["unsure", "error"]
    assert results[1]["error"]["type"] == "not_an_image"
    assert results[1]["error"]["message"].startswith("notes.jpg: ")
    assert "synthcheck-upload" not in str(body)  # no server paths leak
    assert body["detector"] == "provenance-only"


def test_serve_command_passes_limits_and_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from synthcheck.cli.main import app as cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--profile",
            "provenance",
            "--timeout",
            "7.5",
            "--max-memory",
            "900",
            "--allowed-host",
            "box.lan",
            "--allowed-host",
            "10.0.0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    settings = seen["app"].state.synthcheck.settings
    assert settings.timeout == 7.5 and settings.max_memory_mb == 900
    assert settings.allowed_hosts == ("box.lan", "10.0.0.5")
    bad = CliRunner().invoke(cli, ["serve", "--max-memory", "100"])
    assert bad.exit_code != 0


@pytest.mark.slow
def test_an_upload_over_the_memory_cap_ends_only_its_worker(tmp_path: Path) -> None:
    # 100 MP of flat colour: a tiny file whose decoded pixels need ~300 MB (+ the RGB copy).
    big = tmp_path / "big.png"
    Image.new("RGB", (10_000, 10_000), (10, 200, 30)).save(big, compress_level=1)
    # The header budget would refuse the file before decoding; lifted, the worker cap must act.
    settings = ServiceSettings(
        profile="provenance", workers=1, max_memory_mb=400, max_image_mb=8192
    )
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        files = [
            ("files", ("big.png", big.read_bytes(), "image/png")),
            ("files", ("small.png", _png(), "image/png")),
        ]
        results = client.post("/api/v1/detect", files=files).json()["results"]
    assert results[0]["verdict"] == "error"
    assert "memory cap of 400 MiB" in results[0]["error"]["message"]
    assert results[1]["verdict"] == "unsure"


def test_heatmaps_drawn_in_a_worker_are_served() -> None:
    # The worker writes the PNG into a private folder of the server, which serves it from its
    # cache and never sends a path of this machine.
    app = create_app(ServiceSettings(profile="fast", workers=1, heatmap_tiles=2))
    buf = io.BytesIO()
    Image.effect_noise((96, 80), 40).convert("RGB").save(buf, format="PNG")
    with TestClient(app, base_url="http://localhost") as client:
        r = client.post(
            "/api/v1/detect?heatmap=true", files=[("files", ("n.png", buf.getvalue(), "image/png"))]
        )
        assert r.status_code == 200, r.text
        result = r.json()["results"][0]
        assert result["verdict"] != "error", result
        assert result["heatmap"] is None
        png = client.get(result["heatmap_url"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(png.content)).size == (96, 80)
        folder = app.state.synthcheck.analysis._heatmaps
        assert folder is not None and not any(folder.iterdir())  # read and removed
    assert not folder.exists()  # removed when the server stops
