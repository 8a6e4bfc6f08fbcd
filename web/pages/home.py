"""The public front door: home page and the language choice."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api import i18n
from api.accounts.access import VisitorDep
from api.catalog import service as catalog
from api.db import SessionDep
from web.templating import render

router = APIRouter(include_in_schema=False)

ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Only follow a local path, so the form cannot send people to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
def show_home(request: Request, session: SessionDep, _visitor: VisitorDep) -> HTMLResponse:
    """What Kern is, how it works, and a course to start with."""
    return render(request, "home/index.html", {"featured": catalog.featured(session)})


@router.post("/language")
async def choose_language(
    request: Request,
    language: Annotated[str, Form(max_length=8)],
    next_path: Annotated[str, Form(alias="next", max_length=500)] = "/",
) -> RedirectResponse:
    """Remember the chosen interface language in a cookie and go back."""
    response = RedirectResponse(safe_next(next_path), status_code=303)
    if language in i18n.LOCALES:
        response.set_cookie(
            i18n.LOCALE_COOKIE,
            language,
            max_age=ONE_YEAR,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
