"""Booking an intake ("plan een intakegesprek"): the free times of an instructor, the booking
form, and her own page behind the mailed link to see, move or cancel the appointment."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.accounts.access import CurrentUser
from api.accounts.models import User
from api.clock import Now
from api.db import SessionDep
from api.errors import FormError, TooManyAttempts
from api.i18n import TIMEZONE, format_day_as
from api.i18n import gettext as _
from api.intake import service as intake
from api.intake.models import MAX_MESSAGE, MAX_NAME, MAX_PHONE, IntakeBooking
from api.kit.ids import PathId, id_of
from api.questionnaires.service import definition_of
from web.forms import Checkbox, Form, Posted, Typed, invalid, posted
from web.pages.checkins import RawAnswers, as_raw, item_views
from web.pages.common import client_ip, settings_of
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)


def format_time(moment: datetime) -> str:
    """The wall-clock time in Amsterdam, "09:00"."""
    return moment.astimezone(TIMEZONE).strftime("%H:%M")


# What the intake templates use to show days and times in Amsterdam.
TIME_HELPERS: dict[str, Any] = {
    "format_day_as": format_day_as,
    "format_time": format_time,
    "timezone": TIMEZONE,
    "slot_value": intake.slot_value,
}


class BookingForm(Form):
    slot: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""
    message: str = ""
    agree: Checkbox = False


class MoveForm(Form):
    slot: str = ""


def _booking_page(
    request: Request,
    session: Session,
    *,
    instructor: User,
    viewer: User | None,
    now: datetime,
    typed: dict[str, list[str]] | None = None,
    values: dict[str, Typed] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    instructor_id = id_of(instructor)
    questionnaire = intake.questionnaire_for(session, instructor_id=instructor_id)
    errors = errors or {}
    shown: dict[str, Typed] = (
        {"name": viewer.name, "email": viewer.email} if viewer and values is None else {}
    )
    context: dict[str, Any] = {
        "instructor": instructor,
        "setting": intake.setting_of(session, instructor_id=instructor_id),
        "days": intake.by_day(intake.free_slots(session, instructor_id=instructor_id, now=now)),
        **TIME_HELPERS,
        "questionnaire": questionnaire,
        "questions": (
            item_views(definition_of(questionnaire), typed or {}, errors) if questionnaire else []
        ),
        "values": values if values is not None else shown,
        "errors": errors,
        "max_name": MAX_NAME,
        "max_phone": MAX_PHONE,
        "max_message": MAX_MESSAGE,
    }
    return render(request, "intake/book.html", context)


@router.get("/intake/{instructor_id}", response_class=HTMLResponse)
def show_booking(
    request: Request, session: SessionDep, viewer: CurrentUser, now: Now, instructor_id: PathId
) -> HTMLResponse:
    """Her free times, day by day, and the form to book one."""
    instructor = intake.instructor_for_intake(session, instructor_id=instructor_id)
    return _booking_page(request, session, instructor=instructor, viewer=viewer, now=now)


@router.post("/intake/{instructor_id}", response_class=HTMLResponse)
def book(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    now: Now,
    instructor_id: PathId,
    form: Annotated[Posted[BookingForm], posted(BookingForm)],
    typed: RawAnswers,
) -> Response:
    """Book the chosen time; a time just taken says so, with the next free ones."""
    instructor = intake.instructor_for_intake(session, instructor_id=instructor_id)
    questionnaire = intake.questionnaire_for(session, instructor_id=instructor_id)
    raw = as_raw(typed, definition_of(questionnaire)) if questionnaire else {}
    try:
        data = form.valid()
        booked = intake.book(
            session,
            settings_of(request),
            instructor=instructor,
            slot=data.slot,
            name=data.name,
            email=data.email,
            phone=data.phone,
            message=data.message,
            answers=raw,
            consent=data.agree,
            learner=viewer,
            language=locale_of(request),
            now=now,
            ip=client_ip(request),
        )
    except TooManyAttempts as exc:
        errors = {"slot": exc.message}
        page = _booking_page(
            request,
            session,
            instructor=instructor,
            viewer=viewer,
            now=now,
            typed=typed,
            values=form.values,
            errors=errors,
        )
        return invalid(exc, page)
    except FormError as exc:
        page = _booking_page(
            request,
            session,
            instructor=instructor,
            viewer=viewer,
            now=now,
            typed=typed,
            **form.shown(exc),
        )
        return invalid(exc, page)
    return RedirectResponse(_own_path(booked.link) + "?notice=booked", status_code=303)


def _own_path(link: str) -> str:
    return "/intake/booking/" + link.rsplit("/", 1)[1]


def _manage_page(
    request: Request,
    session: Session,
    booking: IntakeBooking,
    *,
    token: str,
    now: datetime,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    instructor = intake.instructor_for_intake(session, instructor_id=booking.instructor_id)
    context: dict[str, Any] = {
        "booking": booking,
        "instructor": instructor,
        "setting": intake.setting_of(session, instructor_id=booking.instructor_id),
        "answers": intake.readable(session, booking),
        "days": intake.by_day(
            intake.free_slots(session, instructor_id=booking.instructor_id, now=now)
        ),
        **TIME_HELPERS,
        "token": token,
        "started": booking.starts_at <= now,
        "notice": request.query_params.get("notice"),
        "values": {},
        "errors": errors or {},
    }
    return render(request, "intake/booking.html", context)


@router.get("/intake/booking/{token}", response_class=HTMLResponse)
def show_own_booking(request: Request, session: SessionDep, now: Now, token: str) -> HTMLResponse:
    """Her appointment behind the mailed link, with moving and cancelling."""
    booking = intake.booking_for_token(session, settings_of(request), token=token)
    return _manage_page(request, session, booking, token=token, now=now)


@router.post("/intake/booking/{token}/move", response_class=HTMLResponse)
def move_booking(
    request: Request,
    session: SessionDep,
    now: Now,
    token: str,
    form: Annotated[Posted[MoveForm], posted(MoveForm)],
) -> Response:
    """Move her appointment to another free time; the one she left is free again."""
    settings = settings_of(request)
    booking = intake.booking_for_token(session, settings, token=token)
    try:
        intake.move(session, settings, booking=booking, slot=form.valid().slot, now=now)
    except FormError as exc:
        page = _manage_page(request, session, booking, token=token, now=now, errors=exc.fields)
        return invalid(exc, page)
    return RedirectResponse(f"/intake/booking/{token}?notice=moved", status_code=303)


@router.post("/intake/booking/{token}/cancel", response_class=HTMLResponse)
def cancel_booking(request: Request, session: SessionDep, now: Now, token: str) -> Response:
    """Cancel her appointment: it is deleted, with anything she filled in."""
    settings = settings_of(request)
    booking = intake.booking_for_token(session, settings, token=token)
    instructor_id = booking.instructor_id
    intake.cancel(session, settings, booking=booking, now=now)
    context = {"instructor_id": instructor_id, "title": _("Your intake is cancelled")}
    return render(request, "intake/cancelled.html", context)
