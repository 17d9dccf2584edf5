"""The Project API: create/open, import, train (sweep + CV), review, relabel, predict, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synthcheck.errors import DataError, ModelError, ProjectError
from synthcheck.training import Project, delete_project, list_projects, load_project_model
from synthcheck.training.sources import ImportItem
from test_project_support import make_dataset, make_images

FEATURES = ["artifacts"]  # weight-free, fast: no backbone needed


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "data", n=12)


def _project(home: Path, data: Path, name: str = "p") -> Project:
    project = Project.create(name, extractors=FEATURES, home=home)
    project.import_label_folders(data)
    return project


def test_create_open_list_delete(home: Path) -> None:
    with Project.create("one", ["real", "ai"], extractors=FEATURES, home=home) as p:
        assert p.labels == ("real", "ai") and p.ai_labels == ("ai",)
    with pytest.raises(ProjectError, match="already exists"):
        Project.create("one", extractors=FEATURES, home=home)
    assert [r["name"] for r in list_projects(home)] == ["one"]
    with Project.open("one", home=home) as p:
        assert p.extractors == FEATURES
    delete_project("one", home=home)
    with pytest.raises(ProjectError, match=r"no project named 'one'.*synthcheck project create"):
        Project.open("one", home=home)


@pytest.mark.parametrize(
    ("labels", "ai", "message"),
    [
        (["real"], None, "at least two labels"),
        (["real", "real"], None, "distinct"),
        (["a,b", "c"], None, "no comma"),
        (["real", "ai"], ["sd"], "not among the project's labels"),
    ],
)
def test_create_rejects_bad_labels(
    home: Path, labels: list[str], ai: list[str] | None, message: str
) -> None:
    with pytest.raises(ProjectError, match=message):
        Project.create("x", labels, ai_labels=ai, extractors=FEATURES, home=home)


def test_import_counts_duplicates_and_bad_files(home: Path, data: Path, tmp_path: Path) -> None:
    (data / "real" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (data / "real" / "notes.png").write_text("not an image")
    with Project.create("p", extractors=FEATURES, home=home) as p:
        first = p.import_label_folders(data)
        assert (first.added, first.merged, first.failed) == (24, 0, 2)
        assert sum(first.failure_counts.values()) == 2
        assert all("broken.jpg" in path or "notes.png" in path for path, _ in first.failures)
        again = p.import_folder(data / "ai", label="ai")
        assert (again.added, again.merged, again.failed) == (0, 12, 0)
        # A byte-identical copy under another name is the same image.
        copy = tmp_path / "copy.png"
        copy.write_bytes((data / "ai" / "ai_000.png").read_bytes())
        dup = p.import_items([ImportItem(str(copy), "ai")])
        assert (dup.added, dup.merged) == (0, 1)
        assert len(p.images()) == 24


def test_import_errors_are_clear(home: Path, data: Path, tmp_path: Path) -> None:
    with Project.create("p", extractors=FEATURES, home=home) as p:
        with pytest.raises(ProjectError, match="label 'dog' is not a label"):
            p.import_folder(data / "ai", label="dog")
        with pytest.raises(DataError, match="folder not found"):
            p.import_folder(tmp_path / "missing", label="ai")
        (data / "cats").mkdir()
        with pytest.raises(ProjectError, match=r"'cats'.*not labels of this project"):
            p.import_label_folders(data)
        listing = tmp_path / "list.csv"
        listing.write_text("path,label\nai/ai_000.png,ai\nreal/real_000.png,horse\n")
        with pytest.raises(ProjectError, match="horse"):
            p.import_list(listing)
        assert p.images() == []  # labels are checked before any file is imported


def test_import_list_csv_and_jsonl_and_unlabelled(home: Path, data: Path) -> None:
    csv_file = data / "list.csv"
    csv_file.write_text("path,label\nai/ai_000.png,ai\nreal/real_000.png,real\nai/ai_001.png,\n")
    jsonl = data / "list.jsonl"
    jsonl.write_text(json.dumps({"path": "ai/ai_002.png", "label": "ai"}) + "\n")
    with Project.create("p", extractors=FEATURES, home=home) as p:
        assert p.import_list(csv_file).added == 3
        assert p.import_list(jsonl).added == 1
        assert p.import_folder(data / "real", label=None).added == 11
        labels = {Path(r.path).name: r.label for r in p.images()}
        assert labels["ai_000.png"] == "ai" and labels["ai_001.png"] is None
        assert labels["real_000.png"] == "real" and labels["real_005.png"] is None


def test_train_reports_cv_and_versions(home: Path, data: Path) -> None:
    with _project(home, data) as p:
        report = p.train(folds=4)
        d = report.to_dict()
        assert set(d["cv_accuracy_per_class"]) == {"real", "ai"}
        assert min(d["cv_accuracy_per_class"].values()) >= 0.9
        assert d["cv_auc"] >= 0.95
        assert d["n_images"] == 24 and d["folds"] == 4
        assert d["chosen"]["head"] in ("ridge", "logistic", "svm", "mlp")
        assert d["chosen"]["feature_set"] == ["artifacts:all"]
        assert sum(map(sum, d["confusion_matrix"]["rows_true_cols_predicted"])) == 24
        assert report.kept and report.version == 1
        # Same data, nothing better: the current version is kept, and the report says so.
        again = p.train(folds=4)
        assert not again.kept and again.version == 1 and "kept version 1" in again.message
        # A relabel changes the data: the retrained model becomes version 2.
        p.label(str(data / "ai" / "ai_000.png"), "real")
        third = p.train(folds=4)
        assert third.kept and third.version == 2
        assert [m.version for m in p.models()] == [1, 2]


def test_train_bad_data_errors(home: Path, tmp_path: Path) -> None:
    with Project.create("p", extractors=FEATURES, home=home) as p:
        with pytest.raises(DataError, match="no images"):
            p.train()
        p.import_folder(make_dataset(tmp_path / "one", n=6, kinds=("ai",)) / "ai", label="ai")
        with pytest.raises(DataError, match="at least two labels"):
            p.train()
        p.import_items(
            [ImportItem(str(x), "real") for x in make_images(tmp_path / "few", "real", 3)]
        )
        with pytest.raises(DataError, match=r"5-fold.*'real' has 3.*--folds"):
            p.train(folds=5)
        assert p.train(folds=3).version == 1


def test_review_sort_filter_and_label_remove(home: Path, data: Path) -> None:
    with _project(home, data) as p:
        with pytest.raises(ProjectError, match="no trained model yet"):
            p.review()
        # One wrong label: the out-of-fold prediction disagrees with it.
        wrong = data / "ai" / "ai_003.png"
        p.label(str(wrong), "real")
        p.import_items(
            [ImportItem(str(x), None) for x in make_images(data / "new", "ai", 2, start=50)]
        )
        p.train(folds=4)
        disagree = p.review(filter="disagree", limit=None)
        assert [Path(i.path).name for i in disagree] == ["ai_003.png"]
        assert disagree[0].out_of_fold and disagree[0].predicted == "ai"
        items = p.review(sort="confidence", limit=None)
        conf = [i.confidence for i in items]
        assert None not in conf  # every image has a prediction after training
        assert conf == sorted(c for c in conf if c is not None)
        assert len(p.review(limit=5)) == 5
        unl = p.review(filter="unlabelled", limit=None)
        assert len(unl) == 2 and all(i.label is None and i.predicted == "ai" for i in unl)
        assert all(i.label == "ai" for i in p.review(filter="label:ai", limit=None))
        recent = p.review(sort="recent", limit=2)
        assert {Path(i.path).name for i in recent} == {"ai_050.png", "ai_051.png"}
        with pytest.raises(ProjectError, match="not a label"):
            p.review(filter="label:cat")
        sha = p.label(disagree[0].sha256[:10], "ai")
        assert sha == disagree[0].sha256
        p.remove(sha[:8])
        assert sha not in {r.sha256 for r in p.images()}
        with pytest.raises(ProjectError, match="no image of project"):
            p.remove(sha[:8])


def test_predict_uses_scan_contract(home: Path, data: Path, tmp_path: Path) -> None:
    new_ai = make_images(tmp_path / "unseen", "ai", 2, start=100, fmt="jpg")
    (tmp_path / "bad.png").write_bytes(b"nope")
    with _project(home, data) as p:
        p.train(folds=4)
        results = p.predict([*new_ai, tmp_path / "bad.png"])
    first = results[0].to_dict()
    assert set(first) >= {"path", "verdict", "p_ai", "signals", "error"}
    assert first["p_ai"] is not None and first["p_ai"] > 0.5
    project_signals = [s for s in first["signals"] if s["name"] == "project:p"]
    assert len(project_signals) == 1 and project_signals[0]["kind"] == "pixel"
    assert project_signals[0]["details"]["label"] == "ai"
    assert results[2].verdict == "error" and results[2].error is not None


def test_load_project_model_for_evaluation(home: Path, data: Path) -> None:
    with _project(home, data) as p:
        p.train(folds=4)
    model = load_project_model("p", home=home)
    assert model.name == "project:p" and model.version == "v1"
    from synthcheck.intake import load_image

    preds = model.predict_many([load_image(data / "real" / "real_001.png")])
    assert preds[0].p_ai < 0.5 and preds[0].label == "real"


def test_export_import_model_roundtrip(home: Path, data: Path, tmp_path: Path) -> None:
    target = tmp_path / "model.zip"
    with _project(home, data) as p:
        p.train(folds=4)
        p.export_model(target)
        before = p.trained_model()
    with Project.create("other", extractors=FEATURES, home=home) as q:
        assert q.import_model(target) == 1
        after = q.trained_model()
    raw = {"artifacts": np.random.default_rng(0).normal(size=(3, 78)).astype(np.float32)}
    np.testing.assert_allclose(before.predict_proba(raw), after.predict_proba(raw))
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK not really")
    with Project.open("other", home=home) as q, pytest.raises(ModelError, match="not a synthcheck"):
        q.import_model(bad)


def test_multiclass_attribution(home: Path, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "mc", n=10, kinds=("real", "ai", "stripes"))
    with Project.create("mc", ["real", "ai", "stripes"], extractors=FEATURES, home=home) as p:
        assert p.ai_labels == ("ai", "stripes")
        p.import_label_folders(data)
        report = p.train(folds=5)
        assert report.auc is None and len(report.confusion) == 3
        assert report.balanced_accuracy >= 0.9
        result = p.predict([data / "stripes" / "stripes_000.png"])[0]
        assert result.p_ai is not None and result.p_ai > 0.5


def test_copy_policy_keeps_training_possible(home: Path, data: Path) -> None:
    with Project.create("p", extractors=FEATURES, home=home) as p:
        p.import_label_folders(data, copy=True)
        assert all(r.blob and Path(r.blob).is_file() for r in p.images())


def test_init_default_stacks_on_the_default_detector(home: Path, data: Path) -> None:
    with _project(home, data) as p:
        report = p.train(folds=4, init="default")
        assert report.kept
        assert any("CLIP" in note for note in report.notes)  # only the artifact head applies
        model = p.trained_model()
        assert model.head in ("ridge", "logistic", "svm", "mlp")
        from synthcheck.errors import ConfigError

        with pytest.raises(ConfigError, match="unknown init"):
            p.train(init="imagenet")


def test_init_default_needs_a_default_head(home: Path, data: Path) -> None:
    pytest.importorskip("synthcheck.backbones")
    from synthcheck.backbones import backbone_available

    if not backbone_available("efficientnet-lite0"):
        pytest.skip("efficientnet-lite0 is not installed")
    with Project.create("e", extractors=["efficientnet-lite0"], home=home) as p:
        p.import_label_folders(data)
        from synthcheck.errors import ConfigError

        with pytest.raises(ConfigError, match="needs the features of a default-detector head"):
            p.train(folds=4, init="default")
        report = p.train(folds=4)
        assert report.chosen["feature_set"] == ["efficientnet-lite0:pooled"]
        assert min(report.accuracy_per_class.values()) >= 0.9


def test_relabel_retrain_reuses_projections(
    home: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import synthcheck.training.sweep as sweep

    fresh: list[str] = []
    real_fit = sweep._fit_block

    def spy(raw: sweep.RawBlock, seed: int, cached: object = None) -> object:
        if cached is None:
            fresh.append(raw.name)
        return real_fit(raw, seed, cached)  # type: ignore[arg-type]

    monkeypatch.setattr(sweep, "_fit_block", spy)
    with _project(home, data) as p:
        first = p.train(folds=4)
        assert fresh == ["artifacts:all"]
        p.label(str(data / "ai" / "ai_002.png"), "real")
        second = p.train(folds=4)
        assert fresh == ["artifacts:all"]  # same images: the projection came from the store
        assert second.version == 2 and first.version == 1
        p.remove(str(data / "ai" / "ai_002.png"))
        p.train(folds=4)
        assert fresh == ["artifacts:all", "artifacts:all"]  # other images: fitted again


def test_folder_import_counts_what_it_left_out(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = tmp_path / "mixed"
    make_images(folder, "real", 3)
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.png").write_bytes(b"x")
    with Project.create("walk", extractors=FEATURES, home=home) as project:
        report = project.import_folder(folder, label="real")
    assert report.added == 3
    assert sum(report.skipped.values()) == 2
    assert report.to_dict()["skipped"] == dict(report.skipped)
