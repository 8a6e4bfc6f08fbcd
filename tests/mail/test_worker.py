"""The mail worker as it runs: `kern worker --once`, and on a thread of the development server."""

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import db, migrate
from api.cli import app as cli
from api.config import Settings
from api.mail.outbox import enqueue
from api.mail.service import Message, read_outbox_dir
from api.main import create_app
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, post_form
from tests.smtp import SmtpServer

runner = CliRunner()
WORKER_THREAD = "kern-mail-worker"


@pytest.fixture
def own_database(tmp_path: Path) -> str:
    """A migrated SQLite file that commits for real and belongs to this test alone."""
    url = f"sqlite:///{tmp_path / 'kern.db'}"
    migrate.upgrade(url)
    return url


def queue(url: str, *subjects: str) -> None:
    """Commit a message per subject to the outbox, as a request would."""
    engine = db.make_engine(url, pool_size=1)
    try:
        with db.make_sessionmaker(engine)() as session, session.begin():
            for subject in subjects:
                message = Message(to="anna@example.nl", subject=subject, text="Hallo Anna,\n")
                enqueue(session, message, kind="test", user_id=None)
    finally:
        engine.dispose()


def worker_running() -> bool:
    return any(thread.name == WORKER_THREAD for thread in threading.enumerate())


# --- kern worker --once -----------------------------------------------------------------------


@pytest.fixture
def operator_env(own_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment `kern worker` runs in; returns the mail directory."""
    monkeypatch.setenv("DATABASE_URL", own_database)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.delenv("SMTP_URL", raising=False)
    return tmp_path / "mail"


def test_worker_once_delivers_the_queued_mail_over_smtp_and_says_so(
    own_database: str, operator_env: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_URL", smtp_server.url)
    queue(own_database, "Eerste", "Tweede")

    result = runner.invoke(cli, ["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "sent 2, to retry 0, failed 0" in result.output
    assert sorted(str(message["Subject"]) for message in smtp_server.messages) == [
        "Eerste",
        "Tweede",
    ]
    again = runner.invoke(cli, ["worker", "--once"])
    assert "sent 0, to retry 0, failed 0" in again.output
    assert len(smtp_server.messages) == 2
    assert not operator_env.exists()


def test_worker_once_without_an_smtp_server_writes_the_mail_directory(
    own_database: str, operator_env: Path
) -> None:
    queue(own_database, "Eerste")

    result = runner.invoke(cli, ["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "sent 1, to retry 0, failed 0" in result.output
    [message] = read_outbox_dir(operator_env)
    assert message["Subject"] == "Eerste"


def test_worker_once_counts_what_it_will_retry(
    own_database: str, operator_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SmtpServer() as stopped:
        monkeypatch.setenv("SMTP_URL", stopped.url)  # nothing listens there once it stops
    queue(own_database, "Eerste")

    result = runner.invoke(cli, ["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "sent 0, to retry 1, failed 0" in result.output


# --- the worker in the server process ---------------------------------------------------------


def server_settings(url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "app_env": "test",
        "database_url": url,
        "secret_key": TEST_SECRET_KEY,
        "base_url": "http://testserver",
        "mail_dir": tmp_path / "mail",
        "media_dir": tmp_path / "media",
        "mail_poll_seconds": 0.05,
        "db_pool_size": 2,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def test_the_server_answers_and_delivers_what_a_request_asked_for_without_a_separate_worker(
    own_database: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    settings = server_settings(
        own_database, tmp_path, smtp_url=smtp_server.url, mail_worker_in_process=True
    )

    with TestClient(create_app(settings), base_url="http://testserver") as client:
        response = post_form(
            client, "/register", {"name": "Anna", "email": "anna@example.nl", "password": PASSWORD}
        )
        assert response.status_code == 200
        [message] = smtp_server.wait_for(1)

    assert message["To"] == "anna@example.nl"
    assert not worker_running()


@pytest.mark.parametrize(
    ("app_env", "in_process", "runs"),
    [
        ("development", None, True),
        ("development", False, False),
        ("test", None, False),
        ("production", None, False),
        ("production", True, True),
    ],
)
def test_the_server_runs_the_worker_in_development_or_when_told(
    own_database: str, tmp_path: Path, app_env: str, in_process: bool | None, runs: bool
) -> None:
    settings = server_settings(
        own_database, tmp_path, app_env=app_env, mail_worker_in_process=in_process
    )
    assert settings.runs_mail_worker is runs

    with TestClient(create_app(settings), base_url="http://testserver"):
        assert worker_running() is runs
    assert not worker_running()
