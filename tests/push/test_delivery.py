"""Push notifications through the outbox: queued with the occasion, sent once, retried when the
push service fails, a gone device forgotten, and nothing she did not choose. The push service
is tests/push_server on loopback, which decrypts what it takes as her browser would."""

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Module
from api.config import Settings
from api.db import utcnow
from api.kit.ids import id_of
from api.mail import outbox
from api.mail.models import OutboxMessage
from api.messages import notices as messages_notices
from api.messages.models import Message, Thread
from api.messages.service import Sent
from api.push import keys
from api.push import service as push
from api.push.models import PushSubscription
from api.reminders import notices as reminders_notices
from api.reminders.models import MailPreference
from api.reminders.practice import queue_practice_reminders
from tests.push_server.server import PushServer, Subscription
from tests.reminders.people import DUE, learner_with_reminders
from tests.smtp import Mailbox


def subscribed(
    session: Session, settings: Settings, user: User, server: PushServer
) -> Subscription:
    """Her browser subscribed at the push service, and Kern told of it."""
    browser = server.subscribe(server_key=keys.keys(settings).public_key)
    data = browser.as_json()
    push.subscribe(
        session,
        settings,
        user=user,
        endpoint=data["endpoint"],
        p256dh=data["keys"]["p256dh"],
        auth=data["keys"]["auth"],
        user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/131.0 Mobile Safari/537.36",
        now=utcnow(),
    )
    return browser


def choose(session: Session, user: User, **choices: bool) -> None:
    row = session.get(MailPreference, user.id)
    assert row is not None
    for name, value in choices.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()


def queued(session: Session, *, pushes: bool) -> int:
    has_device = col(OutboxMessage.push_subscription_id).is_not(None)
    return session.exec(select(func.count()).where(has_device if pushes else ~has_device)).one()


def test_a_practice_reminder_reaches_her_phone_and_decrypts_to_the_discreet_text(
    session: Session,
    settings: Settings,
    push_server: PushServer,
    outbox_sessions: sessionmaker[Session],
) -> None:
    learner, _course = learner_with_reminders(session)
    choose(session, learner, reminder_mail=False, reminder_push=True)
    phone = subscribed(session, settings, learner, push_server)

    assert queue_practice_reminders(session, settings, now=DUE) == 1
    report = outbox.deliver_all(outbox_sessions, settings)

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [arrived] = push_server.pushes(phone)
    assert arrived.payload == {"title": "Kern", "body": "Tijd voor je oefeningen", "url": "/today"}
    assert arrived.public_key == keys.keys(settings).public_key
    assert arrived.claims["sub"] == "mailto:noreply@kern.localhost"
    assert (arrived.ttl, arrived.urgency) == (2 * 60 * 60, "normal")
    assert queued(session, pushes=False) == 0  # no mail: she chose push only


def test_a_rolled_back_occasion_sends_nothing(
    session: Session,
    settings: Settings,
    push_server: PushServer,
    outbox_sessions: sessionmaker[Session],
) -> None:
    learner, _course = learner_with_reminders(session)
    phone = subscribed(session, settings, learner, push_server)

    occasion = session.begin_nested()
    push.queue(session, user=learner, kind="practice_reminder", body="x", path="/today", key="k")
    occasion.rollback()
    outbox.deliver_all(outbox_sessions, settings)

    assert push_server.pushes(phone) == []
    assert push_server.attempts == 0


def test_one_occasion_is_one_push_per_device(
    session: Session,
    settings: Settings,
    push_server: PushServer,
    outbox_sessions: sessionmaker[Session],
) -> None:
    learner, _course = learner_with_reminders(session)
    choose(session, learner, reminder_push=True)
    phone = subscribed(session, settings, learner, push_server)
    laptop = subscribed(session, settings, learner, push_server)

    queue_practice_reminders(session, settings, now=DUE)
    outbox.deliver_all(outbox_sessions, settings)
    # The same occasion again (a second worker, a restart) adds nothing.
    assert (
        push.queue(
            session,
            user=learner,
            kind="practice_reminder",
            body="x",
            path="/today",
            key=f"reminder:{learner.id}:2026-11-25T08:00",
        )
        == 0
    )
    outbox.deliver_all(outbox_sessions, settings)

    assert (len(push_server.pushes(phone)), len(push_server.pushes(laptop))) == (1, 1)
    assert queued(session, pushes=False) == 1  # and the mail she kept


