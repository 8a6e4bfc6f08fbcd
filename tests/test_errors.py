"""Errors are friendly pages in the visitor's language, and JSON under /api."""

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import exc as sa_exc
from sqlmodel import Session

from api.config import Settings
from api.errors import Conflict, NotFound, install_error_handlers
from api.main import create_app
from api.security.csrf import cookie_name
from tests.conftest import TEST_SECRET_KEY
from tests.factories import log_in, make_user


@pytest.fixture
def failing_client(app: FastAPI) -> Iterator[TestClient]:
    """The app with routes that fail, as a bug or a domain rule would."""

    def crash() -> None:
        raise RuntimeError("secret internal detail")

    def conflict() -> None:
        raise Conflict("Deze cursus heb je al.")

    app.add_api_route("/boom", crash)
    app.add_api_route("/api/v1/boom", crash)
    app.add_api_route("/api/v1/conflict", conflict)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_unknown_page_is_a_dutch_404_page(client: TestClient) -> None:
    response = client.get("/bestaat-niet")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Pagina niet gevonden" in response.text
    assert '<html lang="nl">' in response.text


def test_unknown_page_in_english_when_the_browser_prefers_it(client: TestClient) -> None:
    response = client.get("/missing", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_unknown_api_route_answers_json(client: TestClient) -> None:
    response = client.get("/api/v1/missing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_crash_shows_a_friendly_page_without_a_traceback(failing_client: TestClient) -> None:
    response = failing_client.get("/boom")
    assert response.status_code == 500
    assert "Er ging iets mis" in response.text
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


def test_a_crash_under_api_answers_json(failing_client: TestClient) -> None:
    response = failing_client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert "secret internal detail" not in response.text


def test_domain_error_keeps_its_status_and_message(failing_client: TestClient) -> None:
    response = failing_client.get("/api/v1/conflict")
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": "Deze cursus heb je al."}


def test_wrong_method_is_a_page_not_a_crash(client: TestClient) -> None:
    response = client.delete("/")
    assert response.status_code == 405
    assert "text/html" in response.headers["content-type"]


def test_error_page_for_a_signed_in_visitor_keeps_her_menu(
    client: TestClient, session: Session
) -> None:
    # The error page is rendered after the request's transaction rolled back; the header
    # must not need the (by then unreadable) ORM objects.
    log_in(client, make_user(session))
    response = client.get("/courses/bestaat-niet")
    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.text
    assert 'href="/account"' in response.text


def test_without_the_web_layer_every_error_is_json_in_her_language() -> None:
    # api.errors renders no page itself: the web layer installs one (web/errors.py). An
    # application built from the API alone still answers, in the visitor's language.
    app = FastAPI()
    install_error_handlers(app)

    def missing() -> None:
        raise NotFound("Deze les bestaat niet.")

    app.add_api_route("/courses/x", missing)
    with TestClient(app) as client:
        known = client.get("/courses/x")
        unknown = client.get("/nowhere", headers={"Accept-Language": "en"})

    assert known.status_code == 404
    assert known.json() == {"error": "not_found", "detail": "Deze les bestaat niet."}
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("We could not find this page.")


# ---- a database that cannot be reached: 503 with Retry-After, never a traceback ----

# Nothing listens on port 1, so every connection is refused at once.
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"
SESSION_COOKIE = "kern_session"


@pytest.fixture
def offline_client(tmp_path: Path) -> Iterator[TestClient]:
    """Kern whose PostgreSQL is down, as during a restart; signed in as far as her browser
    knows (a session cookie), with a CSRF token for writes."""
    settings = Settings(
        app_env="test",
        database_url=UNREACHABLE_DATABASE,
        secret_key=TEST_SECRET_KEY,
        media_dir=tmp_path / "media",
    )
    csrf = "c" * 32
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.cookies.update({SESSION_COOKIE: "s" * 43, cookie_name(production=False): csrf})
        client.headers.update({"X-CSRF-Token": csrf, "Accept-Language": "en"})
        yield client


def _assert_unavailable(response: Response) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    # Answered inside the middleware stack, so the security headers are there too.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "Traceback" not in response.text
    assert "psycopg" not in response.text


def test_a_page_answers_503_with_retry_after_when_the_database_is_down(
    offline_client: TestClient,
) -> None:
    # The session cookie makes the visitor lookup (a dependency) the first thing that fails.
    response = offline_client.get("/courses")
    _assert_unavailable(response)
    assert response.headers["content-type"].startswith("text/html")
    assert "Not available right now" in response.text
    assert "Kern cannot be reached for a moment" in response.text


def test_the_api_answers_503_json_when_the_database_is_down(offline_client: TestClient) -> None:
    response = offline_client.get("/api/v1/courses")
    _assert_unavailable(response)
    assert response.json() == {
        "error": "unavailable",
        "detail": "Kern cannot be reached for a moment. Please try again in a few seconds.",
    }


def test_a_write_answers_503_when_the_database_is_down(offline_client: TestClient) -> None:
    body = {
        "client_id": "a1b2c3d4e5",
        "step_id": 1,
        "practised_at": "2026-01-05T08:00:00+00:00",
        "duration_seconds": 60,
        "sets_done": 1,
        "reps_done": 10,
    }
    response = offline_client.post("/api/v1/practice", json=body)
    _assert_unavailable(response)
    assert response.json()["error"] == "unavailable"


def test_a_503_page_is_in_the_visitors_language(offline_client: TestClient) -> None:
    response = offline_client.get("/courses", headers={"Accept-Language": "nl"})
    assert response.status_code == 503
    assert '<html lang="nl">' in response.text


@pytest.fixture
def database_failing_client(app: FastAPI) -> Iterator[TestClient]:
    """Routes that fail the way a database can: out of pooled connections, or a statement
    refused for a reason that is no outage."""

    def pool_timeout() -> None:
        raise sa_exc.TimeoutError("QueuePool limit of size 20 overflow 0 reached")

    def serialization_failure() -> None:
        raise sa_exc.OperationalError(
            "UPDATE x", {}, psycopg.errors.SerializationFailure("could not serialize")
        )

    def integrity_error() -> None:
        raise sa_exc.IntegrityError("INSERT x", {}, psycopg.errors.UniqueViolation("duplicate"))

    app.add_api_route("/api/v1/pool-timeout", pool_timeout)
    app.add_api_route("/api/v1/serialization", serialization_failure)
    app.add_api_route("/api/v1/integrity", integrity_error)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_no_free_pooled_connection_is_a_503(database_failing_client: TestClient) -> None:
    response = database_failing_client.get("/api/v1/pool-timeout")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize("path", ["/api/v1/serialization", "/api/v1/integrity"])
def test_a_database_error_that_is_no_outage_stays_a_500(
    database_failing_client: TestClient, path: str
) -> None:
    response = database_failing_client.get(path)
    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert response.json()["error"] == "server_error"
