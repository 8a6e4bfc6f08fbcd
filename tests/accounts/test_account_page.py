"""The account page: profile, where she is logged in, her data, and deleting the account."""

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from api import i18n
from api.accounts.models import AccountToken, AuthSession, RecoveryCode, TokenPurpose, User
from api.accounts.tokens import issue
from api.config import Settings
from tests.factories import PASSWORD, enable_totp, field_error, log_in, make_user, post_form


def browser(client: TestClient, user_agent: str) -> TestClient:
    """Another browser for the same app, with its own cookies and name."""
    return TestClient(client.app, base_url=str(client.base_url), headers={"User-Agent": user_agent})


FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Mobile Safari/537.36"
)


def sessions_of(session: Session, user: User) -> list[AuthSession]:
    session.expire_all()
    return list(session.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all())


def signed_in(client: TestClient) -> bool:
    status: int = client.get("/account", follow_redirects=False).status_code
    return status == 200


# --- profile ---------------------------------------------------------------------------------


def test_she_can_change_her_name_and_language(client: TestClient, session: Session) -> None:
    alice = make_user(session, name="Alice")
    log_in(client, alice)

    response = post_form(client, "/account/profile", {"name": "Alice Jansen", "language": "en"})

    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=saved"
    session.refresh(alice)
    assert (alice.name, alice.language) == ("Alice Jansen", "en")
    assert response.cookies[i18n.LOCALE_COOKIE] == "en"
    assert '<html lang="en">' in client.get("/account").text


def test_an_empty_name_is_not_saved(client: TestClient, session: Session) -> None:
    alice = make_user(session, name="Alice")
    log_in(client, alice)

    response = post_form(client, "/account/profile", {"name": "  ", "language": "nl"})

    assert response.status_code == 422
    assert field_error(response.text, "name")
    session.refresh(alice)
    assert alice.name == "Alice"


# --- sessions --------------------------------------------------------------------------------


