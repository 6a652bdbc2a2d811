"""Liveness and readiness. Ready = models verified and loaded, database reachable."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", summary="The process is up")
def live() -> dict:
    return {"status": "live"}


@router.get("/ready", summary="Models loaded and verified, database reachable")
def ready(request: Request):
    state = request.app.state
    checks: dict[str, object] = {}
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
        checks["database"] = f"unreachable ({type(exc).__name__})"
    engines = getattr(state, "engines", None)
    checks["models"] = engines.models.refs() if engines else "not loaded"
    checks["profile"] = state.settings.profile
    checks["worker"] = "running" if getattr(state, "runner", None) else "off"
    ok = checks["database"] == "ok" and engines is not None
    return JSONResponse(
        {"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503
    )
