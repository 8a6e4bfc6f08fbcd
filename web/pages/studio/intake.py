"""The studio's intake page: her weekly hours, days off and extra times, the slot length, her
video-call link and questionnaire, and the bookings to come (with the answers given)."""

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.clock import Now, local_day
from api.db import SessionDep
from api.errors import FormError
from api.i18n import format_day_as
from api.i18n import gettext as _
from api.intake import service as intake
from api.kit.ids import PathId, id_of
from web.forms import Form, Posted, Typed, invalid, posted
from web.pages.common import settings_of
from web.pages.intake import TIME_HELPERS
from web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = "/studio/intake"


class SettingForm(Form):
    slot_minutes: str = ""
    video_link: str = ""
    questionnaire_id: str = ""


class HoursForm(Form):
    weekday: str = ""
    starts: str = ""
    ends: str = ""


class ExceptionForm(Form):
    day: str = ""
    kind: str = ""
    starts: str = ""
    ends: str = ""


def _page(
    request: Request,
    session: Session,
    user: User,
    now: datetime,
    *,
    values: dict[str, Typed] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    user_id = id_of(user)
    setting = intake.setting_of(session, instructor_id=user_id)
    bookings = intake.upcoming(session, instructor=user, now=now)
    context: dict[str, Any] = {
        "setting": setting,
        "hours": intake.hours_of(session, instructor_id=user_id),
        "exceptions": intake.exceptions_of(session, instructor_id=user_id, since=local_day(now)),
        "bookings": [(booking, intake.readable(session, booking)) for booking in bookings],
        "questionnaires": intake.intake_questionnaires(session, instructor=user),
        # A Monday to name the weekdays from, in her language.
        "weekdays": [
            (day, format_day_as(date(2024, 1, 1) + timedelta(days=day), "EEEE")) for day in range(7)
        ],
        "booking_link": f"{settings_of(request).base_url}/intake/{user_id}",
        "notice": request.query_params.get("notice"),
        "values": values or {},
        "errors": errors or {},
        **TIME_HELPERS,
    }
    return render(request, "studio/intake.html", context)


@router.get(PAGE, response_class=HTMLResponse)
def show_intake(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now
) -> HTMLResponse:
    """Her availability and the bookings to come."""
    return _page(request, session, user, now)


def _done(notice: str) -> RedirectResponse:
    return RedirectResponse(f"{PAGE}?notice={notice}", status_code=303)


def _refused(
    request: Request,
    session: Session,
    user: User,
    now: Now,
    form: Posted[Any],
    exc: FormError,
    prefix: str,
) -> HTMLResponse:
    return invalid(exc, _page(request, session, user, now, **form.shown(exc, prefix=prefix)))


@router.post(PAGE, response_class=HTMLResponse)
def save_setting(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    form: Annotated[Posted[SettingForm], posted(SettingForm)],
) -> Response:
    """Store the slot length, her video-call link and the intake questionnaire."""
    try:
        data = form.valid()
        minutes = data.slot_minutes.strip()
        if not minutes.isdigit():
            raise FormError({"slot_minutes": _("Fill in a whole number, e.g. 5.")})
        chosen = data.questionnaire_id.strip()
        intake.save_setting(
            session,
            instructor=user,
            slot_minutes=int(minutes),
            video_link=data.video_link,
            questionnaire_id=int(chosen) if chosen.isdigit() else None,
        )
    except FormError as exc:
        return _refused(request, session, user, now, form, exc, "setting-")
    return _done("saved")


@router.post(PAGE + "/hours", response_class=HTMLResponse)
def add_hours(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    form: Annotated[Posted[HoursForm], posted(HoursForm)],
) -> Response:
    """Add a weekly window."""
    try:
        data = form.valid()
        weekday = int(data.weekday) if data.weekday.isdigit() else -1
        intake.add_hours(
            session, instructor=user, weekday=weekday, starts=data.starts, ends=data.ends
        )
    except FormError as exc:
        return _refused(request, session, user, now, form, exc, "hours-")
    return _done("hours-added")


@router.post(PAGE + "/exceptions", response_class=HTMLResponse)
def add_exception(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    form: Annotated[Posted[ExceptionForm], posted(ExceptionForm)],
) -> Response:
    """Add a day off or extra times on one day."""
    try:
        data = form.valid()
        intake.add_exception(
            session,
            instructor=user,
            day=data.day,
            kind=data.kind,
            starts=data.starts,
            ends=data.ends,
        )
    except FormError as exc:
        return _refused(request, session, user, now, form, exc, "exception-")
    return _done("exception-added")


@router.post(PAGE + "/hours/{item_id}/delete")
def remove_hours(session: SessionDep, user: RequireInstructor, item_id: PathId) -> Response:
    """Remove a weekly window."""
    intake.remove_hours(session, instructor=user, hours_id=item_id)
    return _done("removed")


@router.post(PAGE + "/exceptions/{item_id}/delete")
def remove_exception(session: SessionDep, user: RequireInstructor, item_id: PathId) -> Response:
    """Remove a day off or extra times."""
    intake.remove_exception(session, instructor=user, exception_id=item_id)
    return _done("removed")
