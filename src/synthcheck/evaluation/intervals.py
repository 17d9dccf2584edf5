"""Confidence intervals for rates measured on a finite sample."""

from __future__ import annotations

import math

from scipy.stats import beta

from synthcheck.errors import ConfigError

__all__ = ["clopper_pearson", "images_needed_for_fpr"]


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) two-sided interval for a binomial proportion.

    Conservative by construction: its coverage is at least ``confidence`` for every true rate,
    which is what a user relying on "at most 1% false positives" needs.
    """
    if trials <= 0:
        raise ConfigError(f"trials must be positive, got {trials}")
    if not 0 <= successes <= trials:
        raise ConfigError(f"successes must be in [0, {trials}], got {successes}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence}")
    alpha = 1.0 - confidence
    k, n = successes, trials
    lower = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lower, upper


def images_needed_for_fpr(target_fpr: float) -> int:
    """Real images needed before a false-positive rate of ``target_fpr`` can be supported.

    The rule of three: with zero false positives among ``n`` images the 95% upper bound on the rate
    is about ``3 / n``, so ``n >= 3 / target_fpr`` is the least sample that can show the target.
    """
    if not 0.0 < target_fpr < 1.0:
        raise ConfigError(f"target_fpr must be in (0, 1), got {target_fpr}")
    return math.ceil(3.0 / target_fpr - 1e-9)
