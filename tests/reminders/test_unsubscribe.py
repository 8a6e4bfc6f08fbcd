"""The link in a mail stops that kind of mail with one button, without logging in, and cannot
be made by anyone but Kern; opening the link alone (as a mail scanner does) changes nothing."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session

from api.accounts.models import User
from api.clock import current_time
from api.config import Settings
from api.mail.unsubscribe import Topic, make_link, make_token
from api.reminders import service
from api.reminders.models import MailPreference
from api.reminders.practice import queue_practice_reminders
from tests.factories import make_user
from tests.reminders.people import DUE, learner_with_reminders, mail_to, preference
from tests.smtp import Mailbox, links_in

LATER = DUE + timedelta(hours=3)  # Wednesday 25 November 2026, 11:00 in Amsterdam


@pytest.fixture(autouse=True)
def _clock(app: FastAPI) -> Iterator[None]:
    app.dependency_overrides[current_time] = lambda: LATER
    yield
    app.dependency_overrides.clear()


@pytest.fixture
def stranger(app: FastAPI) -> Iterator[TestClient]:
    """A browser that never logged in and has no CSRF cookie: a mail program, say."""
    with TestClient(app, base_url="http://testserver") as browser:
        yield browser


def stop_link_from_mail(
    session: Session, settings: Settings, mailbox: Mailbox, learner: User
) -> str:
    queue_practice_reminders(session, settings, now=DUE)
    [message] = mail_to(mailbox, learner)
    return links_in(message)[-1]


def test_the_link_in_the_mail_stops_reminders_with_one_button_without_logging_in(
    session: Session, settings: Settings, mailbox: Mailbox, stranger: TestClient
) -> None:
    learner, course = learner_with_reminders(session, language="en")
    path = stop_link_from_mail(session, settings, mailbox, learner).removeprefix(
        "http://testserver"
    )
    stranger.cookies.set("kern_lang", "en")

    page = stranger.get(path)
    response = stranger.post(path)

    assert page.status_code == 200
    assert "<h1>Stop practice reminders?</h1>" in page.text
    assert f'<form method="post" action="{path}"' in page.text
    assert response.status_code == 200
    assert "<h1>Reminders stopped</h1>" in response.text
    # A forwarded mail must not show who she is or what she follows.
    for private in (learner.name, learner.email, course.title):
        assert private not in page.text
        assert private not in response.text
    row = preference(session, learner)
    assert row.next_reminder_at is None
    assert (service.weekdays_of(row), service.times_of(row)) == (list(range(7)), ["08:00"])
    assert queue_practice_reminders(session, settings, now=DUE + timedelta(days=1)) == 0


@pytest.mark.parametrize("topic", list(Topic))
def test_a_mail_scanner_opening_the_link_stops_nothing(
    session: Session, settings: Settings, stranger: TestClient, topic: Topic
) -> None:
    learner, _course = learner_with_reminders(session)
    assert learner.id is not None
    path = f"/unsubscribe/{make_token(settings, user_id=learner.id, topic=topic)}"
    before = preference(session, learner).model_dump()

    assert stranger.get(path).status_code == 200

    assert preference(session, learner).model_dump() == before
    assert preference(session, learner).next_reminder_at == DUE


def test_a_mail_programs_one_click_post_works_without_a_csrf_token(
    session: Session, settings: Settings, mailbox: Mailbox, stranger: TestClient
) -> None:
    learner, _course = learner_with_reminders(session)
    queue_practice_reminders(session, settings, now=DUE)
    [message] = mail_to(mailbox, learner)
    header = str(message["List-Unsubscribe"]).strip("<>")

    response = stranger.post(header, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert preference(session, learner).next_reminder_at is None


def test_turning_reminders_on_again_starts_from_now(
    session: Session, settings: Settings, stranger: TestClient
) -> None:
    learner, _course = learner_with_reminders(session)
    assert learner.id is not None
    path = f"/unsubscribe/{make_token(settings, user_id=learner.id, topic=Topic.reminders)}"
    stopped = stranger.post(path)
    assert f'action="{path}"' in stopped.text
    assert 'value="resume"' in stopped.text

    response = stranger.post(path, data={"action": "resume"})

    assert response.status_code == 200
    # Stopped and resumed at 11:00 on Wednesday: the next reminder is Thursday at 08:00.
    assert preference(session, learner).next_reminder_at == DUE + timedelta(days=1)
    assert 'href="/account/mail"' in response.text


def test_turning_on_without_days_and_times_says_where_to_choose_them(
    session: Session, settings: Settings, stranger: TestClient
) -> None:
    alice = make_user(session, language="en")
    assert alice.id is not None
    path = f"/unsubscribe/{make_token(settings, user_id=alice.id, topic=Topic.reminders)}"
    stranger.cookies.set("kern_lang", "en")

    response = stranger.post(path, data={"action": "resume"})

    assert response.status_code == 200
    assert "You have not chosen any days and times yet" in response.text
    assert preference(session, alice).next_reminder_at is None


@pytest.mark.parametrize(
    ("topic", "column"), [(Topic.modules, "module_opened"), (Topic.enrolments, "new_enrolment")]
)
def test_other_topics_stop_and_resume_their_own_mail(
    session: Session, settings: Settings, stranger: TestClient, topic: Topic, column: str
) -> None:
    learner, _course = learner_with_reminders(session)
    assert learner.id is not None
    path = f"/unsubscribe/{make_token(settings, user_id=learner.id, topic=topic)}"

    assert stranger.post(path).status_code == 200
    row = preference(session, learner)
    assert getattr(row, column) is False
    assert row.next_reminder_at == DUE  # reminders untouched

    assert stranger.post(path, data={"action": "resume"}).status_code == 200
    assert getattr(preference(session, learner), column) is True


def forged_paths(settings: Settings, alice: User, bob: User) -> dict[str, str]:
    assert alice.id is not None
    assert bob.id is not None
    token = make_token(settings, user_id=alice.id, topic=Topic.reminders)
    payload, _, signature = token.rpartition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other_key = settings.model_copy(update={"secret_key": SecretStr("another-" + "s" * 40)})
    return {
        "changed signature": f"{payload}.{flipped}",
        "other user": token.replace(f"{alice.id}.", f"{bob.id}.", 1),
        "other topic": token.replace(".reminders.", ".modules.", 1),
        "other SECRET_KEY": make_link(
            other_key, user_id=alice.id, topic=Topic.reminders
        ).rpartition("/")[2],
        "no signature": payload,
        "garbage": "not-a-token",
    }


@pytest.mark.parametrize(
    "forgery",
    [
        "changed signature",
        "other user",
        "other topic",
        "other SECRET_KEY",
        "no signature",
        "garbage",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "POST resume"])
def test_a_forged_link_changes_nothing(
    session: Session, settings: Settings, stranger: TestClient, forgery: str, method: str
) -> None:
    alice, course = learner_with_reminders(session)
    bob, _ = learner_with_reminders(session, course=course)
    path = "/unsubscribe/" + forged_paths(settings, alice, bob)[forgery]
    service.stop(session, user_id=alice.id or 0, topic=Topic.modules, now=DUE)
    before = {person.id: preference(session, person).model_dump() for person in (alice, bob)}

    if method == "GET":
        response = stranger.get(path)
    else:
        data = (
            {"action": "resume"} if method == "POST resume" else {"List-Unsubscribe": "One-Click"}
        )
        response = stranger.post(path, data=data)

    assert response.status_code == 400
    assert 'value="resume"' not in response.text
    after = {person.id: preference(session, person).model_dump() for person in (alice, bob)}
    assert after == before


def test_a_link_for_an_account_that_is_gone_is_refused(
    session: Session, settings: Settings, stranger: TestClient
) -> None:
    path = f"/unsubscribe/{make_token(settings, user_id=987_654, topic=Topic.reminders)}"

    assert stranger.get(path).status_code == 400
    assert stranger.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert session.get(MailPreference, 987_654) is None


def test_other_forms_still_need_the_csrf_token(session: Session, stranger: TestClient) -> None:
    """The exemption is for /unsubscribe/ only."""
    assert stranger.post("/account/mail", data={"weekdays": "0"}).status_code == 403
    assert stranger.post("/unsubscribe", data={}).status_code in (403, 404, 405)
