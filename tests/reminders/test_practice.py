"""The worker's practice reminders: discreet, in her language, once per occasion."""

from datetime import timedelta

import pytest
from sqlalchemy import event, func
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api.config import Settings
from api.i18n import translations
from api.mail.models import OutboxMessage
from api.mail.unsubscribe import Topic, make_link
from api.reminders import practice
from api.reminders.practice import queue_practice_reminders
from api.worker import Worker
from tests.factories import make_course
from tests.reminders.people import (
    DUE,
    learner_with_reminders,
    log_practice,
    mail_to,
    preference,
)
from tests.smtp import Mailbox, links_in

# Words a reminder must never carry, in either language: it may be read over her shoulder.
GIVE_AWAY = ("bekken", "pelvic", "urine", "incontinen", "prolaps", "blaas", "bladder")


def reminders_queued(session: Session) -> int:
    return session.exec(
        select(func.count()).where(col(OutboxMessage.kind) == "practice_reminder")
    ).one()


@pytest.mark.parametrize(
    ("language", "greeting"), [("nl", "Hallo"), ("en", "Hello")], ids=["nl", "en"]
)
def test_a_due_reminder_arrives_once_discreetly_in_her_language(
    session: Session, settings: Settings, mailbox: Mailbox, language: str, greeting: str
) -> None:
    learner, course = learner_with_reminders(session, language=language)
    assert learner.id is not None

    assert queue_practice_reminders(session, settings, now=DUE) == 1

    [message] = mail_to(mailbox, learner)
    subject = str(message["Subject"])
    assert subject == translations(language).ugettext("A moment for yourself")
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith(f"{greeting} {learner.name},")
    for word in (course.title.lower(), *GIVE_AWAY):
        assert word not in subject.lower()
        assert word not in text.lower()
    stop = make_link(settings, user_id=learner.id, topic=Topic.reminders)
    assert links_in(message) == [
        "http://testserver/today",
        "http://testserver/account/mail",
        stop,
    ]
    assert message["List-Unsubscribe"] == f"<{stop}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert 'href="http://testserver/today"' in html
    assert course.title not in html


def test_the_next_reminder_moves_to_the_next_day(session: Session, settings: Settings) -> None:
    learner, _course = learner_with_reminders(session)

    queue_practice_reminders(session, settings, now=DUE + timedelta(seconds=30))

    assert preference(session, learner).next_reminder_at == DUE + timedelta(days=1)


def test_a_second_run_at_the_same_moment_queues_nothing(
    session: Session, settings: Settings, mailbox: Mailbox
) -> None:
    learner, _course = learner_with_reminders(session)

    assert queue_practice_reminders(session, settings, now=DUE) == 1
    assert queue_practice_reminders(session, settings, now=DUE) == 0

    assert len(mail_to(mailbox, learner)) == 1
    assert reminders_queued(session) == 1


def test_a_worker_that_read_the_reminder_before_it_moved_on_does_not_send_it_again(
    session: Session, settings: Settings, mailbox: Mailbox
) -> None:
    """As a second worker (or one that restarted) would: it still sees the old due moment."""
    learner, _course = learner_with_reminders(session)
    assert queue_practice_reminders(session, settings, now=DUE) == 1

    row = preference(session, learner)
    row.next_reminder_at = DUE
    session.add(row)
    session.flush()
    assert queue_practice_reminders(session, settings, now=DUE + timedelta(seconds=5)) == 0

    assert len(mail_to(mailbox, learner)) == 1
    assert preference(session, learner).next_reminder_at == DUE + timedelta(days=1)


def test_two_workers_at_the_same_moment_deliver_one_reminder(
    session: Session,
    settings: Settings,
    mailbox: Mailbox,
    outbox_sessions: sessionmaker[Session],
) -> None:
    learner, _course = learner_with_reminders(session)
    session.commit()  # a savepoint inside the test's transaction, visible to the workers

    Worker(outbox_sessions, settings).run_once(DUE)
    Worker(outbox_sessions, settings).run_once(DUE)

    assert reminders_queued(session) == 1
    assert len(mail_to(mailbox, learner)) == 1


