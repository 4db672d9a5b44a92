"""Liveness (``/healthz``) and readiness (``/readyz``) probes."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.db import ping
from app.migrations import migration_state
from app.runtime import Runtime, database_error_reason


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    try:
        await ping(runtime.engine)
        state = await migration_state(runtime.engine)
    except (OperationalError, DBAPIError, OSError) as exc:
        return _unavailable(f"database unreachable: {database_error_reason(exc)}")
    if not state.at_head:
        return _unavailable(state.describe())
    return JSONResponse({"status": "ready", "migrations": sorted(state.current)})


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
