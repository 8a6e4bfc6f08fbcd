"""The public front door: home page and the language choice."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import AfterValidator, Field

from api import i18n
from api.accounts.access import VisitorDep
from api.catalog import service as catalog
from api.db import SessionDep
from api.questionnaires import selftest
from web.forms import Form, Posted, posted
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

ONE_YEAR = 365 * 24 * 3600
# The self-tests the home page invites to at most; the catalog lists them all.
HOME_SELF_TESTS = 3


def safe_next(target: str | None) -> str:
    """Only follow a local path, so the form cannot send people to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _next_or_none(target: str) -> str:
    return safe_next(target) if target else ""


# A form's hidden `next` input, the page to go on to afterwards: a local path, or empty when
# none was given (the page then chooses).
NextPath = Annotated[str, AfterValidator(_next_or_none)]


@router.get("/", response_class=HTMLResponse)
def show_home(request: Request, session: SessionDep, _visitor: VisitorDep) -> HTMLResponse:
    """What Kern is, how it works, a course to start with and the free self-tests."""
    context = {
        "featured": catalog.featured(session),
        "self_tests": selftest.published_links(session, language=locale_of(request))[
            :HOME_SELF_TESTS
        ],
    }
    return render(request, "home/index.html", context)


class LanguageForm(Form):
    # No browser sends more: these bound what a request may make the answer carry.
    language: str = Field(max_length=8)
    next: str = Field(default="/", max_length=500)


@router.post("/language")
async def choose_language(
    request: Request, form: Annotated[Posted[LanguageForm], posted(LanguageForm)]
) -> RedirectResponse:
    """Remember the chosen interface language in a cookie and go back."""
    # A refused form (no browser sends one) answers as any refused request: a page, at 422.
    data = form.valid()
    response = RedirectResponse(safe_next(data.next), status_code=303)
    if data.language in i18n.LOCALES:
        response.set_cookie(
            i18n.LOCALE_COOKIE,
            data.language,
            max_age=ONE_YEAR,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
