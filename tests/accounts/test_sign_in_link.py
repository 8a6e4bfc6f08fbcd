"""Signing in with a link by mail: asked for without saying whether the address has an account,
used once within 15 minutes, and never past the second factor."""

from datetime import datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.accounts import tokens
from api.db import utcnow
from tests.factories import (
    enable_totp,
    field_error,
    make_course,
    make_user,
    new_browser,
    post_form,
    without_csrf_values,
)
from tests.smtp import Mailbox, link_path

ENGLISH = {"Accept-Language": "en"}


def ask_link(client: TestClient, email: str, next: str = "/today") -> str:
    response = post_form(client, "/login/link", {"email": email, "next": next})
    assert response.status_code == 200, response.text
    return response.text


def signed_in_as(client: TestClient) -> str | None:
    me = client.get("/api/v1/me")
    return str(me.json()["email"]) if me.status_code == 200 else None


def test_the_login_page_offers_a_link_by_mail(client: TestClient) -> None:
    page = client.get("/login?next=/courses/rustig")

    assert 'href="/login/link?next=/courses/rustig"' in page.text
    assert "Stuur me een inloglink" in page.text
    form = client.get("/login/link?next=/courses/rustig")
    assert form.status_code == 200
    assert 'name="next" value="/courses/rustig"' in form.text


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_account_a_mail(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    make_user(session, email="alice@example.nl")

    known = ask_link(client, "alice@example.nl")
    unknown = ask_link(client, "nobody@example.nl")

    assert without_csrf_values(known).replace("alice@", "X@") == without_csrf_values(
        unknown
    ).replace("nobody@", "X@")
    assert "een inloglink onderweg" in known
    [message] = mailbox.wait_for(1)
    assert message["To"] == "alice@example.nl"
    assert message["Subject"] == "Je inloglink voor Kern"
    assert [delivery.recipients for delivery in mailbox.deliveries] == [("alice@example.nl",)]


def test_opening_the_link_shows_a_button_and_pressing_it_signs_her_in_once(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, verified=False)
    ask_link(client, alice.email)
    link = link_path(mailbox.wait_for(1)[0])
    assert link.startswith("/login/link/")

    page = client.get(link)
    client.get(link)  # a mail scanner opening it again uses nothing up

    assert page.status_code == 200
    assert f'action="{link}"' in page.text
    assert signed_in_as(client) is None

    response = post_form(client, link)

    assert response.status_code == 303
    assert response.headers["location"] == "/today"
    assert signed_in_as(client) == alice.email
    session.refresh(alice)
    assert alice.email_verified_at is not None  # the link proved she reads the mailbox
    other = new_browser(client)
    assert post_form(other, link).status_code == 400
    assert other.get(link, headers=ENGLISH).status_code == 400
    assert signed_in_as(other) is None


def test_the_link_continues_to_where_she_was_going(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    course = make_course(session)
    ask_link(client, alice.email, next=f"/courses/{course.slug}")

    response = post_form(client, link_path(mailbox.wait_for(1)[0]))

    assert response.headers["location"] == f"/courses/{course.slug}"


def test_the_link_goes_nowhere_outside_kern(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    ask_link(client, alice.email, next="https://evil.example/")

    response = post_form(client, link_path(mailbox.wait_for(1)[0]))

    assert response.headers["location"] == "/"


@pytest.fixture
def alices_link(client: TestClient, session: Session, mailbox: Mailbox) -> str:
    """The path of the sign-in link Alice has just been mailed."""
    ask_link(client, make_user(session, email="alice@example.nl").email)
    return link_path(mailbox.wait_for(1)[0])


@pytest.mark.parametrize(("minutes", "works"), [(14, True), (16, False)])
def test_the_link_expires_after_fifteen_minutes(
    client: TestClient, alices_link: str, monkeypatch: pytest.MonkeyPatch, minutes: int, works: bool
) -> None:
    later = utcnow() + timedelta(minutes=minutes)

    def the_clock_later() -> datetime:
        return later

    monkeypatch.setattr(tokens, "utcnow", the_clock_later)
    response = post_form(client, alices_link)

    assert response.status_code == (303 if works else 400)
    assert (signed_in_as(client) == "alice@example.nl") is works


def test_with_two_step_verification_the_link_still_asks_for_the_code(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    secret = enable_totp(session, alice)
    ask_link(client, alice.email, next="/account")

    response = post_form(client, link_path(mailbox.wait_for(1)[0]))

    assert response.status_code == 303
    assert response.headers["location"] == "/login/two-factor?next=%2Faccount"
    assert signed_in_as(client) is None
    assert client.get("/account", follow_redirects=False).status_code == 303
    wrong = post_form(client, "/login/two-factor", {"code": "not-a-code"})
    assert wrong.status_code == 400
    assert signed_in_as(client) is None

    step = client.get(response.headers["location"])
    assert 'name="next" value="/account"' in step.text
    code = pyotp.TOTP(secret).now()
    coded = post_form(client, "/login/two-factor", {"code": code, "next": "/account"})

    assert coded.headers["location"] == "/account"
    assert signed_in_as(client) == alice.email


def test_a_malformed_address_is_a_field_error_and_sends_nothing(
    client: TestClient, mailbox: Mailbox
) -> None:
    response = post_form(client, "/login/link", {"email": "alice"})

    assert response.status_code == 422
    assert field_error(response.text, "email")
    assert mailbox.messages == []


def test_links_for_one_address_are_limited(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    for _ in range(3):
        ask_link(client, alice.email)

    response = post_form(client, "/login/link", {"email": alice.email})

    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert f'value="{alice.email}"' in response.text
    assert len(mailbox.wait_for(3)) == 3


def test_links_asked_for_from_one_address_are_limited(client: TestClient) -> None:
    for number in range(10):
        ask_link(client, f"iemand{number}@example.nl")

    response = post_form(client, "/login/link", {"email": "nog-iemand@example.nl"})

    assert response.status_code == 429
