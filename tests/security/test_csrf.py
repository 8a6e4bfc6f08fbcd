"""Every unsafe request must carry the browser's CSRF token and come from Kern's own origin."""

import base64
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.accounts.models import AuthSession, User
from api.config import Settings
from api.security.csrf import FIELD, HEADER, SLOT, matches
from tests.factories import (
    PASSWORD,
    carries_csrf_token,
    csrf_token,
    log_in,
    make_user,
    new_browser,
    post_form,
)

ENGLISH = {"Accept-Language": "en"}
EXPIRED_FORM = "This form had expired, so nothing was saved."
EXPIRED_FORM_NL = "Dit formulier was verlopen, dus er is niets opgeslagen"


@pytest.fixture
def alice(session: Session) -> User:
    return make_user(session, name="Alice", email="alice@example.nl")


@pytest.fixture
def echo_client(app: FastAPI) -> Iterator[TestClient]:
    """The app with a JSON endpoint that changes something, as the API's will."""

    def echo(payload: dict[str, str]) -> dict[str, str]:
        return payload

    app.add_api_route("/api/v1/echo", echo, methods=["POST"])
    with TestClient(app) as client:
        yield client


def session_rows(session: Session, user: User) -> list[AuthSession]:
    return list(session.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all())


def test_a_login_without_the_token_is_refused(
    client: TestClient, session: Session, alice: User
) -> None:
    csrf_token(client)  # the browser has a token but the forged form does not send it

    response = client.post(
        "/login", data={"email": alice.email, "password": PASSWORD}, follow_redirects=False
    )

    assert response.status_code == 403
    assert EXPIRED_FORM_NL in response.text
    assert "kern_session" not in client.cookies
    assert session_rows(session, alice) == []


def test_the_refusal_explains_itself_in_english_too(client: TestClient) -> None:
    csrf_token(client)

    response = client.post("/login", data={"email": "x@example.nl"}, headers=ENGLISH)

    assert response.status_code == 403
    assert EXPIRED_FORM in response.text


def test_a_browser_without_any_token_is_refused(client: TestClient, alice: User) -> None:
    response = client.post(
        "/login",
        data={FIELD: "", "email": alice.email, "password": PASSWORD},
        follow_redirects=False,
    )

    assert response.status_code == 403


def test_a_profile_change_without_the_token_changes_nothing(
    client: TestClient, session: Session, alice: User
) -> None:
    log_in(client, alice)

    response = client.post("/account/profile", data={"name": "Mallory", "language": "en"})

    assert response.status_code == 403
    session.refresh(alice)
    assert (alice.name, alice.language) == ("Alice", "nl")


def test_a_wrong_token_is_refused(client: TestClient, session: Session, alice: User) -> None:
    log_in(client, alice)
    wrong = csrf_token(client)[::-1]

    response = client.post(
        "/account/profile", data={FIELD: wrong, "name": "Mallory", "language": "nl"}
    )

    assert response.status_code == 403
    session.refresh(alice)
    assert alice.name == "Alice"


def test_a_token_from_another_browser_is_refused(
    client: TestClient, session: Session, alice: User
) -> None:
    mallory = TestClient(client.app, base_url=str(client.base_url))
    log_in(client, alice)

    response = client.post("/account/profile", data={FIELD: csrf_token(mallory), "name": "Mallory"})

    assert response.status_code == 403


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        # The same host as BASE_URL (http://testserver) and the Host header, but another origin:
        "https://testserver",  # another scheme
        "http://testserver:8080",  # another port
        "ws://testserver",  # neither http nor https
        "null",  # a sandboxed frame
        "http://testserver.evil.example",
    ],
)
def test_the_right_token_from_another_origin_is_refused(
    client: TestClient, session: Session, alice: User, origin: str
) -> None:
    log_in(client, alice)

    response = client.post(
        "/account/profile",
        data={FIELD: csrf_token(client), "name": "Mallory", "language": "nl"},
        headers={"Origin": origin},
    )

    assert response.status_code == 403
    session.refresh(alice)
    assert alice.name == "Alice"


@pytest.mark.parametrize("origin", ["http://testserver", "http://TestServer:80", None])
def test_the_right_token_from_kern_itself_is_accepted(
    client: TestClient, session: Session, alice: User, origin: str | None
) -> None:
    log_in(client, alice)
    headers = {"Origin": origin} if origin else {}

    response = client.post(
        "/account/profile",
        data={FIELD: csrf_token(client), "name": "Alice B", "language": "nl"},
        headers=headers,
        follow_redirects=False,
    )

    assert response.status_code == 303
    session.refresh(alice)
    assert alice.name == "Alice B"


@pytest.mark.parametrize(
    ("origin", "status"),
    [("http://192.168.1.5:8000", 303), ("https://192.168.1.5:8000", 403)],
)
def test_development_also_accepts_the_address_the_browser_opened_and_nothing_else(
    app: FastAPI, alice: User, settings: Settings, origin: str, status: int
) -> None:
    """`make run` on 0.0.0.0, opened from a phone by the machine's address."""
    settings.app_env = "development"
    with TestClient(app, base_url="http://192.168.1.5:8000") as phone:
        log_in(phone, alice)

        response = phone.post(
            "/account/profile",
            data={FIELD: csrf_token(phone), "name": "Alice B", "language": "nl"},
            headers={"Origin": origin},
            follow_redirects=False,
        )

    assert response.status_code == status


