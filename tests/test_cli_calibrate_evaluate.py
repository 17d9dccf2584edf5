"""``synthcheck calibrate`` / ``synthcheck evaluate`` and the ``evaluate_model`` API, end to end
on images made here, with a small deterministic pixel model standing in for a trained one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from synthcheck.cli.main import app
from synthcheck.errors import DataError
from synthcheck.evaluation import evaluate_model, items_from_folders, load_profile, render_html
from synthcheck.evaluation import models as model_registry
from synthcheck.fusion import Thresholds
from synthcheck.intake import LoadedImage
from synthcheck.results import SignalResult


@dataclass
class _Prediction:
    p_ai: float
    signals: list[SignalResult] = field(default_factory=list)


class SmoothnessModel:
    """Test double: p_ai rises as neighbouring pixels get more alike (deterministic)."""

    name = "smoothness"

    def predict(self, image: LoadedImage, *, heatmap: bool = False) -> _Prediction:
        step = np.abs(np.diff(image.pixels.astype(np.float64), axis=1)).mean()
        return _Prediction(float(1.0 / (1.0 + np.exp((step - 12.0) / 4.0))))


class VersionedModel(SmoothnessModel):
    version = "1"


def _write(path: Path, label: str, seed: int, fmt: str) -> None:
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(56, 72)), int(rng.integers(56, 72))
    if label == "real":
        pixels = rng.normal(128, rng.uniform(12, 40), (h, w, 3))
    else:
        ramp = np.linspace(0, 255, w)[None, :, None] * np.ones((h, 1, 3))
        pixels = ramp + rng.normal(0, rng.uniform(2, 14), (h, w, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, format=fmt)


def make_set(
    root: Path, n: int = 12, real_fmt: str = "PNG", ai_fmt: str = "PNG"
) -> tuple[Path, Path]:
    """real/<source>/ and ai/<generator>/ folders of ``n`` images per sub-folder."""
    seed = 0
    for label, groups, fmt in (
        ("real", ("phone", "dslr"), real_fmt),
        ("ai", ("diffusion", "gan"), ai_fmt),
    ):
        for group in groups:
            for i in range(n):
                seed += 1
                ext = "jpg" if fmt == "JPEG" else fmt.lower()
                _write(root / label / group / f"{i}.{ext}", label, seed, fmt)
    return root / "real", root / "ai"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("SYNTHCHECK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SYNTHCHECK_CACHE", str(tmp_path / "cache"))
    real = model_registry.resolve_model

    def resolve(spec: str) -> object:
        if spec == "versioned":
            return VersionedModel()
        return SmoothnessModel() if spec in ("default", "auto", "smooth") else real(spec)

    monkeypatch.setattr(model_registry, "resolve_model", resolve)
    return CliRunner()


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_calibrate_stores_a_profile_and_warns_about_sample_size(
    runner: CliRunner, tmp_path: Path
) -> None:
    real, ai = make_set(tmp_path, n=15)
    out = tmp_path / "profile.json"
    result = runner.invoke(
        app, ["calibrate", str(real), "--fpr", "0.05", "--name", "desk", "--ai-dir", str(ai),
              "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = _plain(result.output)
    assert "Calibration profile 'desk'" in text
    assert "60 are needed" in text and "30 more" in text
    assert "recall on 30 known-AI images" in text
    # What the profile will do to photos like these, in plain words (issue 27).
    profile = load_profile("desk")
    assert profile.outcome_shares() is not None
    real_share, unsure_share, _ = profile.outcome_shares() or (0.0, 0.0, 0.0)
    assert f"about {100 * real_share:.0f}% will read real" in text
    assert f"{100 * unsure_share:.0f}% unsure" in text
    profile = load_profile("desk")
    assert profile.n_real == 30 and profile.n_ai == 30
    assert profile.model_name == "smoothness" and profile.model_profile == "auto"
    assert json.loads(out.read_text())["name"] == "desk"
    assert (tmp_path / "home" / "calibration" / "desk.json").is_file()


def test_calibrate_counts_unreadable_files(runner: CliRunner, tmp_path: Path) -> None:
    real, _ = make_set(tmp_path, n=5)
    (real / "phone" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    result = runner.invoke(app, ["calibrate", str(real), "--fpr", "0.1", "--name", "n"])
    assert result.exit_code == 0, result.output
    assert "1 file could not be scored" in _plain(result.output)
    assert load_profile("n").skipped == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--name", "../x"], 2, "invalid calibration profile name"),
        (["--fpr", "0.9"], 2, "target_fpr"),
        (["--profile", "nonsense"], 2, "unknown model 'nonsense'"),
    ],
)
def test_calibrate_usage_errors(
    runner: CliRunner, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    real, _ = make_set(tmp_path, n=2)
    result = runner.invoke(app, ["calibrate", str(real), *args])
    assert result.exit_code == code
    assert message in _plain(result.output)


def test_calibrate_empty_and_missing_folders(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["calibrate", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "no image files found" in _plain(result.output)
    result = runner.invoke(app, ["calibrate", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "does not exist" in _plain(result.output)


def test_evaluate_writes_json_and_self_contained_html(runner: CliRunner, tmp_path: Path) -> None:
    real, ai = make_set(tmp_path)
    (ai / "notes.txt").write_text("not an image")
    js, page = tmp_path / "report.json", tmp_path / "report.html"
    result = runner.invoke(
        app, ["evaluate", "--real", str(real), "--ai", str(ai), "--json", str(js),
              "--html", str(page), "--bootstrap", "200"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = _plain(result.output)
    assert text.index("Dataset-bias audit") < text.index("AUC")
    report = json.loads(js.read_text())
    assert report["n_real"] == 24 and report["n_ai"] == 24 and report["ignored_files"] == 1
    conditions = [c["condition"] for c in report["conditions"]]
    assert conditions == ["clean", "jpeg95", "jpeg75", "jpeg50", "resize0.5", "resize0.25",
                          "crop50", "webp", "screenshot"]  # fmt: skip
    clean = report["conditions"][0]
    assert clean["auc"] > 0.9
    assert clean["auc_ci"][0] <= clean["auc"] <= clean["auc_ci"][1]
    assert {g["name"] for g in report["generators"]} == {"diffusion", "gan"}
    assert {g["name"] for g in report["sources"]} == {"phone", "dslr"}
    assert report["bias_audit"]["findings"]
    assert len(report["images"]) == 48
    html = page.read_text()
    assert html.count("<svg") == 3
    assert "Dataset-bias audit" in html
    for external in ("<script", "src=", "href=", "url(", "@import"):
        assert external not in html


def test_evaluate_warns_about_format_bias(runner: CliRunner, tmp_path: Path) -> None:
    real, ai = make_set(tmp_path, real_fmt="JPEG", ai_fmt="PNG")
    js = tmp_path / "r.json"
    result = runner.invoke(
        app, ["evaluate", "--real", str(real), "--ai", str(ai), "--no-robustness",
              "--json", str(js)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "container format alone" in _plain(result.output)
    findings = json.loads(js.read_text())["bias_audit"]["findings"]
    assert findings[0]["check"] == "format" and findings[0]["severity"] == "warning"


def test_evaluate_from_csv_with_calibration(runner: CliRunner, tmp_path: Path) -> None:
    real, ai = make_set(tmp_path, n=8)
    rows = ["file,label,generator"]
    rows += [f"{p.relative_to(tmp_path)},real,{p.parent.name}" for p in sorted(real.rglob("*.png"))]
    rows += [f"{p.relative_to(tmp_path)},fake,{p.parent.name}" for p in sorted(ai.rglob("*.png"))]
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    calibrated = runner.invoke(app, ["calibrate", str(real), "--name", "mine", "--fpr", "0.1"])
    assert calibrated.exit_code == 0, calibrated.output
    js = tmp_path / "r.json"
    result = runner.invoke(
        app, ["evaluate", "--csv", str(csv_path), "--calibration", "mine", "--no-robustness",
              "--json", str(js), "--limit", "10"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(js.read_text())
    assert report["calibration"] == "mine"
    assert report["thresholds"]["ai_threshold"] == load_profile("mine").thresholds.ai_threshold
    assert report["n_real"] == 10 and report["n_ai"] == 10
    assert {g["name"] for g in report["sources"]} <= {"phone", "dslr"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([], 2, "give --real DIR and --ai DIR, or --csv FILE"),
        (["--model", "nonsense"], 2, "unknown model 'nonsense'"),
        (["--calibration", "nope"], 2, "unknown calibration profile 'nope'"),
        (["--model", "project:"], 2, "needs a project name"),
    ],
)
def test_evaluate_usage_errors(
    runner: CliRunner, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    real, ai = make_set(tmp_path, n=2)
    folders = ["--real", str(real), "--ai", str(ai)] if args else []
    result = runner.invoke(app, ["evaluate", *folders, "--no-robustness", *args])
    assert result.exit_code == code, result.output
    assert message in _plain(result.output)


def test_evaluate_one_class_only(runner: CliRunner, tmp_path: Path) -> None:
    real, _ = make_set(tmp_path, n=2)
    (tmp_path / "none").mkdir()
    result = runner.invoke(app, ["evaluate", "--real", str(real), "--ai", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no image files found" in _plain(result.output)


def test_evaluate_model_api(tmp_path: Path) -> None:
    real, ai = make_set(tmp_path, n=6)
    (real / "phone" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    items, _ = items_from_folders(real, ai)
    report = evaluate_model(
        SmoothnessModel(), items=items, thresholds=Thresholds(0.2, 0.6),
        conditions=["jpeg50", "resize0.5"], n_boot=100,
    )  # fmt: skip
    assert [c.condition for c in report.conditions] == ["clean", "jpeg50", "resize0.5"]
    assert report.skipped_files == 1
    assert report.n_real == 12 and report.n_ai == 12
    rates = report.verdict_rates
    assert sum(rates["real"].values()) == pytest.approx(1.0)
    assert report.clean.fpr_at_threshold == rates["real"]["ai"]
    assert 0.0 <= report.ece <= 1.0
    assert sum(b.count for b in report.reliability) == 24
    assert "<svg" in render_html(report)
    # The plain-paths form used by `project evaluate`.
    simple = evaluate_model(
        SmoothnessModel(),
        sorted(real.rglob("*.png")), sorted(ai.rglob("*.png")), robustness=False, n_boot=0,
    )  # fmt: skip
    assert simple.clean.auc == report.clean.auc and simple.clean.auc_ci is None
    assert simple.generators == [] and simple.sources == []


def test_evaluate_model_needs_both_classes(tmp_path: Path) -> None:
    real, _ = make_set(tmp_path, n=2)
    with pytest.raises(DataError, match="no AI images given"):
        evaluate_model(SmoothnessModel(), sorted(real.rglob("*.png")), [])
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nothing")
    with pytest.raises(DataError, match="none of the 1 AI images could be scored"):
        evaluate_model(SmoothnessModel(), sorted(real.rglob("*.png")), [bad])


def test_profile_for_another_model_is_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synthcheck.evaluation import CalibrationProfile, fit_thresholds, save_profile

    monkeypatch.setenv("SYNTHCHECK_HOME", str(tmp_path / "home"))
    fit = fit_thresholds(np.linspace(0, 0.5, 400), 0.01)
    save_profile(CalibrationProfile.from_fit(fit, name="o", model_profile="fast", model_name="x"))
    real, ai = make_set(tmp_path, n=3)
    report = evaluate_model(
        SmoothnessModel(), sorted(real.rglob("*.png")), sorted(ai.rglob("*.png")),
        calibration="o", robustness=False, n_boot=0,
    )  # fmt: skip
    assert report.thresholds == fit.thresholds
    assert report.notes and "fitted for model 'x', not 'smoothness'" in report.notes[0]
    assert "fitted for model" in render_html(report)


def test_folder_listing_skips_hidden_entries_and_link_loops(tmp_path: Path) -> None:
    from synthcheck.evaluation.dataset import list_images

    make_set(tmp_path, n=2)
    (tmp_path / "real" / ".thumbs").mkdir()
    _write(tmp_path / "real" / ".thumbs" / "x.png", "real", 1, "PNG")
    _write(tmp_path / "real" / ".hidden.png", "real", 2, "PNG")
    (tmp_path / "real" / "phone" / "loop").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "real" / "readme.md").write_text("x")
    listing = list_images(tmp_path / "real")
    # left out and counted: readme.md, .hidden.png, the .thumbs folder and the link loop
    assert len(listing.files) == 4 and listing.ignored == 4
    with pytest.raises(DataError, match="is not a folder"):
        list_images(tmp_path / "real" / "readme.md")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("name,kind\na.png,real\n", "needs a header with 'path'"),
        ("path,label\na.png,maybe\n", "line 2: unknown label 'maybe'"),
        ("path,label\n,real\n", "line 2: empty path"),
        ("path,label\n", "lists no images"),
    ],
)
def test_bad_csv(tmp_path: Path, content: str, match: str) -> None:
    from synthcheck.evaluation import items_from_csv

    path = tmp_path / "labels.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        items_from_csv(path)
    with pytest.raises(DataError, match="not found"):
        items_from_csv(tmp_path / "missing.csv")


def test_csv_columns_and_labels(tmp_path: Path) -> None:
    from synthcheck.evaluation import items_from_csv

    path = tmp_path / "labels.csv"
    path.write_text(
        "Path,Label,Generator,Source\na.png,AI,sdxl,web\n/abs/b.jpg,0,,camera\nc.png,real,phone,\n"
    )
    a, b, c = items_from_csv(path)
    assert (a.path, a.label, a.generator, a.source) == (str(tmp_path / "a.png"), 1, "sdxl", "web")
    assert (b.path, b.label, b.generator, b.source) == ("/abs/b.jpg", 0, None, "camera")
    assert (c.label, c.generator, c.source) == (0, None, "phone")


@pytest.mark.shared
def test_dev_manifest_reads_as_an_evaluation_set(shared_data: Path) -> None:
    from synthcheck.evaluation import items_from_csv
    from synthcheck.evaluation.dataset import sample_items

    items = items_from_csv(shared_data / "dev" / "manifest.csv")
    ai = [i for i in items if i.label == 1]
    real = [i for i in items if i.label == 0]
    assert ai and real
    assert all(i.generator and i.source is None for i in ai)
    assert all(i.source and i.generator is None for i in real)
    assert all(Path(i.path).is_file() for i in items[:50])
    picked = sample_items(items, 20, seed=1)
    assert sum(i.label for i in picked) == 20 and len(picked) == 40
    assert picked == sample_items(items, 20, seed=1)


def test_scores_of_versioned_models_persist_between_runs(runner: CliRunner, tmp_path: Path) -> None:
    real, ai = make_set(tmp_path, n=3)
    js = tmp_path / "r.json"
    args = ["evaluate", "--real", str(real), "--ai", str(ai), "--model", "versioned",
            "--no-robustness", "--json", str(js)]  # fmt: skip
    assert runner.invoke(app, ["calibrate", str(real), "--profile", "versioned"]).exit_code == 0
    assert (tmp_path / "cache" / "evaluation-scores.sqlite").is_file()
    assert runner.invoke(app, args).exit_code == 0
    first = json.loads(js.read_text())
    assert (first["scores_cached"], first["scores_computed"]) == (6, 6)
    assert runner.invoke(app, [*args, "--no-cache"]).exit_code == 0
    assert json.loads(js.read_text())["scores_computed"] == 12
    # Unversioned models never use the disk cache.
    assert runner.invoke(app, [*args[:-5], "--no-robustness", "--json", str(js)]).exit_code == 0
    assert json.loads(js.read_text())["scores_cached"] == 0


def test_calibrations_lists_profiles(runner: CliRunner, tmp_path: Path) -> None:
    assert "No calibration profiles yet" in runner.invoke(app, ["calibrations"]).output
    real, _ = make_set(tmp_path, n=3)
    assert runner.invoke(app, ["calibrate", str(real), "--name", "desk"]).exit_code == 0
    result = runner.invoke(app, ["calibrations"])
    assert result.exit_code == 0 and "desk" in result.output and "smoothness" in result.output


def test_evaluate_selected_conditions(runner: CliRunner, tmp_path: Path) -> None:
    real, ai = make_set(tmp_path, n=3)
    js = tmp_path / "r.json"
    args = ["evaluate", "--real", str(real), "--ai", str(ai), "--json", str(js)]
    assert runner.invoke(app, [*args, "--conditions", "webp,jpeg50"]).exit_code == 0
    got = [c["condition"] for c in json.loads(js.read_text())["conditions"]]
    assert got == ["clean", "webp", "jpeg50"]
    result = runner.invoke(app, [*args, "--conditions", "blur"])
    assert result.exit_code == 2 and "unknown transform 'blur'" in _plain(result.output)


def test_calibration_records_the_profile_that_loaded() -> None:
    from types import SimpleNamespace

    from synthcheck.evaluation.models import concrete_spec

    fast = SimpleNamespace(name="m/fast", profile=SimpleNamespace(name="fast"))
    assert concrete_spec("auto", fast) == "fast"
    assert concrete_spec("default", fast) == "fast"
    assert concrete_spec("thorough", fast) == "thorough"
    assert concrete_spec("auto", SmoothnessModel()) == "auto"
    assert concrete_spec("project:cats", SmoothnessModel()) == "project:cats"


def test_unknown_project_model(runner: CliRunner, tmp_path: Path) -> None:
    real, ai = make_set(tmp_path, n=2)
    result = runner.invoke(
        app, ["evaluate", "--real", str(real), "--ai", str(ai), "--model", "project:nope"]
    )
    assert result.exit_code == 1
    assert "nope" in _plain(result.output)


def test_evaluate_says_what_the_sweep_costs_and_shows_progress_off_a_terminal(
    runner: CliRunner, tmp_path: Path
) -> None:
    # Issue 27: 635 s with no output when not on a terminal. The same word as scan: --profile.
    real, ai = make_set(tmp_path, n=3)
    args = ["evaluate", "--real", str(real), "--ai", str(ai), "--profile", "auto"]
    result = runner.invoke(app, [*args, "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    text = _plain(result.output)
    assert "scoring 12 images under 9 conditions (clean + 8 laundered versions" in text
    assert "scoring: 12/12 done" in text  # plain progress lines: the console is no terminal
    result = runner.invoke(app, [*args, "--conditions", "jpeg50", "--bootstrap", "0"])
    assert "scoring 12 images under 2 conditions" in _plain(result.output)


def test_help_shows_no_type_after_flags(runner: CliRunner) -> None:
    for command in (["scan", "--help"], ["evaluate", "--help"], ["--help"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0
        assert "<bool>" not in result.output and "--help" in result.output
