"""``synthcheck serve``: the local HTTP API and web UI."""

from __future__ import annotations

import typer

from synthcheck.cli.app import app
from synthcheck.engine.models import MODEL_CHOICES
from synthcheck.engine.options import (
    DEFAULT_HEATMAP_TILES,
    DEFAULT_MODEL,
    MAX_HEATMAP_TILES,
    MIN_HEATMAP_TILES,
    MIN_MEMORY_MB,
    MIN_WORKERS,
)
from synthcheck.errors import ConfigError
from synthcheck.service.settings import (
    DEFAULT_HOST,
    DEFAULT_MAX_FILES,
    DEFAULT_MAX_MEMORY_MB,
    DEFAULT_MAX_UPLOAD_MB,
    DEFAULT_PORT,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKERS,
)

__all__ = ["serve"]


@app.command()
def serve(
    host: str = typer.Option(
        DEFAULT_HOST, help="Address to bind; anything but loopback needs --token."
    ),
    port: int = typer.Option(DEFAULT_PORT, help="TCP port."),
    token: str | None = typer.Option(
        None, envvar="SYNTHCHECK_TOKEN", help="Bearer token required on every API route."
    ),
    insecure: bool = typer.Option(
        False, "--insecure", help="Allow a non-loopback bind without a token (anyone can upload)."
    ),
    model: str = typer.Option(
        DEFAULT_MODEL,
        "--model",
        "--profile",
        help=f"Pixel model: {MODEL_CHOICES} (as in scan; --profile is its old name).",
    ),
    calibration: str | None = typer.Option(None, help="Calibration name (see calibrate)."),
    max_upload_mb: int = typer.Option(
        DEFAULT_MAX_UPLOAD_MB, help="Largest request body accepted, in MiB."
    ),
    max_files: int = typer.Option(DEFAULT_MAX_FILES, help="Most files accepted in one request."),
    workers: int = typer.Option(
        DEFAULT_WORKERS,
        min=MIN_WORKERS,
        help="Worker processes analysing uploads (one image at a time each).",
    ),
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT,
        "--timeout",
        help="Seconds allowed per uploaded file (more than 0); a slower file is an error result "
        "and its worker is ended and replaced.",
    ),
    max_memory: int = typer.Option(
        DEFAULT_MAX_MEMORY_MB,
        "--max-memory",
        min=MIN_MEMORY_MB,
        help="MiB of resident memory allowed per worker; a file that needs more is an error "
        "result and its worker is replaced.",
    ),
    allowed_host: list[str] = typer.Option(
        [],
        "--allowed-host",
        help="Accept this name in the Host header too (repeatable). The bound address, "
        "localhost, 127.0.0.1 and [::1] are always accepted; any other name is refused "
        "(DNS rebinding guard), also when binding 0.0.0.0.",
        show_default=False,
    ),
    heatmap_tiles: int | None = typer.Option(
        None,
        "--heatmap-tiles",
        min=MIN_HEATMAP_TILES,
        max=MAX_HEATMAP_TILES,
        help=f"Tiles each heatmap (detect?heatmap=true) scores; default {DEFAULT_HEATMAP_TILES}.",
        show_default=False,
    ),
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs) and the web UI at http://HOST:PORT/."""
    try:
        import uvicorn

        from synthcheck.service.app import create_app
        from synthcheck.service.settings import ServiceSettings
    except ModuleNotFoundError as exc:
        # A broken or partial environment: one line naming the fix, not a 35-line traceback.
        missing = exc.name or "a server dependency"
        typer.echo(
            f"error: the web UI needs {missing!r}, which is not installed: "
            "pip install 'synthcheck[serve]' (or, in a checkout, pip install -e '.[serve]')",
            err=True,
        )
        raise typer.Exit(2) from None

    try:
        settings = ServiceSettings(
            host=host,
            port=port,
            token=token,
            insecure=insecure,
            profile=model,
            calibration=calibration,
            max_upload_bytes=max_upload_mb * 1024 * 1024,
            max_files=max_files,
            workers=workers,
            heatmap_tiles=heatmap_tiles,
            timeout=timeout,
            max_memory_mb=max_memory,
            allowed_hosts=tuple(allowed_host),
        )
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
