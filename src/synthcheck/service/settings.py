"""Settings of the local HTTP service, validated once at start-up."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from synthcheck.engine.options import (
    DEFAULT_MAX_IMAGE_MB,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT_S,
    ScanOptions,
)
from synthcheck.errors import ConfigError

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_MAX_FILES",
    "DEFAULT_MAX_MEMORY_MB",
    "DEFAULT_MAX_UPLOAD_MB",
    "DEFAULT_PORT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WORKERS",
    "MIN_TOKEN_LENGTH",
    "ServiceSettings",
]

#: Seconds one upload may take to analyse before it is reported as timed out (its worker is
#: ended HARD_LIMIT_GRACE seconds later if the analysis cannot be interrupted): the scan default.
DEFAULT_TIMEOUT = DEFAULT_TIMEOUT_S
#: Resident memory cap of each analysis worker, in MiB. The models of the largest profile take
#: about 460 MiB; the cap leaves room for a near-limit image while keeping a worker under 1.5 GB
#: even with what a decoder can add between two checks of the watchdog (every 50 ms).
DEFAULT_MAX_MEMORY_MB = 1280
#: Where the service listens by default (loopback: nothing beyond this machine can reach it).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Largest request body accepted, in MiB, and most files in one request.
DEFAULT_MAX_UPLOAD_MB = 50
DEFAULT_MAX_FILES = 32
#: Analysis workers (lanes), each analysing one upload at a time.
DEFAULT_WORKERS = 2
#: The shortest bearer token accepted.
MIN_TOKEN_LENGTH = 16

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServiceSettings:
    """How ``synthcheck serve`` runs.

    Binding a non-loopback address requires a bearer ``token`` unless ``insecure`` is set
    explicitly: a detector open to the network would accept anyone's uploads.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    insecure: bool = False
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    max_files: int = DEFAULT_MAX_FILES
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: The pixel model (any name :mod:`synthcheck.engine.models` accepts).
    profile: str = DEFAULT_MODEL
    calibration: str | None = None
    workers: int = DEFAULT_WORKERS
    cors_origins: tuple[str, ...] = ()
    #: Tiles each heatmap scores (None: the pixel model's default, HEATMAP_MAX_TILES).
    heatmap_tiles: int | None = None
    #: Home folder for projects and calibration profiles (None: the default, see synthcheck.home).
    home: str | None = None
    #: Seconds allowed per uploaded file (analysis runs in worker processes that can be ended).
    timeout: float = DEFAULT_TIMEOUT
    #: Resident-memory cap per analysis worker in MiB.
    max_memory_mb: int = DEFAULT_MAX_MEMORY_MB
    #: Memory one image may need to decode and analyse, estimated from its header, in MiB
    #: (None, as before: the scan default).
    max_image_mb: int | None = DEFAULT_MAX_IMAGE_MB
    #: Host names accepted in the Host header besides the bound address and loopback names.
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be between 1 and 65535, got {self.port}")
        if self.max_upload_bytes <= 0:
            raise ConfigError(f"max_upload_bytes must be positive, got {self.max_upload_bytes}")
        if self.max_files <= 0:
            raise ConfigError(f"max_files must be positive, got {self.max_files}")
        for name in self.allowed_hosts:
            if not name or any(c in name for c in "/@ \t\r\n") or not name.isascii():
                raise ConfigError(f"allowed host {name!r} is not a host name or address")
        # The scan options check the model name, the time limit, the memory cap, the pixel and
        # image budgets, the heatmap budget and the worker count with the same messages as
        # `scan`.
        self.scan_options()
        if self.token is not None and len(self.token) < MIN_TOKEN_LENGTH:
            raise ConfigError(f"token must be at least {MIN_TOKEN_LENGTH} characters long")
        if not is_loopback(self.host) and self.token is None and not self.insecure:
            raise ConfigError(
                f"binding {self.host} exposes the service beyond this machine; pass --token "
                "(bearer authentication on every route) or, knowingly, --insecure"
            )

    def scan_options(self) -> ScanOptions:
        """The options of the analysis workers: their detector and per-file limits (``workers``
        is the number of lanes, each a one-worker executor)."""
        from synthcheck.evaluation.models import model_loaders

        return ScanOptions(
            model=self.profile,
            calibration=self.calibration,
            max_pixels=self.max_pixels,
            max_image_mb=DEFAULT_MAX_IMAGE_MB if self.max_image_mb is None else self.max_image_mb,
            timeout=self.timeout,
            heatmap_tiles=self.heatmap_tiles,
            max_memory_mb=self.max_memory_mb,
            workers=self.workers,
            loaders=model_loaders(),
        )

    #: The old name of :meth:`scan_options`.
    scan_config = scan_options
