"""Cohorts in the studio: a course's groups, their start, places and window, and who is in each."""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlmodel import Session

from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.catalog.markdown import render_markdown
from api.catalog.models import Course
from api.clock import Now
from api.cohorts import seats
from api.cohorts import service as cohorts
from api.cohorts.models import Cohort
from api.db import SessionDep
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment
from api.errors import Conflict, FormError
from api.i18n import gettext as _
from api.kit.ids import Id, PathId
from api.studio.access import owned_course
from web.forms import Checkbox, Form, Posted, invalid, posted
from web.pages.common import ConfirmForm
from web.templating import render

router = APIRouter(include_in_schema=False)


class CohortForm(Form):
    """A cohort's start day, places and enrolment window, as typed."""

    starts_on: str = ""
    capacity: str = ""
    opens_on: str = ""
    closes_on: str = ""


class SettingsForm(Form):
    """Whether the course runs in cohorts, and what she reads before the start."""

    in_cohorts: Checkbox = False
    preparation: str = Field(default="", max_length=20000)


class AddForm(Form):
    """A learner who has the course without a group."""

    enrolment: Id


class MoveForm(AddForm):
    """A learner of the cohort, and the cohort she moves to."""

    to: Id


Placed = TypeVar("Placed", bound=AddForm)


def _day(text: str, name: str, errors: dict[str, str], *, required: bool = False) -> date | None:
    if not text.strip():
        if required:
            errors[name] = _("Enter a date.")
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = _("Enter a date as yyyy-mm-dd.")
        return None


def _input(data: CohortForm) -> cohorts.CohortInput:
    errors: dict[str, str] = {}
    starts_on = _day(data.starts_on, "starts_on", errors, required=True)
    capacity = None
    if data.capacity.strip():
        if data.capacity.strip().isdigit():
            capacity = int(data.capacity.strip())
        else:
            errors["capacity"] = _("Enter a whole number, or leave it empty.")
    opens_on = _day(data.opens_on, "opens_on", errors)
    closes_on = _day(data.closes_on, "closes_on", errors)
    if errors or starts_on is None:
        raise FormError(errors)
    return cohorts.CohortInput(starts_on, capacity, opens_on, closes_on)


def _values(cohort: Cohort) -> dict[str, str]:
    return {
        "starts_on": cohort.starts_on.isoformat(),
        "capacity": "" if cohort.capacity is None else str(cohort.capacity),
        "opens_on": cohort.opens_on.isoformat() if cohort.opens_on else "",
        "closes_on": cohort.closes_on.isoformat() if cohort.closes_on else "",
    }


def _list_page(request: Request, session: Session, course: Course, **extra: Any) -> HTMLResponse:
    context = {
        "course": course,
        "cohorts": cohorts.of_instructor_course(session, course=course),
        "without_group": len(cohorts.without_group(session, course=course)),
        "values": {},
        "errors": {},
        "markdown": render_markdown,
        **extra,
    }
    return render(request, "studio/cohorts.html", context)


@router.get("/studio/courses/{slug}/cohorts", response_class=HTMLResponse)
def show_cohorts(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str
) -> HTMLResponse:
    """The course's cohorts, a form for a new one and the text before the start."""
    course = owned_course(session, viewer=user, slug=slug)
    deleted = request.query_params.get("notice") == "deleted"
    return _list_page(request, session, course, deleted=deleted)


@router.post("/studio/courses/{slug}/cohorts", response_class=HTMLResponse)
def create_cohort(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    form: Annotated[Posted[CohortForm], posted(CohortForm)],
) -> Response:
    """Add a cohort to the course."""
    course = owned_course(session, viewer=user, slug=slug)
    try:
        cohort = cohorts.create(session, course=course, data=_input(form.valid()))
    except FormError as exc:
        return invalid(exc, _list_page(request, session, course, **form.shown(exc)))
    return RedirectResponse(f"/studio/courses/{slug}/cohorts/{cohort.id}", status_code=303)


@router.post("/studio/courses/{slug}/cohorts/settings")
def save_settings(
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    form: Annotated[Posted[SettingsForm], posted(SettingsForm)],
) -> RedirectResponse:
    """Turn cohorts on or off and save the text before the start."""
    course = owned_course(session, viewer=user, slug=slug)
    data = form.valid()
    course.in_cohorts = data.in_cohorts
    cohorts.set_preparation(session, course=course, text=data.preparation)
    return RedirectResponse(f"/studio/courses/{slug}/cohorts", status_code=303)


