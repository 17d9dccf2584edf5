"""The options of a scan, in one frozen object validated once (like httpx's ``_config``).

Every front end builds a :class:`ScanOptions` and hands it on: the Python API
(:func:`synthcheck.engine.batch.scan` takes ``options=`` or the same names as keywords), the
CLI (``scan``; ``serve`` through :meth:`ServiceSettings.scan_options
<synthcheck.service.settings.ServiceSettings.scan_options>`) and the executors, which pickle it
to their worker processes and build each worker's detector from it. ``__post_init__`` checks
every field, so a bad value is a :class:`~synthcheck.errors.ConfigError` with the same message
wherever it came from, before anything is loaded or scanned.

Each limit is named once, here or in the module that enforces it (re-exported here), and the
CLI's option bounds read these names.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field

from synthcheck.engine.build import build_detector
from synthcheck.engine.detector import Detector
from synthcheck.engine.models import ModelLoader, parse_model_name
from synthcheck.errors import ConfigError
from synthcheck.intake.budget import DEFAULT_MAX_IMAGE_BYTES
from synthcheck.intake.decode import DEFAULT_MAX_PIXELS
from synthcheck.pixel.profiles import HEATMAP_MAX_TILES, HEATMAP_TILES_LIMIT, check_heatmap_tiles

__all__ = [
    "DEFAULT_HEATMAP_TILES",
    "DEFAULT_MAX_IMAGE_MB",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MODEL",
    "DEFAULT_TIMEOUT_S",
    "MAX_HEATMAP_TILES",
    "MIN_BATCH_SIZE",
    "MIN_HEATMAP_TILES",
    "MIN_IMAGE_MB",
    "MIN_MAX_PIXELS",
    "MIN_MEMORY_MB",
    "MIN_WORKERS",
    "ScanOptions",
]

#: The pixel model a scan runs unless told otherwise (see :mod:`synthcheck.engine.models`).
DEFAULT_MODEL = "auto"
#: Seconds a file may take by default: no input under the pixel budget needs more, and a
#: parser or decoder that hangs on a hostile file must not hold a batch forever.
DEFAULT_TIMEOUT_S = 60.0
#: Memory budget (MiB) for one image's decode and analysis, checked on its header (intake's
#: default, :data:`synthcheck.intake.budget.DEFAULT_MAX_IMAGE_BYTES`).
DEFAULT_MAX_IMAGE_MB = DEFAULT_MAX_IMAGE_BYTES // 2**20
#: The smallest image memory budget accepted (MiB).
MIN_IMAGE_MB = 1
#: The smallest pixel budget accepted (:data:`DEFAULT_MAX_PIXELS` is intake's default).
MIN_MAX_PIXELS = 1
#: The smallest memory cap accepted: a worker with its models loaded needs about this much.
MIN_MEMORY_MB = 256
#: Heatmap tile budget: the pixel model's default and the bounds accepted (named in
#: :mod:`synthcheck.pixel.profiles`, which enforces them for every pixel model it builds).
DEFAULT_HEATMAP_TILES = HEATMAP_MAX_TILES
MIN_HEATMAP_TILES = 1
MAX_HEATMAP_TILES = HEATMAP_TILES_LIMIT
#: The fewest worker processes (1: scan in the calling process).
MIN_WORKERS = 1
#: The fewest paths per task.
MIN_BATCH_SIZE = 1


def _check_int(name: str, value: object, minimum: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}{why}, got {value}")


def _check_optional_str(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{name} must be a string or None, got {value!r}")


@dataclass(frozen=True)
class ScanOptions:
    """Every option of a scan: which detector to build, the per-file limits, where it runs.

    Picklable and hashable (a worker process caches its detector by these options). ``profile``
    is accepted as the old name of ``model``.
    """

    #: Pixel model name: ``auto``, ``fast``, ``thorough``, ``provenance`` (no pixel model),
    #: ``local-dir:PATH`` or ``project:NAME`` (see :mod:`synthcheck.engine.models`).
    model: str = DEFAULT_MODEL
    #: A stored calibration (thresholds fitted by ``synthcheck calibrate``), by name.
    calibration: str | None = None
    #: Refuse images with more pixels (decompression-bomb guard).
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: Memory budget for one image's decode and analysis, checked on the header (MiB).
    max_image_mb: int = DEFAULT_MAX_IMAGE_MB
    #: Seconds per file (None: no limit).
    timeout: float | None = DEFAULT_TIMEOUT_S
    #: Folder for heatmap overlay PNGs (None: no heatmaps).
    heatmaps_dir: str | None = None
    #: Whether heatmap PNGs carry the colour legend strip (the web UI draws its own legend
    #: beside an overlay that must have the image's proportions).
    heatmap_legend: bool = True
    #: Native tiles each heatmap scores (None: the pixel model's default,
    #: :data:`DEFAULT_HEATMAP_TILES`); verdicts never depend on it.
    heatmap_tiles: int | None = None
    #: Resident-memory cap per worker process in MiB (None: no cap). A worker that goes over it
    #: is ended and the file it was scanning is reported; the scan goes on in a fresh worker.
    max_memory_mb: int | None = None
    #: Local worker processes (1: scan in the calling process unless a memory cap needs one).
    workers: int = MIN_WORKERS
    #: Dask scheduler address (``tcp://HOST:PORT``); ``workers`` is then not used.
    cluster: str | None = None
    #: Paths per task (None: chosen from ``workers`` and ``cluster``).
    batch_size: int | None = None
    #: Loaders for model-name prefixes that a higher layer provides (``project:``), as
    #: ``(prefix, loader)`` pairs; see :func:`synthcheck.engine.models.create_model`.
    loaders: tuple[tuple[str, ModelLoader], ...] = field(default=(), repr=False)
    #: The old name of ``model`` (``ScanConfig(profile="fast")``); not stored.
    profile: InitVar[str | None] = None

    def __post_init__(self, profile: str | None) -> None:
        if profile is not None:
            if self.model != DEFAULT_MODEL and self.model != profile:
                raise ConfigError("give model or its old name profile, not both")
            object.__setattr__(self, "model", profile)
        if not isinstance(self.model, str):
            raise ConfigError(f"model must be a model name, got {self.model!r}")
        parse_model_name(self.model, extra_prefixes=[p for p, _ in self.loaders])
        _check_optional_str("calibration", self.calibration)
        _check_int("max_pixels", self.max_pixels, MIN_MAX_PIXELS)
        _check_int("max_image_mb", self.max_image_mb, MIN_IMAGE_MB)
        self._check_timeout()
        _check_optional_str("heatmaps_dir", self.heatmaps_dir)
        if self.heatmap_tiles is not None:
            check_heatmap_tiles(self.heatmap_tiles)
        if self.max_memory_mb is not None:
            _check_int(
                "max_memory_mb",
                self.max_memory_mb,
                MIN_MEMORY_MB,
                " (the models alone need that)",
            )
        _check_int("workers", self.workers, MIN_WORKERS)
        _check_optional_str("cluster", self.cluster)
        if self.batch_size is not None:
            _check_int("batch size", self.batch_size, MIN_BATCH_SIZE)

    def _check_timeout(self) -> None:
        value = self.timeout
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {value}")

    @property
    def max_image_bytes(self) -> int:
        """:attr:`max_image_mb` in bytes, as intake reads it."""
        return self.max_image_mb * 2**20

    def build(self) -> Detector:
        """The detector these options describe (loads its models)."""
        return build_detector(
            self.model,
            calibration=self.calibration,
            max_pixels=self.max_pixels,
            max_image_bytes=self.max_image_bytes,
            heatmap_tiles=self.heatmap_tiles,
            loaders=dict(self.loaders),
        )