@pytest.mark.parametrize(
    ("late", "sent"),
    [(timedelta(hours=1, minutes=59), 1), (timedelta(hours=2, minutes=1), 0)],
    ids=["late-but-useful", "too-late"],
)
def test_a_reminder_hours_late_is_skipped_but_moves_on(
    session: Session, settings: Settings, mailbox: Mailbox, late: timedelta, sent: int
) -> None:
    learner, _course = learner_with_reminders(session)

    assert queue_practice_reminders(session, settings, now=DUE + late) == sent

    assert len(mail_to(mailbox, learner)) == sent
    assert preference(session, learner).next_reminder_at == DUE + timedelta(days=1)


def test_a_worker_down_for_days_sends_no_backlog(session: Session, settings: Settings) -> None:
    learner, _course = learner_with_reminders(session)
    back = DUE + timedelta(days=3, hours=5)

    assert queue_practice_reminders(session, settings, now=back) == 0

    assert preference(session, learner).next_reminder_at == DUE + timedelta(days=4)


def test_no_reminder_when_she_already_practised_that_day(
    session: Session, settings: Settings, mailbox: Mailbox
) -> None:
    practised, course = learner_with_reminders(session)
    yesterday, _ = learner_with_reminders(session, course=course)
    # 06:30 UTC is 07:30 in Amsterdam on the day of the reminder; 22:30 UTC the day before is
    # 23:30 that day.
    log_practice(session, practised, course, DUE - timedelta(minutes=30))
    log_practice(session, yesterday, course, DUE - timedelta(hours=8, minutes=30))

    assert queue_practice_reminders(session, settings, now=DUE) == 1

    assert mail_to(mailbox, practised) == []
    assert len(mail_to(mailbox, yesterday)) == 1
    assert preference(session, practised).next_reminder_at == DUE + timedelta(days=1)


def test_no_reminder_without_an_active_enrolment(
    session: Session, settings: Settings, mailbox: Mailbox
) -> None:
    refunded, _course = learner_with_reminders(session, status="refunded")

    assert queue_practice_reminders(session, settings, now=DUE) == 0

    assert mail_to(mailbox, refunded) == []
    assert preference(session, refunded).next_reminder_at == DUE + timedelta(days=1)


def test_not_yet_due_is_left_alone(session: Session, settings: Settings) -> None:
    learner, _course = learner_with_reminders(session)

    assert queue_practice_reminders(session, settings, now=DUE - timedelta(seconds=1)) == 0

    assert preference(session, learner).next_reminder_at == DUE


def test_the_reads_do_not_grow_with_the_batch(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per reminder only its own outbox row is written; everything else is read per batch."""
    course = make_course(session)

    def statements_for(people: int) -> list[str]:
        for _ in range(people):
            learner_with_reminders(session, course=course)
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]).split()[0])

        connection = session.connection()
        event.listen(connection, "before_cursor_execute", count)
        try:
            queued = queue_practice_reminders(session, settings, now=DUE)
        finally:
            event.remove(connection, "before_cursor_execute", count)
        assert queued == people
        return seen

    monkeypatch.setattr(practice, "BATCH_SIZE", 50)
    few = statements_for(2)
    many = statements_for(8)

    assert [kind for kind in many if kind != "INSERT"] == [kind for kind in few if kind != "INSERT"]
    assert many.count("INSERT") - few.count("INSERT") == 6


def test_batches_are_read_until_none_is_due(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(practice, "BATCH_SIZE", 2)
    course = make_course(session)
    people = [learner_with_reminders(session, course=course)[0] for _ in range(5)]

    assert queue_practice_reminders(session, settings, now=DUE) == 5

    assert reminders_queued(session) == 5
    assert {preference(session, person).next_reminder_at for person in people} == {
        DUE + timedelta(days=1)
    }
