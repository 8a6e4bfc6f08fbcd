"""Wrong passwords at login: guessing is stopped, but a stranger cannot lock the owner out, and
when a spread-out attack closes the password path, her mailed link still signs her in."""

from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from api.accounts.models import User
from tests.factories import PASSWORD, log_in, make_user, new_browser, post_form
from tests.smtp import Mailbox, link_path

WRONG = "helemaal niet mijn wachtwoord"
HER_ADDRESS = "198.51.100.20"
STRANGER = "203.0.113.7"


def try_login(browser: TestClient, user: User, password: str = WRONG) -> Response:
    return post_form(browser, "/login", {"email": user.email, "password": password})


def test_a_stranger_guessing_from_elsewhere_does_not_lock_her_out(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    stranger = new_browser(client, ip=STRANGER)
    answers = [try_login(stranger, alice).status_code for _ in range(10)]
    assert answers == [400] * 5 + [429] * 5

    her_phone = new_browser(client, ip=HER_ADDRESS)
    log_in(her_phone, alice)

    assert her_phone.get("/api/v1/me").json()["email"] == alice.email


def test_guessing_from_one_address_is_stopped_even_with_the_right_password(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    guesser = new_browser(client, ip=STRANGER)
    for _ in range(5):
        assert try_login(guesser, alice).status_code == 400

    right = try_login(guesser, alice, PASSWORD)

    assert right.status_code == 429
    assert 0 < int(right.headers["Retry-After"]) <= 15 * 60
    assert "Te veel pogingen" in right.text
    assert 'href="/login/link?next=/today"' in right.text
    assert "kern_session" not in guesser.cookies


def test_one_address_trying_many_accounts_is_stopped_after_twenty_failures(
    client: TestClient, session: Session
) -> None:
    guesser = new_browser(client, ip=STRANGER)
    for number in range(20):
        response = post_form(
            guesser, "/login", {"email": f"iemand{number}@example.nl", "password": WRONG}
        )
        assert response.status_code == 400
    alice = make_user(session)

    assert try_login(guesser, alice, PASSWORD).status_code == 429
    log_in(new_browser(client, ip=HER_ADDRESS), alice)


def test_guesses_from_many_addresses_close_the_password_path_for_a_day_but_not_her_link(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    for machine in range(10):
        botnet = new_browser(client, ip=f"203.0.113.{machine + 10}")
        for _ in range(5):
            assert try_login(botnet, alice).status_code == 400

    her_phone = new_browser(client, ip=HER_ADDRESS)
    refused = try_login(her_phone, alice, PASSWORD)

    assert refused.status_code == 429
    assert 15 * 60 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert "Stuur me een inloglink" in refused.text
    assert "kern_session" not in her_phone.cookies

    asked = post_form(her_phone, "/login/link", {"email": alice.email, "next": "/today"})
    assert asked.status_code == 200
    link = link_path(mailbox.wait_for(1)[0])
    signed_in = post_form(her_phone, link)

    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/today"
    assert her_phone.get("/api/v1/me").json()["email"] == alice.email
