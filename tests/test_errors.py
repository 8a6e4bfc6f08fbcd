"""Errors are friendly pages in the visitor's language, and JSON under /api."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.errors import Conflict
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
