"""Who is enrolled in a course, and giving or ending access by hand."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.accounts import service as accounts
from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.catalog.models import Course
from api.clock import Now
from api.db import SessionDep
from api.enrolment import service as enrolment_service
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import PathId
from api.studio import learners as learners_service
from api.studio.access import owned_course
from web.pages.common import FormStr, settings_of
from web.templating import render

router = APIRouter(include_in_schema=False)


def _own_course(session: SessionDep, user: User, slug: str) -> Course:
    """The course, if this instructor teaches it (admins: any course)."""
    return owned_course(session, viewer=user, slug=slug)


def _learners_page(
    request: Request,
    session: Session,
    course: Course,
    now: datetime,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "course": course,
        "rows": learners_service.of_course(session, course=course, now=now),
        "errors": errors or {},
        "values": values or {},
        "notice": request.query_params.get("notice"),
    }
    return render(request, "studio/learners.html", context, status_code=status_code)


@router.get("/studio/courses/{slug}/learners", response_class=HTMLResponse)
def show_learners(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now, slug: str
) -> HTMLResponse:
    """Everyone enrolled in the course: how and since when, and how far each one is."""
    return _learners_page(request, session, _own_course(session, user, slug), now)


@router.get("/studio/courses/{slug}/learners.csv")
def export_learners(session: SessionDep, user: RequireInstructor, now: Now, slug: str) -> Response:
    """The learners table as a spreadsheet file."""
    course = _own_course(session, user, slug)
    rows = learners_service.of_course(session, course=course, now=now)
    return Response(
        learners_service.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{course.slug}-deelnemers.csv"',
            # Names, emails and progress of patients: not for shared caches or the back button.
            "Cache-Control": "no-store",
        },
    )


@router.post("/studio/courses/{slug}/learners", response_class=HTMLResponse)
def grant_access(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    email: FormStr = "",
    note: FormStr = "",
) -> Response:
    """Give a learner access by hand, e.g. after a bank transfer."""
    course = _own_course(session, user, slug)
    values = {"email": email, "note": note}
    learner = accounts.find_by_email(session, email)
    try:
        if learner is None:
            raise FormError(
                {"email": _("There is no account with this address. Ask her to create one first.")}
            )
        enrolment_service.grant_manually(
            session, course=course, learner=learner, by=user, note=note,
            settings=settings_of(request),
        )  # fmt: skip
    except FormError as exc:
        return _learners_page(
            request, session, course, now, errors=exc.fields, values=values, status_code=422
        )
    return RedirectResponse(f"/studio/courses/{slug}/learners?notice=granted", status_code=303)


@router.post("/studio/courses/{slug}/learners/{enrolment_id}/revoke", response_class=HTMLResponse)
def revoke_access(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    enrolment_id: PathId,
    note: FormStr = "",
) -> Response:
    """End a learner's access by hand, with the reason."""
    course = _own_course(session, user, slug)
    enrolment = enrolment_service.in_course(session, course=course, enrolment_id=enrolment_id)
    try:
        enrolment_service.revoke(session, enrolment=enrolment, by=user, note=note)
    except FormError as exc:
        errors = {f"revoke-{enrolment_id}": exc.fields["note"]}
        return _learners_page(request, session, course, now, errors=errors, status_code=422)
    return RedirectResponse(f"/studio/courses/{slug}/learners?notice=revoked", status_code=303)