def test_a_json_call_with_the_token_header_works(echo_client: TestClient) -> None:
    token = csrf_token(echo_client)

    response = echo_client.post("/api/v1/echo", json={"hello": "kern"}, headers={HEADER: token})

    assert response.status_code == 200
    assert response.json() == {"hello": "kern"}


def test_a_json_call_without_the_token_header_is_refused(echo_client: TestClient) -> None:
    csrf_token(echo_client)

    response = echo_client.post("/api/v1/echo", json={"hello": "kern"})

    assert response.status_code == 403
    assert response.json()["error"] == "csrf"


def test_the_token_header_also_works_for_a_page(
    client: TestClient, session: Session, alice: User
) -> None:
    log_in(client, alice)

    response = client.post("/logout", headers={HEADER: csrf_token(client)}, follow_redirects=False)

    assert response.status_code == 303
    assert session_rows(session, alice) == []


def test_logout_without_the_token_keeps_her_logged_in(
    client: TestClient, session: Session, alice: User
) -> None:
    log_in(client, alice)

    assert client.post("/logout", follow_redirects=False).status_code == 403

    assert client.get("/account", follow_redirects=False).status_code == 200


def test_the_stripe_webhook_needs_no_token(client: TestClient) -> None:
    response = client.post("/stripe/webhook", content=b"{}")

    assert response.status_code != 403


def test_reading_needs_no_token(client: TestClient) -> None:
    assert client.get("/login").status_code == 200


def test_the_token_stays_the_same_for_a_browser(client: TestClient) -> None:
    first = csrf_token(client)

    client.get("/")
    post_form(client, "/language", {"language": "nl"})

    assert client.cookies["kern_csrf"] == first


def page_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF value a page's form carries."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found[1]


def test_every_page_carries_the_token_masked_afresh_and_each_is_accepted(
    client: TestClient, session: Session, alice: User
) -> None:
    """Pages go gzipped: a secret repeated in each of them could be read from their compressed
    length (BREACH), so no two responses carry the same bytes for it."""
    log_in(client, alice)
    first, second = page_token(client, "/account"), page_token(client, "/account")

    assert first != second
    assert csrf_token(client) not in first + second
    for name, sent in (("Alice B", first), ("Alice C", second)):
        data = {FIELD: sent, "name": name, "language": "nl"}
        response = client.post("/account/profile", data=data, follow_redirects=False)
        assert response.status_code == 303
    response = client.post("/logout", headers={HEADER: first}, follow_redirects=False)
    assert response.status_code == 303
    session.refresh(alice)
    assert alice.name == "Alice C"


def test_forms_in_kept_parts_carry_each_page_its_own_token(
    client: TestClient, session: Session, alice: User
) -> None:
    """The menu's log-out form and the language form are rendered once and kept for everyone;
    each page still puts its own masked token, of its own browser, into every form."""
    bob = make_user(session, name="Bob", email="bob@example.nl")
    other = new_browser(client)
    log_in(client, alice)
    log_in(other, bob)
    pages = [(client, client.get("/account").text) for _ in range(2)]
    pages.append((other, other.get("/account").text))

    seen = set()
    for browser, page in pages:
        assert SLOT not in page
        assert carries_csrf_token(browser, page)
        values = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
        assert len(values) == 1  # one mask for the whole page
        seen |= values
    assert len(seen) == 3
    bobs = page_token(other, "/account")
    assert not matches(bobs, csrf_token(client))
    refused = client.post("/logout", data={FIELD: bobs}, follow_redirects=False)
    assert refused.status_code == 403
    menu = re.search(r'action="/logout".*?name="csrf_token" value="([^"]+)"', pages[0][1], re.S)
    assert menu
    response = client.post("/logout", data={FIELD: menu[1]}, follow_redirects=False)
    assert response.status_code == 303
    assert session_rows(session, alice) == []


@pytest.mark.parametrize("position", [0, 50, -1], ids=["mask", "token", "last"])
def test_a_tampered_masked_token_is_refused(
    client: TestClient, session: Session, alice: User, position: int
) -> None:
    log_in(client, alice)
    value = page_token(client, "/account")
    data = bytearray(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    data[position] ^= 1
    tampered = base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    response = client.post(
        "/account/profile",
        data={FIELD: tampered, "name": "Mallory", "language": "nl"},
    )

    assert response.status_code == 403
    assert EXPIRED_FORM_NL in response.text  # her language
    session.refresh(alice)
    assert alice.name == "Alice"


def test_a_masked_token_from_another_browser_is_refused(
    client: TestClient, session: Session, alice: User
) -> None:
    mallory = TestClient(client.app, base_url=str(client.base_url))
    log_in(client, alice)

    response = client.post(
        "/account/profile",
        data={FIELD: page_token(mallory), "name": "Mallory", "language": "nl"},
    )

    assert response.status_code == 403
    assert EXPIRED_FORM_NL in response.text  # her language
