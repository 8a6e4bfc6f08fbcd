"""The mail "A new part of your course is ready": from 07:00 on the day a drip module opens,
once per learner and module, in her language, with a link that opens the lesson; never for
modules open from the start, ended access, a learner who said no, or an opening that is old
news."""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Course, CourseStatus, Schedule
from api.clock import current_time
from api.config import Settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentSource, EnrolmentStatus
from api.kit.ids import id_of
from api.mail.unsubscribe import Topic, read_token
from api.push.models import PushSubscription
from api.reminders import notices
from api.reminders.models import MailPreference
from api.reminders.modules import queue_module_openings
from api.worker import Worker
from tests.catalog.test_pages_queries import recording
from tests.factories import log_in, make_course, make_user
from tests.smtp import Mailbox, html_of, links_in, text_of

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A Monday morning in November; week 2 opens seven days later, on Monday 9 November.
ENROLLED = datetime(2026, 11, 2, 10, 30, tzinfo=AMSTERDAM)
OPENS = datetime(2026, 11, 9, 0, 0, tzinfo=AMSTERDAM)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    """That local time on the day of `day`, in Amsterdam."""
    return day.replace(hour=hour, minute=minute, tzinfo=AMSTERDAM)


def enrol(
    session: Session,
    learner: User,
    course: Course,
    *,
    when: datetime = ENROLLED,
    status: EnrolmentStatus = EnrolmentStatus.active,
) -> Enrolment:
    """An enrolment made at `when`, as the shop or the free button would, in `status`."""
    enrolment = enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.purchase
    )
    enrolment.enrolled_at = when
    if status != EnrolmentStatus.active:
        enrolment_service.set_status(session, enrolment=enrolment, status=status)
    session.add(enrolment)
    session.flush()
    return enrolment


@pytest.fixture
def course(session: Session) -> Course:
    """Week 1 open from the start, week 2 a week after enrolment."""
    return make_course(session, modules=2, drip_days=[0, 7])


@pytest.fixture
def alice(session: Session) -> User:
    return make_user(session, name="Alice de Vries", email="alice@example.nl")


@pytest.fixture
def worker(mailbox: Mailbox, outbox_sessions: sessionmaker[Session]) -> Worker:
    """A mail worker over the test's transaction, sending to the test's SMTP server."""
    return Worker(outbox_sessions, mailbox.settings)


def test_the_mail_goes_out_at_seven_on_the_opening_day_and_not_before(
    session: Session, course: Course, alice: User, worker: Worker, mailbox: Mailbox
) -> None:
    enrol(session, alice, course)

    assert worker.run_once(now=OPENS - timedelta(minutes=1)).sent == 0
    assert worker.run_once(now=at(OPENS, 0, 1)).sent == 0  # open, but nobody wants it at night
    assert worker.run_once(now=at(OPENS, 6, 59)).sent == 0
    assert worker.run_once(now=at(OPENS, 7, 0)).sent == 1

    [message] = mailbox.server.messages
    assert message["To"] == alice.email
    assert course.title in text_of(message)


def test_each_opening_is_mailed_once_across_rounds_and_restarted_workers(
    *,
    session: Session,
    course: Course,
    alice: User,
    worker: Worker,
    mailbox: Mailbox,
    outbox_sessions: sessionmaker[Session],
) -> None:
    enrol(session, alice, course)

    worker.run_once(now=at(OPENS, 7, 0))
    worker.run_once(now=at(OPENS, 7, 5))
    # A restarted worker (or a second one) knows nothing of the first one's rounds.
    Worker(outbox_sessions, mailbox.settings).run_once(now=at(OPENS, 7, 5))
    Worker(outbox_sessions, mailbox.settings).run_once(now=at(OPENS + timedelta(days=1), 9))

    assert len(mailbox.server.messages) == 1


