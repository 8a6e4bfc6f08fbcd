"""What the accounts API reads and answers, and the errors of a signed-in route."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from api.errors import UNAVAILABLE, ErrorPublic

# What RequireUser answers instead of running the route.
SIGNED_IN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "Not signed in (login_required)"},
    403: {
        "model": ErrorPublic,
        "description": "Staff without two-step verification (two_factor_required)",
    },
    **UNAVAILABLE,
}


class UserPublic(BaseModel):
    """What the API shows of an account."""

    id: int
    name: str
    email: str
    role: str
    language: str
    email_verified: bool
    two_factor_enabled: bool
    created_at: datetime
