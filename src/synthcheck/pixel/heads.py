"""Small trained heads of the pixel detector, stored as .npz/.json (never pickle).

* :class:`LinearProbe` — standardise, then logistic regression; scikit-learn style estimator
  (``fit`` returns self, learned state in ``mean_``, ``scale_``, ``coef_``, ``intercept_``).
  ``decision_function`` is plain numpy, so inference needs no scikit-learn.
* :class:`PlattCalibrator` — ``p = sigmoid(a * score + b)`` fitted on out-of-fold scores.
* :class:`StackedFusion` — logistic regression over the heads' out-of-fold logits, giving the
  calibrated ``p_ai`` (a stacked model fitted on out-of-fold scores is Platt-calibrated by
  construction).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from synthcheck.errors import ConfigError, ModelError

__all__ = ["HeadSpec", "LinearProbe", "PlattCalibrator", "StackedFusion", "sigmoid"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class HeadSpec:
    """Which feature block feeds a head, which of its columns, and the probe's strength."""

    name: str
    block: str
    C: float
    keys: tuple[str, ...] = ()


def sigmoid(z: NDArray[Any]) -> FloatArray:
    """The logistic function (scipy's ``expit``, which does not overflow) as float64."""
    from scipy.special import expit

    out: FloatArray = expit(np.asarray(z, dtype=np.float64))
    return out


def _check_xy(x: NDArray[Any], y: NDArray[Any]) -> tuple[FloatArray, NDArray[np.int64]]:
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y).astype(np.int64)
    if xa.ndim != 2:
        raise ConfigError(f"X must be 2-D (samples x features), got shape {xa.shape}")
    if ya.shape != (xa.shape[0],):
        raise ConfigError(
            f"y must have one label per row of X ({xa.shape[0]}), got shape {ya.shape}"
        )
    if set(np.unique(ya).tolist()) != {0, 1}:
        raise ConfigError("y must contain both classes, 0 (real) and 1 (generated)")
    finite = np.isfinite(xa).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        raise ConfigError(
            f"X holds NaN or infinite values in {len(rows)} rows (first: row {int(rows[0])})"
        )
    return xa, ya


class LinearProbe:
    """Standardised logistic regression. ``C`` is the inverse L2 strength (> 0)."""

    def __init__(self, C: float = 0.1, max_iter: int = 2000) -> None:  # noqa: N803
        self.C = C
        self.max_iter = max_iter

    def fit(
        self,
        X: NDArray[Any],  # noqa: N803
        y: NDArray[Any],
        sample_weight: NDArray[Any] | None = None,
    ) -> LinearProbe:
        if not self.C > 0:
            raise ConfigError(f"C must be > 0, got {self.C}")
        from sklearn.linear_model import LogisticRegression

        xa, ya = _check_xy(X, y)
        self.mean_ = xa.mean(axis=0)
        self.scale_ = xa.std(axis=0) + 1e-6
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight="balanced")
        lr.fit((xa - self.mean_) / self.scale_, ya, sample_weight=sample_weight)
        self.coef_ = lr.coef_.ravel().astype(np.float64)
        self.intercept_ = float(lr.intercept_[0])
        self.n_features_in_ = xa.shape[1]
        return self

    def decision_function(self, X: NDArray[Any]) -> FloatArray:  # noqa: N803
        if not hasattr(self, "coef_"):
            raise ModelError("LinearProbe is not fitted")
        xa = np.asarray(X, dtype=np.float64)
        if xa.ndim != 2 or xa.shape[1] != self.n_features_in_:
            raise ModelError(
                f"expected {self.n_features_in_} features per row, got shape {xa.shape}"
            )
        out: FloatArray = ((xa - self.mean_) / self.scale_) @ self.coef_ + self.intercept_
        return out

    def top_features(
        self, x: NDArray[Any], names: tuple[str, ...] | list[str], k: int = 3
    ) -> list[tuple[str, float]]:
        """The ``k`` features pushing one sample's score most towards "generated"."""
        contrib = (np.asarray(x, dtype=np.float64) - self.mean_) / self.scale_ * self.coef_
        order = np.argsort(-contrib)[:k]
        return [(names[i], round(float(contrib[i]), 3)) for i in order]

    def save(self, path: Path, **extra: Any) -> None:
        np.savez(
            path,
            mean=self.mean_,
            scale=self.scale_,
            coef=self.coef_,
            intercept=np.array(self.intercept_),
            C=np.array(self.C),
            **extra,
        )

    @classmethod
    def load(cls, path: Path) -> tuple[LinearProbe, dict[str, Any]]:
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot read probe head: {exc}") from exc
        probe = cls(C=float(data.pop("C")))
        probe.mean_ = data.pop("mean")
        probe.scale_ = data.pop("scale")
        probe.coef_ = data.pop("coef")
        probe.intercept_ = float(data.pop("intercept"))
        probe.n_features_in_ = int(probe.coef_.shape[0])
        return probe, data


