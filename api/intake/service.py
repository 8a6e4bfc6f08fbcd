"""Intake appointments: her availability, the free times it gives, booking, moving and
cancelling, and the mails (confirmation with an .ics, the reminder of the day before).

Free times are made in Amsterdam wall-clock time, one day at a time, and only then turned into
UTC moments: a weekly 09:00 is 09:00 on both sides of a clock change. A time that does not
exist that night (02:30 when the clocks go forward) is left out. The unique (instructor, start)
pair settles a race for one time: the second booking fails inside a savepoint and is told the
time was just taken, with the next free times.
"""

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.accounts.tokens import InvalidLink
from api.catalog.models import Course
from api.config import Settings
from api.errors import FormError, NotFound
from api.i18n import TIMEZONE, format_moment
from api.i18n import gettext as _
from api.intake import emails
from api.intake.models import (
    MAX_LINK,
    MAX_MESSAGE,
    MAX_NAME,
    MAX_PHONE,
    ExceptionKind,
    IntakeBooking,
    IntakeException,
    IntakeHours,
    IntakeSetting,
)
from api.kit.ids import id_of
from api.questionnaires.definition import Definition
from api.questionnaires.models import Questionnaire, QuestionnaireStatus
from api.questionnaires.scoring import read_answers
from api.questionnaires.service import definition_of, readable_answers
from api.ratelimit import service as ratelimit
from api.ratelimit.service import Limit

# How far ahead she can book, and how many free times a "just taken" message offers instead.
DAYS_AHEAD = 28
NEXT_TIMES = 3
MIN_SLOT, MAX_SLOT = 10, 240
# The reminder goes out a day before; a booking made within that day needs none.
REMIND_BEFORE = timedelta(days=1)

# The booking form mails whatever address is typed in: a few bookings an hour per address and
# per machine are plenty for people, and stop the form being used to send mail to strangers.
BOOKINGS_PER_ADDRESS = Limit(3, timedelta(hours=1))
BOOKINGS_PER_IP = Limit(10, timedelta(hours=1))

_TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?::\d{2})?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PURPOSE = b"kern-intake:"


# --- her availability ------------------------------------------------------------------------


def setting_of(session: Session, *, instructor_id: int) -> IntakeSetting:
    """Her stored intake choices, or the defaults (not added to the session)."""
    return session.get(IntakeSetting, instructor_id) or IntakeSetting(instructor_id=instructor_id)


