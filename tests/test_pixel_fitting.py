"""Training-side helpers of the default detector: group folds, decision scaling, the pool loader."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synthcheck.errors import ConfigError, DataError
from synthcheck.pixel.devpool import VIEWS, DevImage, load_pool
from synthcheck.pixel.fitting import decision_scaling, group_folds
from synthcheck.pixel.heads import sigmoid


def test_group_folds_keep_each_group_whole_and_balance_both_classes() -> None:
    rng = np.random.default_rng(0)
    groups: list[str] = []
    y: list[int] = []
    for k in range(30):
        size = int(rng.integers(1, 40))
        groups += [f"g{k}"] * size
        y += [k % 2] * size
    folds = group_folds(np.array(groups), np.array(y), 4)
    for name in set(groups):
        assert len(set(folds[np.array(groups) == name])) == 1
    for label in (0, 1):
        counts = np.bincount(folds[np.array(y) == label], minlength=4)
        assert counts.min() > 0
        # largest-first dealing: no fold holds more than the fewest plus the biggest group
        assert counts.max() - counts.min() <= 40


def test_decision_scaling_puts_the_thresholds_at_the_asked_rates() -> None:
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(-1, 1, 4000), rng.normal(1.5, 1, 4000)])
    y = np.repeat([0, 1], 4000)
    groups = np.array([f"s{i % 40}" for i in range(8000)])
    a, b = decision_scaling(z, y, groups, max_real_called_ai=0.05, max_fake_called_real=0.10)
    p = sigmoid(a * z + b)
    assert a > 0
    assert np.mean(p[y == 0] >= 0.7) == pytest.approx(0.05, abs=0.005)
    assert np.mean(p[y == 1] <= 0.3) == pytest.approx(0.10, abs=0.005)


def test_decision_scaling_weighs_sources_not_only_images() -> None:
    # One huge easy source and a small hard one: image-weighted, the small source would barely
    # move the "ai" threshold; weighted per source it pushes it up.
    z_real = np.concatenate([np.full(990, -3.0), np.linspace(0.0, 2.0, 10)])
    groups_real = np.array(["big"] * 990 + ["small"] * 10)
    z_fake = np.linspace(-1.0, 4.0, 1000)
    z = np.concatenate([z_real, z_fake])
    y = np.repeat([0, 1], 1000)
    groups = np.concatenate([groups_real, np.array(["f"] * 1000)])
    a, b = decision_scaling(z, y, groups)
    z_ai = (np.log(0.7 / 0.3) - b) / a
    assert z_ai > 0.0  # above most of the small source, not at the big source's -3


def test_decision_scaling_on_a_separable_pool_calls_no_real_photo_ai() -> None:
    z = np.concatenate([np.linspace(-5, -1, 100), np.linspace(1, 5, 100)])
    y = np.repeat([0, 1], 100)
    a, b = decision_scaling(z, y, np.array(["r"] * 100 + ["f"] * 100))
    p = sigmoid(a * z + b)
    assert a > 0
    assert np.mean(p[y == 0] >= 0.7) == 0.0
    assert np.mean(p[y == 0] <= 0.3) >= 0.95
    assert np.mean(p[y == 1] >= 0.7) >= 0.90


def _write_pool(root: Path, rows: list[dict[str, str]]) -> None:
    root.mkdir()
    cols = ["file", "label", "source", "generator", "family", "year", "photoreal"]
    with (root / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def test_pool_loader_groups_families_with_the_dev_pool_and_reals_by_source(tmp_path: Path) -> None:
    _write_pool(
        tmp_path / "pool",
        [
            {"file": "fake/a.png", "label": "fake", "source": "sd21", "generator": "sd21",
             "family": "sd2", "year": "2022", "photoreal": "yes"},
            {"file": "fake/b.png", "label": "fake", "source": "flux", "generator": "flux",
             "family": "flux1", "year": "2024", "photoreal": "yes"},
            {"file": "real/c.png", "label": "real", "source": "press", "generator": "",
             "family": "", "year": "", "photoreal": ""},
        ],
    )  # fmt: skip
    images = load_pool(tmp_path / "pool", start=10)
    assert [im.index for im in images] == [10, 11, 12]
    assert [im.group for im in images] == ["sd-official", "flux1", "pool:press"]
    assert [im.label for im in images] == [1, 1, 0]


def test_pool_loader_names_a_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"manifest\.csv"):
        load_pool(tmp_path)


def _synthetic_cache(cache: Path, n: int, rng: np.random.Generator) -> list[DevImage]:
    """A feature cache for every default head: generated images shifted along a few features."""
    from synthcheck.pixel.artifacts import ARTIFACT_FEATURE_VERSION, artifact_feature_names

    images = []
    for i in range(n):
        label = i % 2
        group = f"{'fam' if label else 'src'}{(i // 2) % 6}"
        images.append(DevImage(i, Path(f"/nowhere/{i}.png"), label, group, group))
    labels = np.array([im.label for im in images], dtype=np.float32)
    cache.mkdir()

    def features(dim: int) -> np.ndarray:
        x = rng.normal(size=(n, dim)).astype(np.float32)
        x[:, :4] += 1.5 * labels[:, None]
        return x

    views = [VIEWS.index("clean"), VIEWS.index("aug1")]
    n_art = len(artifact_feature_names())
    np.savez(
        cache / "artifacts_shard0of1.npz",
        index=np.arange(n),
        features=np.stack([features(n_art) for _ in VIEWS], axis=1),
        version=np.array(str(ARTIFACT_FEATURE_VERSION)),
    )
    blocks = {
        "clip-vit-b16": {"cls_l8": 768},
        "clip-vit-b16-global": {"cls_l8": 768, "embed": 512},
        "efficientnet-lite0-global": {"pooled": 1280},
    }
    for block, dims in blocks.items():
        arrays: dict[str, Any] = {
            f"f_{k}": np.concatenate([features(d) for _ in views]) for k, d in dims.items()
        }
        arrays["meta"] = np.array([(i, v, 0) for v in views for i in range(n)], dtype=np.int32)
        arrays["version"] = np.array("test")
        np.savez(cache / f"{block}_shard0of1.npz", **arrays)
    return images


def test_refitting_one_profile_keeps_the_others_and_excluded_sources_are_not_trained_on(
    tmp_path: Path,
) -> None:
    from synthcheck.pixel.fitting import train_default_model

    images = _synthetic_cache(tmp_path / "cache", 120, np.random.default_rng(0))
    out = tmp_path / "model"
    train_default_model(images, tmp_path / "cache", out, seed=1)
    full = json.loads((out / "manifest.json").read_text())
    assert set(full["profiles"]) == {"fast", "thorough"}
    assert all("excluded_sources" not in h for h in full["heads"].values())
    fast_files = {n: (out / f"{n}.npz").read_bytes() for n in ("effnet-global", "artifacts")}

    train_default_model(
        images, tmp_path / "cache", out, seed=1, profiles=["thorough"], exclude={"fam0", "src1"}
    )
    part = json.loads((out / "manifest.json").read_text())
    # fast's heads, its fusion and the artifact head thorough only reports are kept as they were.
    assert part["profiles"]["fast"] == full["profiles"]["fast"]
    for name in ("effnet-global", "artifacts"):
        assert part["heads"][name] == full["heads"][name]
        assert (out / f"{name}.npz").read_bytes() == fast_files[name]
    # thorough's heads were refitted without the excluded sources' images.
    trained = sum(1 for im in images if not im.holdout)
    left_out = sum(1 for im in images if not im.holdout and im.generator in {"fam0", "src1"})
    for name in ("clip-probe", "clip-global"):
        assert part["heads"][name]["excluded_sources"] == ["fam0", "src1"]
        assert full["heads"][name]["n_images"] == trained
        assert part["heads"][name]["n_images"] == trained - left_out
    assert part["profiles"]["thorough"]["excluded_sources"] == ["fam0", "src1"]
    with pytest.raises(ConfigError, match="unknown profiles"):
        train_default_model(images, tmp_path / "cache", out, seed=1, profiles=["turbo"])
