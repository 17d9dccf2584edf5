"""The FastAPI application behind ``synthcheck serve``: the HTTP API and the web UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from synthcheck.engine.detector import Detector
from synthcheck.errors import SynthcheckError
from synthcheck.service import detect, meta, projects
from synthcheck.service.analysis import Analysis
from synthcheck.service.escape import escape_controls
from synthcheck.service.guard import RequestGuard, check_body_type
from synthcheck.service.limits import BodySizeLimit
from synthcheck.service.settings import ServiceSettings
from synthcheck.service.state import ServiceState

__all__ = ["create_app"]


def create_app(
    settings: ServiceSettings | None = None,
    *,
    detector: Detector | None = None,
    analysis: Analysis | None = None,
) -> FastAPI:
    """Build the app. Uploads are analysed in worker processes built from ``settings`` (per-file
    time limit and memory cap); ``detector`` instead runs that object in this process (tests,
    embedding; no limits), ``analysis`` replaces both (see service.analysis)."""
    settings = settings or ServiceSettings()
    state = ServiceState(settings, detector, analysis=analysis)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Warm the workers in the background: the server answers (health) while models load.
        async with anyio.create_task_group() as group:
            group.start_soon(state.analysis.start)
            try:
                yield
            finally:
                group.cancel_scope.cancel()
        await anyio.to_thread.run_sync(state.analysis.close)

    app = FastAPI(
        title="synthcheck",
        summary="Local AI-generated image detection",
        lifespan=lifespan,
    )
    app.state.synthcheck = state
    app.state.limiter = anyio.CapacityLimiter(settings.workers)
    # Headroom over the file cap for multipart framing and form fields.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + 1024 * 1024)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # Outermost: Host, Origin and token are checked before anything reads the body, and every
    # response (refusals and 413s included) gets the security headers.
    app.add_middleware(RequestGuard, settings=settings)

    @app.exception_handler(SynthcheckError)
    async def _synthcheck_error(request: Request, exc: SynthcheckError) -> JSONResponse:
        body = {"detail": escape_controls(str(exc)), "type": exc.code}
        return JSONResponse(body, exc.http_status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = escape_controls(exc.detail) if isinstance(exc.detail, str) else exc.detail
        return JSONResponse({"detail": detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never leak a stack trace to the client; the server log keeps it.
        return JSONResponse({"detail": "internal error", "type": "internal"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "loc": [escape_controls(str(p)) for p in e.get("loc", ())],
                "msg": escape_controls(str(e.get("msg", ""))),
            }
            for e in exc.errors()
        ]
        return JSONResponse({"detail": problems, "type": "invalid_request"}, status_code=422)

    # The API routes: the token is checked by RequestGuard; the body's type here (a route that
    # takes JSON or nothing refuses the form and text types a cross-site page can send without
    # a CORS preflight). The UI's static files carry no data and stay reachable without token.
    for router in (meta.router, detect.router, projects.router):
        app.include_router(router, dependencies=[Depends(check_body_type)])

    static_dir = resources.files("synthcheck.service") / "static"
    app.mount("/static", StaticFiles(directory=str(static_dir)), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> Any:
        return FileResponse(str(static_dir / "index.html"), media_type="text/html")

    return app
