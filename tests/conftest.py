"""Fixtures: a migrated database per backend, one rolled-back transaction per test, an app."""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from api import db, i18n, migrate
from api.accounts import passwords
from api.accounts import service as accounts_service
from api.config import Settings, get_settings
from api.main import create_app
from api.practice_identity.cache import IdentityCache

pytest_plugins = [
    "tests.smtp",
    "tests.stripe_server.plugin",
    "tests.push_server.plugin",
    "tests.s3_server",
]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_SECRET_KEY = "test-" + "k" * 40
# A VAPID private key for the processes the tests start in production mode (api/push/keys.py).
TEST_VAPID_KEY = "wWpOVvKTU6nurv5TpgGT9wp4tyZckbaXkiN1tYFTLmw"


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not TEST_DATABASE_URL:
        raise pytest.UsageError(
            "CI=true requires TEST_DATABASE_URL: the PostgreSQL run may not be skipped."
        )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that start servers, clusters or browsers run first (in their usual order), the
    quick ones after them. With `--dist load` and small batches (the Makefile) the workers take
    the long tests in turn and end together on quick ones, instead of one worker meeting a
    minute-long test when the other has nothing left. (`trylast`: after tests/e2e/ marks its
    tests slow.)"""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Hash with minimal argon2id cost: the production profile takes ~0.1 s per hash, and the
    suite creates hundreds of accounts. The end-to-end server keeps the production profile."""
    production, production_dummy = passwords._hasher, accounts_service._DUMMY_HASH
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts_service._DUMMY_HASH = passwords.hash_password("not-a-real-password")
    yield
    passwords._hasher, accounts_service._DUMMY_HASH = production, production_dummy


@pytest.fixture(autouse=True)
def _fresh_settings_cache() -> Iterator[None]:
    """No test sees settings another test read from a different environment."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _create_postgres_database(server_url: str) -> tuple[str, Engine]:
    """A throw-away database on the test server, so runs never share state."""
    url = make_url(server_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"kern_test_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


@pytest.fixture(scope="session", params=_backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of an empty, migrated database for one backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kern-test.db'}"
        migrate.upgrade(url)
        yield url
        return
    url, admin = _create_postgres_database(TEST_DATABASE_URL)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            name = make_url(url).database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session whose commits become savepoints inside the test's transaction."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        base_url="http://testserver",
        smtp_url=None,
        media_dir=tmp_path / "media",
        mail_dir=tmp_path / "mail",
        db_pool_size=2,
    )


# What create_app() builds into the application from its settings (engine, middleware, the
# lifespan's mail worker); everything else is read from app.state.settings on each request.
_BUILT_FROM = (
    "app_env",
    "database_url",
    "base_url",
    "db_pool_size",
    "mail_worker_in_process",
    "mail_poll_seconds",
    "log_level",
)


@pytest.fixture(scope="session")
def _applications() -> Iterator[dict[tuple[object, ...], FastAPI]]:
    """Applications shared by the tests, one per set of the settings they are built from.

    FastAPI works out each route's parameters (dependencies, pydantic adapters) on the first
    request an application gets for that route: about two thirds of a short test's time when
    every test built its own application. Shared, that is paid once per route and process.
    """
    built: dict[tuple[object, ...], FastAPI] = {}
    yield built
    for application in built.values():
        application.state.engine.dispose()


@pytest.fixture
def app(
    settings: Settings,
    connection: Connection,
    _applications: dict[tuple[object, ...], FastAPI],
) -> Iterator[FastAPI]:
    """Kern, with this test's settings and every request's session bound to its transaction."""
    key = tuple(getattr(settings, name) for name in _BUILT_FROM)
    application = _applications.get(key) or _applications.setdefault(key, create_app(settings))
    # Per test: the settings object itself (tests change fields such as smtp_url on it) and the
    # sessions, which join the test's rolled-back transaction.
    application.state.settings = settings
    # The footer's copy of the practice's identity, as a fresh worker starts (the `client`
    # fixture runs no lifespan to read it; the test's own rows are not committed anyway).
    application.state.practice_identity = IdentityCache()
    application.state.sessionmaker = db.make_sessionmaker(
        connection, join_transaction_mode="create_savepoint"
    )
    routes = len(application.router.routes)
    try:
        yield application
    finally:
        application.dependency_overrides.clear()
        if len(application.router.routes) != routes:
            # A test that added routes of its own (a crashing one, say) keeps them to itself.
            del _applications[key]
            application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A browser for one test. It runs no lifespan: that starts the identity refresher and the
    mail worker, and at its end disposes the shared application's engine, which cost each test a
    new database connection (tests/test_startup.py runs the lifespan on purpose)."""
    test_client = TestClient(app, base_url="http://testserver")
    try:
        yield test_client
    finally:
        test_client.close()


@pytest.fixture(autouse=True)
def _dutch_until_a_test_says_otherwise() -> Iterator[None]:
    """Every test starts in Kern's default language, whatever an earlier test in the same
    worker set the locale to."""
    token = i18n.current_locale.set(i18n.DEFAULT_LOCALE)
    yield
    i18n.current_locale.reset(token)


@pytest.fixture
def english() -> Iterator[None]:
    """Messages made outside a request (services, the CLI) in English, their msgids."""
    token = i18n.current_locale.set("en")
    yield
    i18n.current_locale.reset(token)
