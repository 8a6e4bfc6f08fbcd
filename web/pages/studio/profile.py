"""The instructor's own profile, shown on her course pages."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.accounts.access import RequireInstructor
from api.catalog import profile as instructor_profile
from api.db import SessionDep
from api.kit.ids import id_of
from web.templating import render

router = APIRouter(include_in_schema=False)


def profile_page(
    request: Request,
    photo: str | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "photo": photo,
        "values": values,
        "errors": errors or {},
        "notice": request.query_params.get("notice") == "saved",
    }
    return render(request, "studio/profile.html", context, status_code=status_code)


@router.get("/studio/profile", response_class=HTMLResponse)
def show_profile(request: Request, session: SessionDep, user: RequireInstructor) -> HTMLResponse:
    """Her photo, biography and credentials, to edit."""
    found = instructor_profile.of(session, user_id=id_of(user))
    values = {
        "photo_alt": found.photo_alt if found else "",
        "credentials": found.credentials if found else "",
        "bio": found.bio if found else "",
    }
    return profile_page(request, found.photo if found else None, values)
