"""The `kern` command, run against its own SQLite file as an operator would."""

import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session, select
from typer.testing import CliRunner

from api import db, migrate
from api.accounts import passwords
from api.accounts.models import User
from api.cli import app as cli
from api.config import get_settings
from api.seed import DEMO_ACCOUNTS
from tests.conftest import TEST_SECRET_KEY, TEST_VAPID_KEY

runner = CliRunner()


@pytest.fixture
def operator_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database the commands commit to for real."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("APP_ENV", "development")
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return url


def _users(url: str) -> list[User]:
    engine = db.make_engine(url, pool_size=1)
    try:
        with Session(engine) as session:
            return list(session.exec(select(User).order_by(User.email)).all())
    finally:
        engine.dispose()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "users", "seed", "import", "export"):
        assert command in result.output


def test_db_upgrade_reaches_the_newest_revision(operator_db: str) -> None:
    engine = db.make_engine(operator_db, pool_size=1)
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
        script = ScriptDirectory.from_config(migrate.alembic_config(operator_db))
        assert set(heads) == set(script.get_heads())
    finally:
        engine.dispose()


def test_users_create_makes_an_instructor_with_the_password_from_stdin(operator_db: str) -> None:
    result = runner.invoke(
        cli,
        ["users", "create", "--email", "Therapeut@Praktijk.nl", "--role", "instructor"],
        input="een lange zin als wachtwoord\n",
    )
    assert result.exit_code == 0, result.output
    assert "two-step verification" in result.output
    [user] = _users(operator_db)
    assert user.email == "therapeut@praktijk.nl"
    assert user.role == "instructor"
    assert user.email_verified_at is not None
    assert passwords.verify_password(user.password_hash, "een lange zin als wachtwoord")


def test_users_create_refuses_a_weak_password_and_saves_nothing(operator_db: str) -> None:
    result = runner.invoke(cli, ["users", "create", "--email", "a@praktijk.nl"], input="kort\n")
    assert result.exit_code == 1
    assert "password" in result.output
    assert _users(operator_db) == []


def test_users_create_refuses_a_taken_email(operator_db: str) -> None:
    args = ["users", "create", "--email", "a@praktijk.nl"]
    assert runner.invoke(cli, args, input="een lange zin als wachtwoord\n").exit_code == 0
    second = runner.invoke(cli, args, input="nog een lange zin hier\n")
    assert second.exit_code == 1
    assert "email" in second.output
    assert len(_users(operator_db)) == 1


def test_users_create_waits_for_a_write_of_the_running_site(operator_db: str) -> None:
    """On SQLite a command takes the write lock as it begins: a write the running site commits
    meanwhile makes it wait its turn instead of failing with "database is locked"."""
    site = sqlite3.connect(
        operator_db.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
    )
    site.execute("BEGIN IMMEDIATE")
    site.execute("UPDATE alembic_version SET version_num = version_num")
    committing = threading.Timer(1.0, site.execute, args=("COMMIT",))
    committing.start()
    try:
        result = runner.invoke(
            cli, ["users", "create", "--email", "a@praktijk.nl"], input="een lange zin hier\n"
        )
    finally:
        committing.join()
        site.close()
    assert result.exit_code == 0, result.output
    assert [user.email for user in _users(operator_db)] == ["a@praktijk.nl"]


def test_seed_creates_the_demo_accounts_once_and_prints_their_logins(
    operator_db: str, tmp_path: Path
) -> None:
    # Without courses: tests/catalog covers importing them, whatever courses/ holds right now.
    no_courses = ["seed", "--courses", str(tmp_path / "geen-cursussen")]
    first = runner.invoke(cli, no_courses)
    second = runner.invoke(cli, no_courses)
    assert first.exit_code == second.exit_code == 0
    for _role, _name, email, password in DEMO_ACCOUNTS:
        assert email in first.output
        assert password in first.output
    assert [user.email for user in _users(operator_db)] == sorted(
        email for _role, _name, email, _password in DEMO_ACCOUNTS
    )


def test_seed_refuses_to_run_in_production(
    operator_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "Zq3v9TfK2mWc8rLp1xYh6NbD4sGj7aEu0oRi5kQw")
    monkeypatch.setenv("VAPID_PRIVATE_KEY", TEST_VAPID_KEY)
    get_settings.cache_clear()  # the upgrade above read the development settings
    result = runner.invoke(cli, ["seed"])
    assert result.exit_code == 2
    assert _users(operator_db) == []