def test_the_account_page_lists_where_she_is_logged_in(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    laptop = browser(client, FIREFOX_WINDOWS)
    phone = browser(client, SAFARI_IPHONE)
    log_in(laptop, alice)
    log_in(phone, alice)

    page = laptop.get("/account")

    assert page.status_code == 200
    assert "Firefox op Windows" in page.text
    assert "Safari op iPhone" in page.text
    assert "Mozilla/5.0" not in page.text
    [end_form] = re.findall(r'action="/account/sessions/(\d+)/end"', page.text)
    [phone_session] = [row for row in sessions_of(session, alice) if "Safari" in row.user_agent]
    assert int(end_form) == phone_session.id
    assert 'action="/account/sessions/end-others"' in page.text


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        (CHROME_ANDROID, "Chrome op Android"),
        (SAFARI_IPHONE, "Safari op iPhone"),
        (FIREFOX_WINDOWS, "Firefox op Windows"),
        ("", "Onbekende browser"),
        ("a device without a name", "Onbekende browser"),
    ],
)
def test_each_device_is_named_as_she_knows_it(
    user_agent: str, shown: str, client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    device = browser(client, user_agent)
    log_in(device, alice)

    page = device.get("/account")

    sessions_html = page.text.split('class="session-list"', 1)[1].split("</ul>", 1)[0]
    assert shown in sessions_html


def test_log_out_everywhere_else_ends_only_the_other_browsers(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    laptop, phone, tablet = (browser(client, name) for name in ("laptop", "phone", "tablet"))
    for device in (laptop, phone, tablet):
        log_in(device, alice)

    response = post_form(laptop, "/account/sessions/end-others")

    assert response.status_code == 303
    assert signed_in(laptop)
    assert not signed_in(phone)
    assert not signed_in(tablet)
    assert [row.user_agent for row in sessions_of(session, alice)] == ["laptop"]


def test_she_can_log_out_one_other_browser(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    laptop, phone = browser(client, "laptop"), browser(client, "phone")
    log_in(laptop, alice)
    log_in(phone, alice)
    [phone_session] = [row for row in sessions_of(session, alice) if row.user_agent == "phone"]

    post_form(laptop, f"/account/sessions/{phone_session.id}/end")

    assert signed_in(laptop)
    assert not signed_in(phone)


def test_she_cannot_end_someone_elses_session(client: TestClient, session: Session) -> None:
    alice, bob = make_user(session), make_user(session)
    alices_browser, bobs_browser = browser(client, "alice"), browser(client, "bob")
    log_in(alices_browser, alice)
    log_in(bobs_browser, bob)
    [bobs_session] = sessions_of(session, bob)

    post_form(alices_browser, f"/account/sessions/{bobs_session.id}/end")

    assert signed_in(bobs_browser)
    assert len(sessions_of(session, bob)) == 1


def test_an_expired_session_no_longer_works(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    log_in(client, alice)
    [row] = sessions_of(session, alice)
    row.expires_at = row.created_at
    session.add(row)
    session.flush()

    assert not signed_in(client)
    client.get("/")  # a page that does not need a login commits the clean-up
    assert sessions_of(session, alice) == []


def test_an_idle_session_no_longer_works(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = make_user(session)
    log_in(client, alice)
    [row] = sessions_of(session, alice)
    row.last_seen_at -= timedelta(minutes=settings.session_idle_minutes)
    session.add(row)
    session.flush()

    assert not signed_in(client)


# --- your data -------------------------------------------------------------------------------


def test_export_downloads_her_data_and_nobody_elses(client: TestClient, session: Session) -> None:
    alice = make_user(session, name="Alice de Vries", email="alice@example.nl")
    make_user(session, name="Bob Bakker", email="bob@example.nl")
    log_in(client, alice)

    response = client.get("/account/export")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["account"]["name"] == "Alice de Vries"
    assert data["account"]["email"] == "alice@example.nl"
    assert len(data["devices"]["sessions"]) == 1
    assert "bob" not in response.text.lower()
    assert "password" not in response.text
    assert "$argon2" not in response.text


def test_export_needs_a_login(client: TestClient) -> None:
    assert client.get("/account/export", follow_redirects=False).status_code == 303


def test_the_api_export_matches_the_download(client: TestClient, session: Session) -> None:
    alice = make_user(session, name="Alice")
    log_in(client, alice)

    assert client.get("/api/v1/me/export").json() == client.get("/account/export").json()


@pytest.mark.parametrize("url", ["/account/export", "/api/v1/me/export"])
def test_no_cache_may_keep_the_export(client: TestClient, session: Session, url: str) -> None:
    log_in(client, make_user(session))

    response = client.get(url)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


@pytest.fixture
def english(client: TestClient) -> None:
    """The browser asks for English, so the confirmation word is DELETE."""
    client.headers["Accept-Language"] = "en"


@pytest.mark.usefixtures("english")
def test_deleting_the_account_removes_her_and_everything_of_hers(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session, language="en", verified=False)
    bob = make_user(session)
    phone = browser(client, "phone")
    secret = enable_totp(session, alice)
    for device in (client, phone):
        log_in(device, alice, secret=secret)
        # The second device may use the same code: this test is not about replayed codes.
        session.refresh(alice)
        alice.totp_last_step = None
        session.add(alice)
        session.flush()
    issue(session, user=alice, purpose=TokenPurpose.verify_email, lifetime=timedelta(days=1))
    old_token = client.cookies["kern_session"]
    alice_id = alice.id

    response = post_form(
        client, "/account/delete", {"password": PASSWORD, "confirmation": "delete"}
    )

    assert response.status_code == 200
    assert "Your account has been deleted" in response.text
    session.expire_all()
    assert session.get(User, alice_id) is None
    for table in (AuthSession, AccountToken, RecoveryCode):
        count = session.exec(
            select(func.count()).select_from(table).where(table.user_id == alice_id)
        ).one()
        assert count == 0, table.__name__
    assert "kern_session" not in client.cookies
    client.cookies.set("kern_session", old_token, domain="testserver.local")
    assert not signed_in(client)
    assert not signed_in(phone)
    assert session.get(User, bob.id) is not None


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(
    ("password", "confirmation", "field"),
    [("verkeerd wachtwoord", "DELETE", "password"), (PASSWORD, "", "confirmation")],
)
def test_deleting_needs_her_password_and_the_confirmation_word(
    client: TestClient, session: Session, password: str, confirmation: str, field: str
) -> None:
    alice = make_user(session, language="en")
    log_in(client, alice)

    response = post_form(
        client, "/account/delete", {"password": password, "confirmation": confirmation}
    )

    assert response.status_code == 422
    assert field_error(response.text, field)
    session.expire_all()
    assert session.get(User, alice.id) is not None
    assert signed_in(client)


def test_the_confirmation_word_is_the_one_in_her_language(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session, language="nl")
    alice_id = alice.id
    log_in(client, alice)
    token = i18n.current_locale.set("nl")
    try:
        word = i18n.gettext("DELETE")
    finally:
        i18n.current_locale.reset(token)

    page = client.get("/account/delete")
    response = post_form(client, "/account/delete", {"password": PASSWORD, "confirmation": word})

    assert word in page.text
    assert response.status_code == 200
    session.expire_all()
    assert session.get(User, alice_id) is None
