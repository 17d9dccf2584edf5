"""``synthcheck scan``: formats parsed back, exit codes, resume, kill -9, timeouts, --from-list."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from scan_corpus import make_corpus, many_images
from synthcheck.cli.main import app
from synthcheck.engine import executor as executor_module
from synthcheck.engine.executor import ScanConfig
from synthcheck.errors import ConfigError
from synthcheck.reports.rows import result_from_csv_row

CONTRACT_KEYS = {"path", "verdict", "p_ai", "signals", "error"}
BASE = ["scan", "--profile", "provenance", "--workers", "1"]


def run(*args: str) -> Any:
    return CliRunner().invoke(app, [*BASE, *args], catch_exceptions=False)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "synthcheck.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "CI": "1"},
    )


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {Path(r["path"]).name: r for r in rows}


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "seconds"}


def test_jsonl_contract_and_malformed_file(tmp_path: Path) -> None:
    make_corpus(tmp_path)
    result = run(str(tmp_path), "--format", "jsonl")
    assert result.exit_code == 1  # the malformed file failed, the others were scanned
    rows = by_name(jsonl(result.stdout))
    assert set(rows) == {"gen.png", "cam.jpg", "plain.jpg", "broken.jpg"}
    for row in rows.values():
        assert set(row) >= CONTRACT_KEYS
        assert row["verdict"] in {"ai", "real", "unsure", "error"}
        assert row["p_ai"] is None  # no pixel model in the provenance profile
    assert rows["gen.png"]["verdict"] == "ai"
    gen = next(s for s in rows["gen.png"]["signals"] if s["name"] == "generator-metadata")
    assert gen["verdict"] == "ai" and gen["evidence"]
    assert rows["cam.jpg"]["verdict"] == "unsure"  # camera EXIF alone never proves "real"
    assert rows["broken.jpg"]["error"]["type"] == "not_an_image"
    assert rows["broken.jpg"]["error"]["message"]
    assert "broken.jpg" in result.stderr
    assert "1 error" in result.stderr and "1 skipped" in result.stderr


def test_every_format_parses_back(tmp_path: Path) -> None:
    images = tmp_path / "in"
    make_corpus(images)
    reference = {r["path"]: comparable(r) for r in jsonl(run(str(images), "-f", "jsonl").stdout)}

    out_csv = run(str(images), "-f", "csv").stdout
    rows = [result_from_csv_row(r).to_dict() for r in csv.DictReader(io.StringIO(out_csv))]
    assert {r["path"]: comparable(r) for r in rows} == reference

    doc = json.loads(run(str(images), "-f", "json").stdout)
    assert {r["path"]: comparable(r) for r in doc["results"]} == reference
    assert doc["summary"]["verdicts"] == {"ai": 1, "unsure": 2, "real": 0, "error": 1}
    assert doc["summary"]["skipped"] == 1

    report = tmp_path / "report.html"
    assert run(str(images), "-o", str(report)).exit_code == 1
    html = report.read_text()
    assert "<html" in html and "gen.png" in html and "generator-metadata" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert html.count("data:image/jpeg;base64,") == 3  # a thumbnail per decodable image

    table = run(str(images), "-f", "table").stdout
    for name in ("gen.png", "cam.jpg", "plain.jpg", "broken.jpg"):
        assert name in table
    assert "4 files: 1 ai, 2 unsure, 0 real; 1 error; 1 skipped" in table


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_output_file_formats(tmp_path: Path, fmt: str) -> None:
    make_corpus(tmp_path / "in", malformed=False)
    out = tmp_path / f"out.{fmt}"
    result = run(str(tmp_path / "in"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    text = out.read_text()
    if fmt == "jsonl":
        paths = [r["path"] for r in jsonl(text)]
    elif fmt == "csv":
        paths = [r["path"] for r in csv.DictReader(io.StringIO(text))]
    else:
        paths = [r["path"] for r in json.loads(text)["results"]]
    assert sorted(Path(p).name for p in paths) == ["cam.jpg", "gen.png", "plain.jpg"]


def test_exit_codes_via_subprocess(tmp_path: Path) -> None:
    good = tmp_path / "good"
    make_corpus(good, malformed=False)
    mixed = tmp_path / "mixed"
    make_corpus(mixed)
    ok = cli(*BASE, str(good), "-f", "jsonl")
    assert ok.returncode == 0, ok.stderr
    assert len(jsonl(ok.stdout)) == 3
    failed = cli(*BASE, str(mixed), "-f", "jsonl")
    assert failed.returncode == 1
    assert len(jsonl(failed.stdout)) == 4
    assert "broken.jpg" in failed.stderr
    missing = cli(*BASE, str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    bad_format = cli(*BASE, str(good), "--format", "xml")
    assert bad_format.returncode == 2 and "--format" in bad_format.stderr
    bad_profile = cli("scan", "--profile", "turbo", str(good))
    assert bad_profile.returncode == 2 and "turbo" in bad_profile.stderr
    nothing = cli("scan")
    assert nothing.returncode == 2


def test_process_pool_gives_the_same_results(tmp_path: Path) -> None:
    make_corpus(tmp_path)
    serial = jsonl(run(str(tmp_path), "-f", "jsonl").stdout)
    pooled = CliRunner().invoke(
        app, ["scan", "--profile", "provenance", "-w", "2", str(tmp_path), "-f", "jsonl"]
    )
    assert pooled.exit_code == 1
    assert sorted(map(comparable, jsonl(pooled.stdout)), key=lambda r: r["path"]) == sorted(
        map(comparable, serial), key=lambda r: r["path"]
    )


def test_from_list_plain_and_csv(tmp_path: Path) -> None:
    files = make_corpus(tmp_path / "imgs")
    plain = tmp_path / "list.txt"
    plain.write_text(f"# images\nimgs/gen.png\n\n{files['camera']}\nimgs/missing.jpg\n")
    result = run("--from-list", str(plain), "-f", "jsonl")
    rows = by_name(jsonl(result.stdout))
    assert set(rows) == {"gen.png", "cam.jpg", "missing.jpg"}
    assert rows["missing.jpg"]["verdict"] == "error"  # a listed file that is gone is a failure
    assert result.exit_code == 1
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("label,path\nai,imgs/gen.png\nreal,imgs/sub/plain.jpg\n")
    result = run("--from-list", str(manifest), "-f", "jsonl")
    assert result.exit_code == 0
    assert set(by_name(jsonl(result.stdout))) == {"gen.png", "plain.jpg"}


def test_resume_skips_finished_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    images = tmp_path / "in"
    make_corpus(images, malformed=False)
    calls: list[str] = []
    real_scan_one = executor_module.scan_one

    def counting(detector: Any, path: str, config: Any) -> Any:
        calls.append(Path(path).name)
        return real_scan_one(detector, path, config)

    monkeypatch.setattr(executor_module, "scan_one", counting)
    out = tmp_path / "out.jsonl"
    assert run(str(images), "-o", str(out)).exit_code == 0
    assert len(calls) == 3
    many_images(images / "new", 2)
    calls.clear()
    second = run(str(images), "-o", str(out))
    assert second.exit_code == 0
    assert sorted(calls) == ["img00000.png", "img00001.png"]  # only the new files
    assert "3 resumed" in second.stderr
    rows = jsonl(out.read_text())
    assert len(rows) == 5 and len({r["path"] for r in rows}) == 5
    calls.clear()
    assert run(str(images), "-o", str(out), "--no-resume").exit_code == 0
    assert len(calls) == 5 and len(jsonl(out.read_text())) == 5


def test_resume_refuses_another_detector(tmp_path: Path) -> None:
    make_corpus(tmp_path / "in", malformed=False)
    out = tmp_path / "out.jsonl"
    assert run(str(tmp_path / "in"), "-o", str(out)).exit_code == 0
    rows = jsonl(out.read_text())
    rows[0]["detector"] = "some-other-model/v9"
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    again = run(str(tmp_path / "in"), "-o", str(out))
    assert again.exit_code == 2
    assert "some-other-model/v9" in again.stderr and "--no-resume" in again.stderr


@pytest.mark.slow
def test_kill_9_midway_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    images = tmp_path / "in"
    files = many_images(images, 300, size=(256, 256))  # big enough for the watermark decoder
    out = tmp_path / "out.jsonl"
    args = [sys.executable, "-m", "synthcheck.cli.main", *BASE, str(images), "-o", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 20:
                break
            if proc.poll() is not None:
                pytest.fail("the scan ended before it could be killed")
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    before = out.read_bytes()
    complete = before[: before.rfind(b"\n") + 1]
    n_before = complete.count(b"\n")
    assert 20 <= n_before < len(files)
    resumed = cli(*BASE, str(images), "-o", str(out))
    assert resumed.returncode == 0, resumed.stderr
    after = out.read_bytes()
    assert after.startswith(complete)  # every row written before the kill is still there
    rows = jsonl(after.decode())
    assert len(rows) == len(files)
    assert {Path(r["path"]).name for r in rows} == {f.name for f in files}
    assert f"{n_before} resumed" in resumed.stderr


def test_timeout_reports_the_file_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_corpus(tmp_path, malformed=False)
    from synthcheck.intake.decode import load_image as real_load  # what the executor calls

    def slow_for_gen(path: str, **kw: Any) -> Any:
        if path.endswith("gen.png"):
            time.sleep(30)
        return real_load(path, **kw)

    monkeypatch.setattr(executor_module, "load_image", slow_for_gen)
    started = time.monotonic()
    result = run(str(tmp_path), "-f", "jsonl", "--timeout", "0.3")
    assert time.monotonic() - started < 20
    rows = by_name(jsonl(result.stdout))
    assert rows["gen.png"]["error"]["type"] == "timeout"
    assert rows["cam.jpg"]["verdict"] == "unsure" and rows["plain.jpg"]["error"] is None
    assert result.exit_code == 1


def test_timeout_inside_a_signal_is_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Signals run under a broad except (one buggy signal must not lose the others); the timeout
    # must still end the file.
    from synthcheck.signals.camera_exif import CameraExifSignal

    real = CameraExifSignal.analyze

    def slow(self: Any, image: Any) -> Any:
        if image.path.endswith("cam.jpg"):
            time.sleep(30)
        return real(self, image)

    monkeypatch.setattr(CameraExifSignal, "analyze", slow)
    make_corpus(tmp_path, malformed=False)
    result = run(str(tmp_path), "-f", "jsonl", "--timeout", "0.3")
    rows = by_name(jsonl(result.stdout))
    assert rows["cam.jpg"]["error"]["type"] == "timeout"
    assert rows["gen.png"]["verdict"] == "ai"


def test_default_time_limit_and_zero_for_none(tmp_path: Path) -> None:
    from synthcheck.engine.executor import DEFAULT_TIMEOUT_S

    assert ScanConfig().timeout == DEFAULT_TIMEOUT_S == 60.0
    make_corpus(tmp_path, malformed=False)
    result = run(str(tmp_path), "--timeout", "0", "-f", "jsonl")
    assert result.exit_code == 0
    assert all(row["error"] is None for row in jsonl(result.stdout))


def test_usage_errors_in_process(tmp_path: Path) -> None:
    make_corpus(tmp_path, malformed=False)
    assert run(str(tmp_path), "--resume").exit_code == 2  # --resume without --output
    assert run(str(tmp_path), "--timeout", "-1").exit_code == 2
    assert run(str(tmp_path), "--calibration", "no-such-profile").exit_code == 2
    assert run(str(tmp_path), "--workers", "0").exit_code == 2


def test_quiet_prints_no_summary(tmp_path: Path) -> None:
    make_corpus(tmp_path, malformed=False)
    result = run(str(tmp_path), "-f", "jsonl", "--quiet")
    assert result.exit_code == 0 and result.stderr == ""


def test_python_api_scan(tmp_path: Path) -> None:
    from synthcheck.engine.batch import scan

    files = make_corpus(tmp_path)
    results = {Path(r.path).name: r for r in scan(tmp_path, profile="provenance")}
    assert set(results) == {"gen.png", "cam.jpg", "plain.jpg", "broken.jpg"}
    assert results["gen.png"].verdict == "ai"
    assert results["broken.jpg"].error is not None
    single = list(scan(str(files["ai"]), profile="provenance"))
    assert len(single) == 1 and single[0].verdict == "ai"
    with pytest.raises(ConfigError):  # a usage error, raised before anything is scanned
        list(scan(tmp_path / "missing", profile="provenance"))


def test_heatmaps_written_and_embedded(tmp_path: Path) -> None:
    from synthcheck.errors import SynthcheckError
    from synthcheck.pixel import create_pixel_model

    try:
        create_pixel_model("fast")
    except SynthcheckError as exc:
        pytest.skip(f"no pixel model here: {exc}")
    make_corpus(tmp_path / "in")
    heat = tmp_path / "heat"
    report = tmp_path / "report.html"
    args = ["scan", "--profile", "fast", "-w", "1", str(tmp_path / "in")]
    result = CliRunner().invoke(app, [*args, "--heatmaps", str(heat), "-o", str(report)])
    assert result.exit_code == 1, result.stderr  # the malformed file
    rows = by_name(jsonl(Path(f"{report}.results.jsonl").read_text()))
    for name in ("gen.png", "cam.jpg", "plain.jpg"):
        overlay = Path(rows[name]["heatmap"])
        assert overlay.parent == heat and overlay.is_file()
        assert rows[name]["p_ai"] is not None
    assert rows["broken.jpg"]["heatmap"] is None
    assert report.read_text().count("data:image/png;base64,") == 3


def test_heatmap_tiles_bound_the_heatmap_grid(tmp_path: Path) -> None:
    from PIL import Image

    from synthcheck.errors import SynthcheckError
    from synthcheck.pixel import create_pixel_model

    try:
        create_pixel_model("fast")
    except SynthcheckError as exc:
        pytest.skip(f"no pixel model here: {exc}")
    big = tmp_path / "in" / "big.png"
    big.parent.mkdir()
    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8)).save(big)
    counts: dict[str, int] = {}
    p_ai: dict[str, float] = {}
    for tiles in ("2", "40"):
        heat = tmp_path / f"heat{tiles}"
        out = tmp_path / f"r{tiles}.jsonl"
        args = ["scan", "--profile", "fast", "-w", "1", str(big), "--heatmaps", str(heat)]
        result = CliRunner().invoke(app, [*args, "--heatmap-tiles", tiles, "-o", str(out)])
        assert result.exit_code == 0, result.stderr
        (row,) = jsonl(out.read_text())
        assert Path(row["heatmap"]).is_file()
        signal = next(s for s in row["signals"] if s["name"] == "artifacts")
        (count,) = [e["value"] for e in signal["evidence"] if e["field"] == "heatmap_tiles"]
        counts[tiles], p_ai[tiles] = count, row["p_ai"]
    assert counts["2"] <= 2 < counts["40"] <= 40
    assert p_ai["2"] == p_ai["40"]  # the budget shapes the map, never the verdict


def test_heatmap_tiles_need_heatmaps_and_a_valid_count(tmp_path: Path) -> None:
    result = run(str(tmp_path), "--heatmap-tiles", "8")
    assert result.exit_code == 2
    assert "--heatmap-tiles needs --heatmaps" in result.stderr
    result = run(str(tmp_path), "--heatmaps", str(tmp_path), "--heatmap-tiles", "0")
    assert result.exit_code == 2 and "--heatmap-tiles" in result.stderr
    with pytest.raises(ConfigError, match="heatmap_tiles must be between 1 and 1024"):
        executor_module.ScanConfig(heatmap_tiles=2000)


def test_readme_samples(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_samples.py"
    made = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "samples")], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    result = run(str(tmp_path / "samples"), "-f", "jsonl")
    assert result.exit_code == 0
    verdicts = {name: row["verdict"] for name, row in by_name(jsonl(result.stdout)).items()}
    assert verdicts == {
        "generated-a1111.png": "ai",
        "generated-comfyui.png": "ai",
        "declared-ai-xmp.jpg": "ai",
        "camera-exif.jpg": "unsure",
        "plain-photo.jpg": "unsure",
    }


@pytest.mark.slow
def test_ctrl_c_keeps_results_and_stops_the_workers(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    images = tmp_path / "in"
    files = many_images(images, 300, size=(256, 256))
    out = tmp_path / "out.csv"
    args = [sys.executable, "-m", "synthcheck.cli.main", "scan", "--profile", "provenance"]
    args += ["--workers", "2", str(images), "-o", str(out)]
    # A test run started in the background (`cmd &`, nohup) hands its children SIGINT ignored,
    # and Python then installs no Ctrl-C handler; give the scan the default a terminal would.
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 90
    workers: list[Any] = []
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 11:
            workers = psutil.Process(proc.pid).children(recursive=True)
            break
        time.sleep(0.01)
    assert workers, "the scan ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "run the same command to resume" in stderr
    _, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive  # the pool was shut down with the scan
    kept = list(csv.DictReader(io.StringIO(out.read_text())))
    assert 10 <= len(kept) < len(files)
    resumed = cli("scan", "--profile", "provenance", str(images), "-o", str(out))
    assert resumed.returncode == 0, resumed.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert sorted(Path(r["path"]).name for r in rows) == sorted(f.name for f in files)
