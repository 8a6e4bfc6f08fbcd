"""The database is configured for safety on each backend, and a request's session behaves as
the routes expect: reads without a transaction on PostgreSQL, writes in one."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.routing import Route

from api import db
from api.config import Settings
from api.db import SessionDep, bookkeeping, in_transaction, savepoint
from api.main import ROUTERS, create_app
from web.pages.common import busiest as busiest_pages


def test_connections_are_configured_for_the_backend(engine: Engine) -> None:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # WAL lets readers work while one request writes; a busy timeout makes a writer
            # wait instead of failing; SQLite enforces foreign keys only when asked.
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        else:
            assert engine.dialect.driver == "psycopg"
            # No ping before every request: a dead connection fails its first statement and
            # the pool is renewed (tests/hardening/test_database_outage.py).
            assert not engine.pool._pre_ping


def test_a_worker_keeps_open_only_the_connections_its_requests_use(settings: Settings) -> None:
    """DB_POOL_SIZE connections at most at once; of these only as many as requests run at once
    (RequestSlots) stay open, so a rare extra one is no PostgreSQL process for good
    (docs/performance.md#the-connection-pool)."""
    settings = settings.model_copy(update={"db_pool_size": 4})
    engine = create_app(settings).state.engine
    try:
        held = [engine.connect() for _ in range(settings.db_pool_size)]
        for connection in held:
            assert connection.execute(text("SELECT 1")).scalar() == 1
            connection.close()
        if engine.dialect.name == "postgresql":
            assert engine.pool.checkedin() == settings.request_slots == 2
    finally:
        engine.dispose()


@pytest.fixture
def scratch(engine: Engine) -> Iterator[FastAPI]:
    """A bare app on the real engine (not the tests' rolled-back connection), with a table of
    its own, and routes that report what their session is."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch_note (id INTEGER PRIMARY KEY, body TEXT)"))
    app = FastAPI()
    app.state.sessionmaker = db.make_sessionmaker(engine)

    def in_a_transaction(session: SessionDep) -> bool:
        return session.connection().in_transaction() and (
            session.connection().get_execution_options().get("isolation_level") != "AUTOCOMMIT"
        )

    @app.get("/read")
    def read(session: SessionDep) -> dict[str, bool]:
        return {"transaction": in_a_transaction(session)}

    @app.get("/visit")
    def visit(request: Request, session: SessionDep) -> dict[str, bool]:
        # A GET's bookkeeping write inside savepoint(), as the lesson page writes her visit.
        with savepoint(session):
            session.execute(text("INSERT INTO scratch_note (id, body) VALUES (1, 'bezocht')"))
        return {"transaction": in_a_transaction(session)}

    @app.get("/fulfil")
    @in_transaction
    def fulfil(session: SessionDep) -> dict[str, bool]:
        session.execute(text("INSERT INTO scratch_note (id, body) VALUES (2, 'eerst')"))
        session.execute(text("INSERT INTO scratch_note (id, body) VALUES (2, 'dubbel')"))
        return {"transaction": True}

    @app.post("/write")
    def write(session: SessionDep) -> dict[str, bool]:
        return {"transaction": in_a_transaction(session)}

    @app.get("/late-visit")
    def late_visit(session: SessionDep) -> dict[str, int]:
        # A page reads, another request writes and commits, then the page's bookkeeping
        # write comes: on SQLite too late for its deferred transaction.
        seen = session.execute(text("SELECT count(*) FROM scratch_note")).scalar_one()
        with engine.begin() as other:
            other.execute(text("INSERT INTO scratch_note (id, body) VALUES (3, 'ander')"))
        with bookkeeping(session, "scratch visit"):
            session.execute(text("INSERT INTO scratch_note (id, body) VALUES (4, 'bezocht')"))
        return {"seen": seen}

    @app.get("/mark")
    @in_transaction
    def mark(session: SessionDep) -> dict[str, bool]:
        # A GET that writes on purpose holds the write lock from its first read, so no other
        # request can commit between its read and its write.
        session.execute(text("SELECT count(*) FROM scratch_note")).scalar_one()
        could = True
        with engine.connect() as other:
            if engine.dialect.name == "sqlite":
                other.exec_driver_sql("PRAGMA busy_timeout=0")
            try:
                other.execute(text("INSERT INTO scratch_note (id, body) VALUES (5, 'ander')"))
                other.commit()
            except OperationalError:
                could = False
            if engine.dialect.name == "sqlite":
                other.exec_driver_sql(f"PRAGMA busy_timeout={db.SQLITE_BUSY_TIMEOUT_MS}")
        session.execute(text("INSERT INTO scratch_note (id, body) VALUES (6, 'gelezen')"))
        return {"other_could_write": could}

    try:
        yield app
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE scratch_note"))


def notes(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, body FROM scratch_note ORDER BY id"))
        return [(row.id, row.body) for row in rows]


def test_reads_run_without_a_transaction_on_postgresql_and_writes_in_one(
    engine: Engine, scratch: FastAPI
) -> None:
    client = TestClient(scratch, raise_server_exceptions=False)
    postgres = engine.dialect.name == "postgresql"

    # PostgreSQL: no BEGIN/COMMIT round trips for a page that only reads. SQLite keeps its
    # own BEGIN (api/db.py takes over its transactions).
    assert client.get("/read").json() == {"transaction": not postgres}
    assert client.post("/write").json() == {"transaction": True}

    # A GET's single bookkeeping write is kept, savepoint or not.
    assert client.get("/visit").status_code == 200
    assert notes(engine) == [(1, "bezocht")]

    # A GET marked in_transaction is all or nothing: the failed second insert takes the first
    # one with it.
    assert client.get("/fulfil").status_code == 500
    assert notes(engine) == [(1, "bezocht")]


def _dependencies(dependant: Dependant) -> Iterator[object]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _dependencies(dependency)


@pytest.mark.parametrize(
    "path", ["/courses/{slug}/lessons/{lesson_slug}", "/courses/{slug}", "/courses", "/today"]
)
def test_the_busiest_pages_open_their_session_in_their_own_worker_thread(path: str) -> None:
    # request_session instead of SessionDep: the busiest pages make and end their session in the
    # thread that builds them (docs/performance.md#the-lesson-page-opens-its-own-session). They
    # are plain routes on the router tried first (docs/performance.md#pages-as-plain-routes): no
    # dependency of FastAPI's, a session's or any other, is solved for them.
    [page] = [
        route
        for route in busiest_pages.routes
        if isinstance(route, Route) and route.path == path and "GET" in (route.methods or ())
    ]
    assert not isinstance(page, APIRoute)
    assert ROUTERS[0] is busiest_pages


def test_a_read_in_autocommit_ends_without_a_commit(engine: Engine, scratch: FastAPI) -> None:
    # Nothing was sent in a transaction, so closing is all that is left
    # (docs/performance.md#nothing-to-commit); SQLite reads in a transaction and commits it.
    commits: list[Session] = []

    def committed(session: Session) -> None:
        commits.append(session)

    event.listen(Session, "after_commit", committed)
    try:
        assert TestClient(scratch).get("/read").status_code == 200
    finally:
        event.remove(Session, "after_commit", committed)
    assert len(commits) == (0 if engine.dialect.name == "postgresql" else 1)


def test_a_bookkeeping_write_another_request_overtook_does_not_refuse_the_page(
    engine: Engine, scratch: FastAPI
) -> None:
    response = TestClient(scratch, raise_server_exceptions=False).get("/late-visit")

    assert response.status_code == 200
    if engine.dialect.name == "sqlite":
        # Its deferred transaction cannot write after another commit: the visit is given up.
        assert notes(engine) == [(3, "ander")]
    else:
        assert notes(engine) == [(3, "ander"), (4, "bezocht")]


def test_a_get_that_writes_on_purpose_takes_the_write_lock_on_sqlite(
    engine: Engine, scratch: FastAPI
) -> None:
    response = TestClient(scratch, raise_server_exceptions=False).get("/mark")

    assert response.status_code == 200
    if engine.dialect.name == "sqlite":
        # BEGIN IMMEDIATE: the other writer waits (here: gives up at once) instead of
        # committing in between and making this request's write fail.
        assert response.json() == {"other_could_write": False}
        assert notes(engine) == [(6, "gelezen")]
    else:
        # PostgreSQL's rows lock one by one; both writes go through.
        assert response.json() == {"other_could_write": True}
        assert notes(engine) == [(5, "ander"), (6, "gelezen")]
