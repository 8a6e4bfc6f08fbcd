"""Every message Kern sends, delivered by the outbox worker over real SMTP: in the recipient's
language (not the browser's), as plain text and HTML, with links that lead somewhere in Kern."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.routing import Match

from api import i18n
from api.accounts import email_change, requests
from api.accounts import service as accounts
from api.accounts.models import Role, TokenPurpose, User
from api.catalog.models import Course
from api.config import Settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentSource
from api.payments import emails as payment_emails
from api.payments.models import Order, OrderStatus
from api.reminders import service as reminders
from api.worker import Worker
from tests.factories import PASSWORD, make_course, make_user
from tests.smtp import Mailbox, html_of, links_in, text_of

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONDAY_MORNING = datetime(2026, 11, 9, 8, 0, tzinfo=AMSTERDAM)


@dataclass
class Case:
    """How a test makes one kind of message arrive for a person in `language`."""

    subject: str  # the msgid of the subject
    send: Callable[["World", str], User]  # returns the recipient
    paths: tuple[str, ...]  # where its links lead, by path prefix, in order


@dataclass
class World:
    session: Session
    settings: Settings
    outbox_sessions: sessionmaker[Session]
    mailbox: Mailbox

    def order(self, user: User, course: Course, *, refunded: bool = False) -> Order:
        order = Order(
            user_id=user.id,
            course_id=course.id,
            course_title=course.title,
            status=(OrderStatus.refunded if refunded else OrderStatus.paid).value,
            subtotal_cents=4900,
            amount_cents=4900,
            stripe_checkout_session_id=f"cs_test_{user.id}",
            paid_at=MONDAY_MORNING,
        )
        self.session.add(order)
        self.session.flush()
        return order


def _verify(world: World, language: str) -> User:
    email = f"mila.{language}@example.nl"
    requests.register(
        world.session, name="Mila", email=email, password="rustig ademen op de bank 7",
        language=language, next_path=None, ip="192.0.2.1",
    )  # fmt: skip
    world.mailbox.deliver()  # the worker makes the account and queues its mail
    user = accounts.find_by_email(world.session, email)
    assert user is not None
    return user


def _welcome(world: World, language: str) -> User:
    user = _verify(world, language)
    [verification] = world.mailbox.wait_for(1)
    world.mailbox.server.clear()
    token = urlsplit(links_in(verification)[0]).path.rsplit("/", 1)[1]
    accounts.use_link(world.session, world.settings, token=token, purpose=TokenPurpose.verify_email)
    return user


def _already_registered(world: World, language: str) -> User:
    user = make_user(world.session, language=language)
    requests.register(
        world.session, name="Mila", email=user.email, password="rustig ademen op de bank 7",
        language="nl" if language == "en" else "en", next_path=None, ip="192.0.2.1",
    )  # fmt: skip
    return user


def _reset(world: World, language: str) -> User:
    user = make_user(world.session, language=language)
    requests.ask_reset(world.session, email=user.email, ip="192.0.2.1")
    return user


def _sign_in_link(world: World, language: str) -> User:
    user = make_user(world.session, language=language)
    requests.ask_sign_in_link(world.session, email=user.email, next_path=None, ip="192.0.2.1")
    return user


def _email_change_requested(world: World, language: str) -> User:
    user = make_user(world.session, language=language)
    email_change.request(
        world.session, world.settings, user=user, password=PASSWORD,
        new_email=f"nieuw.{language}@example.nl",
    )  # fmt: skip
    return user


def _receipt(world: World, language: str) -> User:
    user = make_user(world.session, language=language)
    course = make_course(world.session, price_cents=4900)
    order = world.order(user, course)
    payment_emails.receipt(world.session, world.settings, user=user, order=order, course=course)
    return user


def _refund(world: World, language: str) -> User:
    user = make_user(world.session, language=language)
    order = world.order(user, make_course(world.session, price_cents=4900), refunded=True)
    payment_emails.refund(world.session, world.settings, user=user, order=order)
    return user


def _module_opened(world: World, language: str) -> User:
    user = make_user(world.session, language=language)
    course = make_course(world.session, drip_days=[0, 7])
    enrolment = enrolment_service.grant(
        world.session, user_id=user.id, course_id=course.id, source=EnrolmentSource.free
    )
    enrolment.enrolled_at = MONDAY_MORNING - timedelta(days=7)
    world.session.add(enrolment)
    world.session.flush()
    Worker(world.outbox_sessions, world.settings).schedule(MONDAY_MORNING)
    return user


def _practice_reminder(world: World, language: str) -> User:
    user = make_user(world.session, language=language)
    enrolment_service.grant(
        world.session, user_id=user.id, course_id=make_course(world.session).id,
        source=EnrolmentSource.free,
    )  # fmt: skip
    reminders.save(
        world.session, user=user, weekdays=["0"], times=["08:00"], module_opened=True,
        new_enrolment=True, now=MONDAY_MORNING - timedelta(hours=1),
    )  # fmt: skip
    Worker(world.outbox_sessions, world.settings).schedule(MONDAY_MORNING)
    return user


def _new_enrolment(world: World, language: str) -> User:
    instructor = make_user(world.session, role=Role.instructor, language=language)
    course = make_course(world.session, instructor=instructor)
    learner = make_user(world.session, language="nl" if language == "en" else "en")
    enrolment_service.enrol_free(
        world.session, user=learner, course=course, settings=world.settings
    )
    return instructor


CASES = {
    "verify_email": Case("Confirm your email address for Kern", _verify, ("/verify-email/",)),
    "welcome": Case("Welcome to Kern", _welcome, ("/courses", "/account/mail")),
    "already_registered": Case(
        "You already have a Kern account", _already_registered, ("/login", "/forgot-password")
    ),
    "reset_password": Case("Set a new password for Kern", _reset, ("/reset-password/",)),
    "sign_in_link": Case("Your sign-in link for Kern", _sign_in_link, ("/login/link/",)),
    "email_change_requested": Case(
        "A new email address was requested for your Kern account",
        _email_change_requested,
        ("/account/cancel-email/",),
    ),
    "receipt": Case("Your purchase at Kern: %(title)s", _receipt, ("/courses/",)),
    "refund": Case("Your payment for %(title)s has been refunded", _refund, ()),
    "module_opened": Case(
        "A new part of your course is ready",
        _module_opened,
        ("/courses/", "/unsubscribe/"),
    ),
    "practice_reminder": Case(
        "A moment for yourself", _practice_reminder, ("/today", "/account/mail", "/unsubscribe/")
    ),
    "new_enrolment": Case(
        "A new learner in %(title)s", _new_enrolment, ("/studio/courses/", "/unsubscribe/")
    ),
}


@pytest.fixture
def world(
    session: Session,
    settings: Settings,
    outbox_sessions: sessionmaker[Session],
    mailbox: Mailbox,
) -> World:
    return World(session, settings, outbox_sessions, mailbox)


def _routed(app: FastAPI, path: str, method: str = "GET") -> bool:
    scope = {"type": "http", "path": path, "method": method}
    return any(route.matches(scope)[0] == Match.FULL for route in app.routes)


@pytest.mark.parametrize("language", i18n.LOCALES)
@pytest.mark.parametrize("kind", list(CASES))
def test_each_message_arrives_in_her_language_with_working_links(
    kind: str, language: str, app: FastAPI, world: World
) -> None:
    case, settings, mailbox = CASES[kind], world.settings, world.mailbox

    recipient = case.send(world, language)

    mine = [m for m in mailbox.wait_for(1) if m["To"] == recipient.email]
    assert len(mine) == 1, [str(m["Subject"]) for m in mailbox.messages]
    [message] = mine
    catalog = i18n.translations(language)
    subject_start = catalog.ugettext(case.subject).split("%(")[0]
    assert str(message["Subject"]).startswith(subject_start)
    if language != "en":
        assert catalog.ugettext(case.subject) != case.subject, "the subject is not translated"
    hello = catalog.ugettext("Hello %(name)s,") % {"name": recipient.name}
    assert hello in text_of(message)

    html = html_of(message)
    assert f'<html lang="{language}">' in html
    links = links_in(message)
    assert [
        next((p for p in case.paths if urlsplit(link).path.startswith(p)), None) for link in links
    ] == list(case.paths), links
    for link in links:
        url = urlsplit(link)
        assert f"{url.scheme}://{url.netloc}" == settings.base_url
        assert _routed(app, url.path), f"{link} leads nowhere in Kern"
        assert f'href="{link}"' in html  # the HTML part links to the same places


def test_the_instructor_reads_who_enrolled_but_not_her_address(
    session: Session, settings: Settings, mailbox: Mailbox
) -> None:
    """The instructor's mail names the learner and course, never her email address."""
    instructor = make_user(session, role=Role.instructor, language="en")
    course = make_course(session, instructor=instructor)
    learner = make_user(session, name="Noor Bakker", email="noor.private@example.nl")

    enrolment = enrolment_service.enrol_free(
        session, user=learner, course=course, settings=settings
    )

    assert isinstance(enrolment, Enrolment)
    [message] = mailbox.wait_for(1)
    text = text_of(message)
    assert "Noor Bakker" in text
    assert course.title in text
    assert "noor.private@example.nl" not in text + html_of(message)
    assert "Noor" not in str(message["Subject"])  # lock screens show subjects
