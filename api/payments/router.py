"""The Stripe webhook: a machine's endpoint, signed instead of signed in (and CSRF-exempt)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api.config import Settings
from api.db import SessionDep
from api.payments import webhooks

router = APIRouter(tags=["payments"])


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: the signature covers these bytes, not a parsed copy."""
    return await request.body()


@router.post("/stripe/webhook", include_in_schema=False)
def stripe_webhook(
    request: Request, session: SessionDep, body: Annotated[bytes, Depends(raw_body)]
) -> JSONResponse:
    """Receive one event from Stripe; 2xx tells Stripe not to send it again."""
    settings: Settings = request.app.state.settings
    try:
        outcome = webhooks.receive(
            session, settings, payload=body, signature=request.headers.get("stripe-signature")
        )
    except webhooks.WebhookRefused as refused:
        return JSONResponse({"error": refused.code, "detail": refused.message}, status_code=400)
    return JSONResponse({"received": True, "outcome": outcome})
