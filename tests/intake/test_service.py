"""Intake appointments: free times in Amsterdam across clock changes, booking, moving and
cancelling with the mailed link, the reminder of the day before, and what mail may say."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlmodel import Session, col, select

from api.accounts import personal_data
from api.accounts.models import Role, User
from api.accounts.tokens import InvalidLink
from api.config import Settings
from api.errors import FormError, TooManyAttempts
from api.i18n import TIMEZONE
from api.intake import service as intake
from api.intake.models import IntakeBooking
from api.mail.models import OutboxMessage
from tests.factories import make_user

# Thursday 25 March 2027; the clocks go forward in the night to Sunday 28 March.
BEFORE_SPRING = datetime(2027, 3, 25, 8, 0, tzinfo=UTC)
# Thursday 28 October 2027; the clocks go back in the night to Sunday 31 October.
BEFORE_AUTUMN = datetime(2027, 10, 28, 8, 0, tzinfo=UTC)


def therapist(session: Session, *, minutes: int = 30) -> User:
    """Ingrid: intakes on Friday and Monday mornings, 09:00–10:00."""
    ingrid = make_user(session, name="Ingrid", role=Role.instructor)
    intake.save_setting(
        session,
        instructor=ingrid,
        slot_minutes=minutes,
        video_link="https://meet.example/ingrid",
        questionnaire_id=None,
    )
    for weekday in (0, 4):
        intake.add_hours(session, instructor=ingrid, weekday=weekday, starts="09:00", ends="10:00")
    return ingrid


def local(moments: list[datetime]) -> list[str]:
    return [m.astimezone(TIMEZONE).strftime("%a %H:%M") for m in moments]


@pytest.mark.parametrize(
    ("now", "friday_utc", "monday_utc"),
    [(BEFORE_SPRING, 8, 7), (BEFORE_AUTUMN, 7, 8)],
    ids=["march", "october"],
)
def test_a_nine_oclock_slot_stays_nine_oclock_across_the_clock_change(
    session: Session, now: datetime, friday_utc: int, monday_utc: int
) -> None:
    ingrid = therapist(session)
    free = intake.free_slots(session, instructor_id=ingrid.id or 0, now=now, days=5)
    assert local(free) == ["Fri 09:00", "Fri 09:30", "Mon 09:00", "Mon 09:30"]
    assert [m.hour for m in free] == [friday_utc, friday_utc, monday_utc, monday_utc]


def test_a_time_that_does_not_exist_that_night_is_left_out(session: Session) -> None:
    ingrid = therapist(session, minutes=60)
    intake.add_exception(
        session, instructor=ingrid, day="2027-03-28", kind="extra", starts="01:00", ends="04:00"
    )
    free = intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING, days=4)
    assert local(free) == ["Fri 09:00", "Sun 01:00", "Sun 03:00"]


def test_a_day_off_has_no_times(session: Session) -> None:
    ingrid = therapist(session)
    intake.add_exception(
        session, instructor=ingrid, day="2027-03-26", kind="off", starts="", ends=""
    )
    free = intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING, days=5)
    assert local(free) == ["Mon 09:00", "Mon 09:30"]


def _book(
    session: Session, settings: Settings, ingrid: User, slot: datetime, **extra: object
) -> intake.Booked:
    fields: dict[str, object] = {
        "name": "Sanne",
        "email": "sanne@example.nl",
        "phone": "",
        "message": "",
        "answers": {},
        "consent": False,
        "learner": None,
        "language": "nl",
        "now": BEFORE_SPRING,
    }
    fields.update(extra)
    return intake.book(
        session,
        settings,
        instructor=ingrid,
        slot=intake.slot_value(slot),
        **fields,  # type: ignore[arg-type]
    )


def _mails(session: Session, kind: str) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(col(OutboxMessage.id))
        ).all()
    )


def test_booking_sends_an_ics_and_a_discreet_notice_and_moving_frees_the_old_time(
    session: Session, settings: Settings
) -> None:
    ingrid = therapist(session)
    first, second, *_rest = intake.free_slots(
        session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING
    )
    booked = _book(session, settings, ingrid, first, message="Ik verlies urine bij het sporten.")

    [confirmation] = _mails(session, "intake_confirmation")
    assert confirmation.recipient == "sanne@example.nl"
    assert confirmation.user_id is None
    event = Calendar.from_ical(confirmation.calendar or "").walk("VEVENT")[0]
    assert event.decoded("dtstart") == first
    assert event["location"] == "https://meet.example/ingrid"
    assert booked.link in (confirmation.text_body or "")
    [notice] = _mails(session, "intake_notice")
    assert notice.recipient == ingrid.email
    assert "Sanne" in (notice.text_body or "")
    assert "urine" not in (notice.text_body or "")

    booking = intake.booking_for_token(session, settings, token=booked.link.rsplit("/", 1)[1])
    intake.move(
        session, settings, booking=booking, slot=intake.slot_value(second), now=BEFORE_SPRING
    )
    free = intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING)
    assert first in free
    assert second not in free
    moved = _mails(session, "intake_confirmation")[-1]
    moved_event = Calendar.from_ical(moved.calendar or "").walk("VEVENT")[0]
    assert moved_event["uid"] == event["uid"]
    assert moved_event["sequence"] == 1


def test_cancelling_deletes_the_booking_and_her_link_stops_working(
    session: Session, settings: Settings
) -> None:
    ingrid = therapist(session)
    [slot, *_] = intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING)
    booked = _book(session, settings, ingrid, slot)
    token = booked.link.rsplit("/", 1)[1]
    intake.cancel(session, settings, booking=booked.booking, now=BEFORE_SPRING)
    assert session.exec(select(IntakeBooking)).all() == []
    assert slot in intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING)
    with pytest.raises(InvalidLink):
        intake.booking_for_token(session, settings, token=token)
    with pytest.raises(InvalidLink):
        intake.booking_for_token(session, settings, token=f"{booked.booking.id or 0}.forged")


def test_a_taken_or_past_time_is_refused_with_the_next_free_times(
    session: Session, settings: Settings
) -> None:
    ingrid = therapist(session)
    first, second, third, *_ = intake.free_slots(
        session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING
    )
    _book(session, settings, ingrid, first)
    with pytest.raises(intake.SlotTaken) as taken:
        _book(session, settings, ingrid, first, email="bob@example.nl")
    assert taken.value.next_free == [second, third, *taken.value.next_free[2:]]
    assert taken.value.status_code == 409
    with pytest.raises(intake.SlotTaken):
        _book(session, settings, ingrid, BEFORE_SPRING - timedelta(days=1))
    with pytest.raises(FormError) as long:
        _book(session, settings, ingrid, second, message="x" * 1001)
    assert "message" in long.value.fields


def test_the_reminder_goes_out_once_the_day_before(session: Session, settings: Settings) -> None:
    ingrid = therapist(session)
    # Monday's first time: booked days ahead (one booked within a day needs no reminder).
    slot = intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING)[2]
    _book(session, settings, ingrid, slot)
    assert intake.queue_reminders(session, settings, now=BEFORE_SPRING) == 0
    day_before = slot - timedelta(hours=20)
    assert intake.queue_reminders(session, settings, now=day_before) == 1
    assert intake.queue_reminders(session, settings, now=day_before + timedelta(minutes=5)) == 0
    [reminder] = _mails(session, "intake_reminder")
    assert reminder.recipient == "sanne@example.nl"


def test_her_bookings_are_in_her_export_and_erased_with_her_account(
    session: Session, settings: Settings
) -> None:
    ingrid = therapist(session)
    sanne = make_user(session, email="sanne@example.nl")
    [slot, *_] = intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING)
    _book(session, settings, ingrid, slot, learner=sanne)
    assert len(personal_data.export(session, user=sanne)["intake"]["bookings"]) == 1
    intake.erase(session, user=sanne)
    assert session.exec(select(IntakeBooking)).all() == []


def test_one_address_cannot_book_time_after_time(session: Session, settings: Settings) -> None:
    ingrid = therapist(session)
    free = intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING)
    for slot in free[:3]:
        _book(session, settings, ingrid, slot)
    with pytest.raises(TooManyAttempts):
        _book(session, settings, ingrid, free[3])
