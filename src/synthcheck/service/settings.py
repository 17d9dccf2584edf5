"""Settings of the local HTTP service, validated once at start-up."""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from synthcheck.engine.executor import DEFAULT_TIMEOUT_S
from synthcheck.errors import ConfigError

if TYPE_CHECKING:
    from synthcheck.engine.executor import ScanConfig

__all__ = ["DEFAULT_MAX_MEMORY_MB", "DEFAULT_TIMEOUT", "ServiceSettings"]

#: Seconds one upload may take to analyse before it is reported as timed out (its worker is
#: ended HARD_LIMIT_GRACE seconds later if the analysis cannot be interrupted): the scan default.
DEFAULT_TIMEOUT = DEFAULT_TIMEOUT_S
#: Resident memory cap of each analysis worker, in MiB. The models of the largest profile take
#: about 460 MiB; the cap leaves room for a near-limit image while keeping a worker under 1.5 GB
#: even with what a decoder can add between two checks of the watchdog (every 50 ms).
DEFAULT_MAX_MEMORY_MB = 1280

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

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    insecure: bool = False
    max_upload_bytes: int = 50 * 1024 * 1024
    max_files: int = 32
    max_pixels: int = 200_000_000
    profile: str = "auto"
    calibration: str | None = None
    workers: int = 2
    cors_origins: tuple[str, ...] = ()
    #: Native tiles each heatmap scores (None: the pixel model's default, 48).
    heatmap_tiles: int | None = None
    #: Home folder for projects and calibration profiles (None: the default, see synthcheck.home).
    home: str | None = None
    #: Seconds allowed per uploaded file (analysis runs in worker processes that can be ended).
    timeout: float = DEFAULT_TIMEOUT
    #: Resident-memory cap per analysis worker in MiB.
    max_memory_mb: int = DEFAULT_MAX_MEMORY_MB
    #: Memory one image may need to decode and analyse, estimated from its header, in MiB
    #: (None: intake's default budget).
    max_image_mb: int | None = None
    #: Host names accepted in the Host header besides the bound address and loopback names.
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be between 1 and 65535, got {self.port}")
        if self.max_upload_bytes <= 0:
            raise ConfigError(f"max_upload_bytes must be positive, got {self.max_upload_bytes}")
        if self.max_files <= 0:
            raise ConfigError(f"max_files must be positive, got {self.max_files}")
        if self.workers <= 0:
            raise ConfigError(f"workers must be positive, got {self.workers}")
        for name in self.allowed_hosts:
            if not name or any(c in name for c in "/@ \t\r\n") or not name.isascii():
                raise ConfigError(f"allowed host {name!r} is not a host name or address")
        # ScanConfig checks the time limit, the memory cap and the pixel budget with the same
        # messages as `scan`.
        self.scan_config()
        if self.heatmap_tiles is not None:
            from synthcheck.pixel.profiles import check_heatmap_tiles

            check_heatmap_tiles(self.heatmap_tiles)
        if self.token is not None and len(self.token) < 16:
            raise ConfigError("token must be at least 16 characters long")
        if not is_loopback(self.host) and self.token is None and not self.insecure:
            raise ConfigError(
                f"binding {self.host} exposes the service beyond this machine; pass --token "
                "(bearer authentication on every route) or, knowingly, --insecure"
            )

    def scan_config(self) -> ScanConfig:
        """The recipe of the analysis workers' detector and per-file limits."""
        from synthcheck.engine.executor import ScanConfig

        config = ScanConfig(
            profile=self.profile,
            calibration=self.calibration,
            max_pixels=self.max_pixels,
            timeout=self.timeout,
            heatmap_tiles=self.heatmap_tiles,
            max_memory_mb=self.max_memory_mb,
        )
        if self.max_image_mb is None:
            return config
        return dataclasses.replace(config, max_image_mb=self.max_image_mb)