class PlattCalibrator:
    """``p = sigmoid(a * score + b)``."""

    def __init__(self, a: float = 1.0, b: float = 0.0) -> None:
        self.a_ = a
        self.b_ = b

    def fit(self, scores: NDArray[Any], y: NDArray[Any]) -> PlattCalibrator:
        from sklearn.linear_model import LogisticRegression

        xa, ya = _check_xy(np.asarray(scores, dtype=np.float64).reshape(-1, 1), y)
        lr = LogisticRegression(C=1e4, max_iter=1000).fit(xa, ya)
        self.a_ = float(lr.coef_[0, 0])
        self.b_ = float(lr.intercept_[0])
        return self

    def predict_proba(self, scores: NDArray[Any]) -> FloatArray:
        return sigmoid(self.a_ * np.asarray(scores, dtype=np.float64) + self.b_)

    def to_dict(self) -> dict[str, float]:
        return {"a": self.a_, "b": self.b_}


class StackedFusion:
    """Logistic regression over named head logits (missing heads are not allowed).

    The weights are constrained to be non-negative (``positive``, the default), as in Breiman's
    stacked regressions: every input is a "more generated" score, and an unconstrained fit on two
    correlated heads gave one of them a negative weight (version 2's native-tile CLIP head had
    -0.55), so a tile that looked more generated lowered ``p_ai`` and its heatmap pointed away
    from pasted generated regions. A fused score must not fall when a head's evidence for
    "generated" rises.
    """

    def __init__(self, inputs: list[str], C: float = 1.0, positive: bool = True) -> None:  # noqa: N803
        self.inputs = inputs
        self.C = C
        self.positive = positive

    def fit(self, Z: NDArray[Any], y: NDArray[Any]) -> StackedFusion:  # noqa: N803
        za, ya = _check_xy(Z, y)
        if za.shape[1] != len(self.inputs):
            raise ConfigError(
                f"Z has {za.shape[1]} columns but {len(self.inputs)} inputs are named"
            )
        if not self.positive:
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=self.C, max_iter=1000).fit(za, ya)
            self.coef_ = lr.coef_.ravel().astype(np.float64)
            self.intercept_ = float(lr.intercept_[0])
            return self
        self.coef_, self.intercept_ = _nonnegative_logistic(za, ya, self.C)
        return self

    def decision_function(self, Z: NDArray[Any]) -> FloatArray:  # noqa: N803
        out: FloatArray = np.asarray(Z, dtype=np.float64) @ self.coef_ + self.intercept_
        return out

    def predict_proba(self, Z: NDArray[Any]) -> FloatArray:  # noqa: N803
        return sigmoid(self.decision_function(Z))

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
            "C": self.C,
            "positive": self.positive,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StackedFusion:
        try:
            fusion = cls(list(d["inputs"]), float(d.get("C", 1.0)), bool(d.get("positive", False)))
            fusion.coef_ = np.asarray(d["coef"], dtype=np.float64)
            fusion.intercept_ = float(d["intercept"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"fusion head is malformed: {exc}") from exc
        return fusion


def _nonnegative_logistic(
    Z: NDArray[np.float64],  # noqa: N803
    y: NDArray[Any],
    C: float,  # noqa: N803
    *,
    max_iter: int = 1000,
) -> tuple[FloatArray, float]:
    """L2-regularised logistic regression (sklearn's objective: C x log-loss + |w|^2 / 2) with
    ``w >= 0`` and a free intercept, by L-BFGS-B.

    The result is accepted when it satisfies the optimality (KKT) conditions, whatever the
    optimizer's own status: L-BFGS-B often ends on a failed line search at the optimum, and
    can also stop early (``max_iter``) far from it, which must not ship as a model.
    """
    from scipy.optimize import minimize

    sign = np.where(np.asarray(y) == 1, 1.0, -1.0)
    k = Z.shape[1]

    def loss(theta: FloatArray) -> tuple[float, FloatArray]:
        w, b = theta[:k], theta[k]
        m = sign * (Z @ w + b)
        value = C * float(np.logaddexp(0.0, -m).sum()) + 0.5 * float(w @ w)
        g = -C * sign * sigmoid(-m)
        grad = np.concatenate([Z.T @ g + w, [g.sum()]])
        return value, grad

    start = np.concatenate([np.full(k, 1.0 / k), [0.0]])
    bounds = [(0.0, None)] * k + [(None, None)]
    res = minimize(
        loss, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": max_iter}
    )
    value, grad = float(res.fun), np.asarray(res.jac, dtype=np.float64)
    # Projected gradient: at the bound w_i = 0 a positive gradient (the loss wants w_i < 0) is
    # optimal, so only the part pointing into the feasible set counts.
    at_bound = np.concatenate([res.x[:k] <= 0.0, [False]])
    projected = np.where(at_bound, np.minimum(grad, 0.0), grad)
    tolerance = 1e-4 * max(1.0, C * len(sign))
    if not np.isfinite(value) or float(np.abs(projected).max()) > tolerance:
        raise ModelError(
            f"fusion fit did not converge ({res.message}; largest projected gradient "
            f"{float(np.abs(projected).max()):.3g} > {tolerance:.3g}): check the head scores "
            "for NaN or huge values, or lower C"
        )
    return np.asarray(res.x[:k], dtype=np.float64), float(res.x[k])


def read_json(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read model file: {exc}") from exc
    return data
