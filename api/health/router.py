"""Liveness and readiness for load balancers and docker compose."""

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api import db
from api.health.schemas import NotReadyPublic, ReadyPublic
from api.payments import service as payments_service

router = APIRouter(tags=["health"])
log = logging.getLogger("kern.health")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; touches nothing else."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses={
        200: {"model": ReadyPublic, "description": "Ready"},
        503: {"model": NotReadyPublic, "description": "The database cannot be reached"},
    },
)
def readyz(request: Request) -> JSONResponse:
    """The process can reach its database; says how payments stand without failing on it."""
    try:
        db.ping(request.app.state.engine)
    except Exception as exc:  # any driver error means "not ready", and says why
        log.warning("database not reachable: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "reason": f"database unreachable ({type(exc).__name__})"},
            status_code=503,
        )
    # Payments are reported, not required: without Stripe the site still serves its free
    # courses and lessons, so a load balancer must keep sending traffic (the operator reads the
    # field; e.g. "disabled: STRIPE_SECRET_KEY not set" in production).
    payments = payments_service.readiness(request.app.state.settings)
    return JSONResponse({"status": "ok", "database": "ok", "payments": payments})
