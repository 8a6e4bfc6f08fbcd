"""Small typed factories and helpers that act as a person would: fill in forms, log in."""

import itertools
import re
import time

import pyotp
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from api.accounts import service, twofactor
from api.accounts.models import Role, User
from api.security.csrf import FIELD

PASSWORD = "rustig ademen 4 6"
_numbers = itertools.count(1)


def make_user(
    session: Session,
    *,
    name: str | None = None,
    email: str | None = None,
    role: Role = Role.learner,
    password: str = PASSWORD,
    verified: bool = True,
    language: str = "nl",
) -> User:
    """A stored account; unique email unless one is given."""
    number = next(_numbers)
    return service.create_user(
        session,
        name=name or f"Persoon {number}",
        email=email or f"persoon{number}@example.nl",
        password=password,
        role=role,
        language=language,
        verified=verified,
    )


def enable_totp(session: Session, user: User) -> str:
    """Switch on two-step verification; returns the secret for making codes."""
    secret = twofactor.pending_secret(session, user=user)
    twofactor.enable(session, user=user, code=pyotp.TOTP(secret).now())
    # The code just used may not be used again; the next login waits for a fresh step.
    user.totp_last_step = int(time.time() // 30) - 2
    session.add(user)
    session.flush()
    return secret


def csrf_token(client: TestClient) -> str:
    """The browser's CSRF token, fetching a page first if the browser has none yet."""
    token = client.cookies.get("kern_csrf")
    if not token:
        client.get("/login")
        token = client.cookies.get("kern_csrf")
    assert token
    return str(token)


def post_form(
    client: TestClient, url: str, data: dict[str, str] | None = None, *, follow: bool = False
) -> Response:
    """Submit a form the way the browser does, CSRF token included."""
    response: Response = client.post(
        url, data={FIELD: csrf_token(client), **(data or {})}, follow_redirects=follow
    )
    return response


def log_in(
    client: TestClient, user: User, password: str = PASSWORD, secret: str | None = None
) -> None:
    """Log in through the real form (and the second step when she has one)."""
    response = post_form(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 303, response.text
    if secret is not None:
        assert response.headers["location"].startswith("/login/two-factor")
        response = post_form(client, "/login/two-factor", {"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 303, response.text


def field_error(html: str, name: str) -> str | None:
    """The error text shown under a form field, if any."""
    match = re.search(rf'<p class="field__error" id="f-{name}-error">([^<]*)</p>', html)
    return match.group(1) if match else None
