"""The vectorised heads, folds, metrics, the model file and the default-detector warm start."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score

from synthcheck.errors import DataError, ModelError
from synthcheck.training.heads import fit_heads, head_scores
from synthcheck.training.model import TrainedModel
from synthcheck.training.sweep import RawBlock, _auc, check_labels, run_sweep, stratified_folds


def _data(n: int = 200, d: int = 12, k: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    centers = rng.normal(0, 1.0, (k, d))
    return centers[y] + rng.normal(0, 1.5, (n, d)), y.astype(np.int64)


def test_ridge_matches_sklearn() -> None:
    x, y = _data()
    mask = np.arange(y.size) % 4 != 0
    fit = fit_heads("ridge", x, y, [mask], 2, values=[10.0])
    ref = Ridge(alpha=10.0).fit(x[mask], np.where(y[mask] == 1, 1.0, -1.0))
    np.testing.assert_allclose(head_scores(fit.params[0][0], x)[:, 0], ref.predict(x), atol=1e-8)


@pytest.mark.parametrize("k", [2, 3])
def test_logistic_matches_sklearn(k: int) -> None:
    x, y = _data(k=k)
    masks = [np.arange(y.size) % 5 != f for f in range(2)]
    fit = fit_heads("logistic", x, y, masks, k, values=[0.05, 1.0])
    for j, mask in enumerate(masks):
        for v, c in enumerate([0.05, 1.0]):
            ref = LogisticRegression(C=c, tol=1e-10, max_iter=10_000).fit(x[mask], y[mask])
            ours = head_scores(fit.params[j][v], x)
            theirs = ref.decision_function(x)
            theirs = theirs[:, None] if k == 2 else theirs - theirs.mean(axis=1, keepdims=True)
            if k > 2:
                ours = ours - ours.mean(axis=1, keepdims=True)
            np.testing.assert_allclose(ours, theirs, atol=2e-3)


@pytest.mark.parametrize("head", ["svm", "mlp"])
def test_other_heads_learn(head: str) -> None:
    x, y = _data(n=300)
    test = np.arange(y.size) % 3 == 0
    fit = fit_heads(head, x, y, [~test], 2)
    for params in fit.params[0]:
        pred = head_scores(params, x[test])[:, 0] > 0
        assert (pred == (y[test] == 1)).mean() > 0.8


def test_auc_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(size=500) + y, 1)  # with ties
    assert _auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_stratified_folds_partition_each_class() -> None:
    y = np.array([0] * 23 + [1] * 11)
    folds = stratified_folds(y, 5, seed=3)
    assert np.array_equal(np.sum(folds, axis=0), np.ones(y.size))
    for f in folds:
        assert 4 <= (y[f] == 0).sum() <= 5 and 2 <= (y[f] == 1).sum() <= 3


def test_check_labels_messages() -> None:
    with pytest.raises(DataError, match=r"at least two labels \('ai': 7\)"):
        check_labels(["ai"] * 7, ["real", "ai"], 5)
    with pytest.raises(DataError, match="'real' has 2"):
        check_labels(["ai"] * 7 + ["real"] * 2, ["real", "ai"], 5)


def test_sweep_chooses_and_model_roundtrips() -> None:
    x, y = _data(n=120, d=30)
    labels = ["real" if v == 0 else "ai" for v in y]
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(120, 5)).astype(np.float32)
    blocks = [
        RawBlock("bb", "v1", "good", 0, 30, x.astype(np.float32)),
        RawBlock("noise", "v1", "all", 0, 5, noise),
    ]
    result = run_sweep(
        blocks,
        [*labels[:-4], None, None, None, None],
        ["real", "ai"],
        ["ai"],
        k=4,
        baseline=(("bb:good",), "ridge", 100.0),
    )
    assert "bb:good" in result.chosen.feature_set
    assert result.baseline is not None and result.baseline.head == "ridge"
    assert result.model.labels == ("real", "ai")  # the AI label is the positive class
    assert result.auc is not None and result.auc > 0.9
    assert result.proba_all.shape == (120, 2) and result.oof_proba.shape == (116, 2)
    model = TrainedModel.from_bytes(result.model.to_bytes())
    raw = {"bb": x.astype(np.float32), "noise": noise}
    np.testing.assert_allclose(model.predict_proba(raw), result.model.predict_proba(raw))
    np.testing.assert_allclose(model.predict_proba(raw), result.proba_all, atol=1e-9)


def test_model_file_is_checked() -> None:
    with pytest.raises(ModelError, match="not a synthcheck project model"):
        TrainedModel.from_bytes(b"garbage")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model.json", '{"format": "something-else"}')
        zf.writestr("arrays.npz", b"")
    with pytest.raises(ModelError, match="not a synthcheck project model"):
        TrainedModel.from_bytes(buf.getvalue())


def test_warm_start_reproduces_default_artifact_head() -> None:
    from synthcheck.pixel.artifacts import artifact_features
    from synthcheck.pixel.heads import LinearProbe
    from synthcheck.pixel.model import default_model_dir
    from synthcheck.training.features import create_extractor
    from synthcheck.training.warmstart import default_head_blocks

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(3)]
    ex = create_extractor("artifacts")
    feats = ex.compute(images)
    blocks, notes = default_head_blocks({"artifacts": ex}, {"artifacts": feats})
    assert [b.output for b in blocks] == ["default-artifacts"]
    assert any("CLIP" in n for n in notes)
    probe, extra = LinearProbe.load(default_model_dir() / "artifacts.npz")
    from synthcheck.pixel.artifacts import artifact_feature_names

    names = list(artifact_feature_names())
    cols = [names.index(str(c)) for c in extra["columns"]]
    expected = probe.decision_function(feats[:, cols].astype(np.float64))
    np.testing.assert_allclose(blocks[0].x[:, 0], expected, atol=1e-4)
    assert artifact_features(images[0])[0].shape[1] == ex.dim


def _fake_clip_extractor(dims: dict[str, int]) -> Any:
    from synthcheck.pixel.heads import LinearProbe
    from synthcheck.pixel.model import default_model_dir
    from synthcheck.training.features import Extractor

    _, extra = LinearProbe.load(default_model_dir() / "clip-global.npz")

    def compute(images: Any) -> Any:
        raise AssertionError("warm start must not compute features")

    return Extractor("clip-vit-b16", f"{extra['version']}|crop|views1", dims, compute)


def test_warm_start_reproduces_the_whole_image_clip_head() -> None:
    """The project's centre-square CLIP features feed the default head trained on that view, in
    the head's own column order, wherever they sit in the cached vector."""
    from synthcheck.pixel.heads import LinearProbe
    from synthcheck.pixel.model import default_model_dir
    from synthcheck.training.warmstart import default_head_blocks

    ex = _fake_clip_extractor({"embed": 512, "cls": 768, "cls_l8": 768})
    rng = np.random.default_rng(1)
    feats = rng.normal(size=(5, ex.dim)).astype(np.float32)
    blocks, _ = default_head_blocks({"clip-vit-b16": ex}, {"clip-vit-b16": feats})
    assert [b.output for b in blocks] == ["default-clip-global"]
    probe, extra = LinearProbe.load(default_model_dir() / "clip-global.npz")
    columns = [str(c) for c in extra["columns"]]
    assert columns and set(columns) <= {"cls_l8", "embed"}
    sl = ex.blocks()
    x = np.concatenate([feats[:, sl[c]] for c in columns], axis=1)
    assert x.shape[1] == probe.n_features_in_
    np.testing.assert_allclose(blocks[0].x[:, 0], probe.decision_function(x), rtol=1e-5, atol=1e-4)


