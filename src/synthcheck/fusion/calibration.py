"""Calibrations as stored files: what the engine reads to replace its default thresholds.

A calibration (a named set of thresholds; in messages, file formats and the public API, where
it was always called so, a "calibration profile") is fitted by
:mod:`synthcheck.evaluation.calibration` (the order-statistic rule) and stored by name under
``<home>/calibration/NAME.json``; :func:`load_calibration` is all a scan needs, so it lives below
the engine and loads neither numpy nor the evaluation package. In code, "profile" means a pixel
model's profile only; the old names (``CalibrationProfile``, ``load_profile``, ``save_profile``,
``list_profiles``, ``profile_path``, ``validate_profile_name``) remain as aliases.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synthcheck._version import __version__
from synthcheck.errors import ConfigError
from synthcheck.fusion.rules import Thresholds
from synthcheck.home import synthcheck_home

__all__ = [
    "DEFAULT_REAL_SHARE",
    "Calibration",
    "CalibrationProfile",
    "ThresholdFit",
    "calibration_path",
    "list_calibrations",
    "list_profiles",
    "load_calibration",
    "load_profile",
    "profile_path",
    "save_calibration",
    "save_profile",
    "validate_calibration_name",
    "validate_profile_name",
]

#: The default share of the user's real photos that a profile calls "real".
DEFAULT_REAL_SHARE = 0.9

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
class Calibration:
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
        validate_calibration_name(self.name)

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
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
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
    ) -> Calibration:
        """Wrap a :class:`ThresholdFit` as a storable profile stamped with the current time."""
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


def validate_calibration_name(name: str) -> None:
    """Raise :class:`ConfigError` unless ``name`` is a safe profile (and file) name."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"invalid calibration profile name {name!r}: use 1-64 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )


def _folder(home: str | Path | None) -> Path:
    return synthcheck_home(home) / "calibration"


def calibration_path(name: str, home: str | Path | None = None) -> Path:
    """Where the profile ``name`` is (or would be) stored."""
    validate_calibration_name(name)
    return _folder(home) / f"{name}.json"


def save_calibration(profile: Calibration, home: str | Path | None = None) -> Path:
    """Store ``profile`` under ``<home>/calibration/<name>.json`` (atomically; replaces any
    profile of the same name) and return the path."""
    path = calibration_path(profile.name, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(profile.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def list_calibrations(home: str | Path | None = None) -> list[str]:
    """Names of the stored calibration profiles, sorted."""
    folder = _folder(home)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if _NAME.match(p.stem))


def load_calibration(name: str, home: str | Path | None = None) -> Calibration:
    """Load a stored profile; :class:`ConfigError` naming the known profiles when it is missing."""
    path = calibration_path(name, home)
    if not path.is_file():
        known = list_calibrations(home)
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
        profile = Calibration.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"calibration profile {name!r} at {path}: {exc}") from None
    if profile.name != name:
        raise ConfigError(f"calibration profile file {path} names {profile.name!r}, not {name!r}")
    return profile


# The old names, from when a calibration was called a profile (public API: CalibrationProfile,
# load_profile).
CalibrationProfile = Calibration
validate_profile_name = validate_calibration_name
profile_path = calibration_path
save_profile = save_calibration
list_profiles = list_calibrations
load_profile = load_calibration
