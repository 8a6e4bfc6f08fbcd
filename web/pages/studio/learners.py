"""Who is enrolled in a course, and giving or ending access by hand."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api import i18n
from api.accounts import service as accounts
from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.attention import service as attention
from api.catalog.models import Course
from api.clock import Now
from api.db import SessionDep
from api.enrolment import service as enrolment_service
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import PathId
from api.kit.keyset import Cursor
from api.studio import learner_page
from api.studio import learners as learners_service
from api.studio.access import owned_course
from web.charts import Column, Frame, columns, scale_top
from web.forms import Form, Posted, Typed, invalid, posted
from web.pages.checkins import series_views
from web.pages.common import settings_of
from web.templating import render

router = APIRouter(include_in_schema=False)

# Her practice chart: eight weekly columns in SVG units, about CSS pixels on a phone 390 px wide.
WEEKS_WIDTH = 320
WEEKS_HEIGHT = 196
WEEKS_TOP = 26
WEEKS_BASELINE = 156
WEEKS_BAR = 24
WEEKS_MIN_SCALE = 30  # so one short week does not fill the chart


class GrantForm(Form):
    email: str = ""
    note: str = ""


class RevokeForm(Form):
    note: str = ""


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
    values: dict[str, Typed] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "course": course,
        "rows": learners_service.of_course(session, course=course, now=now),
        "errors": errors or {},
        "values": values or {},
        "notice": request.query_params.get("notice"),
    }
    return render(request, "studio/learners.html", context)


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


@dataclass(frozen=True)
class WeekBar:
    """One week's column in her practice chart, placed."""

    monday: date
    period: str
    day: str
    month: str
    minutes: int
    days: int
    column: Column


@dataclass(frozen=True)
class WeeksChart:
    """Her minutes of practice per week, as columns ready to draw, with a summary in words."""

    bars: list[WeekBar]
    summary: str
    width: int = WEEKS_WIDTH
    height: int = WEEKS_HEIGHT
    baseline: int = WEEKS_BASELINE
    bar_width: int = WEEKS_BAR
    label_y: int = WEEKS_BASELINE + 18
    month_y: int = WEEKS_BASELINE + 32


def _short_period(monday: date) -> str:
    """Monday to Sunday in short: "30 nov – 6 dec"."""
    sunday = monday + timedelta(days=6)
    return f"{i18n.format_day_as(monday, 'd MMM')} – {i18n.format_day_as(sunday, 'd MMM')}"


def weeks_chart(weeks: list[learner_page.WeekPractice]) -> WeeksChart:
    """A column per week with its minutes, labelled with the Monday's day and month."""
    minutes = [week.minutes for week in weeks]
    top = scale_top(max(minutes, default=0), minimum=WEEKS_MIN_SCALE, step=10)
    frame = Frame(WEEKS_WIDTH, WEEKS_TOP, WEEKS_BASELINE, high=top)
    placed = columns(frame, minutes, bar_width=WEEKS_BAR)
    bars = [
        WeekBar(
            week.monday,
            _short_period(week.monday),
            str(week.monday.day),
            i18n.format_day_as(week.monday, "MMM").rstrip("."),
            week.minutes,
            week.days,
            column,
        )
        for week, column in zip(weeks, placed, strict=True)
    ]
    total = sum(minutes)
    days = sum(week.days for week in weeks)
    summary = _(
        "Minutes of practice per week over the last %(weeks)s weeks: %(minutes)s minutes on "
        "%(days)s days in all.",
        weeks=len(weeks),
        minutes=total,
        days=days,
    )
    return WeeksChart(bars, summary)


@router.get("/studio/courses/{slug}/learners/{enrolment_id}", response_class=HTMLResponse)
def show_learner(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    enrolment_id: PathId,
) -> HTMLResponse:
    """One learner of the course at a glance: progress, practice, check-ins, journal, questions."""
    course = _own_course(session, user, slug)
    enrolment, learner = learners_service.one_learner(
        session, course=course, enrolment_id=enrolment_id
    )
    after = Cursor.parse(request.query_params.get("after", ""))
    page = learner_page.read(
        session, course=course, enrolment=enrolment, learner=learner, now=now, cursor=after
    )
    context: dict[str, Any] = {
        "course": course,
        "enrolment": enrolment,
        "learner": learner,
        "page": page,
        "weeks": weeks_chart(page.weeks),
        "paged": after is not None,
        "measures": series_views(page.series, own=False),
        "reason_label": attention.kind_of,
        "status_label": _(learners_service.STATUS_LABELS.get(enrolment.status, enrolment.status)),
        "source_label": _(learners_service.SOURCE_LABELS.get(enrolment.source, enrolment.source)),
    }
    return render(request, "studio/learner.html", context)


@router.post("/studio/courses/{slug}/learners", response_class=HTMLResponse)
def grant_access(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    form: Annotated[Posted[GrantForm], posted(GrantForm)],
) -> Response:
    """Give a learner access by hand, e.g. after a bank transfer."""
    course = _own_course(session, user, slug)
    try:
        data = form.valid()
        learner = accounts.find_by_email(session, data.email)
        if learner is None:
            raise FormError(
                {"email": _("There is no account with this address. Ask her to create one first.")}
            )
        enrolment_service.grant_manually(
            session, course=course, learner=learner, by=user, note=data.note,
            settings=settings_of(request),
        )  # fmt: skip
    except FormError as exc:
        return invalid(exc, _learners_page(request, session, course, now, **form.shown(exc)))
    return RedirectResponse(f"/studio/courses/{slug}/learners?notice=granted", status_code=303)


@router.post("/studio/courses/{slug}/learners/{enrolment_id}/revoke", response_class=HTMLResponse)
def revoke_access(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    enrolment_id: PathId,
    form: Annotated[Posted[RevokeForm], posted(RevokeForm)],
) -> Response:
    """End a learner's access by hand, with the reason."""
    course = _own_course(session, user, slug)
    enrolment = enrolment_service.in_course(session, course=course, enrolment_id=enrolment_id)
    try:
        enrolment_service.revoke(session, enrolment=enrolment, by=user, note=form.valid().note)
    except FormError as exc:
        # Each learner's row has its own form; the template names this one's by the enrolment.
        shown = form.shown(exc, prefix=f"revoke-{enrolment_id}-")
        return invalid(exc, _learners_page(request, session, course, now, **shown))
    return RedirectResponse(f"/studio/courses/{slug}/learners?notice=revoked", status_code=303)