def test_warm_start_names_the_clip_features_a_project_lacks() -> None:
    from synthcheck.training.warmstart import default_head_blocks

    ex = _fake_clip_extractor({"embed": 512})
    feats = np.zeros((2, ex.dim), np.float32)
    blocks, notes = default_head_blocks({"clip-vit-b16": ex}, {"clip-vit-b16": feats})
    assert blocks == []
    assert any("lack cls_l8" in n for n in notes), notes


def test_project_crop_is_the_whole_image_view_and_stays_bounded() -> None:
    from PIL import Image

    from synthcheck.training.features import center_crop

    rng = np.random.default_rng(2)
    photo = rng.integers(0, 256, (300, 451, 3), dtype=np.uint8)
    crop = center_crop(photo, 224)
    # Short side to 224 (bicubic), then the centre square, as before the crop became global_view.
    scale = 224 / 300
    new_w = round(451 * scale)
    full = np.asarray(Image.fromarray(photo).resize((new_w, 224), Image.Resampling.BICUBIC))
    left = (new_w - 224) // 2
    assert np.array_equal(crop, full[:, left : left + 224])
    # A strip is centre-cropped to 16:1 before resizing instead of growing to gigabytes.
    strip = np.full((2, 40_000, 3), 90, np.uint8)
    assert center_crop(strip, 224).shape == (224, 224, 3)