def test_an_opening_she_chose_as_a_push_only_is_not_looked_at_again(
    session: Session,
    settings: Settings,
    course: Course,
    alice: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enrolment = enrol(session, alice, course)
    session.add(MailPreference(user_id=id_of(alice), module_opened=False, module_opened_push=True))
    session.add(
        PushSubscription(
            user_id=id_of(alice),
            endpoint="http://127.0.0.1:9/push/phone",
            p256dh="p256dh",
            auth="auth",
        )
    )
    session.flush()
    seen: list[int] = []
    original = notices.module_opened

    def module_opened(*args: Any, **kwargs: Any) -> int:
        seen.append(kwargs["enrolment_id"])
        return original(*args, **kwargs)

    monkeypatch.setattr(notices, "module_opened", module_opened)

    assert queue_module_openings(session, settings, now=at(OPENS, 7, 0)) == 1
    assert queue_module_openings(session, settings, now=at(OPENS, 7, 1)) == 0
    assert seen == [enrolment.id]  # the second round did not find her again


@pytest.mark.parametrize(
    ("first_round", "mailed"),
    [
        (at(OPENS, 15, 0), True),  # the worker was down this morning: later that day
        (at(OPENS + timedelta(days=1), 23, 59), True),
        (OPENS + timedelta(days=2), True),
        (OPENS + timedelta(days=2, minutes=1), False),  # old news: no mail at all
        (OPENS + timedelta(days=30), False),
    ],
)
def test_a_worker_that_was_down_mails_late_but_not_old_news(
    *,
    session: Session,
    course: Course,
    alice: User,
    worker: Worker,
    mailbox: Mailbox,
    first_round: datetime,
    mailed: bool,
) -> None:
    enrol(session, alice, course)
    worker.run_once(now=first_round)

    # OPENS is a Monday, when the instructor may get her weekly attention summary as well.
    to_alice = [m for m in mailbox.server.messages if m["To"] == alice.email]
    assert len(to_alice) == int(mailed)


def test_modules_open_from_the_start_and_courses_without_drip_send_nothing(
    session: Session, alice: User, worker: Worker, mailbox: Mailbox
) -> None:
    enrol(session, alice, make_course(session, modules=2))  # all at once
    at_once = make_course(session, modules=2, drip_days=[0, 7])
    at_once.schedule = Schedule.all_at_once  # drip days left behind have no effect
    session.add(at_once)
    enrol(session, alice, at_once)
    week_one_only = make_course(session, modules=1, drip_days=[0])
    enrol(session, alice, week_one_only)

    for day in range(10):
        worker.run_once(now=at(ENROLLED + timedelta(days=day), 8))

    assert mailbox.server.messages == []


@pytest.mark.parametrize(
    "status", [EnrolmentStatus.refunded, EnrolmentStatus.revoked, EnrolmentStatus.disputed]
)
def test_no_mail_once_her_access_has_ended(
    *,
    session: Session,
    course: Course,
    alice: User,
    worker: Worker,
    mailbox: Mailbox,
    status: EnrolmentStatus,
) -> None:
    enrol(session, alice, course, status=status)

    assert worker.run_once(now=at(OPENS, 8)).sent == 0


def test_no_mail_for_a_draft_but_still_for_an_archived_course(
    session: Session, alice: User, worker: Worker, mailbox: Mailbox
) -> None:
    draft = make_course(session, drip_days=[0, 7], status=CourseStatus.draft)
    archived = make_course(session, drip_days=[0, 7], status=CourseStatus.archived)
    enrol(session, alice, draft)
    enrol(session, alice, archived)

    assert worker.run_once(now=at(OPENS, 8)).sent == 1
    [message] = mailbox.server.messages
    assert archived.title in text_of(message)


def test_no_mail_after_she_turned_these_mails_off(
    session: Session, course: Course, alice: User, worker: Worker, mailbox: Mailbox
) -> None:
    bea = make_user(session, name="Bea")
    session.add(MailPreference(user_id=alice.id or 0, module_opened=False))
    # Bea chose reminders and kept the notices on.
    session.add(MailPreference(user_id=bea.id or 0, reminder_weekdays=1, reminder_times="08:00"))
    session.flush()
    enrol(session, alice, course)
    enrol(session, bea, course)

    worker.run_once(now=at(OPENS, 8))

    assert [message["To"] for message in mailbox.server.messages] == [bea.email]


def test_no_mail_to_an_address_nobody_confirmed(
    session: Session, course: Course, worker: Worker, mailbox: Mailbox
) -> None:
    enrol(session, make_user(session, verified=False), course)

    assert worker.run_once(now=at(OPENS, 8)).sent == 0


@pytest.mark.parametrize(("language", "hello"), [("nl", "Hallo Alice"), ("en", "Hello Alice")])
def test_the_mail_speaks_her_language_and_its_link_opens_the_new_lesson(
    *,
    session: Session,
    app: FastAPI,
    client: TestClient,
    course: Course,
    worker: Worker,
    mailbox: Mailbox,
    settings: Settings,
    language: str,
    hello: str,
) -> None:
    alice = make_user(session, name="Alice", language=language)
    enrol(session, alice, course)
    now = at(OPENS, 7, 30)

    worker.run_once(now=now)

    [message] = mailbox.server.messages
    text = text_of(message)
    assert text.startswith(hello)
    assert course.title in text
    assert "Week 2" in text  # the module's title
    assert f'<html lang="{language}">' in html_of(message)
    lesson_link, stop_link = links_in(message)[:2]
    assert lesson_link == f"http://testserver/courses/{course.slug}/lessons/les-2-1"
    # The lesson link is the button; the stop link is also the mail program's own button.
    assert f'href="{lesson_link}"' in html_of(message)
    assert message["List-Unsubscribe"] == f"<{stop_link}>"
    token = urlsplit(stop_link).path.rsplit("/", 1)[1]
    unsubscribe = read_token(settings, token)
    assert unsubscribe is not None
    assert (unsubscribe.user_id, unsubscribe.topic) == (alice.id, Topic.modules)
    # Nothing in the subject about what the course is for.
    assert course.title not in str(message["Subject"])
    assert "Week" not in str(message["Subject"])
    if language == "en":
        assert message["Subject"] == "A new part of your course is ready"

    app.dependency_overrides[current_time] = lambda: now
    log_in(client, alice)
    page = client.get(urlsplit(lesson_link).path)
    assert page.status_code == 200, page.text[:300]
    assert "Les 2.1" in page.text


def test_the_opening_follows_amsterdam_midnight_across_the_clock_change(
    session: Session, course: Course, alice: User, worker: Worker, mailbox: Mailbox
) -> None:
    # Enrolled in summer time; the clocks go back on 25 October; week 2 opens on Tuesday
    # 27 October at 00:00 CET (23:00 UTC the day before), so the mail goes at 07:00 CET.
    enrol(session, alice, course, when=datetime(2026, 10, 20, 21, 0, tzinfo=AMSTERDAM))
    utc = ZoneInfo("UTC")

    assert worker.run_once(now=datetime(2026, 10, 26, 23, 30, tzinfo=utc)).sent == 0
    assert worker.run_once(now=datetime(2026, 10, 27, 5, 59, tzinfo=utc)).sent == 0
    assert worker.run_once(now=datetime(2026, 10, 27, 6, 0, tzinfo=utc)).sent == 1


def test_every_module_that_opens_gets_its_own_mail(
    session: Session, alice: User, worker: Worker, mailbox: Mailbox
) -> None:
    course = make_course(session, modules=3, drip_days=[0, 7, 14])
    enrol(session, alice, course)

    worker.run_once(now=at(OPENS, 8))
    worker.run_once(now=at(OPENS + timedelta(days=7), 8))

    # Both are Mondays, when the instructor may get her weekly attention summary as well.
    texts = [text_of(m) for m in mailbox.server.messages if m["To"] == alice.email]
    assert len(texts) == 2
    assert "Week 2" in texts[0]
    assert f"/courses/{course.slug}/lessons/les-2-1" in texts[0]
    assert "Week 3" in texts[1]
    assert f"/courses/{course.slug}/lessons/les-3-1" in texts[1]


# --- cost -------------------------------------------------------------------------------------

# The delays in use, then the enrolments whose modules open now (with the learner, course,
# module, her choice and the module's first lesson) in one statement.
LOOKUP_STATEMENTS = 2


def _crowd(session: Session, course: Course, *, today: int, other_days: int) -> None:
    """`today` learners whose week 2 opens on OPENS, and `other_days` for whom no module
    opened in the last two days."""
    for n in range(today + other_days):
        learner = make_user(session)
        shift = timedelta(days=0 if n < today else 3 + n % 3)
        enrol(session, learner, course, when=ENROLLED - shift + timedelta(minutes=n))


def _queue(session: Session, connection: Connection, settings: Settings) -> tuple[int, list[str]]:
    with recording(connection) as seen:
        queued = queue_module_openings(session, settings, now=at(OPENS, 7))
    return queued, list(seen)


@pytest.mark.parametrize(("today", "other_days"), [(3, 2), (40, 60)])
def test_queueing_reads_in_a_fixed_number_of_statements_however_many_learners(
    session: Session, connection: Connection, settings: Settings, today: int, other_days: int
) -> None:
    course = make_course(session, modules=3, drip_days=[0, 7, 14], lessons_per_module=1)
    _crowd(session, course, today=today, other_days=other_days)

    queued, statements = _queue(session, connection, settings)
    lookups = [sql for sql in statements if not sql.lstrip().upper().startswith("INSERT")]

    assert queued == today
    assert len(lookups) == LOOKUP_STATEMENTS, lookups
    assert len(statements) == LOOKUP_STATEMENTS + today  # one outbox row written per mail

    # A minute later nothing is new: the same two reads, nothing written, nothing rendered.
    queued, statements = _queue(session, connection, settings)
    assert queued == 0
    assert len(statements) == LOOKUP_STATEMENTS, statements
