"""Hand-crafted forensic features that need no pretrained weights.

Computed per native-resolution tile (default 128 px, no overlap, at most 16 tiles spread over the
image, see :mod:`synthcheck.pixel.tiling`) and averaged over tiles for the image:

* ``radial_*``   energy of the Laplacian noise residual's spectrum in 10 radial frequency bands
                 (fractions of the total, log): generators under-produce or over-produce fine
                 detail compared with optics + sensor + demosaicing.
* ``axis_energy`` share of spectral energy on the horizontal/vertical axes.
* ``peak_*``     periodic peaks of the residual spectrum at periods 2, 4 and 8 (on the axes and
                 the diagonal): traces of up-sampling layers (transposed convolutions, VAE
                 decoders).
* ``acorr_*``    normalised autocorrelation of the residual at lag 1 (axis, diagonal) and lag 2.
* ``kurtosis``, ``smoothness``  shape and relative strength of the residual.
* ``spam_*``     co-occurrences of neighbouring truncated first-order differences (pairs) and
                 second-order residuals (triplets), symmetrised, SRM/SPAM style (Hellinger-scaled).
* ``chroma_*``   cross-channel correlation of residuals and chroma/luma residual ratio: camera
                 demosaicing correlates the colour channels' noise in ways generators do not.

Every feature is a ratio or a normalised statistic, so image size, brightness and global contrast
do not act as shortcuts; JPEG quality and re-encoding still do unless the head is trained on
laundered images (``scripts/train_default.py`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synthcheck.pixel.tiling import TilePlan, extract_tiles

__all__ = [
    "ARTIFACT_FEATURE_VERSION",
    "ARTIFACT_TILE",
    "GROUPS",
    "artifact_feature_names",
    "artifact_features",
    "feature_group",
    "tile_artifact_features",
]

#: Bump when the features change: cached features and trained heads depend on it.
ARTIFACT_FEATURE_VERSION = 1
ARTIFACT_TILE = 128
ARTIFACT_MAX_TILES = 16
#: Tiles whose features are computed together (see :func:`artifact_features`).
ARTIFACT_CHUNK = 32

_RADIAL_BINS = 10
#: Feature groups in column order.
GROUPS: tuple[str, ...] = ("spectral", "residual", "spam", "chroma")
_T = 2  # truncation of the quantised residuals in the co-occurrences
_EPS = 1e-8


@lru_cache(maxsize=1)
def _pair_classes() -> tuple[NDArray[np.intp], int]:
    vals = range(-_T, _T + 1)
    canon: dict[tuple[int, int], int] = {}
    table = np.zeros((2 * _T + 1) ** 2, dtype=np.intp)
    for i, a in enumerate(vals):
        for j, b in enumerate(vals):
            key = min((a, b), (-a, -b))
            table[i * (2 * _T + 1) + j] = canon.setdefault(key, len(canon))
    return table, len(canon)


@lru_cache(maxsize=1)
def _triplet_classes() -> tuple[NDArray[np.intp], int]:
    vals = list(range(-_T, _T + 1))
    n = 2 * _T + 1
    canon: dict[tuple[int, int, int], int] = {}
    table = np.zeros(n**3, dtype=np.intp)
    for i, a in enumerate(vals):
        for j, b in enumerate(vals):
            for k, c in enumerate(vals):
                key = min((a, b, c), (c, b, a), (-a, -b, -c), (-c, -b, -a))
                table[(i * n + j) * n + k] = canon.setdefault(key, len(canon))
    return table, len(canon)


@lru_cache(maxsize=4)
def _spectral_layout(size: int) -> tuple[NDArray[np.float32], NDArray[np.intp], NDArray[np.bool_]]:
    win = np.hanning(size).astype(np.float32)
    window = np.outer(win, win)
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    radius = np.sqrt(fy**2 + fx**2) / 0.5
    bins = np.minimum((radius * _RADIAL_BINS).astype(np.intp), _RADIAL_BINS - 1)
    axis = (np.abs(fy) < 1.5 / size) | (np.abs(fx) < 1.5 / size)
    return window, bins, axis


@lru_cache(maxsize=1)
def _group_names() -> dict[str, tuple[str, ...]]:
    spectral = [f"radial_{i}" for i in range(_RADIAL_BINS)] + ["axis_energy"]
    spectral += [f"peak_axis_p{p}" for p in (2, 4, 8)] + [f"peak_diag_p{p}" for p in (2, 4, 8)]
    residual = ["acorr_axis1", "acorr_diag1", "acorr_axis2", "kurtosis", "smoothness"]
    spam = [f"spam_pair_{i}" for i in range(_pair_classes()[1])]
    spam += [f"spam_triplet_{i}" for i in range(_triplet_classes()[1])]
    chroma = ["chroma_corr_rg", "chroma_corr_gb", "chroma_corr_rb", "chroma_ratio"]
    return {
        "spectral": tuple(spectral),
        "residual": tuple(residual),
        "spam": tuple(spam),
        "chroma": tuple(chroma),
    }


def artifact_feature_names(groups: Sequence[str] = GROUPS) -> tuple[str, ...]:
    """Names of the artifact features of ``groups`` (all by default), in column order."""
    table = _group_names()
    return tuple(n for g in GROUPS if g in groups for n in table[g])


def feature_group(name: str) -> str:
    """The group (see :data:`GROUPS`) a feature name belongs to."""
    for group, names in _group_names().items():
        if name in names:
            return group
    raise ValueError(f"unknown artifact feature {name!r}")


def _laplacian(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """4-neighbour Laplacian residual over the last two axes (wrapping; edges are windowed or
    trimmed by the callers)."""
    out: NDArray[np.float32] = 4.0 * x - (
        np.roll(x, 1, -1) + np.roll(x, -1, -1) + np.roll(x, 1, -2) + np.roll(x, -1, -2)
    )
    return out


def _peak(p: NDArray[np.float32], idx: int, axis: int) -> NDArray[np.float32]:
    """log ratio of the marginal spectrum at ``idx`` to the median of its neighbours."""
    m = p.mean(axis=axis)  # N x F
    lo, hi = max(1, idx - 4), min(m.shape[1], idx + 5)
    neigh = np.concatenate([m[:, lo : idx - 1], m[:, idx + 2 : hi]], axis=1)
    out: NDArray[np.float32] = np.log(
        (m[:, idx] + _EPS) / (np.median(neigh, axis=1) + _EPS)
    ).astype(np.float32)
    return out


def _cooc(codes: NDArray[np.intp], table: NDArray[np.intp], n_classes: int) -> NDArray[np.float32]:
    n = codes.shape[0]
    flat = table[codes.reshape(n, -1)] + (np.arange(n)[:, None] * n_classes)
    hist = np.bincount(flat.ravel(), minlength=n * n_classes).reshape(n, n_classes)
    probs = hist / np.maximum(hist.sum(axis=1, keepdims=True), 1)
    out: NDArray[np.float32] = np.sqrt(probs).astype(np.float32)
    return out


def _spam(y: NDArray[np.float32]) -> list[NDArray[np.float32]]:
    """SPAM-style co-occurrences of truncated differences (integer pixel steps, q = 1)."""
    n = y.shape[0]
    yi = np.rint(y).astype(np.int16)
    k = 2 * _T + 1
    dh = (np.clip(yi[:, :, 1:] - yi[:, :, :-1], -_T, _T) + _T).astype(np.intp)
    dv = (np.clip(yi[:, 1:, :] - yi[:, :-1, :], -_T, _T) + _T).astype(np.intp)
    ptable, pcls = _pair_classes()
    pairs = np.concatenate(
        [
            (dh[:, :, :-1] * k + dh[:, :, 1:]).reshape(n, -1),
            (dv[:, :-1] * k + dv[:, 1:]).reshape(n, -1),
        ],
        axis=1,
    )
    e2h = (np.clip(yi[:, :, :-2] - 2 * yi[:, :, 1:-1] + yi[:, :, 2:], -_T, _T) + _T).astype(np.intp)
    e2v = (np.clip(yi[:, :-2] - 2 * yi[:, 1:-1] + yi[:, 2:], -_T, _T) + _T).astype(np.intp)
    ttable, tcls = _triplet_classes()
    trip = np.concatenate(
        [
            ((e2h[:, :, :-2] * k + e2h[:, :, 1:-1]) * k + e2h[:, :, 2:]).reshape(n, -1),
            ((e2v[:, :-2] * k + e2v[:, 1:-1]) * k + e2v[:, 2:]).reshape(n, -1),
        ],
        axis=1,
    )
    return [_cooc(pairs, ptable, pcls), _cooc(trip, ttable, tcls)]


def tile_artifact_features(
    tiles: NDArray[np.uint8], *, groups: Sequence[str] = GROUPS
) -> NDArray[np.float32]:
    """Feature matrix (N x F, float32) of an ``N x S x S x 3`` uint8 tile stack; columns are
    :func:`artifact_feature_names` of the same ``groups`` (all by default)."""
    if tiles.ndim != 4 or tiles.shape[3] != 3 or tiles.shape[1] != tiles.shape[2]:
        raise ValueError(f"expected N x S x S x 3 tiles, got shape {tiles.shape}")
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown artifact feature groups {sorted(unknown)}; known: {GROUPS}")
    rgb = tiles.astype(np.float32)
    y = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # N x S x S
    if tuple(groups) == ("spam",):  # the shipped head's features: skip everything else
        return _finish(_spam(y))
    n, size = tiles.shape[0], tiles.shape[1]
    window, bins, axis_mask = _spectral_layout(size)

    # Spectrum of the windowed Laplacian residual.
    res = _laplacian(y)
    spec = np.abs(np.fft.rfft2(res * window)) ** 2
    spec[:, 0, 0] = 0.0
    total = spec.sum(axis=(1, 2)) + _EPS
    radial = (
        np.stack([spec[:, bins == b].sum(axis=1) for b in range(_RADIAL_BINS)], axis=1)
        / total[:, None]
    )
    radial = np.log(radial + 1e-6)
    axis_energy = spec[:, axis_mask].sum(axis=1) / total
    peaks = []
    for period in (2, 4, 8):
        fidx = size // period
        peaks.append(0.5 * (_peak(spec, min(fidx, spec.shape[2] - 1), 1) + _peak(spec, fidx, 2)))
    for period in (2, 4, 8):
        fidx = size // period
        diag = spec[:, fidx, min(fidx, spec.shape[2] - 1)]
        ring = spec[:, max(1, fidx - 3) : fidx + 4, max(1, fidx - 3) : fidx + 4].reshape(n, -1)
        peaks.append(np.log((diag + _EPS) / (np.median(ring, axis=1) + _EPS)))

    # Residual statistics on the interior (no wrap-around).
    r = res[:, 2:-2, 2:-2]
    r = r - r.mean(axis=(1, 2), keepdims=True)
    var = (r**2).mean(axis=(1, 2)) + _EPS
    acorr_axis1 = (
        0.5
        * (
            (r[:, :, 1:] * r[:, :, :-1]).mean(axis=(1, 2))
            + (r[:, 1:] * r[:, :-1]).mean(axis=(1, 2))
        )
        / var
    )
    acorr_diag1 = (r[:, 1:, 1:] * r[:, :-1, :-1]).mean(axis=(1, 2)) / var
    acorr_axis2 = (
        0.5
        * (
            (r[:, :, 2:] * r[:, :, :-2]).mean(axis=(1, 2))
            + (r[:, 2:] * r[:, :-2]).mean(axis=(1, 2))
        )
        / var
    )
    kurt = np.log((r**4).mean(axis=(1, 2)) / var**2 + _EPS)
    yc = y - y.mean(axis=(1, 2), keepdims=True)
    smooth = 0.5 * np.log(var / ((yc**2).mean(axis=(1, 2)) + 1.0))

    spam = _spam(y)

    # Colour: correlation of the channels' residuals, and chroma vs luma residual strength.
    rc = _laplacian(np.moveaxis(rgb, 3, 1))[:, :, 2:-2, 2:-2]  # N x 3 x s x s
    rc = rc - rc.mean(axis=(2, 3), keepdims=True)
    sd = np.sqrt((rc**2).mean(axis=(2, 3)) + _EPS)

    def corr(a: int, b: int) -> NDArray[np.float32]:
        c: NDArray[np.float32] = (rc[:, a] * rc[:, b]).mean(axis=(1, 2)) / (sd[:, a] * sd[:, b])
        return c

    chroma = rc[:, 2] - rc[:, 0]
    chroma_ratio = 0.5 * np.log(((chroma**2).mean(axis=(1, 2)) + _EPS) / var)

    parts = {
        "spectral": [radial, axis_energy[:, None], np.stack(peaks, axis=1)],
        "residual": [np.stack([acorr_axis1, acorr_diag1, acorr_axis2, kurt, smooth], axis=1)],
        "spam": spam,
        "chroma": [np.stack([corr(0, 1), corr(1, 2), corr(0, 2), chroma_ratio], axis=1)],
    }
    return _finish([c for g in GROUPS if g in groups for c in parts[g]])


def _finish(cols: list[NDArray[Any]]) -> NDArray[np.float32]:
    feats = np.concatenate([np.asarray(c, dtype=np.float32) for c in cols], axis=1)
    clean: NDArray[np.float32] = np.nan_to_num(feats, nan=0.0, posinf=0.0, neginf=0.0)
    return clean


def artifact_features(
    pixels: NDArray[np.uint8],
    *,
    max_tiles: int = ARTIFACT_MAX_TILES,
    groups: Sequence[str] = GROUPS,
) -> tuple[NDArray[np.float32], TilePlan]:
    """Per-tile artifact features (N x F) of an H x W x 3 uint8 image and the tile plan.

    Tiles are processed :data:`ARTIFACT_CHUNK` at a time: each tile's features depend on that
    tile alone (the values are identical, tested), and the float temporaries of hundreds of tiles
    at once (a heatmap over a 10 MP photo has 672) fall out of cache, which made the cost per tile
    two to four times higher."""
    tiles, plan = extract_tiles(pixels, tile=ARTIFACT_TILE, overlap=1.0, max_tiles=max_tiles)
    if len(tiles) <= ARTIFACT_CHUNK:
        return tile_artifact_features(tiles, groups=groups), plan
    parts = [
        tile_artifact_features(tiles[i : i + ARTIFACT_CHUNK], groups=groups)
        for i in range(0, len(tiles), ARTIFACT_CHUNK)
    ]
    return np.concatenate(parts), plan
