"""The terms of sale: the version in force and earlier ones for everyone, the editor for admins."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts.access import RequireAdmin, VisitorDep
from api.catalog.markdown import render_markdown
from api.clock import Now
from api.db import SessionDep
from api.errors import FormError, NotFound
from api.i18n import gettext as _
from api.terms import service
from api.terms.models import TermsVersion
from api.terms.service import TermsForm
from web.forms import Posted, invalid, posted
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)


def _terms_page(
    request: Request, terms: TermsVersion | None, *, current: int | None
) -> HTMLResponse:
    context: dict[str, Any] = {
        "terms": terms,
        "body": render_markdown(service.body_for(terms, locale_of(request))) if terms else None,
        "current": current,
    }
    return render(request, "terms/show.html", context)


@router.get("/terms", response_class=HTMLResponse)
def show_terms(request: Request, session: SessionDep, _visitor: VisitorDep) -> HTMLResponse:
    """The terms in force."""
    terms = service.current(session)
    return _terms_page(request, terms, current=terms.id if terms else None)


@router.get("/terms/{version}", response_class=HTMLResponse)
def show_terms_version(
    request: Request, session: SessionDep, _visitor: VisitorDep, version: int
) -> HTMLResponse:
    """An earlier version, as an order that accepted it can point at."""
    terms = service.version(session, version) if 0 < version < 2**31 else None
    if terms is None:
        raise NotFound(_("These terms do not exist."))
    return _terms_page(request, terms, current=service.current_version(session))


def _editor(
    request: Request,
    form: TermsForm,
    *,
    terms: TermsVersion | None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "values": form.model_dump(),
        "errors": errors or {},
        "terms": terms,
        "notice": request.query_params.get("notice"),
        "preview": render_markdown(form.body_nl) if form.body_nl.strip() else None,
    }
    return render(request, "studio/terms.html", context, status_code=422 if errors else 200)


@router.get("/studio/terms", response_class=HTMLResponse)
def edit_terms(request: Request, session: SessionDep, _admin: RequireAdmin) -> HTMLResponse:
    """The terms in force, to change; a save makes a new version."""
    terms = service.current(session)
    return _editor(request, TermsForm.of(terms), terms=terms)


@router.post("/studio/terms", response_class=HTMLResponse)
def save_terms(
    request: Request,
    session: SessionDep,
    admin: RequireAdmin,
    now: Now,
    posted_form: Annotated[Posted[TermsForm], posted(TermsForm)],
) -> Response:
    """Save the texts as a new version (the same texts again change nothing)."""
    form = posted_form.valid()
    try:
        service.save(session, form=form, user=admin, now=now)
    except FormError as exc:
        return invalid(
            exc, _editor(request, form, terms=service.current(session), errors=exc.fields)
        )
    return RedirectResponse("/studio/terms?notice=saved", status_code=303)
