"""Cookies: HttpOnly and SameSite=Lax always, Secure over https, `__Host-` names in production."""

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection
from sqlmodel import Session

from api import db
from api.accounts.models import User
from api.config import Settings
from api.main import create_app
from api.security.csrf import FIELD
from tests.factories import PASSWORD, log_in, make_user

HTTPS_BASE = "https://kern.example"
AppMaker = Callable[..., TestClient]


@pytest.fixture
def make_client(settings: Settings, connection: Connection) -> Iterator[AppMaker]:
    """A browser on Kern built with some settings changed, inside the test's transaction."""
    apps: list[FastAPI] = []

    def make(**changes: object) -> TestClient:
        changed = settings.model_copy(update=changes)
        application = create_app(changed)
        application.state.sessionmaker = db.make_sessionmaker(
            connection, join_transaction_mode="create_savepoint"
        )
        apps.append(application)
        return TestClient(application, base_url=changed.base_url)

    yield make
    for application in apps:
        application.state.engine.dispose()


def set_cookie(response: Response, name: str) -> str:
    """The Set-Cookie header that sets `name`."""
    [header] = [
        value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")
    ]
    return header


def attributes(header: str) -> set[str]:
    """The cookie's attributes in lower case, e.g. {"httponly", "samesite=lax", "path=/"}."""
    return {part.strip().lower() for part in header.split(";")[1:]}


def log_in_by_form(client: TestClient, user: User, csrf_cookie: str) -> Response:
    """Log in on an app whose CSRF cookie has another name than the factories know."""
    page = client.get("/login")
    token = page.cookies.get(csrf_cookie) or client.cookies.get(csrf_cookie)
    assert token, page.headers.get_list("set-cookie")
    response: Response = client.post(
        "/login",
        data={FIELD: token, "email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response


def test_session_cookie_is_httponly_and_samesite_lax(client: TestClient, session: Session) -> None:
    alice = make_user(session)

    client.get("/login")
    response = client.post(
        "/login",
        data={FIELD: client.cookies["kern_csrf"], "email": alice.email, "password": PASSWORD},
        follow_redirects=False,
    )

    cookie = attributes(set_cookie(response, "kern_session"))
    assert {"httponly", "samesite=lax", "path=/"} <= cookie
    assert "secure" not in cookie  # a plain-http development server could not send it back
    assert not any(part.startswith("domain=") for part in cookie)


def test_csrf_cookie_is_httponly_and_samesite_lax(client: TestClient) -> None:
    cookie = attributes(set_cookie(client.get("/"), "kern_csrf"))

    assert {"httponly", "samesite=lax", "path=/"} <= cookie


def test_cookies_are_secure_when_kern_runs_on_https(
    make_client: AppMaker, session: Session
) -> None:
    alice = make_user(session)
    browser = make_client(base_url=HTTPS_BASE)

    response = log_in_by_form(browser, alice, "kern_csrf")

    for name in ("kern_session", "kern_lang"):
        assert {"secure", "httponly", "samesite=lax"} <= attributes(set_cookie(response, name))
    assert "secure" in attributes(set_cookie(browser.get("/", headers={"Cookie": ""}), "kern_csrf"))
    assert browser.get("/account", follow_redirects=False).status_code == 200


def test_production_cookies_carry_the_host_prefix(make_client: AppMaker, session: Session) -> None:
    alice = make_user(session)
    browser = make_client(base_url=HTTPS_BASE, app_env="production")

    response = log_in_by_form(browser, alice, "__Host-kern_csrf")
    first_visit = browser.get("/", headers={"Cookie": ""})

    for header in (
        set_cookie(response, "__Host-kern_session"),
        set_cookie(first_visit, "__Host-kern_csrf"),
    ):
        cookie = attributes(header)
        # The browser only accepts a __Host- cookie that is Secure, for path / and no domain.
        assert {"secure", "path=/", "httponly", "samesite=lax"} <= cookie
        assert not any(part.startswith("domain=") for part in cookie)
    assert "kern_session" not in browser.cookies
    assert browser.get("/account", follow_redirects=False).status_code == 200


def test_logout_removes_the_cookie_in_the_browser(client: TestClient, session: Session) -> None:
    log_in(client, make_user(session))

    response = client.post(
        "/logout", data={FIELD: client.cookies["kern_csrf"]}, follow_redirects=False
    )

    header = set_cookie(response, "kern_session")
    assert "max-age=0" in attributes(header) or "expires=thu, 01 jan 1970" in header.lower()
