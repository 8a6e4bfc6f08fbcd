"""A waiting email change: the old address hears of it at once and can stop it, and neither it nor
any other mailed link outlives a new password."""

from email.message import EmailMessage

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.accounts.models import User
from tests.factories import PASSWORD, log_in, make_user, new_browser, post_form
from tests.smtp import Mailbox, link_path, text_of

NEW_PASSWORD = "zachte golven 19 juni"
ATTACKER_IP = "203.0.113.66"


def ask_change(browser: TestClient, new_email: str) -> None:
    response = post_form(browser, "/account/email", {"email": new_email, "password": PASSWORD})
    assert response.status_code == 303, response.text


def mail_to(mailbox: Mailbox, address: str, count: int) -> EmailMessage:
    """The one message to `address` among the first `count` delivered."""
    [message] = [m for m in mailbox.wait_for(count) if m["To"] == address]
    return message


def email_of(session: Session, user: User) -> str:
    session.refresh(user)
    return user.email


def test_a_change_asked_for_before_a_password_change_cannot_be_confirmed_after_it(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, email="alice@example.nl")
    mallory = new_browser(client, ip=ATTACKER_IP)
    log_in(mallory, alice)  # she once had Alice's session and password
    ask_change(mallory, "mallory@evil.example")
    confirm = link_path(mail_to(mailbox, "mallory@evil.example", 2))

    # Alice secures her account.
    log_in(client, alice)
    changed = post_form(
        client, "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD}
    )
    assert changed.status_code == 303

    # The link needs no login, so Mallory tries it from a fresh browser.
    later = new_browser(client, ip=ATTACKER_IP)
    assert later.get(confirm).status_code == 400
    assert post_form(later, confirm).status_code == 400
    assert email_of(session, alice) == "alice@example.nl"


def test_a_change_asked_for_before_a_password_reset_cannot_be_confirmed_after_it(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, email="alice@example.nl")
    mallory = new_browser(client, ip=ATTACKER_IP)
    log_in(mallory, alice)
    ask_change(mallory, "mallory@evil.example")
    confirm = link_path(mail_to(mailbox, "mallory@evil.example", 2))

    post_form(client, "/forgot-password", {"email": "alice@example.nl"})
    reset = link_path(mailbox.wait_for(3)[2])
    assert post_form(client, reset, {"password": NEW_PASSWORD}).status_code == 303

    assert post_form(new_browser(client, ip=ATTACKER_IP), confirm).status_code == 400
    assert email_of(session, alice) == "alice@example.nl"


def test_a_reset_link_mailed_before_a_password_change_no_longer_works(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    post_form(client, "/forgot-password", {"email": alice.email})
    reset = link_path(mailbox.wait_for(1)[0])

    log_in(client, alice)
    post_form(client, "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})

    stranger = new_browser(client, ip=ATTACKER_IP)
    assert stranger.get(reset).status_code == 400
    assert post_form(stranger, reset, {"password": "iemand anders zijn zin 5"}).status_code == 400
    log_in(stranger, alice, NEW_PASSWORD)


def test_verification_and_sign_in_links_mailed_before_a_password_change_no_longer_work(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, verified=False)
    post_form(client, "/login/link", {"email": alice.email})
    sign_in = link_path(mailbox.wait_for(1)[0])
    log_in(client, alice)
    post_form(client, "/account/verify/resend")
    verify = link_path(mailbox.wait_for(2)[1])

    post_form(client, "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})

    stranger = new_browser(client, ip=ATTACKER_IP)
    for link in (sign_in, verify):
        assert stranger.get(link).status_code == 400, link
        assert post_form(stranger, link).status_code == 400, link
    assert stranger.get("/api/v1/me").status_code == 401


def test_the_old_address_hears_of_a_change_at_once_and_its_link_stops_it(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, email="alice@example.nl")
    log_in(client, alice)

    ask_change(client, "alice@new.example")

    confirm = link_path(mail_to(mailbox, "alice@new.example", 2))
    announcement = mail_to(mailbox, "alice@example.nl", 2)
    assert announcement["Subject"] == "Er is een nieuw e-mailadres aangevraagd voor je Kern-account"
    assert "alice@new.example" in text_of(announcement)
    cancel = link_path(announcement)
    assert cancel.startswith("/account/cancel-email/")

    # Opening the link (a mail scanner does) shows a button and stops nothing.
    reader = new_browser(client)
    page = reader.get(cancel)
    assert page.status_code == 200
    assert f'action="{cancel}"' in page.text
    assert "alice@new.example" in page.text
    assert client.get(confirm).status_code == 200

    stopped = post_form(reader, cancel)

    assert stopped.status_code == 200
    assert "De wijziging is gestopt" in stopped.text
    assert post_form(client, confirm).status_code == 400
    assert reader.get(cancel).status_code == 400
    assert email_of(session, alice) == "alice@example.nl"


def test_the_account_page_shows_the_waiting_change_and_can_cancel_it(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, email="alice@example.nl")
    log_in(client, alice)
    assert "Wacht op bevestiging" not in client.get("/account").text
    ask_change(client, "alice@new.example")
    confirm = link_path(mail_to(mailbox, "alice@new.example", 2))

    page = client.get("/account")

    assert "Wacht op bevestiging: alice@new.example" in page.text
    assert 'action="/account/email/cancel"' in page.text

    cancelled = post_form(client, "/account/email/cancel")

    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == "/account?notice=email-change-cancelled"
    after = client.get("/account?notice=email-change-cancelled").text
    assert "De wijziging van je e-mailadres is gestopt." in after
    assert "alice@new.example" not in after
    assert post_form(client, confirm).status_code == 400
    assert email_of(session, alice) == "alice@example.nl"


def test_a_second_request_replaces_the_first_change_and_its_cancel_link(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session, email="alice@example.nl")
    log_in(client, alice)
    ask_change(client, "eerste@new.example")
    ask_change(client, "tweede@new.example")
    first_confirm, first_cancel, second_confirm, _ = (link_path(m) for m in mailbox.wait_for(4))

    assert post_form(client, first_confirm).status_code == 400
    assert post_form(client, first_cancel).status_code == 400
    assert post_form(client, second_confirm).status_code == 303
    assert email_of(session, alice) == "tweede@new.example"
