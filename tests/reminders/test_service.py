"""Her reminder choices: what the form accepts, and when the next reminder falls."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from api.accounts.models import Role
from api.errors import FormError
from api.mail.unsubscribe import Topic
from api.reminders import service
from api.reminders.models import MailPreference
from api.reminders.service import next_occurrence
from tests.factories import make_user
from tests.reminders.people import SAVED_AT, preference

EVERY_DAY = 0b1111111
SUNDAY = 1 << 6
MONDAY = 1 << 0


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- what the form accepts -------------------------------------------------------------------


def errors_of(weekdays: list[str], times: list[str]) -> dict[str, str]:
    with pytest.raises(FormError) as caught:
        service.validate_reminders(weekdays, times)
    return caught.value.fields


@pytest.mark.usefixtures("english")
def test_days_without_a_time_ask_for_a_time() -> None:
    assert errors_of(["0", "2"], ["", "", ""]) == {
        "times": "Choose a time for your reminder, or untick the days."
    }


@pytest.mark.usefixtures("english")
def test_a_time_without_days_asks_for_a_day() -> None:
    assert errors_of([], ["08:00"]) == {
        "weekdays": "Choose at least one day for your reminder, or clear the times."
    }


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("typed", ["25:00", "08:60", "acht uur", "8", "08:00pm"])
def test_a_time_that_is_not_a_time_is_explained(typed: str) -> None:
    assert errors_of(["0"], [typed]) == {
        "times": "Write each time as hours and minutes, for example 08:30."
    }


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("day", ["7", "-1", "maandag", "٣"])
def test_a_day_that_is_not_on_the_form_is_refused(day: str) -> None:
    assert errors_of([day], ["08:00"]) == {"weekdays": "Choose the days from the list."}


@pytest.mark.usefixtures("english")
def test_at_most_three_times() -> None:
    assert errors_of(["0"], ["07:00", "08:00", "09:00", "10:00"]) == {
        "times": "Choose at most 3 times."
    }


def test_times_are_tidied_sorted_and_counted_once() -> None:
    bits, times = service.validate_reminders(
        ["4", "0", "0"], ["19:30", "8:05", "", "19:30:00", "12.00"]
    )
    assert bits == 0b10001
    assert times == ["08:05", "12:00", "19:30"]


def test_no_days_and_no_times_means_no_reminders(session: Session) -> None:
    alice = make_user(session)
    saved = service.save(
        session, user=alice, weekdays=[], times=["", "", ""], module_opened=True,
        new_enrolment=True, now=SAVED_AT,
    )  # fmt: skip
    assert (saved.reminder_weekdays, saved.reminder_times, saved.next_reminder_at) == (0, "", None)


# --- saving ----------------------------------------------------------------------------------


def test_without_a_row_she_has_no_reminders_and_every_notice(session: Session) -> None:
    alice = make_user(session)
    assert alice.id is not None
    defaults = service.get(session, user_id=alice.id)
    assert (defaults.next_reminder_at, defaults.module_opened, defaults.new_enrolment) == (
        None,
        True,
        True,
    )
    assert session.get(MailPreference, alice.id) is None


def test_saving_twice_updates_her_one_row(session: Session) -> None:
    alice = make_user(session)
    for weekdays, times in ((["0"], ["08:00"]), (["2", "6"], ["21:15", "07:45"])):
        service.save(
            session, user=alice, weekdays=weekdays, times=times, module_opened=False,
            new_enrolment=True, now=SAVED_AT,
        )  # fmt: skip
    row = preference(session, alice)
    assert service.weekdays_of(row) == [2, 6]
    assert service.times_of(row) == ["07:45", "21:15"]
    assert row.module_opened is False
    # Saved on Wednesday 25 November at 07:00 in Amsterdam: the first reminder is 07:45 that day.
    assert row.next_reminder_at == utc(2026, 11, 25, 6, 45)


def test_a_learner_cannot_change_the_enrolment_notice_she_is_not_offered(
    session: Session,
) -> None:
    alice = make_user(session)
    therapist = make_user(session, role=Role.instructor)
    for person in (alice, therapist):
        service.save(
            session, user=person, weekdays=[], times=[], module_opened=True,
            new_enrolment=False, now=SAVED_AT,
        )  # fmt: skip
    assert preference(session, alice).new_enrolment is True
    assert preference(session, therapist).new_enrolment is False

    # A choice stored another way (the link in a mail) is kept when she saves the form.
    assert alice.id is not None
    service.stop(session, user_id=alice.id, topic=Topic.enrolments, now=SAVED_AT)
    service.save(
        session, user=alice, weekdays=[], times=[], module_opened=True,
        new_enrolment=True, now=SAVED_AT,
    )  # fmt: skip
    assert preference(session, alice).new_enrolment is False


# --- the next reminder -----------------------------------------------------------------------


def test_later_the_same_day() -> None:
    # Wednesday 25 November 2026, 07:00 in Amsterdam (UTC+1).
    assert next_occurrence(EVERY_DAY, ["08:00"], after=utc(2026, 11, 25, 6)) == utc(2026, 11, 25, 7)


def test_the_moment_itself_is_not_next() -> None:
    assert next_occurrence(EVERY_DAY, ["08:00"], after=utc(2026, 11, 25, 7)) == utc(2026, 11, 26, 7)


def test_the_earliest_of_several_times() -> None:
    times = ["07:30", "12:00", "20:00"]
    assert next_occurrence(EVERY_DAY, times, after=utc(2026, 11, 25, 7)) == utc(2026, 11, 25, 11)


def test_sunday_evening_wraps_to_monday() -> None:
    # Sunday 29 November 2026 at 21:00 in Amsterdam; only Mondays are chosen.
    assert next_occurrence(MONDAY, ["08:00"], after=utc(2026, 11, 29, 20)) == utc(2026, 11, 30, 7)


def test_a_single_day_whose_time_has_passed_is_a_week_later() -> None:
    wednesday = 1 << 2
    assert next_occurrence(wednesday, ["08:00"], after=utc(2026, 11, 25, 9)) == utc(2026, 12, 2, 7)


def test_the_local_day_decides_the_weekday() -> None:
    # 23:30 UTC on Saturday is already 00:30 on Sunday in Amsterdam.
    assert next_occurrence(SUNDAY, ["00:45"], after=utc(2026, 11, 28, 23, 30)) == utc(
        2026, 11, 28, 23, 45
    )


def test_no_days_or_no_times_means_none() -> None:
    assert next_occurrence(0, ["08:00"], after=SAVED_AT) is None
    assert next_occurrence(EVERY_DAY, [], after=SAVED_AT) is None


def test_clocks_going_forward_keep_the_wall_clock_time() -> None:
    # Sunday 29 March 2026: 02:00 CET becomes 03:00 CEST. 08:00 is 07:00 UTC the day before
    # and 06:00 UTC on the day itself.
    assert next_occurrence(EVERY_DAY, ["08:00"], after=utc(2026, 3, 28, 8)) == utc(2026, 3, 29, 6)


def test_a_time_the_clocks_skip_comes_an_hour_later() -> None:
    # 02:30 does not exist on 29 March 2026; with zoneinfo's fold=0 it is read with the winter
    # offset, 01:30 UTC, which is 03:30 on the summer clock.
    due = next_occurrence(SUNDAY, ["02:30"], after=utc(2026, 3, 28, 12))
    assert due == utc(2026, 3, 29, 1, 30)
    # The skipped time moved past 03:15, so 03:15 (01:15 UTC) comes first, then 02:30.
    after_midnight = utc(2026, 3, 28, 23, 30)
    first = next_occurrence(SUNDAY, ["02:30", "03:15"], after=after_midnight)
    assert first == utc(2026, 3, 29, 1, 15)
    assert next_occurrence(SUNDAY, ["02:30", "03:15"], after=first) == utc(2026, 3, 29, 1, 30)


def test_clocks_going_back_keep_the_wall_clock_time() -> None:
    # Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET. 08:00 is 06:00 UTC the day before
    # and 07:00 UTC on the day itself.
    assert next_occurrence(EVERY_DAY, ["08:00"], after=utc(2026, 10, 24, 6)) == utc(2026, 10, 25, 7)


def test_a_time_that_happens_twice_reminds_once() -> None:
    # 02:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC (winter time).
    first = next_occurrence(SUNDAY, ["02:30"], after=utc(2026, 10, 24, 12))
    assert first == utc(2026, 10, 25, 0, 30)
    assert next_occurrence(SUNDAY, ["02:30"], after=first) == utc(2026, 11, 1, 1, 30)


# --- stopping and resuming -------------------------------------------------------------------


def test_stopping_reminders_keeps_her_days_and_times(session: Session) -> None:
    alice = make_user(session)
    assert alice.id is not None
    service.save(
        session, user=alice, weekdays=["0"], times=["08:00"], module_opened=True,
        new_enrolment=True, now=SAVED_AT,
    )  # fmt: skip

    assert service.stop(session, user_id=alice.id, topic=Topic.reminders, now=SAVED_AT)

    row = preference(session, alice)
    assert row.next_reminder_at is None
    assert (service.weekdays_of(row), service.times_of(row)) == ([0], ["08:00"])
    assert service.is_stopped(row)

    assert service.resume(session, user_id=alice.id, topic=Topic.reminders, now=SAVED_AT)
    assert preference(session, alice).next_reminder_at == utc(2026, 11, 30, 7)


@pytest.mark.parametrize(
    ("topic", "column"), [(Topic.modules, "module_opened"), (Topic.enrolments, "new_enrolment")]
)
def test_stopping_a_notice_without_a_row_creates_one(
    session: Session, topic: Topic, column: str
) -> None:
    alice = make_user(session)
    assert alice.id is not None

    assert service.stop(session, user_id=alice.id, topic=topic, now=SAVED_AT)
    assert getattr(preference(session, alice), column) is False
    assert service.resume(session, user_id=alice.id, topic=topic, now=SAVED_AT)
    assert getattr(preference(session, alice), column) is True


def test_stopping_for_an_account_that_is_gone_changes_nothing(session: Session) -> None:
    assert not service.stop(session, user_id=999_999, topic=Topic.reminders, now=SAVED_AT)
    assert not service.resume(session, user_id=999_999, topic=Topic.reminders, now=SAVED_AT)
    assert session.get(MailPreference, 999_999) is None
