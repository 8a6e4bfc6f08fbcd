"""Links sent by mail: confirm an address, reset a password, change the email address."""

import logging
from datetime import datetime, timedelta

import pytest
from babel.support import NullTranslations
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from api import i18n
from api.accounts import requests as account_requests
from api.accounts import tokens
from api.accounts.models import AccountToken, AuthSession, User
from api.config import Settings
from api.db import utcnow
from api.mail.service import read_outbox_dir
from api.worker import Worker
from tests.factories import (
    PASSWORD,
    field_error,
    log_in,
    make_user,
    post_form,
    sign_up,
    without_csrf_values,
)
from tests.smtp import Mailbox, link_path, links_in

NEW_PASSWORD = "zachte golven 19 juni"
ENGLISH = {"Accept-Language": "en"}


def sessions_of(session: Session, user: User) -> list[AuthSession]:
    return list(session.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all())


def second_browser(client: TestClient) -> TestClient:
    """Another browser for the same app: its own cookies."""
    return TestClient(client.app, base_url=str(client.base_url))


# --- verify the address ---------------------------------------------------------------------


def register_alice(client: TestClient, mailbox: Mailbox) -> str:
    """Register Alice and return the path of her verification link."""
    response = sign_up(client, name="Alice")
    assert response.status_code == 200
    [message] = mailbox.wait_for(1)
    return link_path(message)


