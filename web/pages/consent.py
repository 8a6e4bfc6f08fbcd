"""Her consent to keeping health data without JavaScript: give it, withdraw it, and delete her
practice log. The account page shows the state; the guided player asks through the JSON API."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field, field_validator

from api.accounts.access import RequireUser
from api.accounts.models import User
from api.clock import Now
from api.consent import service as consent_service
from api.consent import texts
from api.db import SessionDep
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.progress import practice
from web.forms import Form, Posted, Typed, invalid, posted, problem
from web.pages.home import NextPath, safe_next
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

HEALTH_DATA_SECTION = "/account#health-data"


class ConsentForm(Form):
    # Checked when missing too: an unticked box is not sent at all.
    agree: str = Field(default="", validate_default=True)
    version: str = ""
    next: NextPath = ""

    tidy = frozenset({"next"})

    @field_validator("agree")
    @classmethod
    def _ticked_herself(cls, agree: str) -> str:
        if agree != "yes":
            raise problem(_("Tick the box if you agree. Without it, nothing is kept."))
        return agree


def _consent_page(
    request: Request,
    user: User,
    *,
    values: dict[str, Typed],
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "text": texts.health_data_text(),
        "given": consent_service.has_health_consent(user),
        "values": values,
        "errors": errors or {},
    }
    return render(request, "consent/health_data.html", context)


@router.get("/account/health-consent", response_class=HTMLResponse)
def show_health_consent(request: Request, user: RequireUser, next: str = "") -> HTMLResponse:
    """The consent question on a page of its own, for browsers without JavaScript."""
    next_path = safe_next(next) if next else ""
    return _consent_page(request, user, values={"next": next_path})


@router.post("/account/health-consent", response_class=HTMLResponse)
def give_health_consent(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    form: Annotated[Posted[ConsentForm], posted(ConsentForm)],
) -> Response:
    """Record her consent when she ticked the box herself, then go back where she came from."""
    try:
        data = form.valid()
        consent_service.give_health_consent(
            session, user=user, version=data.version, language=locale_of(request), now=now
        )
    except FormError as exc:
        return invalid(exc, _consent_page(request, user, **form.shown(exc)))
    except consent_service.ConsentTextChanged as changed:
        errors = {"agree": changed.message}
        return invalid(changed, _consent_page(request, user, values=form.values, errors=errors))
    target = data.next or "/account?notice=consent-given#health-data"
    return RedirectResponse(target, status_code=303)


@router.post("/account/health-consent/withdraw")
def withdraw_health_consent(session: SessionDep, user: RequireUser, now: Now) -> Response:
    """Withdraw: nothing new is kept from now on; the account page offers to delete the rest."""
    consent_service.withdraw_health_consent(session, user=user, now=now)
    return RedirectResponse("/account?notice=consent-withdrawn#health-data", status_code=303)


@router.get("/account/practice-log/delete", response_class=HTMLResponse)
def show_delete_practice_log(
    request: Request, session: SessionDep, user: RequireUser
) -> HTMLResponse:
    """Say what deleting her practice log removes, and ask her to confirm."""
    count = practice.count(session, user_id=id_of(user))
    return render(request, "consent/delete_practice_log.html", {"count": count})


@router.post("/account/practice-log/delete")
def delete_practice_log(session: SessionDep, user: RequireUser) -> Response:
    """Delete every practice she logged, for good."""
    practice.erase(session, user_id=id_of(user))
    return RedirectResponse("/account?notice=practice-log-deleted#health-data", status_code=303)
