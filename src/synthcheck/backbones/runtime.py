"""ONNX Runtime sessions and file helpers shared by the backbones."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthcheck.errors import BackboneError, ConfigError

__all__ = [
    "THREADS_ENV",
    "atomic_write_bytes",
    "create_session",
    "default_threads",
    "import_onnxruntime",
    "sha256_file",
]

#: Environment variable fixing ONNX Runtime's intra-op thread count.
THREADS_ENV = "SYNTHCHECK_THREADS"


def default_threads() -> int:
    """Intra-op threads: ``$SYNTHCHECK_THREADS``, else the CPUs this process may run on."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ConfigError(f"{THREADS_ENV} must be a positive integer, got {raw!r}")
        return value
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def import_onnxruntime() -> Any:
    """``onnxruntime``, with its telemetry switched off before any session exists.

    ONNX Runtime's built-in telemetry client resolved a vendor host from native code during
    multi-file scans, which the privacy promise (no lookup, no connection, ever) forbids and
    Python's audit hooks cannot see. Every session in synthcheck is created through here.

    ``disable_telemetry_events`` only acts once the runtime's environment exists, and creating
    that environment already logs a process event (the network test caught a lookup of
    mobile.events.data.microsoft.com with it alone), so ``ORT_DISABLE_TELEMETRY=1``, ONNX
    Runtime's documented opt-out on Linux and macOS, is set before the first import; child
    processes inherit it.
    """
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime as ort

    disable = getattr(ort, "disable_telemetry_events", None)
    if disable is not None:
        disable()
    return ort


def create_session(
    model_path: Path, threads: int | None = None, config: Mapping[str, str] | None = None
) -> Any:
    """An ONNX Runtime CPU session on ``model_path`` with ``threads`` intra-op threads and extra
    session ``config`` entries.

    Inter-op parallelism is off (one branch at a time): the graphs are sequential and extra
    pools only oversubscribe small machines. Spinning is off so idle workers do not burn CPU
    between batches that other stages (decoding, tiling) need.
    """
    ort = import_onnxruntime()
    if threads is None:
        threads = default_threads()
    if threads < 1:
        raise ConfigError(f"threads must be a positive integer, got {threads!r}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    for key, value in (config or {}).items():
        opts.add_session_config_entry(key, value)
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(
            os.fspath(model_path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ORT raises its own untyped errors for bad files
        raise BackboneError(f"{model_path}: ONNX Runtime cannot load the model: {exc}") from exc


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so a
    concurrent reader sees either the old file, no file, or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
