"""Her consent to keeping health data without JavaScript: give it, withdraw it, and delete her
practice log. The account page shows the state; the guided player asks through the JSON API."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts.access import RequireUser
from api.accounts.models import User
from api.clock import Now
from api.consent import service as consent_service
from api.consent import texts
from api.db import SessionDep
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.progress import practice
from web.pages.common import FormStr
from web.pages.home import safe_next
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

HEALTH_DATA_SECTION = "/account#health-data"


def _consent_page(
    request: Request,
    user: User,
    *,
    next_path: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "text": texts.health_data_text(),
        "given": consent_service.has_health_consent(user),
        "next": next_path,
        "errors": errors or {},
    }
    return render(request, "consent/health_data.html", context, status_code=status_code)


@router.get("/account/health-consent", response_class=HTMLResponse)
def show_health_consent(request: Request, user: RequireUser, next: str = "") -> HTMLResponse:
    """The consent question on a page of its own, for browsers without JavaScript."""
    return _consent_page(request, user, next_path=safe_next(next) if next else "")


@router.post("/account/health-consent", response_class=HTMLResponse)
def give_health_consent(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    agree: FormStr = "",
    version: FormStr = "",
    next: FormStr = "",
) -> Response:
    """Record her consent when she ticked the box herself, then go back where she came from."""
    next_path = safe_next(next) if next else ""
    if agree != "yes":
        errors = {"agree": _("Tick the box if you agree. Without it, nothing is kept.")}
        return _consent_page(request, user, next_path=next_path, errors=errors, status_code=422)
    try:
        consent_service.give_health_consent(
            session, user=user, version=version, language=locale_of(request), now=now
        )
    except consent_service.ConsentTextChanged as changed:
        errors = {"agree": changed.message}
        return _consent_page(request, user, next_path=next_path, errors=errors, status_code=409)
    target = next_path or "/account?notice=consent-given#health-data"
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