@pytest.mark.parametrize("status", [503, 429])
def test_a_push_service_that_fails_for_now_is_tried_again_later(
    session: Session,
    settings: Settings,
    push_server: PushServer,
    outbox_sessions: sessionmaker[Session],
    status: int,
) -> None:
    learner, _course = learner_with_reminders(session)
    choose(session, learner, reminder_mail=False, reminder_push=True)
    phone = subscribed(session, settings, learner, push_server)
    push_server.answer(phone, status)
    queue_practice_reminders(session, settings, now=DUE)

    first = outbox.deliver_all(outbox_sessions, settings)
    later = outbox.deliver_all(outbox_sessions, settings, now=utcnow() + timedelta(minutes=2))

    assert (first.retried, later.sent) == (1, 1)
    assert len(push_server.pushes(phone)) == 1


def test_a_push_service_out_of_reach_is_tried_again_later(
    session: Session, settings: Settings, outbox_sessions: sessionmaker[Session]
) -> None:
    learner, _course = learner_with_reminders(session)
    with PushServer() as closed:
        phone = subscribed(session, settings, learner, closed)
    push.queue(session, user=learner, kind="practice_reminder", body="x", path="/", key="k")

    assert outbox.deliver_all(outbox_sessions, settings).retried == 1
    assert phone.endpoint.startswith("http://127.0.0.1:")


def test_a_device_the_push_service_no_longer_knows_is_forgotten(
    session: Session,
    settings: Settings,
    push_server: PushServer,
    outbox_sessions: sessionmaker[Session],
) -> None:
    learner, _course = learner_with_reminders(session)
    phone = subscribed(session, settings, learner, push_server)
    laptop = subscribed(session, settings, learner, push_server)
    push_server.answer(phone, 410, times=0)
    push.queue(session, user=learner, kind="practice_reminder", body="x", path="/", key="a")
    push.queue(session, user=learner, kind="practice_reminder", body="x", path="/", key="b")

    report = outbox.deliver_all(outbox_sessions, settings)

    # The phone's second push, claimed in the same round, finds it gone without asking again.
    assert (report.sent, report.failed) == (2, 2)
    assert push_server.attempts == 3
    assert len(push_server.pushes(laptop)) == 2
    endpoints = session.exec(select(PushSubscription.endpoint)).all()
    assert endpoints == [laptop.endpoint]
    assert queued(session, pushes=True) == 2  # the laptop's, sent


@pytest.mark.parametrize(
    "choices",
    [{"reminder_mail": True, "reminder_push": False}, {"reminder_mail": False}],
    ids=["mail only", "off"],
)
def test_no_push_unless_she_chose_it(
    session: Session,
    settings: Settings,
    push_server: PushServer,
    mailbox: Mailbox,
    choices: dict[str, bool],
) -> None:
    learner, _course = learner_with_reminders(session)
    choose(session, learner, **choices)
    phone = subscribed(session, settings, learner, push_server)

    queue_practice_reminders(session, settings, now=DUE)

    assert len(mailbox.messages) == (1 if choices["reminder_mail"] else 0)
    assert push_server.pushes(phone) == []
    assert queued(session, pushes=True) == 0


def test_an_answer_and_an_opened_module_reach_her_phone_as_she_chose(
    session: Session,
    settings: Settings,
    push_server: PushServer,
    outbox_sessions: sessionmaker[Session],
) -> None:
    learner, course = learner_with_reminders(session)
    choose(session, learner, new_message_push=True, module_opened=False, module_opened_push=True)
    phone = subscribed(session, settings, learner, push_server)
    thread = Thread(course_id=id_of(course), learner_id=id_of(learner))
    session.add(thread)
    session.flush()
    answer = Message(thread_id=id_of(thread), from_learner=False, body="Goed zo, ga door.")
    session.add(answer)
    session.flush()
    module = session.exec(select(Module).where(Module.course_id == course.id)).first()
    assert module is not None

    messages_notices.answered(
        session, settings, sent=Sent(thread, answer, notify=True), course=course, learner=learner
    )
    reminders_notices.module_opened(
        session,
        settings,
        learner=learner,
        course=course,
        module=module,
        enrolment_id=1,
        lesson_slug="adem",
        now=utcnow(),
        choices=session.get(MailPreference, learner.id),
    )
    outbox.deliver_all(outbox_sessions, settings)

    assert [push.payload for push in push_server.pushes(phone)] == [
        {
            "title": "Kern",
            "body": "Je hebt een antwoord van je therapeut",
            "url": f"/courses/{course.slug}/questions",
        },
        {
            "title": "Kern",
            "body": "Er staat een nieuw deel van je cursus klaar",
            "url": f"/courses/{course.slug}/lessons/adem",
        },
    ]
    # The answer also by mail (she kept that); the module only as a push.
    assert queued(session, pushes=False) == 1
