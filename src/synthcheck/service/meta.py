"""Health, signals and models."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from synthcheck.engine.build import PROFILES
from synthcheck.signals.registry import get_signal_class, list_signals

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get("/health", summary="Liveness and the active detector")
async def health(request: Request) -> dict[str, Any]:
    from synthcheck._version import __version__

    state = request.app.state.synthcheck
    return {"status": "ok", "version": __version__, "profile": state.settings.profile}


@router.get("/signals", summary="The registered signals")
async def signals() -> list[dict[str, str]]:
    out = []
    for name in list_signals():
        cls = get_signal_class(name)
        out.append({"name": name, "kind": cls.kind, "description": cls.description})
    return out


@router.get("/models", summary="Pixel-model profiles and backbones available here")
async def models() -> dict[str, Any]:
    backbones: list[dict[str, Any]] = []
    try:
        from synthcheck.backbones import backbone_available, list_backbones

        backbones = [{"name": n, "available": backbone_available(n)} for n in list_backbones()]
    except ImportError:
        pass
    return {"profiles": list(PROFILES), "backbones": backbones}
