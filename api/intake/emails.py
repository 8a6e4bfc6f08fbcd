"""The mails of an intake: her confirmation with an .ics (again after a move), the reminder of
the day before, and a short notice to the instructor for each booking, move and cancellation.

Mail to someone without an account holds only what the appointment needs: the time, the
instructor, the video-call link and her link to cancel or move. No mail holds her answers or
her message: mail is not the place for health details.
"""

from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session

from api import i18n
from api.accounts.models import User
from api.config import Settings
from api.i18n import N_
from api.i18n import gettext as _
from api.intake.models import IntakeBooking, IntakeSetting
from api.kit.ids import id_of
from api.mail.compose import compose
from api.mail.outbox import enqueue


def _recipient(booking: IntakeBooking, learner: User | None) -> User:
    """Who the mail is for: her account, or a stand-in with only the booking's name and address."""
    if learner is not None:
        return learner
    return User(name=booking.name, email=booking.email, language=booking.language, password_hash="")


def invitation(
    settings: Settings,
    *,
    booking: IntakeBooking,
    instructor: User,
    setting: IntakeSetting,
    link: str,
    now: datetime,
) -> str:
    """The .ics of the appointment; one UID per booking, a higher SEQUENCE after each move."""
    # Imported here, as the mail worker needs it: not a module every web worker should hold.
    from icalendar import Calendar, Event  # noqa: PLC0415

    calendar = Calendar()
    calendar.add("prodid", "-//Kern//Intake//NL")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    host = urlsplit(settings.base_url).hostname or "kern.localhost"
    event.add("uid", f"intake-{id_of(booking)}-{booking.manage_key[:8]}@{host}")
    event.add("sequence", booking.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", _("Intake with %(name)s", name=instructor.name))
    lines = [_("Cancel or move: %(link)s", link=link)]
    if setting.video_link:
        event.add("location", setting.video_link)
        lines.insert(0, _("Video call: %(link)s", link=setting.video_link))
    event.add("description", "\n".join(lines))
    event.add("url", link)
    calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics.decode()


def queue_confirmation(
    session: Session,
    settings: Settings,
    *,
    booking: IntakeBooking,
    instructor: User,
    setting: IntakeSetting,
    link: str,
    learner: User | None,
    moved: bool,
    now: datetime,
) -> None:
    """Her confirmation (or the new time after a move), with the .ics attached."""
    person = _recipient(booking, learner)
    message = compose(
        settings,
        user=person,
        to=booking.email,
        subject=N_("Your intake has moved") if moved else N_("Your intake is booked"),
        template="intake_confirmation",
        context=_context(booking, instructor, setting, link, moved=moved),
        action=N_("Cancel or move"),
    )
    token = i18n.current_locale.set(person.language)
    try:
        ics = invitation(
            settings, booking=booking, instructor=instructor, setting=setting, link=link, now=now
        )
    finally:
        i18n.current_locale.reset(token)
    enqueue(
        session,
        replace(message, calendar=ics),
        kind="intake_confirmation",
        user_id=learner.id if learner else None,
        now=now,
    )


def queue_reminder(
    session: Session,
    settings: Settings,
    *,
    booking: IntakeBooking,
    instructor: User,
    setting: IntakeSetting,
    link: str,
    learner: User | None,
    now: datetime,
) -> int:
    """The reminder of the day before, once per booking (the outbox key says so)."""
    person = _recipient(booking, learner)
    message = compose(
        settings,
        user=person,
        to=booking.email,
        subject=N_("Tomorrow: your intake"),
        template="intake_reminder",
        context=_context(booking, instructor, setting, link, moved=False),
        action=N_("Cancel or move"),
    )
    queued = enqueue(
        session,
        message,
        kind="intake_reminder",
        user_id=learner.id if learner else None,
        key=f"intake-reminder:{id_of(booking)}",
        now=now,
    )
    return int(queued)


def queue_instructor_notice(
    session: Session,
    settings: Settings,
    *,
    booking: IntakeBooking,
    instructor: User,
    kind: str,
    now: datetime,
) -> None:
    """A short notice to the instructor: who, when, and what happened; nothing about health."""
    subjects = {
        "booked": N_("New intake booking"),
        "moved": N_("An intake was moved"),
        "cancelled": N_("An intake was cancelled"),
    }
    message = compose(
        settings,
        user=instructor,
        subject=subjects[kind],
        template="intake_notice",
        context={"booking": booking, "kind": kind},
        action=N_("Open the studio"),
    )
    enqueue(session, message, kind="intake_notice", user_id=instructor.id, now=now)


def _context(
    booking: IntakeBooking, instructor: User, setting: IntakeSetting, link: str, *, moved: bool
) -> dict[str, object]:
    return {
        "booking": booking,
        "instructor": instructor,
        "video_link": setting.video_link,
        "link": link,
        "moved": moved,
    }
