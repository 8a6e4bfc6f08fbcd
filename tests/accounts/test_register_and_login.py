"""Signing up and in: registration, login, its rate limit, a fresh session token, logout."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from api.accounts.models import AuthSession, User
from api.config import Settings
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

ENGLISH = {"Accept-Language": "en"}
WRONG_PASSWORD = "helemaal niet mijn wachtwoord"


def user_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


# --- registration ---------------------------------------------------------------------------


def test_registration_asks_her_to_open_her_mail_and_the_link_signs_her_in(
    client: TestClient, session: Session, settings: Settings, mailbox: Mailbox
) -> None:
    response = sign_up(client, name="Alice", email=" Alice@Example.nl ", language="en")

    assert response.status_code == 200
    assert "Kijk in je mail" in response.text
    assert "alice@example.nl" in response.text
    assert "kern_session" not in client.cookies
    assert client.get("/account", follow_redirects=False).status_code == 303

    [message] = mailbox.wait_for(1)
    assert message["To"] == "alice@example.nl"
    [link] = links_in(message)
    assert link.startswith(f"{settings.base_url}/verify-email/")
    alice = session.exec(select(User).where(User.email == "alice@example.nl")).one()
    assert (alice.name, alice.language, alice.role) == ("Alice", "en", "learner")
    assert alice.email_verified_at is None
    assert PASSWORD not in alice.password_hash

    confirmed = post_form(client, link_path(message))

    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/today?notice=welcome"
    assert client.get("/account", follow_redirects=False).status_code == 200
    session.refresh(alice)
    assert alice.email_verified_at is not None


def test_registering_an_existing_address_answers_the_same_and_mails_the_owner_instead(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    bert = make_user(session, name="Bert", email="bert@example.nl")
    typed_password = "een heel eigen zin 42"

    existing = sign_up(client, name="Bert Twee", email="BERT@example.nl", password=typed_password)

    assert existing.status_code == 200
    assert typed_password not in existing.text
    assert "kern_session" not in client.cookies
    [message] = mailbox.wait_for(1)
    assert message["To"] == "bert@example.nl"
    assert message["Subject"] == "Je hebt al een account bij Kern"
    assert user_count(session) == 1
    session.refresh(bert)
    assert bert.name == "Bert"
    # Her password stays hers: the one typed at the sign-up does not open the account.
    wrong = post_form(client, "/login", {"email": bert.email, "password": typed_password})
    assert wrong.status_code == 400
    log_in(client, bert)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "A" * 101),
        ("name", ""),
        ("email", "alice-at-example.nl"),
        ("email", "alice@example"),
        ("email", "alice@@example.nl"),
        # The mail module reads these as address lists: "a,b@x" would also mail "a".
        ("email", "mallory,alice@example.nl"),
        ("email", "mallory<alice@example.nl>"),
        ("email", "alice;x@example.nl"),
        ("email", "alice@exa(mple).nl"),
        ("password", "kort 1"),
        ("password", "wachtwoord"),
        ("password", "password123"),
        ("password", "Alice de Vries 2024"),
    ],
)
def test_invalid_registration_names_the_field_and_saves_nothing(
    client: TestClient, session: Session, field: str, value: str
) -> None:
    response = sign_up(client, **{field: value})

    assert response.status_code == 422
    assert field_error(response.text, field)
    assert user_count(session) == 0
    assert "kern_session" not in client.cookies


def test_a_language_kern_does_not_offer_is_refused(client: TestClient, session: Session) -> None:
    response = sign_up(client, language="fr")

    assert response.status_code == 422
    assert user_count(session) == 0


def test_a_name_of_exactly_100_characters_is_accepted(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    response = sign_up(client, name="A" * 100)

    assert response.status_code == 200
    mailbox.wait_for(1)
    assert user_count(session) == 1


def test_a_signed_in_visitor_is_sent_from_the_register_page_to_her_today_page(
    client: TestClient, session: Session
) -> None:
    log_in(client, make_user(session))

    response = client.get("/register", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/today"


# --- login ------------------------------------------------------------------------------------


def test_wrong_password_and_unknown_address_get_the_same_answer(
    client: TestClient, session: Session
) -> None:
    make_user(session, email="alice@example.nl")

    wrong_password = post_form(
        client, "/login", {"email": "alice@example.nl", "password": WRONG_PASSWORD}
    )
    unknown_email = post_form(
        client, "/login", {"email": "nobody@example.nl", "password": WRONG_PASSWORD}
    )

    assert wrong_password.status_code == unknown_email.status_code == 400
    assert "Dit e-mailadres en wachtwoord horen niet bij elkaar" in wrong_password.text
    assert without_csrf_values(wrong_password.text).replace("alice@", "X@") == (
        without_csrf_values(unknown_email.text).replace("nobody@", "X@")
    )
    assert "kern_session" not in client.cookies


@pytest.mark.parametrize("email", ["alice\x00@example.nl", "a" * 300 + "@example.nl", ""])
def test_a_malformed_login_address_is_a_wrong_login_not_a_crash(
    client: TestClient, session: Session, email: str
) -> None:
    make_user(session, email="alice@example.nl")

    response = post_form(client, "/login", {"email": email, "password": PASSWORD})

    assert response.status_code == 400
    assert "Dit e-mailadres en wachtwoord horen niet bij elkaar" in response.text


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/register", ("name", "email", "password", "language", "next")),
        ("/login", ("email", "password", "next")),
        ("/login/link", ("email", "next")),
        ("/forgot-password", ("email",)),
    ],
)
def test_a_nul_character_in_any_field_is_refused_without_a_crash(
    client: TestClient, session: Session, path: str, fields: tuple[str, ...]
) -> None:
    """PostgreSQL refuses text with NUL characters; the forms must never pass one on."""
    valid = {
        "name": "Alice",
        "email": "alice@example.nl",
        "password": PASSWORD,
        "language": "nl",
        "next": "/account",
    }
    for field in fields:
        # A local page for `next`, so it gets past safe_next as far as storing it.
        bad = "/al\x00ice" if field == "next" else "al\x00ice"
        data = {name: valid[name] for name in fields} | {field: bad}
        response = post_form(client, path, data)
        assert response.status_code < 500, (field, response.status_code)
    assert user_count(session) == 0


def test_login_with_the_right_password_opens_her_today_page(
    client: TestClient, session: Session
) -> None:
    make_user(session, email="alice@example.nl")

    response = post_form(client, "/login", {"email": " ALICE@example.nl", "password": PASSWORD})

    assert response.status_code == 303
    assert response.headers["location"] == "/today"
    assert client.get("/account", follow_redirects=False).status_code == 200


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/account/two-factor", "/account/two-factor"), ("https://evil.example/", "/")],
)
def test_login_only_continues_to_a_local_page(
    client: TestClient, session: Session, target: str, expected: str
) -> None:
    alice = make_user(session)

    response = post_form(
        client, "/login", {"email": alice.email, "password": PASSWORD, "next": target}
    )

    assert response.headers["location"] == expected


def test_sixth_quick_wrong_login_for_one_account_is_refused_for_a_while(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    for _ in range(5):
        response = post_form(client, "/login", {"email": alice.email, "password": WRONG_PASSWORD})
        assert response.status_code == 400

    sixth = client.post(
        "/login",
        data={
            "csrf_token": client.cookies["kern_csrf"],
            "email": alice.email,
            "password": WRONG_PASSWORD,
        },
        headers=ENGLISH,
    )

    assert sixth.status_code == 429
    assert 0 < int(sixth.headers["Retry-After"]) <= 15 * 60
    assert "Too many attempts" in sixth.text
    # The limit holds for the right password too: otherwise guessing would just go on.
    right = post_form(client, "/login", {"email": alice.email, "password": PASSWORD})
    assert right.status_code == 429
    assert "Te veel pogingen" in right.text
    assert "kern_session" not in client.cookies


def test_the_login_limit_of_one_account_does_not_lock_out_another(
    client: TestClient, session: Session
) -> None:
    alice, bob = make_user(session), make_user(session)
    for _ in range(6):
        post_form(client, "/login", {"email": alice.email, "password": WRONG_PASSWORD})

    log_in(client, bob)


def test_a_successful_login_forgets_earlier_failures(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    for _ in range(4):
        post_form(client, "/login", {"email": alice.email, "password": WRONG_PASSWORD})
    log_in(client, alice)

    for _ in range(4):
        response = post_form(client, "/login", {"email": alice.email, "password": WRONG_PASSWORD})
        assert response.status_code == 400


def test_login_replaces_a_session_token_the_browser_already_had(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    planted = "chosen-by-an-attacker-" + "x" * 30
    # The domain the cookie jar files testserver cookies under, so the login can replace it.
    client.cookies.set("kern_session", planted, domain="testserver.local")

    log_in(client, alice)

    token = client.cookies["kern_session"]
    assert token != planted
    assert len(token) >= 43  # 32 random bytes, base64


def test_logging_in_again_gives_a_new_token_and_ends_the_old_session(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    log_in(client, alice)
    first = client.cookies["kern_session"]

    log_in(client, alice)

    second = client.cookies["kern_session"]
    assert second != first
    sessions = session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).all()
    assert len(sessions) == 1


def test_the_stored_session_holds_a_hash_not_the_token(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    log_in(client, alice)

    [stored] = session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).all()

    assert stored.token_hash != client.cookies["kern_session"]
    assert client.cookies["kern_session"] not in stored.token_hash


def test_logout_ends_the_session_on_the_server(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    log_in(client, alice)
    old_token = client.cookies["kern_session"]

    response = post_form(client, "/logout")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?notice=logged-out"
    assert "kern_session" not in client.cookies
    # Someone who copied the cookie before the logout cannot use it afterwards.
    client.cookies.set("kern_session", old_token)
    replay = client.get("/account", follow_redirects=False)
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/login")
    assert session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).all() == []


def test_an_anonymous_visitor_is_sent_to_login_and_back(client: TestClient) -> None:
    response = client.get("/account?tab=data", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%3Ftab%3Ddata"


def test_the_api_answers_401_without_a_session(client: TestClient) -> None:
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"] == "login_required"


def test_the_api_shows_the_signed_in_user(client: TestClient, session: Session) -> None:
    alice = make_user(session, name="Alice", email="alice@example.nl")
    log_in(client, alice)

    me = client.get("/api/v1/me").json()

    assert (me["name"], me["email"], me["role"]) == ("Alice", "alice@example.nl", "learner")
    assert "password_hash" not in me
    assert "totp_secret" not in me
