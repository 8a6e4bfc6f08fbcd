"""JSON endpoints for her push notifications: the page's script subscribes this browser with
these, and turns it off again."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from api.accounts.access import RequireUser
from api.accounts.schemas import SIGNED_IN_ERRORS
from api.clock import Now
from api.config import Settings
from api.db import SessionDep
from api.errors import ErrorPublic, InvalidPublic, NotFound
from api.i18n import gettext as _
from api.kit.ids import PathId
from api.push import keys, service
from api.push.models import PushSubscription
from api.push.schemas import PushDevicePublic, PushDevicesPublic, PushSubscriptionCreate

router = APIRouter(prefix="/api/v1/me/push-subscriptions", tags=["push"])

WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **SIGNED_IN_ERRORS,
    400: {"model": ErrorPublic, "description": "The body cannot be read (error)"},
    403: {"model": ErrorPublic, "description": "A missing CSRF token (csrf)"},
    422: {"model": InvalidPublic, "description": "Not a browser's push subscription (invalid)"},
}
REMOVE_ERRORS: dict[int | str, dict[str, Any]] = {
    **SIGNED_IN_ERRORS,
    403: {"model": ErrorPublic, "description": "A missing CSRF token (csrf)"},
    404: {"model": ErrorPublic, "description": "No such device of hers (not_found)"},
    422: {"model": InvalidPublic, "description": "An id that is not a number (invalid)"},
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _public(row: PushSubscription) -> PushDevicePublic:
    return PushDevicePublic.model_validate(
        {**row.model_dump(), "device": service.device_name(row), "since": row.created_at}
    )


@router.get("", responses=SIGNED_IN_ERRORS)
def list_push_devices(
    request: Request, session: SessionDep, user: RequireUser
) -> PushDevicesPublic:
    """Kern's public key to subscribe with, and her devices that receive notifications."""
    return PushDevicesPublic(
        public_key=keys.keys(_settings(request)).public_key,
        devices=[_public(row) for row in service.list_devices(session, user=user)],
    )


@router.post("", status_code=201, responses=WRITE_ERRORS)
def subscribe_push_device(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    body: PushSubscriptionCreate,
    user_agent: Annotated[str, Header()] = "",
) -> PushDevicePublic:
    """Send her notifications to this browser from now on (again: renewed, not doubled)."""
    row = service.subscribe(
        session,
        _settings(request),
        user=user,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        user_agent=user_agent,
        now=now,
    )
    return _public(row)


@router.delete(
    "/{subscription_id}", status_code=204, response_class=Response, responses=REMOVE_ERRORS
)
def remove_push_device(session: SessionDep, user: RequireUser, subscription_id: PathId) -> None:
    """No more notifications to this device of hers."""
    if not service.remove(session, user=user, subscription_id=subscription_id):
        raise NotFound(_("This device does not receive notifications."))
