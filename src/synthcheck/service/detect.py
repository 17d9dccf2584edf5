"""Detection routes: many files in one multipart request, one ``scan`` result per file."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response

from synthcheck.results import ErrorInfo, ScanResult
from synthcheck.service.escape import escape_controls
from synthcheck.service.state import ServiceState
from synthcheck.service.uploads import SavedUpload, received_uploads

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["detect"])


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.synthcheck
    return state


def _for_client(
    state: ServiceState, result: ScanResult, png: bytes | None, upload: SavedUpload
) -> dict[str, Any]:
    """The result under the client's file name, without paths of this machine."""
    result.path = upload.name
    if result.error is not None:
        message = result.error.message.replace(str(upload.path), upload.name)
        if not message.startswith(upload.name):
            message = f"{upload.name}: {message}"
        # Decoder messages can quote bytes of the file (damaged chunk names): escaped.
        result.error = ErrorInfo(result.error.type, escape_controls(message))
    out = result.to_dict()
    out["heatmap_url"] = None
    if png is not None and result.sha256:
        state.heatmaps.put(result.sha256, png)
        out["heatmap_url"] = f"/api/v1/heatmaps/{result.sha256}.png"
    return out


@router.post("/detect", summary="Scan one or many images")
async def detect(
    request: Request,
    files: list[UploadFile] = File(..., description="image files (any supported format)"),
    heatmap: bool = Query(False, description="render a heatmap PNG per image when available"),
) -> dict[str, Any]:
    """Returns ``{"results": [...]}`` with one object per uploaded file, in upload order, each
    following the JSONL contract of ``synthcheck scan`` (``path`` is the uploaded file name).
    Files are analysed in parallel by the worker processes, each under the per-file time limit;
    a file that runs past it is an ``error`` result of type ``timeout`` or ``worker_crashed``."""
    state = _state(request)
    settings = state.settings
    async with received_uploads(
        files, max_files=settings.max_files, max_bytes=settings.max_upload_bytes
    ) as (_area, saved):
        results: list[dict[str, Any]] = [{} for _ in saved]

        async def one(i: int, upload: SavedUpload) -> None:
            result, png = await state.analysis.scan(upload.path, heatmap=heatmap)
            results[i] = _for_client(state, result, png, upload)

        async with anyio.create_task_group() as group:
            for i, upload in enumerate(saved):
                group.start_soon(one, i, upload)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    return {"results": results, "counts": counts, "detector": state.analysis.detector_name}


@router.get(
    "/heatmaps/{sha256}.png",
    summary="A heatmap rendered by an earlier detect call",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def heatmap_png(request: Request, sha256: str) -> Response:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise HTTPException(404, "unknown heatmap")
    png = _state(request).heatmaps.get(sha256)
    if png is None:
        raise HTTPException(404, "unknown heatmap (expired or never rendered)")
    return Response(png, media_type="image/png")
