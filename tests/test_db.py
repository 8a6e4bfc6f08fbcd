"""The database is configured for safety on each backend, and a request's session behaves as
the routes expect: reads without a transaction on PostgreSQL, writes in one."""

import threading
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.responses import JSONResponse, Response
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
        bookkeeping(
            session,
            "scratch visit",
            lambda session: session.execute(
                text("INSERT INTO scratch_note (id, body) VALUES (4, 'bezocht')")
            ),
        )
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

    # Pages read on the event loop, as the busiest are (db.read_on_loop).
    writing = threading.Event()

    def visit_later(request: Request, session: Session) -> JSONResponse:
        def write(session: Session) -> None:
            writing.set()
            session.execute(text("INSERT INTO scratch_note (id, body) VALUES (7, 'later')"))

        bookkeeping(session, "scratch visit", write)
        # Kept for later: nothing is written while the page is built.
        return JSONResponse({"seen": [row.id for row in session.execute(text(NOTES))]})

    def write_now(request: Request, session: Session) -> JSONResponse:
        session.execute(text("INSERT INTO scratch_note (id, body) VALUES (8, 'nu')"))
        return JSONResponse({})

    def visit_missing(request: Request, session: Session) -> JSONResponse:
        visit_later(request, session)
        raise HTTPException(404)

    async def on_loop(request: Request) -> Response:
        build = {"later": visit_later, "now": write_now, "missing": visit_missing}
        return await db.read_on_loop(request, build[request.path_params["kind"]])

    async def ping(request: Request) -> Response:
        return JSONResponse({"pong": True})

    app.add_route("/loop/{kind}", on_loop)
    app.add_route("/ping", ping)
    app.state.writing = writing
    try:
        yield app
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE scratch_note"))


NOTES = "SELECT id, body FROM scratch_note ORDER BY id"


def notes(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        return [(row.id, row.body) for row in connection.execute(text(NOTES))]


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
def test_the_busiest_pages_are_plain_routes_tried_first(path: str) -> None:
    # read_on_loop instead of SessionDep: the busiest pages make and end their session where
    # they are built (docs/performance.md#pages-on-the-event-loop). They are plain routes on
    # the router tried first (docs/performance.md#pages-as-plain-routes): no dependency of
    # FastAPI's, a session's or any other, is solved for them.
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


def test_a_page_on_the_event_loop_writes_its_bookkeeping_after_it_is_built(
    engine: Engine, scratch: FastAPI
) -> None:
    client = TestClient(scratch)

    response = client.get("/loop/later")

    assert response.json() == {"seen": []}
    assert notes(engine) == [(7, "later")]


def test_a_page_on_the_event_loop_that_ends_in_an_error_page_still_writes_its_bookkeeping(
    engine: Engine, scratch: FastAPI
) -> None:
    # An expired session's removal, say, before Vandaag sends her to log in.
    assert TestClient(scratch).get("/loop/missing").status_code == 404
    assert notes(engine) == [(7, "later")]


def test_a_page_on_the_event_loop_may_not_write_outside_its_bookkeeping(
    engine: Engine, scratch: FastAPI
) -> None:
    with pytest.raises(db.WriteOnTheEventLoop):
        TestClient(scratch).get("/loop/now")

    assert notes(engine) == []
    # Its connection may write again once the page is done with it.
    assert TestClient(scratch).get("/visit").status_code == 200
    assert notes(engine) == [(1, "bezocht")]


def test_a_bookkeeping_write_that_waits_for_a_lock_does_not_hold_up_the_event_loop(
    database_url: str, engine: Engine, scratch: FastAPI
) -> None:
    """Her visit waits for a lock another transaction holds (on PostgreSQL the row it inserts):
    the worker's other requests are answered meanwhile, and the visit is written once the lock
    is let go (docs/performance.md#pages-on-the-event-loop)."""
    postgres = engine.dialect.name == "postgresql"
    # Bounded waits for this test's own engine: were the write on the loop, the ping below
    # would be answered only after the write had given up, and the test would fail, not hang.
    bounded = db.make_engine(database_url, pool_size=4, statement_timeout=20)
    scratch.state.sessionmaker = db.make_sessionmaker(bounded)
    answers: list[int] = []
    try:
        with TestClient(scratch) as client, engine.connect() as other:
            # On SQLite: BEGIN IMMEDIATE, the write lock from the start.
            other.execution_options(**{db.WRITE_INTENT: True})
            other.execute(text("INSERT INTO scratch_note (id, body) VALUES (7, 'ander')"))
            page = threading.Thread(
                target=lambda: answers.append(client.get("/loop/later").status_code)
            )
            page.start()
            assert scratch.state.writing.wait(timeout=30)

            assert client.get("/ping").json() == {"pong": True}
            if postgres:
                assert page.is_alive()  # still waiting for the lock

            other.rollback()
            page.join(timeout=30)
    finally:
        bounded.dispose()

    assert answers == [200]
    # On SQLite the page's read transaction cannot take the write lock another holds: the
    # visit is given up at once, as any bookkeeping write that loses to another writer.
    assert notes(engine) == ([(7, "later")] if postgres else [])


def test_a_page_on_the_event_loop_that_waits_for_a_migrations_lock_ends_with_a_503(
    settings: Settings, engine: Engine
) -> None:
    """A statement on the event loop that waits holds up the whole worker, so every statement
    has an end: DB_STATEMENT_TIMEOUT (PostgreSQL). On SQLite a writer holding the database's
    lock does not hold up a reader at all (WAL)."""
    app = create_app(settings.model_copy(update={"db_statement_timeout": 0.5}))
    with TestClient(app) as client, engine.connect() as other:
        other.execution_options(**{db.WRITE_INTENT: True})
        if engine.dialect.name == "postgresql":
            other.execute(text("LOCK TABLE course IN ACCESS EXCLUSIVE MODE"))
            response = client.get("/courses")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert "Probeer het over een paar seconden opnieuw" in response.text
        else:
            other.execute(text("UPDATE course SET title = title"))
            assert client.get("/courses").status_code == 200
        other.rollback()

        assert client.get("/courses").status_code == 200
