"""``synthcheck project ...`` end to end through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import pytest
from typer.testing import CliRunner

from synthcheck.cli.main import app
from synthcheck.errors import (
    ConfigError,
    DataError,
    ProjectError,
    ProjectNotFoundError,
    SynthcheckError,
)
from test_project_support import make_dataset, make_images

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNTHCHECK_HOME", str(tmp_path / "home"))
    return make_dataset(tmp_path / "data", n=10)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_full_flow(env: Path, tmp_path: Path) -> None:
    code, out = run("project", "create", "demo", "--labels", "real,ai", "--features", "artifacts")
    assert code == 0, out
    (env / "real" / "bad.jpg").write_bytes(b"garbage")
    code, out = run("project", "import", "demo", str(env), "--format", "json")
    assert code == 1  # one bad file: reported, counted, not fatal
    report = json.loads(out.splitlines()[-1])
    assert report["added"] == 20 and report["failed"] == 1
    code, out = run("project", "train", "demo", "--folds", "4", "--format", "json")
    assert code == 0, out
    d = json.loads(out)
    for key in (
        "cv_accuracy_per_class",
        "cv_auc",
        "n_images",
        "seconds_features",
        "seconds_sweep",
        "chosen",
    ):
        assert key in d
    assert d["n_images"] == 20 and d["kept"] and d["version"] == 1
    assert {"feature_set", "head"} <= set(d["chosen"])

    code, out = run(
        "project", "review", "demo", "--sort", "confidence", "--limit", "3", "--format", "json"
    )
    assert code == 0 and len(json.loads(out)) == 3
    code, out = run("project", "review", "demo", "--filter", "bogus")
    assert code == 2 and "unknown filter" in out

    unseen = make_images(tmp_path / "unseen", "ai", 1, start=77)[0]
    code, out = run("project", "predict", "demo", str(unseen))
    assert code == 0
    row = json.loads(out.splitlines()[0])
    assert row["verdict"] in ("ai", "unsure", "real") and row["error"] is None
    assert any(s["name"] == "project:demo" for s in row["signals"])

    code, out = run("project", "label", "demo", str(env / "ai" / "ai_000.png"), "real")
    assert code == 0
    code, out = run("project", "label", "demo", str(env / "ai" / "ai_000.png"), "cat")
    assert code == 1 and "not a label" in out  # a ProjectError: exit 1, as in every command
    code, out = run("project", "remove", "demo", str(env / "ai" / "ai_001.png"))
    assert code == 0

    model = tmp_path / "demo-model.zip"
    assert run("project", "export", "demo", str(model))[0] == 0
    assert run("project", "create", "copy", "--features", "artifacts")[0] == 0
    code, out = run("project", "import-model", "copy", str(model))
    assert code == 0 and "version 1" in out

    code, out = run("project", "list", "--format", "json")
    assert {p["name"] for p in json.loads(out)} == {"demo", "copy"}
    code, out = run("project", "show", "demo", "--format", "json")
    assert json.loads(out)["per_label"] == {"real": 11, "ai": 8}
    assert run("project", "delete", "copy", "--yes")[0] == 0


def test_errors_are_clear(env: Path) -> None:
    # Exit statuses come from the error classes, as for every other command: 2 for a usage error
    # (ConfigError: fix the command line), 1 for anything else (a data or project error).
    code, out = run("project", "train", "nope")
    assert code == 1 and "no project named 'nope'" in out
    run("project", "create", "p", "--features", "artifacts")
    code, out = run("project", "import", "p", str(env / "missing"), "--label", "ai")
    assert code == 1 and "folder not found" in out
    code, out = run("project", "import", "p", str(env / "ai"), "--label", "dog")
    assert code == 1 and "not a label" in out
    run("project", "import", "p", str(env / "ai"), "--label", "ai")
    code, out = run("project", "train", "p")
    assert code == 1 and "at least two labels" in out
    code, out = run("project", "train", "p", "--features", "no-such-backbone")
    assert code == 2 and "unknown feature extractor" in out
    code, out = run("project", "train", "p", "--init", "bogus")
    assert code == 2 and "unknown init" in out
    code, out = run("project", "create", "q", "--features", "no-such-backbone")
    assert code == 2 and "unknown feature extractor" in out


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConfigError("a bad option value"), 2),
        (DataError("a data set unfit for training"), 1),
        (ProjectError("a project error"), 1),
        # The status comes from the class, never from the message's words.
        (ProjectNotFoundError("usage: a message that reads like a usage error"), 1),
        (DataError("unknown option, no such project"), 1),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ("show", "p"),
        ("train", "p"),
        ("review", "p"),
        ("label", "p", "abcdef", "ai"),
        ("remove", "p", "abcdef"),
        ("export", "p", "out.zip"),
        ("import-model", "p", "in.zip"),
        ("predict", "p", "x.png"),
        ("list",),
        ("delete", "p", "--yes"),
        ("create", "p"),
    ],
)
def test_every_project_command_exits_with_the_error_class_code(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
    error: SynthcheckError,
    expected: int,
) -> None:
    import synthcheck.training as training

    def boom(*args: object, **kwargs: object) -> NoReturn:
        raise error

    monkeypatch.setattr(training.Project, "open", boom)
    monkeypatch.setattr(training.Project, "create", boom)
    monkeypatch.setattr(training, "list_projects", boom)
    monkeypatch.setattr(training, "delete_project", boom)
    code, out = run("project", *command)
    assert code == expected, out
    assert f"error: {error}" in " ".join(out.split())


def test_import_unlabelled_and_list_file(env: Path, tmp_path: Path) -> None:
    assert run("project", "create", "u", "--features", "artifacts")[0] == 0
    code, out = run("project", "import", "u", str(env / "ai"), "--unlabelled")
    assert code == 0 and "imported 10 new images (unlabelled 10)" in out
    listing = tmp_path / "labels.csv"
    listing.write_text(
        "path,label\n" + "".join(f"{p},{p.parent.name}\n" for p in sorted(env.rglob("*.png")))
    )
    code, out = run("project", "import", "u", "--from", str(listing))
    assert code == 0 and "10 duplicates merged" in out
    code, out = run("project", "show", "u", "--format", "json")
    info = json.loads(out)
    assert info["per_label"] == {"real": 10, "ai": 10} and info["unlabelled"] == 0
    code, out = run("project", "import", "u", str(env / "ai"), "--label", "ai", "--unlabelled")
    assert code == 2 and "exclude each other" in out
    code, out = run("project", "import", "u")
    assert code == 2 and "either FOLDER or --from FILE" in out


def test_project_evaluate_runs_the_report_card(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from synthcheck.cli.main import app
    from synthcheck.training import Project
    from test_project_support import make_dataset, make_images

    home = tmp_path / "home"
    with Project.create("ev", extractors=["artifacts"], home=home) as project:
        project.import_label_folders(make_dataset(tmp_path / "train", n=12))
        project.train(folds=3)
    make_images(tmp_path / "held" / "real", "real", 6, start=500)
    make_images(tmp_path / "held" / "ai", "ai", 6, start=500)
    out = tmp_path / "card.json"
    result = CliRunner().invoke(
        app,
        [
            "--home",
            str(home),
            "project",
            "evaluate",
            "ev",
            "--real",
            str(tmp_path / "held" / "real"),
            "--ai",
            str(tmp_path / "held" / "ai"),
            "--no-robustness",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    import json

    card = json.loads(out.read_text())
    assert "project:ev" in json.dumps(card)
    missing = CliRunner().invoke(app, ["--home", str(home), "project", "evaluate", "ev"])
    assert missing.exit_code == 2