def test_opening_the_verification_link_shows_a_button_and_changes_nothing(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    link = register_alice(client, mailbox)

    page = client.get(link)
    client.get(link)  # a mail scanner opening it twice changes nothing either

    assert page.status_code == 200
    assert f'action="{link}"' in page.text
    assert 'type="submit"' in page.text
    alice = session.exec(select(User).where(User.email == "alice@example.nl")).one()
    assert alice.email_verified_at is None
    assert session.exec(select(AccountToken.used_at)).all() == [None]


def test_pressing_the_button_confirms_the_address_and_signs_her_in(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    link = register_alice(client, mailbox)

    response = post_form(client, link)

    assert response.status_code == 303
    assert response.headers["location"] == "/today?notice=welcome"
    alice = session.exec(select(User).where(User.email == "alice@example.nl")).one()
    session.refresh(alice)
    assert alice.email_verified_at is not None
    assert client.get("/api/v1/me").json()["email"] == "alice@example.nl"


def test_confirming_from_another_browser_needs_no_login(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    link = register_alice(client, mailbox)
    phone = second_browser(client)

    assert post_form(phone, link).status_code == 303
    assert phone.get("/api/v1/me").json()["email"] == "alice@example.nl"

    alice = session.exec(select(User).where(User.email == "alice@example.nl")).one()
    session.refresh(alice)
    assert alice.email_verified_at is not None


def test_a_used_verification_link_explains_itself_instead_of_failing(
    client: TestClient, mailbox: Mailbox
) -> None:
    link = register_alice(client, mailbox)
    post_form(client, link)

    again = post_form(client, link)
    opened = second_browser(client).get(link, headers=ENGLISH)

    assert again.status_code == 400
    assert "Deze link werkt niet meer" in again.text
    assert opened.status_code == 400
    assert "This link no longer works" in opened.text


@pytest.mark.parametrize(
    "link", ["/verify-email/made-up", "/verify-email/" + "x" * 500, "/reset-password/made-up"]
)
def test_unknown_links_are_a_400_page(client: TestClient, link: str) -> None:
    assert client.get(link).status_code == 400
    assert post_form(client, link, {"password": NEW_PASSWORD}).status_code == 400


def test_a_link_works_only_for_what_it_was_sent_for(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    ask_reset(client, alice.email)
    token = link_path(mailbox.wait_for(1)[0]).rsplit("/", 1)[1]

    assert client.get(f"/verify-email/{token}").status_code == 400
    assert post_form(client, f"/verify-email/{token}").status_code == 400
    assert post_form(client, f"/account/confirm-email/{token}").status_code == 400
    assert client.get(f"/reset-password/{token}").status_code == 200


def test_a_new_verification_mail_replaces_the_old_link(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, verified=False)
    log_in(client, alice)
    assert post_form(client, "/account/verify/resend").status_code == 303
    first = link_path(mailbox.wait_for(1)[0])

    assert post_form(client, "/account/verify/resend").status_code == 303

    second = link_path(mailbox.wait_for(2)[1])
    assert second != first
    assert client.get(first).status_code == 400
    confirmed = post_form(client, second)
    assert confirmed.status_code == 303
    # Asked for on her account page, the link leads back there.
    assert confirmed.headers["location"] == "/account?notice=verified"


# --- forgot and reset password -----------------------------------------------------------------


def ask_reset(client: TestClient, email: str) -> str:
    response = post_form(client, "/forgot-password", {"email": email})
    assert response.status_code == 200
    return response.text


def test_known_and_unknown_addresses_get_the_same_page(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    make_user(session, email="alice@example.nl")

    known = ask_reset(client, "alice@example.nl")
    unknown = ask_reset(client, "nobody@example.nl")

    assert without_csrf_values(known).replace("alice@", "X@") == without_csrf_values(
        unknown
    ).replace("nobody@", "X@")
    [message] = mailbox.wait_for(1)
    assert message["To"] == "alice@example.nl"
    assert [delivery.recipients for delivery in mailbox.deliveries] == [("alice@example.nl",)]


def test_the_access_log_does_not_record_reset_tokens(
    client: TestClient,
    session: Session,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alice = make_user(session)
    ask_reset(client, alice.email)
    link = link_path(mailbox.wait_for(1)[0])
    token = link.rsplit("/", 1)[1]
    caplog.set_level(logging.INFO, logger="kern.access")

    client.get(link)

    assert "/reset-password/" in caplog.text
    assert token not in caplog.text


def test_a_malformed_address_is_a_field_error(client: TestClient, mailbox: Mailbox) -> None:
    response = post_form(client, "/forgot-password", {"email": "alice"})

    assert response.status_code == 422
    assert field_error(response.text, "email")
    assert mailbox.messages == []


def test_the_reset_link_sets_a_new_password_and_ends_every_session(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, verified=False)
    laptop = second_browser(client)
    log_in(laptop, alice)
    ask_reset(client, alice.email)
    link = link_path(mailbox.wait_for(1)[0])

    assert client.get(link).status_code == 200
    response = post_form(client, link, {"password": NEW_PASSWORD})

    assert response.status_code == 303
    assert response.headers["location"] == "/login?notice=password-reset"
    assert sessions_of(session, alice) == []
    assert laptop.get("/account", follow_redirects=False).status_code == 303
    session.refresh(alice)
    assert alice.email_verified_at is not None  # the link proved she reads the mailbox
    old = post_form(client, "/login", {"email": alice.email, "password": PASSWORD})
    assert old.status_code == 400
    log_in(client, alice, NEW_PASSWORD)


def test_the_reset_link_works_once(client: TestClient, session: Session, mailbox: Mailbox) -> None:
    alice = make_user(session)
    ask_reset(client, alice.email)
    link = link_path(mailbox.wait_for(1)[0])
    post_form(client, link, {"password": NEW_PASSWORD})

    again = post_form(client, link, {"password": "nog een ander wachtwoord 7"})

    assert again.status_code == 400
    assert client.get(link).status_code == 400
    log_in(client, alice, NEW_PASSWORD)


def test_a_weak_new_password_keeps_the_link_usable(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    ask_reset(client, alice.email)
    link = link_path(mailbox.wait_for(1)[0])

    weak = post_form(client, link, {"password": "wachtwoord"})

    assert weak.status_code == 422
    assert field_error(weak.text, "password")
    assert post_form(client, link, {"password": NEW_PASSWORD}).status_code == 303


@pytest.fixture
def reset_link(client: TestClient, session: Session, mailbox: Mailbox) -> str:
    """The path of the reset link Alice has just been mailed."""
    alice = make_user(session)
    ask_reset(client, alice.email)
    return link_path(mailbox.wait_for(1)[0])


@pytest.mark.parametrize(("minutes", "works"), [(59, True), (61, False)])
def test_the_reset_link_expires_after_one_hour(
    client: TestClient, reset_link: str, monkeypatch: pytest.MonkeyPatch, minutes: int, works: bool
) -> None:
    later = utcnow() + timedelta(minutes=minutes)

    def the_clock_later() -> datetime:
        return later

    monkeypatch.setattr(tokens, "utcnow", the_clock_later)
    response = post_form(client, reset_link, {"password": NEW_PASSWORD})

    assert response.status_code == (303 if works else 400)


def test_a_second_reset_mail_replaces_the_first_link(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    ask_reset(client, alice.email)
    ask_reset(client, alice.email)
    first, second = (link_path(message) for message in mailbox.wait_for(2))

    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200


def test_reset_requests_for_one_address_are_limited(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    for _ in range(3):
        ask_reset(client, alice.email)

    response = post_form(client, "/forgot-password", {"email": alice.email})

    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert len(mailbox.wait_for(3)) == 3


# --- change password -------------------------------------------------------------------------


def test_changing_the_password_needs_the_current_one(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    log_in(client, alice)

    response = post_form(
        client,
        "/account/password",
        {"current_password": "niet het goede wachtwoord", "password": NEW_PASSWORD},
    )

    assert response.status_code == 422
    assert field_error(response.text, "current_password")
    assert NEW_PASSWORD not in response.text
    session.refresh(alice)
    log_in(second_browser(client), alice)  # the old password still works


def test_a_weak_new_password_is_refused(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    log_in(client, alice)

    response = post_form(
        client, "/account/password", {"current_password": PASSWORD, "password": "password123"}
    )

    assert response.status_code == 422
    assert field_error(response.text, "password")


def test_changing_the_password_ends_other_sessions_but_keeps_this_browser(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    log_in(client, alice)
    before = client.cookies["kern_session"]
    laptop = second_browser(client)
    log_in(laptop, alice)

    response = post_form(
        client, "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=password-changed"
    assert client.cookies["kern_session"] != before
    assert client.get("/account", follow_redirects=False).status_code == 200
    assert laptop.get("/account", follow_redirects=False).status_code == 303
    assert len(sessions_of(session, alice)) == 1
    log_in(laptop, alice, NEW_PASSWORD)


# --- change email ----------------------------------------------------------------------------


def test_changing_the_email_needs_the_password(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, email="alice@example.nl")
    log_in(client, alice)

    response = post_form(
        client, "/account/email", {"email": "alice@new.example", "password": "niet goed"}
    )

    assert response.status_code == 422
    assert field_error(response.text, "email-password")
    assert 'value="alice@new.example"' in response.text
    assert mailbox.messages == []


@pytest.mark.parametrize("taken", ["bob@example.nl", "alice@example.nl", "geen-adres"])
def test_the_new_email_must_be_valid_and_free(
    client: TestClient, session: Session, mailbox: Mailbox, taken: str
) -> None:
    alice = make_user(session, email="alice@example.nl")
    make_user(session, email="bob@example.nl")
    log_in(client, alice)

    response = post_form(client, "/account/email", {"email": taken, "password": PASSWORD})

    assert response.status_code == 422
    assert field_error(response.text, "new-email")
    assert mailbox.messages == []


def test_the_new_email_is_used_after_she_confirms_it_and_the_old_one_is_told(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, name="Alice", email="alice@example.nl")
    log_in(client, alice)

    response = post_form(
        client, "/account/email", {"email": "Alice@New.example", "password": PASSWORD}
    )

    assert response.status_code == 303
    [confirmation, announcement] = mailbox.wait_for(2)
    assert confirmation["To"] == "alice@new.example"
    assert announcement["To"] == "alice@example.nl"
    link = link_path(confirmation)
    session.refresh(alice)
    assert alice.email == "alice@example.nl"  # nothing changes before the click
    page = client.get(link)
    assert page.status_code == 200
    assert "alice@new.example" in page.text
    session.refresh(alice)
    assert alice.email == "alice@example.nl"

    confirmed = post_form(client, link)

    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/account?notice=email-changed"
    session.refresh(alice)
    assert alice.email == "alice@new.example"
    notice = mailbox.wait_for(3)[2]
    assert notice["To"] == "alice@example.nl"
    assert "alice@new.example" in notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert post_form(client, link).status_code == 400
    log_in(second_browser(client), alice)


def test_links_mailed_to_the_old_address_stop_working_after_the_change(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, email="alice@example.nl", verified=False)
    post_form(client, "/forgot-password", {"email": "alice@example.nl"})
    reset_link = link_path(mailbox.wait_for(1)[0])
    log_in(client, alice)
    post_form(client, "/account/verify/resend")
    post_form(client, "/account/email", {"email": "alice@new.example", "password": PASSWORD})
    verify_link, change_link, cancel_link = (link_path(m) for m in mailbox.wait_for(4)[1:])

    assert post_form(client, change_link).status_code == 303

    # Whoever still reads the old mailbox must not get back into the account through it.
    assert client.get(reset_link).status_code == 400
    assert post_form(client, reset_link, {"password": NEW_PASSWORD}).status_code == 400
    assert client.get(verify_link).status_code == 400
    assert client.get(cancel_link).status_code == 400


def test_an_address_taken_before_the_click_is_not_switched_to(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, email="alice@example.nl")
    log_in(client, alice)
    post_form(client, "/account/email", {"email": "shared@example.nl", "password": PASSWORD})
    link = link_path(mailbox.wait_for(1)[0])
    make_user(session, email="shared@example.nl")

    response = post_form(client, link)

    assert response.status_code == 400
    session.refresh(alice)
    assert alice.email == "alice@example.nl"


# --- mail language ---------------------------------------------------------------------------


class _DutchSubjects(NullTranslations):
    """Stands in for the Dutch catalog until its account strings are translated."""

    def ugettext(self, message: str) -> str:
        return {"Confirm your email address for Kern": "Bevestig je e-mailadres voor Kern"}.get(
            message, message
        )


@pytest.fixture
def dutch_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    english = i18n.translations("en")

    def catalog(locale: str) -> NullTranslations:
        return english if locale == "en" else _DutchSubjects()

    monkeypatch.setattr(i18n, "translations", catalog)


@pytest.mark.usefixtures("dutch_catalog")
@pytest.mark.parametrize(
    ("language", "browser", "subject"),
    [
        ("en", "nl", "Confirm your email address for Kern"),
        ("nl", "en", "Bevestig je e-mailadres voor Kern"),
    ],
)
def test_mail_is_written_in_her_language_not_the_browsers(
    client: TestClient, mailbox: Mailbox, language: str, browser: str, subject: str
) -> None:
    client.get("/login")
    response = client.post(
        "/register",
        data={
            "csrf_token": client.cookies["kern_csrf"],
            "name": "Alice",
            "email": "alice@example.nl",
            "password": PASSWORD,
            "language": language,
        },
        headers={"Accept-Language": browser},
        follow_redirects=False,
    )

    assert response.status_code == 200
    [message] = mailbox.wait_for(1)
    assert message["Subject"] == subject


def test_an_english_learner_gets_english_mail(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, name="Alice", language="en")

    ask_reset(client, alice.email)

    [message] = mailbox.wait_for(1)
    assert message["Subject"] == "Set a new password for Kern"
    assert "Hello Alice," in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_without_an_smtp_server_mail_lands_in_the_mail_directory(
    client: TestClient,
    session: Session,
    settings: Settings,
    outbox_sessions: sessionmaker[Session],
) -> None:
    alice = make_user(session)

    ask_reset(client, alice.email)
    assert read_outbox_dir(settings.mail_dir) == []  # asked for; the worker writes it
    Worker(outbox_sessions, settings).run_once()

    [message] = read_outbox_dir(settings.mail_dir)
    assert message["To"] == alice.email


def test_without_base_url_the_links_in_mails_point_at_the_port_kern_listens_on(
    session: Session,
    settings: Settings,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`PORT=8101 make run`: `kern serve --port 8101` hands the port on to the server."""
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.setenv("PORT", "8101")
    on_8101 = Settings(
        _env_file=None,
        app_env="test",
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        smtp_url=mailbox.url,
    )
    alice = make_user(session)
    mailbox.settings = on_8101  # the worker answering the request runs with these settings

    account_requests.ask_reset(session, email=alice.email, ip="127.0.0.1")

    [message] = mailbox.wait_for(1)
    [link] = links_in(message)
    assert link.startswith("http://127.0.0.1:8101/reset-password/")
