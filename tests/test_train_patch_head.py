"""scripts/train_patch_head.py: the balanced sample and the fit that writes the heatmap's head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from repo_scripts import load_script
from synthcheck.pixel.devpool import DevImage
from synthcheck.pixel.heads import LinearProbe

tph = load_script("train_patch_head")


def _image(i: int, label: int, group: str) -> DevImage:
    return DevImage(i, Path(f"/nowhere/{i}.png"), label, group, group)


def test_balanced_sample_draws_evenly_over_groups_per_label() -> None:
    images = [_image(i, 1, "big") for i in range(100)]
    images += [_image(100 + i, 1, f"small{i % 3}") for i in range(9)]
    images += [_image(200 + i, 0, "camera") for i in range(50)]
    sample = tph.balanced_sample(images, per_label=12, seed=0)
    fakes = [im for im in sample if im.label == 1]
    assert len(fakes) == 12 and len(sample) == 24
    # Round-robin: the nine small-group images all make it in before the big group fills up.
    assert sum(im.group.startswith("small") for im in fakes) == 9
    assert [im.index for im in sample] == sorted(im.index for im in sample)
    assert tph.balanced_sample(images, per_label=12, seed=0) == sample  # deterministic


def test_fit_reports_unseen_group_auc_and_writes_a_calibrated_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    n_images, per_image, dim = 40, 6, 768
    meta, x, groups = [], [], []
    for i in range(n_images):
        label = i % 2
        centre = rng.normal(size=dim) * 0.3
        centre[:32] += 1.0 if label else -1.0
        for k in range(per_image):
            x.append(centre + rng.normal(size=dim) * 0.5)
            meta.append((i, label, 0, k))
            groups.append(f"{'fake' if label else 'real'}{i % 8}")
    features = tmp_path / "patches.npz"
    np.savez(
        features,
        x=np.array(x, dtype=np.float16),
        meta=np.array(meta, dtype=np.int32),
        group=np.array(groups),
        version=np.array("clip-test-version"),
    )
    args = ["fit", "--features", str(features), "--folds", "4", "--out", str(tmp_path)]
    assert tph.main(args) == 0
    assert not (tmp_path / "clip-patch.npz").exists()  # only with --write
    printed = capsys.readouterr().out
    auc = float(printed.split("patch AUC ")[-1].split(",")[0])
    assert auc > 0.9
    assert tph.main([*args, "--write"]) == 0
    probe, extra = LinearProbe.load(tmp_path / "clip-patch.npz")
    assert probe.n_features_in_ == dim
    assert [str(c) for c in extra["columns"]] == ["patches_l8"]
    assert str(extra["version"]) == "clip-test-version"
    assert float(extra["platt_a"]) > 0  # higher logits mean "generated"
    scores = probe.decision_function(np.array(x, dtype=np.float64))
    labels = np.array([m[1] for m in meta])
    assert scores[labels == 1].mean() > scores[labels == 0].mean()
