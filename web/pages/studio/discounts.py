"""Discount codes: the instructor makes them for her courses and sees how often each was used."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.db import SessionDep
from api.errors import FormError
from api.kit.ids import PathId
from api.payments import discounts, stripe_client
from api.payments.discounts import CodeForm
from web.forms import Posted, invalid, posted
from web.pages.common import settings_of
from web.templating import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    session: Session,
    user: User,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    courses = discounts.paid_courses_of(session, instructor=user)
    context: dict[str, Any] = {
        "codes": discounts.of_instructor(session, instructor=user),
        "course_options": [(str(course.id), course.title) for course in courses],
        "values": values or CodeForm().values(),
        "errors": errors or {},
        "notice": request.query_params.get("notice"),
    }
    return render(request, "studio/discounts.html", context, status_code=status_code)


@router.get("/studio/discounts", response_class=HTMLResponse)
def show_discounts(request: Request, session: SessionDep, user: RequireInstructor) -> HTMLResponse:
    """Her codes with their uses, and the form for a new one."""
    return _page(request, session, user)


@router.post("/studio/discounts", response_class=HTMLResponse)
def create_discount(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    form: Annotated[Posted[CodeForm], posted(CodeForm)],
) -> Response:
    """Make a code (at Stripe too); a wrong field is shown with what she typed."""
    try:
        discounts.create(session, settings_of(request), form.valid(), instructor=user)
    except FormError as exc:
        session.rollback()
        return invalid(exc, _page(request, session, user, **form.shown(exc)))
    except stripe_client.PaymentsUnavailable as exc:
        session.rollback()
        errors = {"code": exc.message}
        page = _page(request, session, user, values=dict(form.values), errors=errors)
        return invalid(exc, page)
    return RedirectResponse("/studio/discounts?notice=created", status_code=303)


@router.post("/studio/discounts/{discount_id}/off", response_class=HTMLResponse)
def switch_off_discount(
    request: Request, session: SessionDep, user: RequireInstructor, discount_id: PathId
) -> Response:
    """Switch one of her codes off: learners can no longer use it."""
    try:
        discounts.switch_off(session, settings_of(request), instructor=user, code_id=discount_id)
    except stripe_client.PaymentsUnavailable as exc:
        session.rollback()
        return _page(request, session, user, errors={"off": exc.message}, status_code=503)
    return RedirectResponse("/studio/discounts?notice=switched-off", status_code=303)