def read_time(text: str) -> time | None:
    """ "09:00" (or "9.00") as a time; None when it is not one."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


def _window(starts: str, ends: str) -> tuple[str, str]:
    """From and until as "HH:MM"; FormError when either is not a time or until is not later."""
    begin, end = read_time(starts), read_time(ends)
    errors: dict[str, str] = {}
    if begin is None:
        errors["starts"] = _("Fill in a time, e.g. 09:00.")
    if end is None:
        errors["ends"] = _("Fill in a time, e.g. 12:00.")
    elif begin is not None and end <= begin:
        errors["ends"] = _("Choose a time after the start.")
    if errors or begin is None or end is None:
        raise FormError(errors)
    return begin.strftime("%H:%M"), end.strftime("%H:%M")


def intake_questionnaires(session: Session, *, instructor: User) -> list[Questionnaire]:
    """The published questionnaires of her courses she may pick for the intake."""
    query = (
        select(Questionnaire)
        .join(Course, col(Course.id) == col(Questionnaire.course_id))
        .where(col(Questionnaire.status) == QuestionnaireStatus.published.value)
        .order_by(col(Questionnaire.title))
    )
    if instructor.role != Role.admin.value:
        query = query.where(col(Course.instructor_id) == instructor.id)
    return list(session.exec(query).all())


def save_setting(
    session: Session,
    *,
    instructor: User,
    slot_minutes: int,
    video_link: str,
    questionnaire_id: int | None,
) -> IntakeSetting:
    """Store the slot length, her video-call link and the intake questionnaire."""
    errors: dict[str, str] = {}
    if not MIN_SLOT <= slot_minutes <= MAX_SLOT:
        errors["slot_minutes"] = _(
            "Choose between %(low)s and %(high)s minutes.", low=MIN_SLOT, high=MAX_SLOT
        )
    link = video_link.strip()
    if link and (not link.startswith("https://") or len(link) > MAX_LINK or " " in link):
        errors["video_link"] = _("Use a web address that starts with https://.")
    allowed = {id_of(q) for q in intake_questionnaires(session, instructor=instructor)}
    if questionnaire_id is not None and questionnaire_id not in allowed:
        errors["questionnaire_id"] = _("Choose one of the options in the list.")
    if errors:
        raise FormError(errors)
    setting = setting_of(session, instructor_id=id_of(instructor))
    setting.slot_minutes, setting.video_link = slot_minutes, link
    setting.questionnaire_id = questionnaire_id
    session.add(setting)
    session.flush()
    return setting


def add_hours(
    session: Session, *, instructor: User, weekday: int, starts: str, ends: str
) -> IntakeHours:
    """Add a weekly window (Monday = 0)."""
    if not 0 <= weekday <= 6:
        raise FormError({"weekday": _("Choose one of the options in the list.")})
    begin, end = _window(starts, ends)
    hours = IntakeHours(instructor_id=id_of(instructor), weekday=weekday, starts=begin, ends=end)
    session.add(hours)
    session.flush()
    return hours


def add_exception(
    session: Session, *, instructor: User, day: str, kind: str, starts: str, ends: str
) -> IntakeException:
    """Add a day off, or extra times on one day."""
    try:
        when = date.fromisoformat(day.strip())
    except ValueError:
        raise FormError({"day": _("Choose a day.")}) from None
    if kind not in (ExceptionKind.off.value, ExceptionKind.extra.value):
        raise FormError({"kind": _("Choose one of the options in the list.")})
    begin, end = ("", "") if kind == ExceptionKind.off.value else _window(starts, ends)
    exception = IntakeException(
        instructor_id=id_of(instructor), day=when, kind=kind, starts=begin, ends=end
    )
    session.add(exception)
    session.flush()
    return exception


def remove_hours(session: Session, *, instructor: User, hours_id: int) -> None:
    """Remove one of her weekly windows; NotFound when it is not hers."""
    _remove(session, session.get(IntakeHours, hours_id), instructor=instructor)


def remove_exception(session: Session, *, instructor: User, exception_id: int) -> None:
    """Remove one of her days off or extra times; NotFound when it is not hers."""
    _remove(session, session.get(IntakeException, exception_id), instructor=instructor)


def _remove(
    session: Session, row: IntakeHours | IntakeException | None, *, instructor: User
) -> None:
    if row is None or row.instructor_id != instructor.id:
        raise NotFound(_("We could not find this time."))
    session.delete(row)
    session.flush()


def hours_of(session: Session, *, instructor_id: int) -> list[IntakeHours]:
    return list(
        session.exec(
            select(IntakeHours)
            .where(IntakeHours.instructor_id == instructor_id)
            .order_by(col(IntakeHours.weekday), col(IntakeHours.starts))
        ).all()
    )


def exceptions_of(session: Session, *, instructor_id: int, since: date) -> list[IntakeException]:
    return list(
        session.exec(
            select(IntakeException)
            .where(IntakeException.instructor_id == instructor_id, IntakeException.day >= since)
            .order_by(col(IntakeException.day), col(IntakeException.starts))
        ).all()
    )


# --- free times ------------------------------------------------------------------------------


def _local_starts(day: date, begin: time, end: time, step: timedelta) -> Iterator[datetime]:
    """The slot starts from `begin` until `end` on the day, stepped on the wall clock, as UTC."""
    wall = datetime.combine(day, begin)
    last = datetime.combine(day, end) - step
    while wall <= last:
        moment = wall.replace(tzinfo=TIMEZONE).astimezone(UTC)
        # A wall time that does not exist that night comes back as another one: left out.
        if moment.astimezone(TIMEZONE).replace(tzinfo=None) == wall:
            yield moment
        wall += step


def free_slots(
    session: Session,
    *,
    instructor_id: int,
    now: datetime,
    days: int = DAYS_AHEAD,
    start_day: date | None = None,
) -> list[datetime]:
    """Her free slot starts (UTC) from now on, earliest first."""
    setting = setting_of(session, instructor_id=instructor_id)
    step = timedelta(minutes=setting.slot_minutes)
    first = start_day or now.astimezone(TIMEZONE).date()
    weekly: dict[int, list[tuple[str, str]]] = {}
    for hours in hours_of(session, instructor_id=instructor_id):
        weekly.setdefault(hours.weekday, []).append((hours.starts, hours.ends))
    off: set[date] = set()
    extra: dict[date, list[tuple[str, str]]] = {}
    for exception in exceptions_of(session, instructor_id=instructor_id, since=first):
        if exception.kind == ExceptionKind.off.value:
            off.add(exception.day)
        else:
            extra.setdefault(exception.day, []).append((exception.starts, exception.ends))
    taken = set(
        session.exec(
            select(IntakeBooking.starts_at).where(
                IntakeBooking.instructor_id == instructor_id, IntakeBooking.starts_at > now
            )
        ).all()
    )
    found: set[datetime] = set()
    for offset in range(days):
        day = first + timedelta(days=offset)
        windows = ([] if day in off else weekly.get(day.weekday(), [])) + extra.get(day, [])
        for starts, ends in windows:
            begin, end = read_time(starts), read_time(ends)
            if begin is None or end is None:
                continue
            for moment in _local_starts(day, begin, end, step):
                if moment > now and moment not in taken:
                    found.add(moment)
    return sorted(found)


def read_slot(text: str) -> datetime | None:
    """A slot as the form sends it (an ISO moment in UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def slot_value(moment: datetime) -> str:
    """A slot as the form sends it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class Day:
    day: date
    slots: list[datetime]


def by_day(slots: Sequence[datetime]) -> list[Day]:
    """The free slots grouped by their Amsterdam day."""
    days: dict[date, list[datetime]] = {}
    for slot in slots:
        days.setdefault(slot.astimezone(TIMEZONE).date(), []).append(slot)
    return [Day(day, found) for day, found in days.items()]


class SlotTaken(FormError):
    """The chosen time is gone (booked a moment ago, or no longer offered)."""

    status_code = 409

    def __init__(self, next_free: Sequence[datetime], *, just_now: bool) -> None:
        first = (
            _("This time was just taken by someone else.")
            if just_now
            else _("This time is not available (any more).")
        )
        if next_free:
            times = ", ".join(format_moment(moment) for moment in next_free)
            text = first + " " + _("The next free times: %(times)s.", times=times)
        else:
            text = first + " " + _("There are no free times at the moment.")
        super().__init__({"slot": text})
        self.next_free = list(next_free)


def _check_slot(
    session: Session, *, instructor_id: int, text: str, now: datetime
) -> tuple[datetime, list[datetime]]:
    """The chosen slot, when it is free and in the future; SlotTaken otherwise."""
    free = free_slots(session, instructor_id=instructor_id, now=now)
    moment = read_slot(text)
    if not text.strip():
        raise FormError({"slot": _("Choose a time.")})
    if moment is None or moment not in free:
        later = [slot for slot in free if moment is None or slot > moment]
        raise SlotTaken(later[:NEXT_TIMES] or free[:NEXT_TIMES], just_now=False)
    return moment, free


def _store(
    session: Session, booking: IntakeBooking, free: list[datetime], *, now: datetime
) -> None:
    """Insert or move the booking inside a savepoint; SlotTaken when another got there first."""
    try:
        with session.begin_nested():
            session.add(booking)
            session.flush()
    except IntegrityError:
        later = [slot for slot in free if slot > booking.starts_at]
        raise SlotTaken(later[:NEXT_TIMES], just_now=True) from None


# --- booking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    booking: IntakeBooking
    link: str  # her link to cancel or move it


def instructor_for_intake(session: Session, *, instructor_id: int) -> User:
    """The instructor or admin who takes intakes; NotFound for anyone else."""
    user = session.get(User, instructor_id)
    if user is None or user.role not in (Role.instructor.value, Role.admin.value):
        raise NotFound(_("We could not find this page."))
    return user


def questionnaire_for(session: Session, *, instructor_id: int) -> Questionnaire | None:
    """The published questionnaire she asks for at the intake, if any."""
    setting = setting_of(session, instructor_id=instructor_id)
    if setting.questionnaire_id is None:
        return None
    questionnaire = session.get(Questionnaire, setting.questionnaire_id)
    if questionnaire is None or questionnaire.status != QuestionnaireStatus.published.value:
        return None
    return questionnaire


def _read_answers(
    questionnaire: Questionnaire | None, raw: dict[str, Any], *, consent: bool
) -> dict[str, Any] | None:
    """Her answers to the intake questionnaire, only with her consent; None when she gave none."""
    if questionnaire is None:
        return None
    definition: Definition = definition_of(questionnaire)
    given = {key: value for key, value in raw.items() if value not in ("", [], None)}
    if not given:
        return None
    if not consent:
        raise FormError(
            {"agree": _("Tick the box to let us keep your answers, or leave the questions empty.")}
        )
    answers, errors = read_answers(definition, raw)
    if errors:
        raise FormError(errors)
    return dict(answers)


def _contact(name: str, email: str, phone: str, message: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Fill this in.")
    elif len(name.strip()) > MAX_NAME:
        errors["name"] = _("Use at most %(n)s characters.", n=MAX_NAME)
    if not _EMAIL.fullmatch(email.strip()) or len(email.strip()) > 254:
        errors["email"] = _("Fill in an email address, e.g. naam@voorbeeld.nl.")
    if len(phone.strip()) > MAX_PHONE:
        errors["phone"] = _("Use at most %(n)s characters.", n=MAX_PHONE)
    if len(message) > MAX_MESSAGE:
        errors["message"] = _("Use at most %(n)s characters.", n=MAX_MESSAGE)
    return errors


def book(
    session: Session,
    settings: Settings,
    *,
    instructor: User,
    slot: str,
    name: str,
    email: str,
    phone: str,
    message: str,
    answers: dict[str, Any],
    consent: bool,
    learner: User | None,
    language: str,
    now: datetime,
    ip: str = "",
) -> Booked:
    """Book a free slot and queue the confirmation (with .ics) and the instructor's notice;
    TooManyAttempts after several bookings from one address or machine within the hour."""
    errors = _contact(name, email, phone, message)
    if errors:
        raise FormError(errors)
    # Keys ending in her address are hers (exported and erased with her account).
    limits = [
        (f"intake{ratelimit.ACCOUNT_MARK}{email.strip().lower()}", BOOKINGS_PER_ADDRESS),
        (f"intake:ip:{ip}", BOOKINGS_PER_IP),
    ]
    ratelimit.guard(session, limits)
    instructor_id = id_of(instructor)
    questionnaire = questionnaire_for(session, instructor_id=instructor_id)
    stored_answers = _read_answers(questionnaire, answers, consent=consent)
    moment, free = _check_slot(session, instructor_id=instructor_id, text=slot, now=now)
    setting = setting_of(session, instructor_id=instructor_id)
    booking = IntakeBooking(
        instructor_id=instructor_id,
        user_id=learner.id if learner else None,
        starts_at=moment,
        ends_at=moment + timedelta(minutes=setting.slot_minutes),
        name=name.strip(),
        email=email.strip(),
        phone=phone.strip(),
        message=message.strip(),
        questionnaire_id=id_of(questionnaire)
        if stored_answers is not None and questionnaire
        else None,
        answers=stored_answers,
        consent_at=now if stored_answers is not None else None,
        manage_key=secrets.token_urlsafe(24),
        language=language,
        created_at=now,
        reminded_at=now if moment - now <= REMIND_BEFORE else None,
    )
    _store(session, booking, free, now=now)
    ratelimit.record(session, *(key for key, _limit in limits), now=now)
    return _confirmed(
        session, settings, booking, instructor=instructor, setting=setting, learner=learner, now=now
    )


def move(
    session: Session, settings: Settings, *, booking: IntakeBooking, slot: str, now: datetime
) -> Booked:
    """Move her booking to another free slot; the one she left is free again at once."""
    if booking.starts_at <= now:
        raise FormError({"slot": _("This appointment has already started.")})
    moment, free = _check_slot(session, instructor_id=booking.instructor_id, text=slot, now=now)
    setting = setting_of(session, instructor_id=booking.instructor_id)
    booking.starts_at = moment
    booking.ends_at = moment + timedelta(minutes=setting.slot_minutes)
    booking.sequence += 1
    booking.reminded_at = now if moment - now <= REMIND_BEFORE else None
    _store(session, booking, free, now=now)
    instructor = instructor_for_intake(session, instructor_id=booking.instructor_id)
    learner = session.get(User, booking.user_id) if booking.user_id else None
    return _confirmed(
        session,
        settings,
        booking,
        instructor=instructor,
        setting=setting,
        learner=learner,
        now=now,
        moved=True,
    )


def _confirmed(
    session: Session,
    settings: Settings,
    booking: IntakeBooking,
    *,
    instructor: User,
    setting: IntakeSetting,
    learner: User | None,
    now: datetime,
    moved: bool = False,
) -> Booked:
    """Queue her confirmation (with the .ics and her link) and the instructor's notice."""
    link = manage_link(settings, booking)
    emails.queue_confirmation(
        session,
        settings,
        booking=booking,
        instructor=instructor,
        setting=setting,
        link=link,
        learner=learner,
        moved=moved,
        now=now,
    )
    emails.queue_instructor_notice(
        session,
        settings,
        booking=booking,
        instructor=instructor,
        kind="moved" if moved else "booked",
        now=now,
    )
    return Booked(booking, link)


def cancel(session: Session, settings: Settings, *, booking: IntakeBooking, now: datetime) -> None:
    """Cancel her booking: it is deleted with any answers, and the instructor is told."""
    instructor = instructor_for_intake(session, instructor_id=booking.instructor_id)
    emails.queue_instructor_notice(
        session, settings, booking=booking, instructor=instructor, kind="cancelled", now=now
    )
    session.delete(booking)
    session.flush()


# --- her link --------------------------------------------------------------------------------


def _signature(settings: Settings, booking_id: int, key: str) -> str:
    secret = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(secret, _PURPOSE + f"{booking_id}.{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def manage_token(settings: Settings, booking: IntakeBooking) -> str:
    """The signed token of her cancel-or-move link: the booking and its random key, signed."""
    booking_id = id_of(booking)
    return f"{booking_id}.{_signature(settings, booking_id, booking.manage_key)}"


def manage_link(settings: Settings, booking: IntakeBooking) -> str:
    return f"{settings.base_url}/intake/booking/{manage_token(settings, booking)}"


def booking_for_token(session: Session, settings: Settings, *, token: str) -> IntakeBooking:
    """The booking her link names; InvalidLink when it was cancelled or the link was changed."""
    number, _dot, signature = token.partition(".")
    if not (number.isascii() and number.isdigit() and len(number) <= 18) or len(token) > 100:
        raise InvalidLink
    booking = session.get(IntakeBooking, int(number))
    if booking is None:
        raise InvalidLink
    expected = _signature(settings, id_of(booking), booking.manage_key)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise InvalidLink
    return booking


def readable(session: Session, booking: IntakeBooking) -> list[dict[str, Any]]:
    """Her intake answers with their questions, for her and the instructor."""
    if not booking.answers or booking.questionnaire_id is None:
        return []
    questionnaire = session.get(Questionnaire, booking.questionnaire_id)
    if questionnaire is None:
        return []
    return readable_answers(definition_of(questionnaire), booking.answers)


# --- the studio ------------------------------------------------------------------------------


def upcoming(session: Session, *, instructor: User, now: datetime) -> list[IntakeBooking]:
    """Her bookings that have not ended yet, earliest first."""
    return list(
        session.exec(
            select(IntakeBooking)
            .where(IntakeBooking.instructor_id == instructor.id, IntakeBooking.ends_at > now)
            .order_by(col(IntakeBooking.starts_at))
        ).all()
    )


# --- the reminder ----------------------------------------------------------------------------


def queue_reminders(session: Session, settings: Settings, *, now: datetime) -> int:
    """Queue the reminder of every booking that starts within a day and has had none; how many."""
    due = session.exec(
        select(IntakeBooking).where(
            col(IntakeBooking.reminded_at).is_(None),
            IntakeBooking.starts_at > now,
            IntakeBooking.starts_at <= now + REMIND_BEFORE,
        )
    ).all()
    queued = 0
    for booking in due:
        booking.reminded_at = now
        session.add(booking)
        instructor = session.get(User, booking.instructor_id)
        if instructor is None:
            continue
        setting = setting_of(session, instructor_id=booking.instructor_id)
        learner = session.get(User, booking.user_id) if booking.user_id else None
        queued += emails.queue_reminder(
            session,
            settings,
            booking=booking,
            instructor=instructor,
            setting=setting,
            link=manage_link(settings, booking),
            learner=learner,
            now=now,
        )
    session.flush()
    return queued


# --- her data --------------------------------------------------------------------------------


def _hers(user: User) -> Any:
    return or_(col(IntakeBooking.user_id) == user.id, col(IntakeBooking.email) == user.email)


def export(session: Session, *, user: User) -> dict[str, Any]:
    """Her intake bookings (with her answers), and, for an instructor, her availability."""
    bookings = session.exec(select(IntakeBooking).where(_hers(user))).all()
    setting = session.get(IntakeSetting, user.id)
    return {
        "bookings": [
            {
                "starts_at": booking.starts_at.isoformat(),
                "ends_at": booking.ends_at.isoformat(),
                "name": booking.name,
                "email": booking.email,
                "phone": booking.phone,
                "message": booking.message,
                "answers": readable(session, booking),
                "consent_at": booking.consent_at.isoformat() if booking.consent_at else None,
            }
            for booking in bookings
        ],
        "availability": {
            "slot_minutes": setting.slot_minutes if setting else None,
            "video_link": setting.video_link if setting else None,
            "weekly": [
                {"weekday": h.weekday, "starts": h.starts, "ends": h.ends}
                for h in hours_of(session, instructor_id=id_of(user))
            ],
        },
    }


def erase(session: Session, *, user: User) -> None:
    """Delete her bookings (with her answers), and her own availability."""
    session.execute(delete(IntakeBooking).where(_hers(user)))
    for table in (IntakeHours, IntakeException):
        session.execute(delete(table).where(col(table.instructor_id) == user.id))
    session.execute(delete(IntakeSetting).where(col(IntakeSetting.instructor_id) == user.id))
