"""Calibrate the decision thresholds on the user's own real photos, and store them by name.

The rule (:func:`fit_thresholds`), for ``n`` real scores and a target false-positive rate ``f``:

``ai_threshold``
    Allow ``k = floor(f * (n + 1)) - 1`` of the real photos at or above the threshold and put the
    threshold just above the ``(n - k)``-th smallest real score. For a new real photo drawn like
    the calibration set the chance of scoring at or above it is at most ``(k + 1) / (n + 1) <= f``
    (the split-conformal bound), and the empirical rate on the calibration set is ``<= k / n``.
    When ``f * (n + 1) < 1`` no threshold can support the target; the profile is still made with
    ``k = 0`` (above every real score) and a warning says how many more images are needed.
``real_threshold``
    Chosen so that a stated share of the real photos (``real_share``, default 0.9) read "real":
    the ``ceil(real_share * n)``-th smallest real score. It never goes above 0.5 (a photo the
    model leans AI on is not called real) nor above ``ai_threshold``. With known-AI images it is
    lowered when needed so that at most the target rate of AI images is reported "real" (the
    same order-statistic rule as above). What this does to the calibration photos (how many read
    real, unsure, AI) is measured and reported with the profile, so nobody learns it by
    scanning: an unsure share above ``1 - real_share`` (a cap bound) comes with a warning.

Scores are the pixel model's ``p_ai``. Fusion only ever lowers ``p_ai`` for real photos that carry
no AI provenance, so thresholds set on pixel scores are conservative for the fused verdict.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from synthcheck.errors import ConfigError, DataError
from synthcheck.evaluation.intervals import clopper_pearson, images_needed_for_fpr
from synthcheck.fusion.rules import Thresholds
from synthcheck.home import synthcheck_home

__all__ = [
    "DEFAULT_REAL_SHARE",
    "MAX_REAL_THRESHOLD",
    "CalibrationProfile",
    "ThresholdFit",
    "fit_thresholds",
    "list_profiles",
    "load_profile",
    "profile_path",
    "save_profile",
    "validate_profile_name",
    "validate_real_share",
    "validate_target_fpr",
]

#: The default share of the user's real photos that a profile calls "real".
DEFAULT_REAL_SHARE = 0.9
#: The real threshold never exceeds this: a photo the model leans AI on is not called real.
MAX_REAL_THRESHOLD = 0.5

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ThresholdFit:
    """Thresholds chosen from scores, with the error rates they imply on the calibration data."""

    thresholds: Thresholds
    target_fpr: float
    n_real: int
    false_positives: int
    empirical_fpr: float
    fpr_bound: float
    fpr_ci: tuple[float, float]
    n_ai: int = 0
    true_positives: int = 0
    tpr: float | None = None
    tpr_ci: tuple[float, float] | None = None
    ai_called_real: int = 0
    real_share: float = DEFAULT_REAL_SHARE
    #: Calibration photos that read "real" / "unsure" under these thresholds (the rest: "ai").
    real_as_real: int = 0
    real_as_unsure: int = 0
    warnings: tuple[str, ...] = ()


@dataclass
class CalibrationProfile:
    """A named set of thresholds fitted on a user's real photos for one pixel-model profile.

    ``fpr_ci`` is the 95% Clopper–Pearson interval of the false-positive rate measured on the
    ``n_real`` calibration photos; ``fpr_bound`` the expected rate on new photos like them.
    ``tpr`` / ``tpr_ci`` are present when known-AI images were given. JSON-serialisable through
    :meth:`to_dict` / :meth:`from_dict`.
    """

    name: str
    model_profile: str
    thresholds: Thresholds
    target_fpr: float
    n_real: int
    fpr_ci: tuple[float, float]
    created: str
    model_name: str = ""
    empirical_fpr: float = 0.0
    fpr_bound: float = 0.0
    n_ai: int = 0
    tpr: float | None = None
    tpr_ci: tuple[float, float] | None = None
    real_dir: str | None = None
    ai_dir: str | None = None
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    synthcheck_version: str = ""
    #: The stated rule's target and what it did to the calibration photos (0 in old profiles).
    real_share: float = DEFAULT_REAL_SHARE
    real_as_real: int = 0
    real_as_unsure: int = 0

    def outcome_shares(self) -> tuple[float, float, float] | None:
        """Shares of the calibration photos read real, unsure and ai (None for old profiles)."""
        if self.n_real == 0 or self.real_as_real + self.real_as_unsure == 0:
            return None
        n = self.n_real
        ai = n - self.real_as_real - self.real_as_unsure
        return self.real_as_real / n, self.real_as_unsure / n, ai / n

    def __post_init__(self) -> None:
        validate_profile_name(self.name)

    def mismatch(self, model_name: str) -> str | None:
        """A warning when the profile was fitted for another pixel model than ``model_name``
        (thresholds do not transfer between models), else None."""
        if not self.model_name or self.model_name == model_name:
            return None
        return (
            f"calibration profile {self.name!r} was fitted for model {self.model_name!r}, "
            f"not {model_name!r}; its false-positive rate does not carry over"
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["thresholds"] = {
            "real_threshold": self.thresholds.real_threshold,
            "ai_threshold": self.thresholds.ai_threshold,
        }
        data["fpr_ci"] = list(self.fpr_ci)
        data["tpr_ci"] = list(self.tpr_ci) if self.tpr_ci is not None else None
        data["format_version"] = _FORMAT_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalibrationProfile:
        try:
            values = dict(data)
            values.pop("format_version", None)
            values["thresholds"] = Thresholds(**values["thresholds"])
            values["fpr_ci"] = tuple(values["fpr_ci"])
            if values.get("tpr_ci") is not None:
                values["tpr_ci"] = tuple(values["tpr_ci"])
            return cls(**values)
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"profile data is incomplete or malformed: {exc}") from None

    @classmethod
    def from_fit(
        cls,
        fit: ThresholdFit,
        *,
        name: str,
        model_profile: str,
        model_name: str = "",
        real_dir: str | None = None,
        ai_dir: str | None = None,
        skipped: int = 0,
    ) -> CalibrationProfile:
        """Wrap a :class:`ThresholdFit` as a storable profile stamped with the current time."""
        from synthcheck import __version__

        return cls(
            name=name,
            model_profile=model_profile,
            thresholds=fit.thresholds,
            target_fpr=fit.target_fpr,
            n_real=fit.n_real,
            fpr_ci=fit.fpr_ci,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            model_name=model_name,
            empirical_fpr=fit.empirical_fpr,
            fpr_bound=fit.fpr_bound,
            n_ai=fit.n_ai,
            tpr=fit.tpr,
            tpr_ci=fit.tpr_ci,
            real_dir=real_dir,
            ai_dir=ai_dir,
            skipped=skipped,
            warnings=list(fit.warnings),
            synthcheck_version=__version__,
            real_share=fit.real_share,
            real_as_real=fit.real_as_real,
            real_as_unsure=fit.real_as_unsure,
        )


def _scores(values: ArrayLike, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0.0 or arr.max() > 1.0):
        raise DataError(f"{what} scores must be finite numbers in [0, 1]")
    return arr


def _allowed_errors(rate: float, n: int) -> int:
    """Largest k with (k + 1) / (n + 1) <= rate, or -1 when even k = 0 exceeds it."""
    return math.floor(rate * (n + 1) + 1e-9) - 1


def fit_thresholds(
    real_scores: ArrayLike,
    target_fpr: float = 0.01,
    ai_scores: ArrayLike | None = None,
    *,
    real_share: float = DEFAULT_REAL_SHARE,
    confidence: float = 0.95,
) -> ThresholdFit:
    """Choose ``ai_threshold`` / ``real_threshold`` from real (and optionally AI) scores.

    See the module docstring for the rule. Raises :class:`DataError` without real scores and
    :class:`ConfigError` for a target outside (0, 0.5].
    """
    validate_target_fpr(target_fpr)
    validate_real_share(real_share)
    real = np.sort(_scores(real_scores, "real"))
    ai = np.sort(_scores(ai_scores, "AI")) if ai_scores is not None else np.empty(0)
    n = int(real.size)
    if n == 0:
        raise DataError("no real images were scored; calibration needs real photos")
    warnings: list[str] = []
    needed = images_needed_for_fpr(target_fpr)
    if n < needed:
        warnings.append(
            f"{n} real images are too few to confirm a false-positive rate of {target_fpr:g} "
            f"with 95% confidence: at least {needed} are needed (rule of three), "
            f"{needed - n} more"
        )
    k = _allowed_errors(target_fpr, n)
    if k < 0:
        k = 0
        warnings.append(
            f"even a threshold above every real score only bounds the expected false-positive "
            f"rate by 1/(n+1) = {1 / (n + 1):.3g}, above the target {target_fpr:g}"
        )
    pivot = float(real[n - k - 1])
    ai_threshold = min(1.0, float(np.nextafter(pivot, np.inf)))
    false_positives = int(np.count_nonzero(real >= ai_threshold))
    if false_positives > k:
        warnings.append(
            f"{false_positives} real images score {pivot:.4g} or more, the top of the scale; "
            "the threshold cannot separate them"
        )
    # The stated rule: at least `real_share` of these photos at or below the real threshold.
    wanted = float(real[max(math.ceil(real_share * n - 1e-9), 1) - 1])
    real_threshold = min(wanted, MAX_REAL_THRESHOLD, ai_threshold)
    ai_called_real = 0
    true_positives = 0
    tpr: float | None = None
    tpr_ci: tuple[float, float] | None = None
    if ai.size:
        m = int(ai.size)
        k_ai = _allowed_errors(target_fpr, m)
        # At most k_ai AI images may score at or below real_threshold.
        cap = float(np.nextafter(ai[max(k_ai, 0)], -np.inf))
        real_threshold = max(0.0, min(real_threshold, cap))
        ai_called_real = int(np.count_nonzero(ai <= real_threshold))
        true_positives = int(np.count_nonzero(ai >= ai_threshold))
        tpr = true_positives / m
        tpr_ci = clopper_pearson(true_positives, m, confidence)
    real_as_real = int(np.count_nonzero(real <= real_threshold))
    real_as_unsure = int(np.count_nonzero((real > real_threshold) & (real < ai_threshold)))
    if real_as_real < math.ceil(real_share * n - 1e-9):
        why = (
            "known-AI images score that low too"
            if real_threshold < min(wanted, MAX_REAL_THRESHOLD, ai_threshold)
            else f"the real threshold stops at {min(MAX_REAL_THRESHOLD, ai_threshold):.3g}"
        )
        warnings.append(
            f"only {real_as_real} of {n} real photos ({real_as_real / n:.0%}) read real, not "
            f"the {real_share:.0%} asked for ({why}); {real_as_unsure} ({real_as_unsure / n:.0%})"
            " will read unsure"
        )
    return ThresholdFit(
        thresholds=Thresholds(real_threshold=real_threshold, ai_threshold=ai_threshold),
        target_fpr=target_fpr,
        n_real=n,
        false_positives=false_positives,
        empirical_fpr=false_positives / n,
        fpr_bound=(false_positives + 1) / (n + 1),
        fpr_ci=clopper_pearson(false_positives, n, confidence),
        n_ai=int(ai.size),
        true_positives=true_positives,
        tpr=tpr,
        tpr_ci=tpr_ci,
        ai_called_real=ai_called_real,
        real_share=real_share,
        real_as_real=real_as_real,
        real_as_unsure=real_as_unsure,
        warnings=tuple(warnings),
    )


def validate_target_fpr(target_fpr: float) -> None:
    """Raise :class:`ConfigError` unless ``0 < target_fpr <= 0.5``."""
    if not 0.0 < target_fpr <= 0.5:
        raise ConfigError(f"target_fpr must be in (0, 0.5], got {target_fpr}")


def validate_real_share(real_share: float) -> None:
    """Raise :class:`ConfigError` unless ``0 < real_share < 1``."""
    if not 0.0 < real_share < 1.0:
        raise ConfigError(f"real_share must be in (0, 1), got {real_share}")


def validate_profile_name(name: str) -> None:
    """Raise :class:`ConfigError` unless ``name`` is a safe profile (and file) name."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"invalid calibration profile name {name!r}: use 1-64 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )


def _folder(home: str | Path | None) -> Path:
    return synthcheck_home(home) / "calibration"


def profile_path(name: str, home: str | Path | None = None) -> Path:
    """Where the profile ``name`` is (or would be) stored."""
    validate_profile_name(name)
    return _folder(home) / f"{name}.json"


def save_profile(profile: CalibrationProfile, home: str | Path | None = None) -> Path:
    """Store ``profile`` under ``<home>/calibration/<name>.json`` (atomically; replaces any
    profile of the same name) and return the path."""
    path = profile_path(profile.name, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(profile.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def list_profiles(home: str | Path | None = None) -> list[str]:
    """Names of the stored calibration profiles, sorted."""
    folder = _folder(home)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if _NAME.match(p.stem))


def load_profile(name: str, home: str | Path | None = None) -> CalibrationProfile:
    """Load a stored profile; :class:`ConfigError` naming the known profiles when it is missing."""
    path = profile_path(name, home)
    if not path.is_file():
        known = list_profiles(home)
        listing = ", ".join(known) if known else "none yet"
        raise ConfigError(
            f"unknown calibration profile {name!r} (known: {listing}); create one with "
            "`synthcheck calibrate REAL_DIR --name NAME`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"calibration profile {name!r} at {path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"calibration profile {name!r} at {path} is not a JSON object")
    try:
        profile = CalibrationProfile.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"calibration profile {name!r} at {path}: {exc}") from None
    if profile.name != name:
        raise ConfigError(f"calibration profile file {path} names {profile.name!r}, not {name!r}")
    return profile
