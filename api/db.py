"""The database: one engine per process, and one session (one transaction) per request."""

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Row,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON, TypeDecorator
from sqlmodel import Session, SQLModel

from api.kit.threads import in_thread

# Constraint names are part of the schema: fixing them here makes migrations name the same
# constraint the same way on SQLite and PostgreSQL, so a later migration can drop it by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
# An execution option saying the transaction is going to write (see _configure_sqlite).
WRITE_INTENT = "kern_write_intent"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A mark in the connection's `info`: it serves a page on the event loop and may only read
# (`read_on_loop`); any other statement is refused before it is sent (`_refuse_writes`). Not an
# execution option: setting one runs SQLAlchemy's events for it, twice per page
# (docs/performance.md#pages-on-the-event-loop).
READS_ONLY = "kern_reads_only"
# The first words of the statements such a connection may send (SQLite's reads begin a
# transaction, api/db.py `_configure_sqlite`).
_READS = ("SELECT", "BEGIN")
# Where a page read on the event loop keeps its bookkeeping writes (session.info), to do them
# afterwards in a worker thread.
LATER = "kern_later"

# A bookkeeping write: what it records, and the write itself, given a session.
Write = Callable[[Session], object]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Kern stores moments in UTC with a zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def moment(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    """A column for a moment in time, stored in UTC."""
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _configure_sqlite(engine: Engine) -> None:
    """Turn on WAL, foreign keys and a busy timeout, and let SQLAlchemy own transactions."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite opens transactions lazily and not before SAVEPOINT, which breaks nested
        # transactions; taking over BEGIN ourselves is the recipe SQLAlchemy documents.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A transaction that will write takes the write lock at once. A deferred one that reads
        # first and writes later fails at once ("database is locked", no busy wait) when another
        # writer committed in between; an immediate one waits its turn instead.
        immediate = connection.get_execution_options().get(WRITE_INTENT)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class WriteOnTheEventLoop(RuntimeError):
    """A page read on the event loop tried to write: a programming error (`read_on_loop`)."""


def _refuse_writes(engine: Engine) -> None:
    """Refuse any statement but a read on a connection marked READS_ONLY. A write on the event
    loop could wait for a row lock held by a request whose transaction only ends in a thread
    the loop itself must start (docs/performance.md#pages-on-the-event-loop)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(
        connection: Connection, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if not connection.info.get(READS_ONLY):
            return
        if not statement.lstrip()[:6].upper().startswith(_READS):
            raise WriteOnTheEventLoop(statement.split(None, 1)[0])


def make_engine(
    url: str,
    *,
    pool_size: int = 20,
    kept: int | None = None,
    statement_timeout: float | None = None,
) -> Engine:
    """An engine for SQLite or PostgreSQL from the same code: at most `pool_size` connections
    at once, of which `kept` (all, unless given) stay open between uses. On PostgreSQL a
    `statement_timeout` (seconds) ends any statement that takes longer, a wait for a lock
    included, and bounds opening a connection and an unanswered send as well."""
    engine = _make_engine(url, pool_size=pool_size, kept=kept, statement_timeout=statement_timeout)
    _refuse_writes(engine)
    return engine


def _make_engine(
    url: str, *, pool_size: int, kept: int | None, statement_timeout: float | None
) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # A bare postgresql:// would pick psycopg2, which Kern does not install.
        parsed = parsed.set(drivername="postgresql+psycopg")
    # Never more than pool_size: a request that finds every connection busy waits for one;
    # RequestSlots keeps fewer requests running than there are connections. Only `kept` stay
    # open: one that is given back while that many wait idle is closed, so a connection opened
    # for a rare second session (the upload guard, the footer's refresh while both requests are
    # busy) does not stay a PostgreSQL process of ~10 MiB (docs/performance.md#the-connection-pool).
    # No pre-ping: it is a round trip on every request (docs/performance.md#no-pre-ping). A
    # connection that died with a database restart fails its first statement instead;
    # SQLAlchemy then drops every pooled connection made before, and that request is answered
    # 503 with Retry-After (api/errors.py).
    kept = pool_size if kept is None else min(kept, pool_size)
    connect_args: dict[str, Any] = {}
    if statement_timeout is not None:
        # The pages read on the event loop (docs/performance.md#pages-on-the-event-loop): a
        # statement that waits (a migration's lock on a table, a database that stops answering)
        # holds up the whole worker, so every wait has an end. libpq's connect_timeout counts
        # whole seconds, at least 2.
        milliseconds = round(statement_timeout * 1000)
        connect_args = {
            "options": f"-c statement_timeout={milliseconds}",
            "connect_timeout": max(2, round(statement_timeout)),
            "tcp_user_timeout": milliseconds,
        }
    return create_engine(
        parsed,
        pool_pre_ping=False,
        pool_size=kept,
        max_overflow=pool_size - kept,
        connect_args=connect_args,
    )


class KernSessionmaker(sessionmaker[Session]):
    """A sessionmaker that also knows where a read-only request's session reads from."""

    # On PostgreSQL: the same engine and pool, with AUTOCOMMIT set on each connection it lends
    # out and reset when the connection goes back (psycopg does both without a round trip;
    # docs/performance.md#reads-without-a-transaction).
    read_bind: Engine | None = None


def make_sessionmaker(bind: Any, **options: Any) -> KernSessionmaker:
    """Sessions that keep loaded objects usable after commit, for rendering."""
    factory = KernSessionmaker(bind=bind, class_=Session, expire_on_commit=False, **options)
    # PostgreSQL reads through the pool; not SQLite (whose BEGIN Kern issues itself) and not a
    # session bound to an open connection (the tests' rolled-back transaction).
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        factory.read_bind = bind.execution_options(isolation_level="AUTOCOMMIT")
    return factory


def ping(engine: Engine) -> None:
    """Run a trivial statement; raises when the database cannot be reached."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: commit when the route succeeds, roll back otherwise."""
    async with _request_session(request, writes=request.method not in SAFE_METHODS) as session:
        yield session


async def get_write_session(request: Request) -> AsyncIterator[Session]:
    """Like get_session, for the rare GET that must write (a one-click link in a mail)."""
    async with _request_session(request, writes=True) as session:
        yield session


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
Built = TypeVar("Built")


def in_transaction(endpoint: Endpoint) -> Endpoint:
    """Mark a GET route that writes on purpose (marks a conversation read, fulfils an order):
    its writes are one transaction, which on SQLite takes the write lock at its start, as a
    POST's does. Most GETs write nothing, or one bookkeeping row, and run without
    (docs/performance.md#reads-without-a-transaction)."""
    endpoint.kern_in_transaction = True  # type: ignore[attr-defined]
    return endpoint


@asynccontextmanager
async def _request_session(request: Request, *, writes: bool) -> AsyncIterator[Session]:
    """The request's session. Making it does no I/O (the connection is taken by the first
    statement), so this runs on the event loop; only an end that talks to the database goes to
    a thread. A read on PostgreSQL thus costs no thread hand-off here at all: it has nothing to
    commit, and giving its connection back to the pool is local work."""
    session, autocommit = _open(request, writes=writes)
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_end, session, commit=False)
        raise
    if _nothing_to_send(session, autocommit):
        session.close()
    else:
        await run_in_threadpool(_end, session, commit=True)


@contextmanager
def request_session(request: Request) -> Iterator[Session]:
    """The same session as SessionDep, for a route that does all its work in one worker thread
    anyway (the busiest writes): opened and ended there, it spares the route a dependency and
    the event loop its bookkeeping (docs/performance.md#the-lesson-page-opens-its-own-session).
    Blocking; never call it on the event loop."""
    with _own_session(request) as session:
        yield session


async def read_on_loop(request: Request, build: Callable[..., Built], *args: object) -> Built:
    """`build(request, session, *args)` for a page that only reads, on the event loop itself:
    the busiest pages, for which the hand-off to a thread cost more than their statement
    (docs/performance.md#pages-on-the-event-loop). The session may only read (anything else is
    refused); its bookkeeping writes (`bookkeeping`: her visit, the session's last-seen time)
    are kept and done afterwards on the same session in a worker thread, where a write may wait
    for a lock without holding up the loop; also when the page ends in an error page or a
    redirect, though not when the database failed it."""
    session, autocommit, own = _open_own(request)
    later: list[tuple[str, Write]] = []
    try:
        try:
            # Marked once its transaction, if any, has begun (SQLite's BEGIN, a test's
            # savepoint), and no longer when the page is built.
            with _reads_only(own or session.connection()):
                session.info[LATER] = later
                try:
                    built = build(request, session, *args)
                finally:
                    del session.info[LATER]
        except BaseException as error:
            if later and not isinstance(error, SQLAlchemyError):
                await in_thread(_write_and_end, session, later)
            else:
                _end(session, commit=False)
            raise
        if later:
            await in_thread(_write_and_end, session, later)
        else:
            _close(session, autocommit)
        return built
    finally:
        if own is not None:
            own.close()


def _write_and_end(session: Session, later: list[tuple[str, Write]]) -> None:
    for what, write in later:
        bookkeeping(session, what, write)
    _end(session, commit=True)


@contextmanager
def _own_session(request: Request) -> Iterator[Session]:
    session, autocommit, own = _open_own(request)
    try:
        try:
            yield session
        except BaseException:
            _end(session, commit=False)
            raise
        _close(session, autocommit)
    finally:
        if own is not None:
            own.close()


def _open_own(request: Request) -> tuple[Session, bool, Connection | None]:
    """`_open` with a connection taken at once; reading in autocommit, the session is bound to
    that connection of its own, returned third, which the caller gives back at the end."""
    session, autocommit = _open(request, writes=request.method not in SAFE_METHODS, connect=True)
    own = session.bind if autocommit else None
    return session, autocommit, own if isinstance(own, Connection) else None


def _close(session: Session, autocommit: bool) -> None:
    """End a session whose work went well: closed when there is nothing to send, else
    committed."""
    if _nothing_to_send(session, autocommit):
        session.close()
    else:
        _end(session, commit=True)


@contextmanager
def _reads_only(connection: Connection) -> Iterator[None]:
    """`connection` sends nothing but reads meanwhile (`_refuse_writes`). The mark is on the
    pooled connection itself, so it is taken off however the page ends."""
    info = connection.info
    info[READS_ONLY] = True
    try:
        yield
    finally:
        info.pop(READS_ONLY, None)


def _open(request: Request, *, writes: bool, connect: bool = False) -> tuple[Session, bool]:
    """A new session for the request, and whether it reads in autocommit. With `connect`, a
    session that reads in autocommit is bound to a connection of its own, taken now and given
    back when the session ends: a plain read uses it as it is, without the session's
    bookkeeping for a connection (docs/performance.md#plain-reads)."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    endpoint = request.scope.get("endpoint")
    transaction = writes or getattr(endpoint, "kern_in_transaction", False)
    read_bind = getattr(factory, "read_bind", None)
    if not transaction and read_bind is not None:
        # A page that only reads needs no transaction: each statement stands alone, which
        # saves PostgreSQL's BEGIN and COMMIT round trips. The odd bookkeeping write of a GET
        # (the session's last-seen time, the lesson she is on) commits by itself.
        # See docs/performance.md#reads-without-a-transaction.
        if connect:
            return factory(bind=read_bind.connect()), True
        return factory(bind=read_bind), True
    return factory(execution_options={WRITE_INTENT: True} if transaction else {}), False


def _nothing_to_send(session: Session, autocommit: bool) -> bool:
    """Whether closing is all that is left: each statement committed by itself, nothing waits
    to be flushed, nor to run after a commit (session.info holds such hooks,
    api/media/files.py). Then the commit's bookkeeping and, on the event loop, the hand-off to
    a thread are saved too (docs/performance.md#nothing-to-commit)."""
    return autocommit and not (session.new or session.dirty or session.deleted or session.info)


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


# scope="function" makes FastAPI run the commit before the response is sent, so a failed
# commit becomes an error response instead of hiding behind a 2xx that was already sent.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint, so a failure inside does not end the request's transaction; nothing at all
    for a read-only request's session, where each statement commits by itself."""
    if session.connection().get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        yield
        return
    with session.begin_nested():
        yield


def bookkeeping(session: Session, what: str, write: Write) -> None:
    """A GET's bookkeeping write (her last visit, the session's last-seen time) that may be
    lost rather than refuse the page. On a page read on the event loop it is kept for later
    (`read_on_loop`). On SQLite a page reads in a deferred transaction, and its late write
    fails at once ("database is locked", no busy wait) when another request wrote in between;
    the write is given up and the page is served. So is one that waited too long for a lock
    (the statement timeout). A lost connection is another matter: it reaches the error handler
    as itself (a 503)."""
    later = session.info.get(LATER)
    if later is not None:
        later.append((what, write))
        return
    try:
        with savepoint(session):
            write(session)
    except OperationalError as error:
        if error.connection_invalidated:
            raise
        logger.info("%s not recorded (database busy)", what, exc_info=True)


# Builds the SET clause of an upsert from the table and the row that was refused (`excluded`).
UpdateSet = Callable[[Table, Any], dict[str, Any]]


def upsert(
    session: Session,
    table: Table,
    values: dict[str, Any],
    *,
    keys: list[str],
    update: UpdateSet | None = None,
) -> Row[Any] | None:
    """Insert a row, or on a unique conflict over `keys` update it (or leave it, without
    `update`), in one statement on SQLite and PostgreSQL; returns the row, or None when it
    was left alone.

    SQLAlchemy has no dialect-neutral ON CONFLICT, but both backends speak the same clause.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = _on_conflict(insert(table).values(**values), table, keys, update)
    return session.execute(statement.returning(*table.c)).first()


def _on_conflict(statement: Any, table: Table, keys: list[str], update: UpdateSet | None) -> Any:
    if update is None:
        return statement.on_conflict_do_nothing(index_elements=keys)
    return statement.on_conflict_do_update(
        index_elements=keys, set_=update(table, statement.excluded)
    )


class Upsert:
    """`upsert` built once for each backend, for the busiest writes: run with a row's values as
    the parameters, it returns the `returning` columns of the row, or None when it was left
    alone. Building the statement on every request (its `excluded` columns, the cache key of
    its values) was a third of such a request's work (docs/performance.md#the-two-busiest-writes).

    `update` may use only `excluded` (the values sent), not Python values of the moment: the
    statement outlives the request."""

    def __init__(
        self,
        table: Table,
        *,
        keys: list[str],
        returning: list[Column[Any]],
        update: UpdateSet | None = None,
    ) -> None:
        self.statements = {
            name: _on_conflict(insert(table), table, keys, update).returning(*returning)
            for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
        }

    def __call__(self, session: Session, values: dict[str, Any]) -> Row[Any] | None:
        statement = self.statements[session.get_bind().dialect.name]
        return session.execute(statement, values).first()


class json_rows(FunctionElement[Any]):  # noqa: N801 (used like SQLAlchemy's func.*)
    """An aggregate: the group's rows as one JSON array of arrays, `[[a, b], [a, b]]`, on SQLite
    and PostgreSQL alike; NULL (None) on PostgreSQL and `[]` on SQLite for no rows. It lets one
    statement bring a page's small lists beside its main row
    (docs/performance.md#one-statement-per-page). Moments come back as ISO text: read them
    with `moment_from_json`."""

    type = JSON()
    inherit_cache = True
    name = "json_rows"


@compiles(json_rows)
def _json_rows_sqlite(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


def moment_from_json(value: str | None) -> datetime | None:
    """A moment that `json_rows` brought as text: ISO with its offset from PostgreSQL, naive
    UTC (as Kern stores it) from SQLite."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def utcnow() -> datetime:
    """The current moment as an aware UTC datetime: the one clock services use."""
    return datetime.now(UTC)
