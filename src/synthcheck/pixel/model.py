"""The default pixel detector: probes on native-resolution tiles and on a whole-image view, fused
into a calibrated p_ai."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from synthcheck.errors import BackboneError, ConfigError, ModelError
from synthcheck.intake.image import LoadedImage
from synthcheck.pixel.artifacts import (
    ARTIFACT_FEATURE_VERSION,
    ARTIFACT_TILE,
    GROUPS,
    artifact_feature_names,
    artifact_features,
    feature_group,
)
from synthcheck.pixel.heads import LinearProbe, PlattCalibrator, StackedFusion, read_json
from synthcheck.pixel.profiles import (
    GLOBAL_VIEW_HEADS,
    HEAD_BACKBONE,
    HEATMAP_MAX_TILES,
    PATCH_HEAD_FEATURE,
    PROFILES,
    Profile,
    check_heatmap_tiles,
)
from synthcheck.pixel.tiling import (
    TilePlan,
    extract_cover_tiles,
    extract_tiles,
    global_view,
    patch_grid,
)
from synthcheck.results import Evidence, SignalResult, SignalVerdict

__all__ = ["DefaultPixelModel", "PixelResult", "create_pixel_model", "default_model_dir"]

#: Bumped whenever the shipped heads change, so that resumed scans and calibration profiles made
#: with another model are refused or flagged instead of mixed (2: the whole-image head; 3: the
#: CLIP heads read layer 8 only, on one native tile and the whole image; 4: trained on the dev
#: pool and the native-resolution pool, thresholds placed on unseen sources; 5: the pool's second
#: round, fast's EfficientNet head on the whole image; 6: fast retrained with the pool's third
#: round, thorough's heads kept from 5 and its heatmap drawn by a patch head).
MODEL_FAMILY = "synthcheck-default-6"
#: A head's own verdict: "ai" at or above, "real" at or below, otherwise no evidence either way.
SIGNAL_AI_THRESHOLD = 0.7
SIGNAL_REAL_THRESHOLD = 0.3


class _Backbone(Protocol):
    input_size: int
    version: str

    def features(self, crops: NDArray[np.uint8]) -> dict[str, NDArray[np.float32]]: ...


@dataclass
class PixelResult:
    """What the pixel detector says about one image (satisfies the engine's PixelPrediction)."""

    p_ai: float
    signals: list[SignalResult]
    heatmap: NDArray[np.float64] | None = None
    #: Where the heatmap's cells lie in the image (tile size, offsets, any upscale), when drawn.
    heatmap_plan: TilePlan | None = None
    notes: list[str] = field(default_factory=list)
    #: ``short form: explanation`` of why this score is less reliable than usual (the engine
    #: puts them in the result's notes and headline).
    cautions: list[str] = field(default_factory=list)
    #: Seconds spent per head (tiling, features and probe), for benchmarks.
    timings: dict[str, float] = field(default_factory=dict)


#: Short sides (pixels) between which the default model's confidence is phased in. Its training
#: pool held 504 generated images under 128 px but only 26 real ones, so below these sizes a
#: score mostly says "small" (measured: AUC 0.59 and every real photo called AI on 32 px CIFAR).
RELIABLE_SHORT_SIDE = (64, 192)


def size_reliability(height: int, width: int) -> float:
    """Weight in [0, 1] of the pixel score for an image of this size (1 = fully trusted)."""
    low, high = RELIABLE_SHORT_SIDE
    return float(min(1.0, max(0.0, (min(height, width) - low) / (high - low))))


def default_model_dir() -> Path:
    return Path(str(resources.files("synthcheck") / "models" / "default"))


@dataclass
class _Head:
    name: str
    probe: LinearProbe
    platt: PlattCalibrator
    columns: list[str]


@dataclass
class _HeadOutput:
    logit: float
    tile_logits: NDArray[np.float64]
    plan: TilePlan
    evidence: list[Evidence]
    #: Backbone features of the tiles that the caller asked to keep (the patch tokens).
    kept: dict[str, NDArray[np.float32]] = field(default_factory=dict)


@dataclass
class _PatchHead:
    """The heatmap's probe on patch tokens and its calibration (its own file: see
    ``scripts/train_patch_head.py``)."""

    name: str
    probe: LinearProbe
    platt: PlattCalibrator
    version: str


class DefaultPixelModel:
    """Pixel detector of one profile, loaded from a model directory (default: the shipped one).

    ``predict(image)`` returns a :class:`PixelResult`: the fused calibrated ``p_ai``, one
    :class:`SignalResult` per head (kind "pixel") and, on request, the heatmap grid drawn from up
    to ``heatmap_tiles`` tiles (default :data:`HEATMAP_MAX_TILES`; for a backbone head they cover
    the whole image, see :func:`~synthcheck.pixel.tiling.extract_cover_tiles`, and a patch head
    scores each of their 16-px patches, see :func:`~synthcheck.pixel.tiling.patch_grid`).
    """

    def __init__(
        self,
        profile: str = "thorough",
        *,
        model_dir: Path | None = None,
        backbones: dict[str, _Backbone] | None = None,
        notes: Sequence[str] = (),
        heatmap_tiles: int = HEATMAP_MAX_TILES,
    ) -> None:
        self.heatmap_tiles = check_heatmap_tiles(heatmap_tiles)
        if profile not in PROFILES:
            raise ConfigError(
                f"unknown pixel profile {profile!r}; choose one of auto, {', '.join(PROFILES)}"
            )
        self.profile: Profile = PROFILES[profile]
        self.model_dir = model_dir or default_model_dir()
        self.name = f"{MODEL_FAMILY}/{profile}"
        self.notes = list(notes)
        manifest = read_json(self.model_dir / "manifest.json")
        family = manifest.get("family")
        if family != MODEL_FAMILY:
            raise ModelError(
                f"{self.model_dir}: the model files are {family!r}, this synthcheck reads "
                f"{MODEL_FAMILY!r}; retrain with scripts/train_default.py fit"
            )
        spec = manifest.get("profiles", {}).get(profile)
        if spec is None:
            raise ModelError(f"{self.model_dir}: no trained heads for profile {profile!r}")
        self.fusion = StackedFusion.from_dict(spec["fusion"])
        if tuple(self.fusion.inputs) != self.profile.heads:
            raise ModelError(
                f"{self.model_dir}: profile {profile!r} fuses {self.fusion.inputs}, "
                f"expected {self.profile.heads}"
            )
        self.heads: list[_Head] = []
        self.backbones: dict[str, _Backbone] = dict(backbones or {})
        versions: dict[str, str] = {}
        for head in (*self.profile.heads, *self.profile.extra_heads):
            probe, extra = LinearProbe.load(self.model_dir / f"{head}.npz")
            try:
                cal = manifest["heads"][head]["calibration"]
            except (KeyError, TypeError):
                raise ModelError(f"{self.model_dir}: no calibration for head {head!r}") from None
            self.heads.append(
                _Head(
                    head,
                    probe,
                    PlattCalibrator(cal["a"], cal["b"]),
                    [str(c) for c in extra.get("columns", [])],
                )
            )
            version = str(extra.get("version", ""))
            if head == "artifacts":
                if version != str(ARTIFACT_FEATURE_VERSION):
                    raise ModelError(
                        f"{self.model_dir}: artifact head was trained on feature version "
                        f"{version}, this synthcheck computes {ARTIFACT_FEATURE_VERSION}"
                    )
            elif head not in HEAD_BACKBONE:
                raise ModelError(f"{self.model_dir}: unknown head {head!r}")
            else:
                versions[head] = version
        self.patch_head = self._load_patch_head()
        self._load_backbones(versions)

    def _load_patch_head(self) -> _PatchHead | None:
        """The profile's patch head, or None when the profile draws no patch map or the model
        folder has no patch head file (a model trained by ``train_default.py`` alone): its
        heatmap is then one cell per tile, and the heatmap's evidence says which it is."""
        name = self.profile.heatmap_head
        path = self.model_dir / f"{name}.npz"
        if name is None or not path.is_file():
            return None
        probe, extra = LinearProbe.load(path)
        columns = [str(c) for c in extra.get("columns", [])]
        if columns != [PATCH_HEAD_FEATURE]:
            raise ModelError(
                f"{path}: the patch head reads {columns}, expected {PATCH_HEAD_FEATURE}"
            )
        try:
            platt = PlattCalibrator(float(extra["platt_a"]), float(extra["platt_b"]))
        except KeyError:
            raise ModelError(f"{path}: the patch head has no calibration") from None
        return _PatchHead(name, probe, platt, str(extra.get("version", "")))

    def _load_backbones(self, versions: dict[str, str]) -> None:
        """Create the backbones the heads need (unless given), computing only the features they
        read, and check that each is the version its heads were trained on.

        Heads of one backbone that read different features get a session each, pruned to their
        own features: a whole-image head that reads the last layer must not make every heatmap
        tile of an 8-layer tile head pay for 12 layers. Backbones given by the caller (keyed by
        name) serve every head of that backbone."""
        from synthcheck.backbones import create_backbone

        self._head_backbones: dict[str, _Backbone] = {}
        sessions: dict[tuple[str, tuple[str, ...]], _Backbone] = {}
        for loaded in self.heads:
            if loaded.name not in versions:
                continue
            name = HEAD_BACKBONE[loaded.name]
            if name in self.backbones:
                self._head_backbones[loaded.name] = self.backbones[name]
                continue
            columns = list(loaded.columns)
            if self.patch_head is not None and loaded.name == self._map_head_name():
                # The patch tokens come out of the pass that scores the tile: the verdict's
                # tile costs one more output copy, the heatmap no second pass.
                columns.append(PATCH_HEAD_FEATURE)
            key = (name, tuple(columns))
            if key not in sessions:
                sessions[key] = create_backbone(name, features=columns)
            self._head_backbones[loaded.name] = sessions[key]
        map_head = self._map_head_name()
        if self.patch_head is not None and map_head is not None:
            bb = self._head_backbones.get(map_head)
            if bb is not None and PATCH_HEAD_FEATURE not in getattr(bb, "feature_dims", {}):
                # A backbone the caller built without the patch tokens: one cell per tile.
                self.patch_head = None
            elif bb is not None and str(bb.version) != self.patch_head.version:
                raise ModelError(
                    f"{self.model_dir}: patch head {self.patch_head.name!r} was trained on "
                    f"backbone version {self.patch_head.version}, installed is {bb.version}"
                )
        for head, version in versions.items():
            bb = self._head_backbones[head]
            if str(bb.version) != version:
                raise ModelError(
                    f"{self.model_dir}: head {head!r} was trained on backbone version "
                    f"{version}, installed is {bb.version}"
                )

    # -- heads -------------------------------------------------------------------------------
    def _run(
        self,
        head: _Head,
        pixels: NDArray[np.uint8],
        max_tiles: int | None = None,
        *,
        cover: bool = False,
        keep: tuple[str, ...] = (),
    ) -> _HeadOutput:
        """``head`` on ``pixels``, on the profile's tile budget unless ``max_tiles`` is given;
        ``cover``: a backbone head's tiles cover the whole image (the heatmap's plan); ``keep``:
        backbone features of those tiles to return too."""
        if head.name == "artifacts":
            return self._artifacts(head, pixels, max_tiles or self.profile.artifact_tiles)
        return self._backbone_probe(
            head, pixels, max_tiles or self.profile.backbone_tiles, cover=cover, keep=keep
        )

    def _artifacts(self, head: _Head, pixels: NDArray[np.uint8], max_tiles: int) -> _HeadOutput:
        groups, columns = self._artifact_columns(head)
        feats, plan = artifact_features(pixels, max_tiles=max_tiles, groups=groups)
        feats = feats[:, columns]
        tile_logits = head.probe.decision_function(feats)
        top = head.probe.top_features(feats.mean(axis=0), head.columns)
        evidence = [
            Evidence(
                f"{_tiles(plan.count)} of {plan.tile} px analysed at native resolution"
                if plan.scale == 1.0
                else f"{_tiles(plan.count)} of {plan.tile} px of the image upscaled "
                f"x{plan.scale:.2f} (it is smaller than one tile)",
                "tiles",
                plan.count,
            ),
            Evidence(
                "features pushing most towards 'generated': "
                + ", ".join(f"{n} ({c:+.2f})" for n, c in top),
                "top_features",
                [n for n, _ in top],
            ),
        ]
        return _HeadOutput(float(tile_logits.mean()), tile_logits, plan, evidence)

    @staticmethod
    def _artifact_columns(head: _Head) -> tuple[tuple[str, ...], list[int]]:
        """The feature groups to compute for ``head`` and its columns among them."""
        try:
            wanted = {feature_group(c) for c in head.columns}
        except ValueError as exc:
            raise ModelError(f"artifact head uses a feature this synthcheck lacks: {exc}") from exc
        groups = tuple(g for g in GROUPS if g in wanted)
        names = artifact_feature_names(groups)
        return groups, [names.index(c) for c in head.columns]

    def _backbone_probe(
        self,
        head: _Head,
        pixels: NDArray[np.uint8],
        max_tiles: int,
        *,
        cover: bool = False,
        keep: tuple[str, ...] = (),
    ) -> _HeadOutput:
        """``head`` on its crops: the whole-image view, up to ``max_tiles`` native tiles, or with
        ``cover`` up to ``max_tiles`` tiles covering the whole image (shrunk when needed)."""
        bb = self._head_backbones[head.name]
        whole = head.name in GLOBAL_VIEW_HEADS
        if whole:
            crops, plan = global_view(pixels, size=bb.input_size)
        elif cover:
            crops, plan = extract_cover_tiles(pixels, tile=bb.input_size, max_tiles=max_tiles)
        else:
            crops, plan = extract_tiles(pixels, tile=bb.input_size, max_tiles=max_tiles)
        got = bb.features(crops)
        try:
            x = np.concatenate([got[c] for c in head.columns], axis=1)
            kept = {k: got[k] for k in keep}
        except KeyError as exc:
            raise ModelError(f"backbone {HEAD_BACKBONE[head.name]} gives no feature {exc}") from exc
        tile_logits = head.probe.decision_function(x)
        if whole:
            evidence = [
                Evidence(
                    f"the whole image seen at {plan.tile} px (short side resized x{plan.scale:.2f},"
                    " centre-cropped to a square)",
                    "view",
                    "global",
                )
            ]
            return _HeadOutput(float(tile_logits.mean()), tile_logits, plan, evidence)
        if plan.scale == 1.0:
            where = "at native resolution"
        elif plan.scale > 1.0:
            where = f"at native resolution (image upscaled x{plan.scale:.2f} to fit one tile)"
        else:
            where = f"covering the whole image, shrunk x{plan.scale:.2f} to fit the tile budget"
        message = f"{_tiles(plan.count)} of {plan.tile} px {where}"
        evidence = [Evidence(message, "tiles", plan.count)]
        return _HeadOutput(float(tile_logits.mean()), tile_logits, plan, evidence, kept)

    def _weight(self, i: int) -> float | None:
        """The fusion weight of head ``i`` (None: an evidence-only head)."""
        return float(self.fusion.coef_[i]) if i < len(self.profile.heads) else None

    def _signal(
        self, head: _Head, out: _HeadOutput, *, weight: float | None, size_weight: float = 1.0
    ) -> SignalResult:
        # A fused head whose weight came out 0 (the fusion's weights are non-negative) does not
        # move the verdict, so it is reported like an evidence-only head.
        fused = weight is not None and weight > 0
        raw = float(head.platt.predict_proba(np.array([out.logit]))[0])
        # On a small image the verdict's p_ai is pulled toward 0.5 by `size_weight`; each head's
        # score is pulled the same way, so that a score the verdict ignores never reads as
        # evidence for "ai" or "real" (a 29 x 100 image once showed three "ai" signals under an
        # "unsure" verdict).
        p = 0.5 + size_weight * (raw - 0.5)
        tiles_p = head.platt.predict_proba(out.tile_logits)
        verdict: SignalVerdict = (
            "ai" if p >= SIGNAL_AI_THRESHOLD else "real" if p <= SIGNAL_REAL_THRESHOLD else "none"
        )
        whole = head.name in GLOBAL_VIEW_HEADS
        evidence = list(out.evidence)
        if not whole and out.plan.count > 1:
            evidence.append(
                Evidence(
                    f"most suspicious tile: p_ai {tiles_p.max():.2f}",
                    "top_tile_p_ai",
                    round(float(tiles_p.max()), 4),
                )
            )
        n = out.plan.count
        where = "on the whole image" if whole else f"on {n} native tile{'' if n == 1 else 's'}"
        summary = {
            "ai": "pixels look generated",
            "real": "pixels look camera-made",
            "none": "pixels are inconclusive",
        }[verdict]
        if size_weight <= 0.0:
            summary = (
                f"not counted: the image is too small for this model (raw p_ai {raw:.2f} {where})"
            )
        elif size_weight < 1.0:
            summary = (
                f"{summary} (p_ai {p:.2f} {where}: raw {raw:.2f}, counted at weight "
                f"{size_weight:.2f} because the image is small)"
            )
        else:
            summary = f"{summary} (p_ai {p:.2f} {where})"
        return SignalResult(
            name=head.name,
            kind="pixel",
            verdict=verdict,
            score=p,
            summary=summary
            + (
                ""
                if fused
                else "; shown as evidence, not fused into the verdict"
                if weight is None
                else "; shown as evidence, its weight in the verdict is 0"
            ),
            evidence=tuple(evidence),
            details={
                "logit": round(out.logit, 4),
                "tile_grid": list(out.plan.grid_shape),
                "fused": fused,
                **({} if weight is None else {"weight": round(weight, 4)}),
                **({} if size_weight >= 1.0 else {"size_weight": round(size_weight, 4)}),
                **({} if size_weight >= 1.0 else {"raw_p_ai": round(raw, 4)}),
            },
        )

    def predict(self, image: LoadedImage, *, heatmap: bool = False) -> PixelResult:
        """Score one decoded image; with ``heatmap``, also the heatmap grid (see
        :meth:`predict_pixels`)."""
        return self.predict_pixels(image.pixels, heatmap=heatmap)

    def predict_many(self, images: Sequence[LoadedImage]) -> list[PixelResult]:
        return [self.predict(im) for im in images]

    def predict_pixels(self, pixels: NDArray[np.uint8], *, heatmap: bool = False) -> PixelResult:
        """Score H x W x 3 uint8 pixels.

        The verdict always comes from the profile's tile budget, and only from heads whose fusion
        weight is not 0: a head with weight 0 is not run for it. ``heatmap`` adds the heatmap
        grid from up to ``heatmap_tiles`` tiles of the fused head with the smallest tiles (a
        backbone head's tiles cover the whole image), one more backbone pass per tile (for
        ``thorough``, an 8-layer CLIP pass each): with a patch head, the calibrated p_ai of every
        16-px patch of those tiles (``heatmap_plan`` places the cells); otherwise that head's
        calibrated p_ai per tile. That head is then reported
        as a signal too, from those tiles when the verdict did not run it.
        """
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
            raise ConfigError(
                f"expected H x W x 3 uint8 pixels, got shape {pixels.shape} {pixels.dtype}"
            )
        n_fused = len(self.profile.heads)
        weights = [self._weight(i) for i in range(len(self.heads))]
        # A fused head with weight 0 cannot move p_ai, so it is not run for the verdict (for
        # thorough that is the native-tile CLIP pass, half the time); it is reported when a
        # heatmap is drawn, from the heatmap's tiles.
        run = [i for i, w in enumerate(weights) if w != 0.0]
        outs: dict[int, _HeadOutput] = {}
        timings: dict[str, float] = {}
        for i in run:
            start = time.perf_counter()
            outs[i] = self._run(self.heads[i], pixels)
            timings[self.heads[i].name] = time.perf_counter() - start
        z = np.array([[outs[i].logit if i in outs else 0.0 for i in range(n_fused)]])
        p_ai = float(self.fusion.predict_proba(z)[0])
        weight = size_reliability(pixels.shape[0], pixels.shape[1])
        grid = None
        grid_plan = None
        if heatmap:
            start = time.perf_counter()
            k, dense, grid, grid_plan = self._heatmap(pixels)
            timings["heatmap"] = time.perf_counter() - start
            if weight < 1.0:
                grid = 0.5 + weight * (grid - 0.5)
            plan = dense.plan
            shape = f"{plan.grid_shape[0]} x {plan.grid_shape[1]}"
            cover = "" if plan.scale >= 1.0 else f" over the image shrunk x{plan.scale:.2f}"
            if grid_plan.tile != plan.tile:
                rows, cols = grid_plan.grid_shape
                cells = (
                    f"heatmap: {rows} x {cols} cells of {grid_plan.tile / plan.scale:.0f} px from "
                    f"the patch tokens of {_tiles(plan.count)} of {plan.tile} px ({shape}){cover}"
                )
            else:
                cells = f"heatmap: {plan.count} tiles of {plan.tile} px ({shape}){cover}"
            if k in outs:  # scored for the verdict too: the heatmap is one more piece of evidence
                mark = Evidence(
                    f"{cells}, most suspicious cell p_ai {float(np.nanmax(grid)):.2f}",
                    "heatmap_tiles",
                    plan.count,
                )
                outs[k] = replace(outs[k], evidence=[*outs[k].evidence, mark])
            else:  # reported from the heatmap's tiles alone
                mark = Evidence(cells, "heatmap_tiles", plan.count)
                outs[k] = replace(dense, evidence=[*dense.evidence, mark], kept={})
        signals = [
            self._signal(self.heads[i], outs[i], weight=weights[i], size_weight=weight)
            for i in range(len(self.heads))
            if i in outs
        ]
        notes_text = list(self.notes)
        cautions: list[str] = []
        if weight < 1.0:
            short = min(pixels.shape[0], pixels.shape[1])
            p_ai = 0.5 + weight * (p_ai - 0.5)
            small = (
                f"the image is only {short} px on its short side: below the sizes the default "
                f"model is reliable on (real photos that small were rare in training), so its "
                f"score is pulled toward 'no information' (weight {weight:.2f})"
            )
            notes_text.append(small)
            cautions.append(f"small image: {small}")
        if notes_text:
            notes = tuple(Evidence(n, "note") for n in notes_text)
            signals[0] = replace(signals[0], evidence=(*signals[0].evidence, *notes))
        return PixelResult(
            p_ai=p_ai,
            signals=signals,
            heatmap=grid,
            heatmap_plan=grid_plan,
            notes=notes_text,
            cautions=cautions,
            timings=timings,
        )

    def _heatmap(
        self, pixels: NDArray[np.uint8]
    ) -> tuple[int, _HeadOutput, NDArray[np.float64], TilePlan]:
        """The head that draws the heatmap, its output on the heatmap's tiles, the grid of
        calibrated p_ai and where the grid's cells lie.

        With a patch head (``thorough``) each cell is a 16-px patch of the covering tiles, scored
        by the patch head from the tokens of the very pass that scores the tiles. Otherwise each
        cell is a tile, scored by that head's own calibrated p_ai, not the fused score: the
        fusion may give the tile head little or no weight, and a map fused with the whole-image
        logit would then be flat (or, with a negative weight, inverted)."""
        fused = self.heads[: len(self.profile.heads)]
        tiled = [i for i, h in enumerate(fused) if h.name not in GLOBAL_VIEW_HEADS]
        # Every profile fuses a native-resolution head; the one with the smallest tiles draws.
        # A backbone head's map covers every pixel (shrinking a large image to the budget): on
        # composites it pointed at the pasted region as well as the thinned native grid and
        # reached regions that grid missed (model card, "Heatmap"). The artifact head's features
        # are pixel statistics that shrinking would erase, so fast's map keeps native tiles.
        k = min(tiled, key=lambda i: self._tile_size(self.heads[i]))
        patch = self.patch_head if self.heads[k].name == self._map_head_name() else None
        keep = (PATCH_HEAD_FEATURE,) if patch is not None else ()
        dense = self._run(
            self.heads[k], pixels, max_tiles=self.heatmap_tiles, cover=True, keep=keep
        )
        plan = dense.plan
        if patch is None:
            tiles_p = self.heads[k].platt.predict_proba(dense.tile_logits)
            return k, dense, np.asarray(tiles_p, dtype=np.float64).reshape(plan.grid_shape), plan
        tokens = dense.kept[PATCH_HEAD_FEATURE]
        side = round(math.sqrt(tokens.shape[1] // patch.probe.n_features_in_))
        logits = patch.probe.decision_function(tokens.reshape(plan.count * side * side, -1))
        smoothed = neighbourhood_mean(logits.reshape(plan.count, side, side))
        grid, cells = patch_grid(plan, smoothed, plan.tile // side)
        finite = np.isfinite(grid)
        grid[finite] = patch.platt.predict_proba(grid[finite])
        return k, dense, grid, cells

    def _map_head_name(self) -> str | None:
        """The tiled backbone head whose tiles give the patch tokens (None: fast)."""
        for name in self.profile.heads:
            if name not in GLOBAL_VIEW_HEADS and name != "artifacts":
                return name
        return None

    def _tile_size(self, head: _Head) -> int:
        if head.name == "artifacts":
            return ARTIFACT_TILE
        return int(self._head_backbones[head.name].input_size)


def neighbourhood_mean(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each patch's mean with its 8 neighbours in the same tile (N x k x k; edges repeated).

    One 16-px patch is a weak witness on its own, and a single hot patch on a camera photo would
    read as a finding. Averaging 3 x 3 patches pointed at the generated region more often on
    composites and ranked the cells better (model card, "Heatmap")."""
    padded = np.pad(values, ((0, 0), (1, 1), (1, 1)), mode="edge")
    k = values.shape[1]
    total = sum(padded[:, dy : dy + k, dx : dx + k] for dy in range(3) for dx in range(3))
    return np.asarray(total, dtype=np.float64) / 9.0


def _tiles(n: int) -> str:
    return "1 tile" if n == 1 else f"{n} tiles"


def create_pixel_model(
    profile: str = "auto",
    *,
    model_dir: Path | None = None,
    heatmap_tiles: int = HEATMAP_MAX_TILES,
) -> DefaultPixelModel:
    """The default pixel detector for ``profile`` ("auto", "fast" or "thorough"); its heatmaps
    score up to ``heatmap_tiles`` tiles (1 to 1,024; the verdict never depends on it).

    "auto" is "thorough" when the CLIP backbone is installed and matches the trained head, and
    "fast" otherwise (the fallback and its reason are added to the signal's evidence).
    "thorough" without CLIP raises :class:`~synthcheck.errors.BackboneNotInstalledError`, whose
    message carries the install command.
    """
    # A bad heatmap_tiles raises ConfigError from the constructor before anything is loaded,
    # so "auto" does not mistake it for a missing backbone.
    if profile == "auto":
        try:
            return DefaultPixelModel("thorough", model_dir=model_dir, heatmap_tiles=heatmap_tiles)
        except (BackboneError, ModelError) as exc:
            note = f"profile auto fell back to fast: {exc}"
            return DefaultPixelModel(
                "fast", model_dir=model_dir, notes=[note], heatmap_tiles=heatmap_tiles
            )
    return DefaultPixelModel(profile, model_dir=model_dir, heatmap_tiles=heatmap_tiles)
