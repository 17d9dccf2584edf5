"""Detection routes: many files in one multipart request, one ``scan`` result per file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response

from synthcheck.errors import InputError
from synthcheck.intake.decode import load_image
from synthcheck.results import ErrorInfo, ScanResult
from synthcheck.service.state import ServiceState, render_heatmap_png
from synthcheck.service.uploads import received_uploads

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["detect"])


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.synthcheck
    return state


def _scan_one(state: ServiceState, path: Path, name: str, heatmap: bool) -> dict[str, Any]:
    start = time.perf_counter()
    detector = state.detector
    try:
        image = load_image(path, max_pixels=detector.max_pixels)
    except InputError as exc:
        result = ScanResult(
            path=name,
            verdict="error",
            error=ErrorInfo(exc.code, f"{name}: {exc.reason}"),
            detector=detector.name,
            seconds=time.perf_counter() - start,
        )
        return result.to_dict()
    image.path = name
    result = detector.scan_image(image, start=start, heatmap=heatmap)
    out = result.to_dict()
    out["heatmap_url"] = None
    if heatmap and result.heatmap_grid is not None and result.sha256:
        state.heatmaps.put(result.sha256, render_heatmap_png(image.pixels, result.heatmap_grid))
        out["heatmap_url"] = f"/api/v1/heatmaps/{result.sha256}.png"
    return out


@router.post("/detect", summary="Scan one or many images")
async def detect(
    request: Request,
    files: list[UploadFile] = File(..., description="image files (any supported format)"),
    heatmap: bool = Query(False, description="render a heatmap PNG per image when available"),
) -> dict[str, Any]:
    """Returns ``{"results": [...]}`` with one object per uploaded file, in upload order, each
    following the JSONL contract of ``synthcheck scan`` (``path`` is the uploaded file name)."""
    state = _state(request)
    settings = state.settings
    limiter: anyio.CapacityLimiter = request.app.state.limiter
    async with received_uploads(
        files, max_files=settings.max_files, max_bytes=settings.max_upload_bytes
    ) as (_area, saved):
        results = []
        for item in saved:
            results.append(
                await anyio.to_thread.run_sync(
                    _scan_one, state, item.path, item.name, heatmap, limiter=limiter
                )
            )
    counts: dict[str, int] = {}
    for r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    return {"results": results, "counts": counts, "detector": state.detector.name}


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
