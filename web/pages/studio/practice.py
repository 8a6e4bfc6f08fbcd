"""The practice's identity (name, address, contact, KvK and BTW numbers): admins only."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts.access import RequireAdmin
from api.clock import Now
from api.db import SessionDep
from api.errors import FormError
from api.practice_identity import service as identity_service
from api.practice_identity.service import IdentityForm
from web.forms import Posted, invalid, posted
from web.templating import render

router = APIRouter(include_in_schema=False)


def _settings_page(
    request: Request,
    form: IdentityForm,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "values": form.values(),
        "errors": errors or {},
        "notice": request.query_params.get("notice"),
    }
    return render(request, "studio/practice.html", context, status_code=status_code)


@router.get("/studio/practice", response_class=HTMLResponse)
def show_practice(request: Request, session: SessionDep, _admin: RequireAdmin) -> HTMLResponse:
    """The practice's details as the footer, the privacy statement and invoices show them."""
    return _settings_page(request, IdentityForm.of(identity_service.read(session)))


@router.post("/studio/practice", response_class=HTMLResponse)
def save_practice(
    request: Request,
    session: SessionDep,
    _admin: RequireAdmin,
    now: Now,
    posted_form: Annotated[Posted[IdentityForm], posted(IdentityForm)],
) -> Response:
    """Check and save the details; a wrong field is shown with what was typed."""
    form = posted_form.valid()
    try:
        identity_service.save(
            session, form=form, now=now, cache=request.app.state.practice_identity
        )
    except FormError as exc:
        return invalid(exc, _settings_page(request, form, errors=exc.fields))
    return RedirectResponse("/studio/practice?notice=saved", status_code=303)
