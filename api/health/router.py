"""Liveness and readiness for load balancers and docker compose."""

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api import db

router = APIRouter(tags=["health"])
log = logging.getLogger("kern.health")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; touches nothing else."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(request: Request) -> JSONResponse:
    """The process can reach its database."""
    try:
        db.ping(request.app.state.engine)
    except Exception as exc:  # any driver error means "not ready", and says why
        log.warning("database not reachable: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "reason": f"database unreachable ({type(exc).__name__})"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})