def _cohort_page(
    request: Request, session: Session, course: Course, cohort: Cohort, **extra: Any
) -> HTMLResponse:
    context = {
        "course": course,
        "cohort": cohort,
        "learners": cohorts.learners(session, cohort=cohort),
        "others": [
            other
            for other in cohorts.of_instructor_course(session, course=course)
            if other.id != cohort.id
        ],
        "without_group": cohorts.without_group(session, course=course),
        "problem": None,
        "values": _values(cohort),
        "errors": {},
        **extra,
    }
    return render(request, "studio/cohort.html", context)


@router.get("/studio/courses/{slug}/cohorts/{cohort_id}", response_class=HTMLResponse)
def show_cohort(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str, cohort_id: PathId
) -> HTMLResponse:
    """One cohort: its settings and its learners together."""
    course = owned_course(session, viewer=user, slug=slug)
    cohort = cohorts.get(session, course=course, cohort_id=cohort_id)
    return _cohort_page(request, session, course, cohort)


@router.post("/studio/courses/{slug}/cohorts/{cohort_id}", response_class=HTMLResponse)
def edit_cohort(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    cohort_id: PathId,
    form: Annotated[Posted[CohortForm], posted(CohortForm)],
) -> Response:
    """Change a cohort's start, places or window."""
    course = owned_course(session, viewer=user, slug=slug)
    cohort = cohorts.get(session, course=course, cohort_id=cohort_id)
    try:
        cohorts.edit(session, cohort=cohort, data=_input(form.valid()))
    except FormError as exc:
        session.rollback()
        return invalid(exc, _cohort_page(request, session, course, cohort, **form.shown(exc)))
    return RedirectResponse(f"/studio/courses/{slug}/cohorts/{cohort_id}", status_code=303)


@router.post("/studio/courses/{slug}/cohorts/{cohort_id}/move", response_class=HTMLResponse)
def move_learner(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    cohort_id: PathId,
    form: Annotated[Posted[MoveForm], posted(MoveForm)],
) -> Response:
    """Move a learner of this cohort to another cohort of the course."""

    def move(course: Course, _cohort: Cohort, enrolment: Enrolment, data: MoveForm) -> None:
        target = cohorts.get(session, course=course, cohort_id=data.to)
        seats.move(session, enrolment=enrolment, to=target)

    return _place(request, session, user, slug, cohort_id, form, move)


@router.post("/studio/courses/{slug}/cohorts/{cohort_id}/add", response_class=HTMLResponse)
def add_learner(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    cohort_id: PathId,
    form: Annotated[Posted[AddForm], posted(AddForm)],
) -> Response:
    """Put a learner who has the course without a group into this one."""

    def add(_course: Course, cohort: Cohort, enrolment: Enrolment, _data: AddForm) -> None:
        seats.add(session, enrolment=enrolment, to=cohort)

    return _place(request, session, user, slug, cohort_id, form, add)


def _place(
    request: Request,
    session: Session,
    user: User,
    slug: str,
    cohort_id: int,
    form: Posted[Placed],
    place: Callable[[Course, Cohort, Enrolment, Placed], None],
) -> Response:
    """Put the learner the form names somewhere (`place`), then back to the group's page; a
    refusal shows on that page, with nothing changed."""
    course = owned_course(session, viewer=user, slug=slug)
    cohort = cohorts.get(session, course=course, cohort_id=cohort_id)
    try:
        data = form.valid()
        enrolment = enrolment_service.in_course(session, course=course, enrolment_id=data.enrolment)
        place(course, cohort, enrolment, data)
    except FormError as exc:
        session.rollback()
        return invalid(exc, _cohort_page(request, session, course, cohort, **form.shown(exc)))
    return RedirectResponse(f"/studio/courses/{slug}/cohorts/{cohort_id}", status_code=303)


@router.post("/studio/courses/{slug}/cohorts/{cohort_id}/delete", response_class=HTMLResponse)
def delete_cohort(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    cohort_id: PathId,
    form: Annotated[Posted[ConfirmForm], posted(ConfirmForm)],
) -> Response:
    """Delete a group nobody is in, after its confirmation button; with learners, say why not."""
    course = owned_course(session, viewer=user, slug=slug)
    cohort = cohorts.get(session, course=course, cohort_id=cohort_id)
    try:
        if not form.valid().confirmed:
            raise Conflict(_("Nothing was deleted: confirm with the button “Yes, delete”."))
        # Places held by checkouts that ended long ago are free first; they keep nobody in.
        seats.release_expired(session, cohort_id=cohort_id, now=now)
        cohorts.delete_cohort(session, cohort=cohort)
    except Conflict as exc:
        return invalid(exc, _cohort_page(request, session, course, cohort, problem=exc.message))
    return RedirectResponse(f"/studio/courses/{slug}/cohorts?notice=deleted", status_code=303)
