"""JSON endpoints for the signed-in user."""

from typing import Any

from fastapi import APIRouter, Response

from api.accounts import personal_data
from api.accounts.access import RequireUser
from api.accounts.schemas import SIGNED_IN_ERRORS, UserPublic
from api.db import SessionDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/me", responses=SIGNED_IN_ERRORS)
def read_me(user: RequireUser) -> UserPublic:
    """The signed-in user."""
    assert user.id is not None  # noqa: S101 (a stored user always has an id)
    return UserPublic(
        id=user.id,
        name=user.name,
        email=user.email,
        role=user.role,
        language=user.language,
        email_verified=user.email_verified_at is not None,
        two_factor_enabled=user.has_totp,
        created_at=user.created_at,
    )


@router.get("/me/export", responses=SIGNED_IN_ERRORS)
def export_me(session: SessionDep, user: RequireUser, response: Response) -> dict[str, Any]:
    """Everything Kern holds about the signed-in user: the same data as /account/export."""
    # Her health data and contact details: not for shared caches.
    response.headers["Cache-Control"] = "no-store"
    return personal_data.export(session, user=user)
