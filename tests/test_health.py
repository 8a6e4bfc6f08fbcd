"""Liveness answers without the database; readiness says when the database is down."""

from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from tests.conftest import TEST_SECRET_KEY

# Nothing listens on port 1, so a connection is refused at once.
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"


def _app_without_database() -> TestClient:
    settings = Settings(
        app_env="test",
        database_url=UNREACHABLE_DATABASE,
        secret_key=TEST_SECRET_KEY,
    )
    return TestClient(create_app(settings))


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_does_not_need_the_database() -> None:
    with _app_without_database() as client:
        assert client.get("/healthz").status_code == 200


def test_readyz_reports_a_reachable_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_readyz_answers_503_with_the_reason_when_the_database_is_down() -> None:
    with _app_without_database() as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "database unreachable" in body["reason"]
