"""Every response carries the security headers: pages, JSON, errors, static files and crashes."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection

from api import db
from api.config import Settings
from api.main import create_app


@pytest.fixture
def failing_client(app: FastAPI) -> Iterator[TestClient]:
    """The app with a route that crashes, as a bug would."""

    def crash() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/boom", crash)
    app.add_api_route("/api/v1/boom", crash)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def https_client(settings: Settings, connection: Connection) -> Iterator[TestClient]:
    """Kern served at an https address."""
    application = create_app(settings.model_copy(update={"base_url": "https://kern.example"}))
    application.state.sessionmaker = db.make_sessionmaker(
        connection, join_transaction_mode="create_savepoint"
    )
    with TestClient(application, base_url="https://kern.example") as client:
        yield client
    application.state.engine.dispose()


def directives(response: Response) -> dict[str, list[str]]:
    """The Content-Security-Policy as a mapping of directive to its sources."""
    policy = response.headers["content-security-policy"]
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_secure_headers(response: Response) -> None:
    csp = directives(response)
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in {"same-origin", "strict-origin-when-cross-origin"}
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/", 200, "text/html"),
        ("/login", 200, "text/html"),
        ("/healthz", 200, "application/json"),
        ("/api/v1/me", 401, "application/json"),
        ("/bestaat-niet", 404, "text/html"),
        ("/api/v1/bestaat-niet", 404, "application/json"),
        ("/static/css/kern.css", 200, "text/css"),
        ("/static/bestaat-niet.css", 404, ""),
    ],
)
def test_every_response_carries_the_security_headers(
    client: TestClient, path: str, status: int, kind: str
) -> None:
    response = client.get(path)

    assert response.status_code == status
    assert response.headers["content-type"].startswith(kind)
    assert_secure_headers(response)


@pytest.mark.parametrize("path", ["/boom", "/api/v1/boom"])
def test_a_crash_carries_the_security_headers_too(failing_client: TestClient, path: str) -> None:
    response = failing_client.get(path)

    assert response.status_code == 500
    assert "secret internal detail" not in response.text
    assert_secure_headers(response)


def test_redirects_and_refusals_carry_the_headers(client: TestClient) -> None:
    assert_secure_headers(client.get("/account", follow_redirects=False))
    assert_secure_headers(client.post("/login", data={"email": "x"}))


def test_each_response_gets_its_own_script_nonce(client: TestClient) -> None:
    first, second = (directives(client.get("/"))["script-src"] for _ in range(2))

    [nonce] = [source for source in first if source.startswith("'nonce-")]
    assert nonce not in second
    assert len(nonce) > len("'nonce-'") + 16


def test_pages_contain_no_inline_script_without_the_nonce(client: TestClient) -> None:
    for path in ("/", "/login", "/register", "/forgot-password"):
        html = client.get(path).text
        assert "<script>" not in html
        assert " onclick=" not in html


def test_hsts_is_sent_only_over_https(client: TestClient, https_client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/").headers

    hsts = https_client.get("/").headers["strict-transport-security"]

    assert hsts.startswith("max-age=")
    assert int(hsts.split("=")[1].split(";")[0]) >= 180 * 24 * 3600
