"""Vectorised heads: every fold and every regularisation value of a head are fitted at once.

The sweep needs dozens of fits in a few seconds on 2 cores, so the heads are solved jointly:

* ``ridge``     least squares on ±1 targets; one eigendecomposition per fold gives every alpha.
* ``logistic``  L2 logistic regression (sigmoid for two labels, softmax for more).
* ``svm``       linear SVM with the squared hinge loss (one-vs-rest), Platt-calibrated later.
* ``mlp``       one hidden layer of 16 ReLU units with L2 weight decay, on the 64
                highest-variance projected columns.

``logistic``, ``svm`` and ``mlp`` minimise the sum of the independent objectives of all
(fold, value) pairs with one L-BFGS run: the objectives share no parameters, so their sum's
minimum is every objective's minimum, and the matrix products of all fits become one product.
Regularisation follows scikit-learn: ``sum(loss) + ||W||^2 / (2 C)`` (``alpha`` for ridge and
the MLP's weight decay: ``sum(loss) + alpha ||W||^2 / 2``).

A fitted head is a plain dict of float arrays (see :func:`head_scores`), stored without pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, log_softmax

__all__ = ["HEAD_GRIDS", "HeadFit", "fit_heads", "head_scores"]

F64 = NDArray[np.float64]

#: Hyperparameter grid per head (the sweep may evaluate a head on the best feature sets only).
HEAD_GRIDS: dict[str, tuple[float, ...]] = {
    "ridge": (10.0, 100.0, 1000.0, 10000.0, 100000.0),
    "logistic": (0.001, 0.01, 0.1, 1.0),
    "svm": (0.0003, 0.003, 0.03),
    "mlp": (3.0,),
}
MLP_HIDDEN = 16
MLP_INPUTS = 64
#: L-BFGS iterations while cross-validating (enough to rank configurations) and for the final
#: refit of the chosen one (run to convergence).
CV_MAX_ITER = 100
FINAL_MAX_ITER = 1000
MLP_CV_MAX_ITER = 80
MLP_FINAL_MAX_ITER = 400


@dataclass
class HeadFit:
    """Fitted parameters for each (train mask, value) pair: ``params[j][v]`` is a dict of arrays."""

    head: str
    values: tuple[float, ...]
    params: list[list[dict[str, F64]]]


def head_scores(params: dict[str, F64], z: F64) -> F64:
    """Decision scores (n x K', K' = 1 for two labels) of one fitted head on features ``z``."""
    if "w1" in params:
        hidden = np.maximum(z @ params["w1"] + params["b1"], 0.0)
        out: F64 = hidden @ params["w2"] + params["b2"]
        return out
    scores: F64 = z @ params["w"] + params["b"]
    return scores


def _targets(y: NDArray[np.int64], n_classes: int) -> F64:
    """±1 targets: one column for two classes (class 1 positive), else one per class."""
    if n_classes == 2:
        return np.where(y == 1, 1.0, -1.0)[:, None]
    return np.where(y[:, None] == np.arange(n_classes)[None, :], 1.0, -1.0)


def _ridge(
    z: F64,
    y: NDArray[np.int64],
    masks: Sequence[NDArray[np.bool_]],
    values: Sequence[float],
    n_classes: int,
) -> list[list[dict[str, F64]]]:
    t = _targets(y, n_classes)
    out: list[list[dict[str, F64]]] = []
    for mask in masks:
        zt, tt = z[mask], t[mask]
        mu, tmu = zt.mean(axis=0), tt.mean(axis=0)
        zc = zt - mu
        evals, evecs = np.linalg.eigh(zc.T @ zc)
        proj = evecs.T @ (zc.T @ (tt - tmu))
        fits = []
        for alpha in values:
            w = evecs @ (proj / (np.maximum(evals, 0.0) + alpha)[:, None])
            fits.append({"w": w, "b": tmu - mu @ w})
        out.append(fits)
    return out


def _linear_lbfgs(
    z: F64,
    y: NDArray[np.int64],
    masks: Sequence[NDArray[np.bool_]],
    values: Sequence[float],
    n_classes: int,
    loss: str,
    max_iter: int,
) -> list[list[dict[str, F64]]]:
    n, f = z.shape
    k = 1 if n_classes == 2 else n_classes
    jobs = [(j, v) for j in range(len(masks)) for v in range(len(values))]
    m = len(jobs)
    train = np.stack([masks[j] for j, _ in jobs], axis=1).astype(np.float64)  # n x m
    inv_c = np.array([1.0 / values[v] for _, v in jobs])  # m
    t = _targets(y, n_classes)  # n x k (±1)
    onehot = (t > 0).astype(np.float64)
    za = np.hstack([z, np.ones((n, 1))])  # intercept as the last row of W (not penalised)
    # Diagonal preconditioning (w = d * u): L-BFGS runs on u, where the Hessian's diagonal is
    # about 1. Same minimiser, far fewer iterations when feature scales differ by 100x.
    curvature = 0.25 if loss == "logistic" else 2.0
    diag = curvature * (train.T @ za**2).T  # (f+1) x m
    diag[:f] += inv_c[None, :]
    d = (1.0 / np.sqrt(np.maximum(diag, 1e-12)))[:, :, None]  # (f+1) x m x 1

    def objective(theta: F64) -> tuple[float, F64]:
        w = theta.reshape(f + 1, m, k) * d
        s = (za @ w.reshape(f + 1, m * k)).reshape(n, m, k)
        if loss == "logistic" and k == 1:
            lv = np.logaddexp(0.0, s[..., 0]) - onehot[:, None, 0] * s[..., 0]
            g = (expit(s[..., 0]) - onehot[:, None, 0])[..., None]
        elif loss == "logistic":
            ls = log_softmax(s, axis=2)
            lv = -(ls * onehot[:, None, :]).sum(axis=2)
            g = np.exp(ls) - onehot[:, None, :]
        else:  # squared hinge, one-vs-rest
            margin = np.maximum(0.0, 1.0 - t[:, None, :] * s)
            lv = (margin**2).sum(axis=2)
            g = -2.0 * t[:, None, :] * margin
        g = g * train[:, :, None]
        reg = w[:f] ** 2 * inv_c[None, :, None]
        value = float((lv * train).sum() + 0.5 * reg.sum())
        grad = (za.T @ g.reshape(n, m * k)).reshape(f + 1, m, k)
        grad[:f] += w[:f] * inv_c[None, :, None]
        return value, (grad * d).ravel()

    theta0 = np.zeros((f + 1) * m * k)
    res = minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": 1e-4, "ftol": 1e-8},
    )
    w = res.x.reshape(f + 1, m, k) * d
    out: list[list[dict[str, F64]]] = [[{} for _ in values] for _ in masks]
    for idx, (j, v) in enumerate(jobs):
        out[j][v] = {"w": w[:f, idx, :].copy(), "b": w[f, idx, :].copy()}
    return out


def _mlp(
    z_in: F64,
    y: NDArray[np.int64],
    masks: Sequence[NDArray[np.bool_]],
    values: Sequence[float],
    n_classes: int,
    seed: int,
    max_iter: int,
) -> list[list[dict[str, F64]]]:
    # The MLP reads the MLP_INPUTS highest-variance columns (the leading principal components
    # of each block), scaled to unit variance; both are folded back into the first layer (zero
    # rows for the columns it ignores), so scoring needs no extra parameters.
    sigma_all = z_in.std(axis=0)
    keep = np.sort(np.argsort(-sigma_all)[:MLP_INPUTS])
    sigma = np.where(sigma_all[keep] < 1e-12, 1.0, sigma_all[keep])
    z = z_in[:, keep] / sigma
    n, f = z.shape
    k = 1 if n_classes == 2 else n_classes
    h = MLP_HIDDEN
    jobs = [(j, v) for j in range(len(masks)) for v in range(len(values))]
    m = len(jobs)
    train = np.stack([masks[j] for j, _ in jobs], axis=1).astype(np.float64)
    alpha = np.array([values[v] for _, v in jobs])
    onehot = (_targets(y, n_classes) > 0).astype(np.float64)
    sizes = [f * m * h, m * h, m * h * k, m * k]
    rng = np.random.default_rng(seed)
    init = [
        rng.normal(0.0, np.sqrt(2.0 / f), f * m * h),
        np.zeros(m * h),
        rng.normal(0.0, np.sqrt(1.0 / h), m * h * k),
        np.zeros(m * k),
    ]
    cuts = np.cumsum(sizes)[:-1]
    scale = 1.0 / n

    train_m = train.T[:, :, None]  # m x n x 1
    onehot_m = onehot[None, :, :]  # 1 x n x k

    def objective(theta: F64) -> tuple[float, F64]:
        w1f, b1f, w2f, b2f = np.split(theta, cuts)
        w1, b1 = w1f.reshape(f, m * h), b1f.reshape(m * h)
        w2, b2 = w2f.reshape(m, h, k), b2f.reshape(m, k)
        pre = z @ w1 + b1
        act = np.maximum(pre, 0.0).reshape(n, m, h).transpose(1, 0, 2)  # m x n x h
        s = np.matmul(act, w2) + b2[:, None, :]  # m x n x k
        if k == 1:
            lv = np.logaddexp(0.0, s) - onehot_m * s
            g = expit(s) - onehot_m
        else:
            ls = log_softmax(s, axis=2)
            lv = -(ls * onehot_m)
            g = np.exp(ls) - onehot_m
        g = g * train_m
        value = float((lv * train_m).sum())
        value += 0.5 * float((alpha[None, :, None] * w1.reshape(f, m, h) ** 2).sum())
        value += 0.5 * float((alpha[:, None, None] * w2**2).sum())
        gw2 = np.matmul(act.transpose(0, 2, 1), g) + alpha[:, None, None] * w2
        gb2 = g.sum(axis=1)
        gact = np.matmul(g, w2.transpose(0, 2, 1)) * (act > 0)  # m x n x h
        gact2 = gact.transpose(1, 0, 2).reshape(n, m * h)
        gw1 = (z.T @ gact2).reshape(f, m, h) + alpha[None, :, None] * w1.reshape(f, m, h)
        gb1 = gact2.sum(axis=0)
        grad = np.concatenate([gw1.ravel(), gb1, gw2.ravel(), gb2.ravel()])
        return value * scale, grad * scale

    res = minimize(
        objective,
        np.concatenate(init),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": 1e-6},
    )
    w1f, b1f, w2f, b2f = np.split(res.x, cuts)
    w1, b1 = w1f.reshape(f, m, h), b1f.reshape(m, h)
    w2, b2 = w2f.reshape(m, h, k), b2f.reshape(m, k)
    out: list[list[dict[str, F64]]] = [[{} for _ in values] for _ in masks]
    for idx, (j, v) in enumerate(jobs):
        first = np.zeros((z_in.shape[1], h))
        first[keep] = w1[:, idx, :] / sigma[:, None]
        out[j][v] = {"w1": first, "b1": b1[idx].copy(), "w2": w2[idx].copy(), "b2": b2[idx].copy()}
    return out


def fit_heads(
    head: str,
    z: F64,
    y: NDArray[np.int64],
    masks: Sequence[NDArray[np.bool_]],
    n_classes: int,
    *,
    values: Sequence[float] | None = None,
    seed: int = 0,
    final: bool = False,
) -> HeadFit:
    """Fit ``head`` for every training mask in ``masks`` and every hyperparameter value.

    ``z`` is n x F (all rows; each fit uses the rows its mask selects), ``y`` the class indices
    in ``range(n_classes)``. ``final`` runs the iterative solvers to convergence (the refit of
    the chosen configuration); otherwise they stop early enough to rank configurations.
    """
    vals = tuple(values if values is not None else HEAD_GRIDS[head])
    if head == "ridge":
        params = _ridge(z, y, masks, vals, n_classes)
    elif head in ("logistic", "svm"):
        params = _linear_lbfgs(
            z,
            y,
            masks,
            vals,
            n_classes,
            "logistic" if head == "logistic" else "hinge",
            FINAL_MAX_ITER if final else CV_MAX_ITER,
        )
    elif head == "mlp":
        params = _mlp(
            z, y, masks, vals, n_classes, seed, MLP_FINAL_MAX_ITER if final else MLP_CV_MAX_ITER
        )
    else:
        raise ValueError(f"unknown head {head!r}; choose from {', '.join(HEAD_GRIDS)}")
    return HeadFit(head, vals, params)
