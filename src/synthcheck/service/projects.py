"""Project routes: create, upload labelled or unlabelled images, train in the background,
review out-of-fold predictions, relabel, predict. Uploads are copied into the home folder's blob
store (the request's temporary files are removed afterwards)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from PIL import Image
from pydantic import BaseModel, Field

from synthcheck.errors import DataError, ProjectNotFoundError
from synthcheck.service.escape import escape_controls
from synthcheck.service.state import ServiceState
from synthcheck.service.uploads import received_uploads, stored_file_name

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["projects"])

T = TypeVar("T")


class ProjectCreate(BaseModel):
    name: str = Field(..., min_length=1, max_length=64)
    labels: list[str] = Field(default_factory=lambda: ["real", "ai"], min_length=2)
    ai_labels: list[str] | None = None
    extractors: list[str] | None = Field(
        None,
        description="feature extractors (backbones and/or 'artifacts'); "
        "default: the most accurate installed backbone",
    )


class LabelChange(BaseModel):
    label: str | None


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.synthcheck
    return state


def _home(request: Request) -> str | None:
    return _state(request).settings.home


async def _run(request: Request, fn: Callable[[], T], *, decodes: bool = False) -> T:
    """Run blocking project work in a thread. A :class:`SynthcheckError` it raises reaches the
    app's one handler (``service.app``), which answers with the status its class carries
    (``SynthcheckError.http_status``: 404 for ProjectNotFoundError, else 400), never by reading
    the message.

    Work that decodes images (imports, thumbnails, predictions) shares the ``workers`` slots;
    quick store reads and writes do not wait for those slots, so a slow upload cannot hold up
    listing projects or polling a training job.
    """
    limiter = request.app.state.limiter if decodes else None
    return await anyio.to_thread.run_sync(fn, limiter=limiter)


def _open(name: str, home: str | None) -> Any:
    from synthcheck.training import Project

    return Project.open(name, home=home)


@router.get("/projects", summary="List projects")
async def list_all(request: Request) -> list[dict[str, Any]]:
    from synthcheck.training import list_projects

    home = _home(request)
    return await _run(request, lambda: list_projects(home))


@router.post("/projects", status_code=201, summary="Create a project")
async def create(request: Request, body: ProjectCreate) -> dict[str, Any]:
    from synthcheck.training import Project

    home = _home(request)

    def work() -> dict[str, Any]:
        with Project.create(
            body.name, body.labels, ai_labels=body.ai_labels, extractors=body.extractors, home=home
        ) as p:
            summary: dict[str, Any] = p.summary()
            return summary

    return await _run(request, work)


@router.get("/projects/{name}", summary="A project's images, labels and models")
async def show(request: Request, name: str) -> dict[str, Any]:
    home = _home(request)

    def work() -> dict[str, Any]:
        with _open(name, home) as p:
            summary: dict[str, Any] = p.summary()
            return summary

    return await _run(request, work)


@router.delete("/projects/{name}", status_code=204, summary="Delete a project")
async def delete(request: Request, name: str) -> Response:
    from synthcheck.training import delete_project

    home = _home(request)
    await _run(request, lambda: delete_project(name, home=home))
    return Response(status_code=204)


@router.post("/projects/{name}/images", summary="Upload images, labelled or not")
async def upload_images(
    request: Request,
    name: str,
    files: list[UploadFile] = File(...),
    label: str | None = Form(None, description="label for every file; omit for unlabelled"),
) -> dict[str, Any]:
    from synthcheck.training.sources import ImportItem

    state = _state(request)
    home = state.settings.home
    # The names become file names (kept for reviews): refuse unusable ones before saving any.
    names = [stored_file_name(f.filename) for f in files]
    async with received_uploads(
        files, max_files=state.settings.max_files, max_bytes=state.settings.max_upload_bytes
    ) as (area, saved):
        items = []
        for item, file_name in zip(saved, names, strict=True):
            # Keep the client's file name visible in reviews: one private folder per upload.
            folder = area / uuid.uuid4().hex
            folder.mkdir()
            named = folder / file_name
            item.path.replace(named)
            items.append(ImportItem(str(named), label or None))

        def work() -> dict[str, Any]:
            with _open(name, home) as p:
                report: dict[str, Any] = p.import_items(items, copy=True).to_dict()
            # Failures under the client's names, not this machine's temporary paths.
            for failure in report.get("failures", []):
                path = str(failure["path"])
                shown = Path(path).name
                failure["path"] = shown
                failure["reason"] = escape_controls(str(failure["reason"]).replace(path, shown))
            return report

        return await _run(request, work, decodes=True)


@router.post("/projects/{name}/train", status_code=202, summary="Start training in the background")
async def train(request: Request, name: str, folds: int = Query(5, ge=2, le=20)) -> dict[str, Any]:
    state = _state(request)
    home = state.settings.home
    await _run(request, lambda: _open(name, home).close())  # 404 now, not in the job

    def work() -> dict[str, Any]:
        with _open(name, home) as p:
            report: dict[str, Any] = p.train(folds=folds).to_dict()
            return report

    return state.jobs.start("train", name, work).to_dict()


@router.get("/jobs/{job_id}", summary="Status of a background job")
async def job_status(request: Request, job_id: str) -> dict[str, Any]:
    job = _state(request).jobs.get(job_id)
    if job is None:
        raise HTTPException(404, "unknown job")
    return job.to_dict()


@router.get("/projects/{name}/review", summary="Predictions to review, sorted and filtered")
async def review(
    request: Request,
    name: str,
    sort: str = Query("confidence", pattern="^(confidence|recent)$"),
    filter: str | None = Query(None, description="disagree | agree | label:L | unlabelled"),
    limit: int = Query(60, ge=1, le=1000),
) -> list[dict[str, Any]]:
    home = _home(request)

    def work() -> list[dict[str, Any]]:
        with _open(name, home) as p:
            return [item.to_dict() for item in p.review(sort=sort, filter=filter, limit=limit)]

    return await _run(request, work)


@router.put("/projects/{name}/images/{sha256}/label", summary="Relabel an image")
async def relabel(request: Request, name: str, sha256: str, body: LabelChange) -> dict[str, Any]:
    home = _home(request)

    def work() -> dict[str, Any]:
        with _open(name, home) as p:
            return {"sha256": p.label(sha256, body.label), "label": body.label}

    return await _run(request, work)


@router.delete("/projects/{name}/images/{sha256}", status_code=204, summary="Remove an image")
async def remove(request: Request, name: str, sha256: str) -> Response:
    home = _home(request)

    def work() -> None:
        with _open(name, home) as p:
            p.remove(sha256)

    await _run(request, work)
    return Response(status_code=204)


@router.get(
    "/projects/{name}/images/{sha256}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
    summary="A small JPEG of a project image",
)
async def thumbnail(
    request: Request, name: str, sha256: str, size: int = Query(256, ge=32, le=1024)
) -> Response:
    home = _home(request)

    def work() -> bytes:
        from synthcheck.intake.decode import load_image

        with _open(name, home) as p:
            rows = [r for r in p.images() if r.sha256 == sha256]
            if not rows:
                raise ProjectNotFoundError(f"no image {sha256[:12]} in project {name!r}")
            source = rows[0].blob or rows[0].path
        if not Path(source).is_file():
            raise DataError(f"the file of image {sha256[:12]} is no longer at {source}")
        image = Image.fromarray(load_image(source).pixels)
        image.thumbnail((size, size))
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=85)
        return buf.getvalue()

    return Response(await _run(request, work, decodes=True), media_type="image/jpeg")


@router.post("/projects/{name}/predict", summary="Scan images with the project's model")
async def predict(
    request: Request, name: str, files: list[UploadFile] = File(...)
) -> dict[str, Any]:
    state = _state(request)
    home = state.settings.home
    async with received_uploads(
        files, max_files=state.settings.max_files, max_bytes=state.settings.max_upload_bytes
    ) as (_area, saved):

        def work() -> list[dict[str, Any]]:
            with _open(name, home) as p:
                results = p.predict([s.path for s in saved])
            out = []
            for s, r in zip(saved, results, strict=True):
                d = r.to_dict()
                d["path"] = s.name
                if d.get("error"):
                    message = d["error"]["message"].replace(str(s.path), s.name)
                    d["error"]["message"] = escape_controls(message)
                out.append(d)
            return out

        return {"results": await _run(request, work, decodes=True)}
