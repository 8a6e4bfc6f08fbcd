"""Plain reads (api/kit/plain.py): the same values as SQLAlchemy's own execution, on SQLite and
PostgreSQL; objects that behave as the ORM's once their session let them go; the statement seen
by the connection's events; a database error wrapped as SQLAlchemy wraps it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, event, exc, inspect, literal_column, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    aliased,
    make_transient_to_detached,
    mapped_column,
)
from sqlalchemy.orm.exc import DetachedInstanceError
from sqlmodel import Session, col

from api.accounts.models import AuthSession, Role, User
from api.kit.ids import id_of
from api.kit.plain import PSYCOPG_PARSES_OVER, Columns, PlainSelect
from tests.factories import make_user
from tests.kit.test_lookup import counted

_USER = Columns(User, leaving_out=("password_hash",))
_SESSION = Columns(AuthSession)
_BY_EMAIL = PlainSelect(
    select(*_USER.columns, *_SESSION.columns, literal_column("1").label("one"))
    .outerjoin(AuthSession, col(AuthSession.user_id) == User.id)
    .where(col(User.email) == bindparam("email"), col(User.role) == Role.instructor)
)


def test_rows_hold_the_values_sqlalchemy_gives(session: Session) -> None:
    ingrid = make_user(session, name="Ingrid", email="ingrid@example.nl", role=Role.instructor)
    statement = select(*_USER.columns).where(col(User.email) == bindparam("email"))

    [plain] = PlainSelect(statement).rows(session, {"email": "ingrid@example.nl"})
    [core] = session.execute(statement, {"email": "ingrid@example.nl"}).all()

    assert plain == tuple(core)
    created = plain[_USER.keys.index("created_at")]
    assert isinstance(created, datetime)
    assert created.tzinfo is not None  # aware on SQLite too, through the column's processor
    assert plain[_USER.keys.index("role")] == Role.instructor
    assert plain[_USER.keys.index("id")] == ingrid.id


def test_a_long_statement_reads_the_same_values(session: Session) -> None:
    """A statement longer than psycopg keeps rewritten runs with PostgreSQL's own placeholders
    on a raw cursor; its parameters still go in by name, in any order, and its values come out
    as SQLAlchemy gives them."""
    ingrid = make_user(session, name="Ingrid", email="ingrid@example.nl", role=Role.instructor)
    padding: list[Any] = [
        literal_column(f"{n}").label(f"a_rather_long_column_name_{n:03}") for n in range(150)
    ]
    statement = select(*_USER.columns, *padding).where(
        col(User.email) == bindparam("email"),
        col(User.role) == Role.instructor,
        col(User.created_at) > bindparam("since"),
    )
    plain_select = PlainSelect(statement)
    values = {"since": datetime(2000, 1, 1, tzinfo=UTC), "email": "ingrid@example.nl"}

    [plain] = plain_select.rows(session, values)
    [core] = session.execute(statement, values).all()

    assert len(str(statement.compile(session.get_bind()))) > PSYCOPG_PARSES_OVER
    assert plain == tuple(core)
    assert plain[_USER.keys.index("id")] == ingrid.id
    assert plain[-1] == 149
    assert plain_select.rows(session, {**values, "email": "alice@example.nl"}) == []


def test_the_statements_own_values_and_an_outer_join_without_a_row(session: Session) -> None:
    ingrid = make_user(session, name="Ingrid", email="ingrid@example.nl", role=Role.instructor)
    make_user(session, name="Alice", email="alice@example.nl")

    row = _BY_EMAIL.first(session, {"email": "ingrid@example.nl"})
    assert _BY_EMAIL.first(session, {"email": "alice@example.nl"}) is None  # not an instructor
    assert row is not None
    user = _USER.load(row, 0)
    assert _SESSION.load(row, len(_USER)) is None  # no session: outer joined, all NULL
    assert row[-1] == 1
    assert user is not None
    assert user is not ingrid
    assert (user.id, user.name, user.role) == (ingrid.id, "Ingrid", Role.instructor)


def loaded_instructor(session: Session) -> User:
    """Ingrid, stored, then read back by a plain read and loaded (without her password hash)."""
    make_user(session, name="Ingrid", email="ingrid@example.nl", role=Role.instructor)
    row = _BY_EMAIL.first(session, {"email": "ingrid@example.nl"})
    assert row is not None
    user = _USER.load(row, 0)
    assert user is not None
    return user


def test_a_loaded_object_is_detached_and_refuses_what_was_not_read(session: Session) -> None:
    user = loaded_instructor(session)

    with pytest.raises(DetachedInstanceError):  # never a silent None, never a statement
        _ = user.password_hash


def test_a_loaded_object_has_the_state_the_orm_gives_a_detached_one(session: Session) -> None:
    # load sets up what make_transient_to_detached would, without asking the mapper each time.
    user = loaded_instructor(session)
    by_orm = User(**{key: getattr(user, key) for key in _USER.keys})
    make_transient_to_detached(by_orm)

    ours, theirs = inspect(user), inspect(by_orm)
    assert ours.detached
    assert ours.key == theirs.key
    assert ours.expired_attributes == theirs.expired_attributes == {"password_hash"}
    assert ours.unloaded == theirs.unloaded
    assert not ours.modified
    assert not ours.committed_state


def test_a_listener_to_expiry_hears_of_the_columns_left_out(session: Session) -> None:
    # Without listeners load marks them expired in one step; with one, the ORM's own way.
    heard: list[tuple[Any, set[str]]] = []

    def expired(target: User, names: Any) -> None:
        heard.append((inspect(target).identity, set(names or ())))

    event.listen(User, "expire", expired)
    try:
        user = loaded_instructor(session)
    finally:
        event.remove(User, "expire", expired)

    assert heard == [((user.id,), {"password_hash"})]
    assert inspect(user).expired_attributes == {"password_hash"}
    with pytest.raises(DetachedInstanceError):
        _ = user.password_hash


def test_a_table_with_a_primary_key_of_two_columns_is_refused() -> None:
    class Base(DeclarativeBase):  # a registry of its own: Kern's metadata stays as it is
        pass

    class Pair(Base):
        __tablename__ = "pair"
        left: Mapped[int] = mapped_column(primary_key=True)
        right: Mapped[int] = mapped_column(primary_key=True)

    with pytest.raises(ValueError, match="one-column primary key"):
        Columns(Pair)  # type: ignore[type-var]  # not an SQLModel, on purpose


def test_a_loaded_object_added_to_the_session_updates_and_deletes_its_row(
    session: Session,
) -> None:
    alice = make_user(session, name="Alice", email="alice@example.nl")
    now = datetime.now(UTC)
    for token in ("one", "two"):
        session.add(
            AuthSession(
                user_id=id_of(alice), token_hash=token, created_at=now, last_seen_at=now,
                expires_at=now + timedelta(days=1), user_agent="test", ip_address="127.0.0.1",
            )
        )  # fmt: skip
    session.flush()
    by_token = PlainSelect(
        select(*_SESSION.columns).where(col(AuthSession.token_hash) == bindparam("token"))
    )
    one, two = (by_token.first(session, {"token": token}) for token in ("one", "two"))
    assert one is not None
    assert two is not None
    first, second = _SESSION.load(one, 0), _SESSION.load(two, 0)
    assert first is not None
    assert second is not None

    later = now + timedelta(minutes=5)
    first.last_seen_at = later
    session.add(first)
    session.delete(second)
    session.flush()
    session.expire_all()

    stored = session.scalars(select(AuthSession).where(col(AuthSession.user_id) == alice.id))
    assert [(row.token_hash, row.last_seen_at) for row in stored] == [("one", later)]


def test_the_connections_events_see_the_statement(session: Session) -> None:
    make_user(session, name="Ingrid", email="ingrid@example.nl", role=Role.instructor)

    with counted(session) as sent:
        _BY_EMAIL.rows(session, {"email": "ingrid@example.nl"})

    assert len(sent) == 1
    assert "FROM " in sent[0]
    assert "auth_session" in sent[0]


def test_an_alias_reads_its_own_columns(session: Session) -> None:
    ingrid = make_user(session, name="Ingrid", email="ingrid@example.nl", role=Role.instructor)
    other = aliased(User, name="other")
    columns = Columns(User, alias=other, leaving_out=("password_hash",))
    statement = PlainSelect(select(*columns.columns).where(col(other.id) == bindparam("id")))

    row = statement.first(session, {"id": ingrid.id})

    assert row is not None
    loaded = columns.load(row, 0)
    assert loaded is not None
    assert loaded.email == "ingrid@example.nl"


def test_a_database_error_comes_wrapped_as_sqlalchemys(session: Session) -> None:
    broken = PlainSelect(select(literal_column("no_such_column")).select_from(User))

    with pytest.raises(exc.DBAPIError):
        broken.rows(session, {})


def test_parameters_that_change_the_sql_are_refused(session: Session) -> None:
    listed = PlainSelect(
        select(col(User.id)).where(col(User.id).in_(bindparam("ids", expanding=True)))
    )

    with pytest.raises(ValueError, match="change its SQL"):
        listed.rows(session, {"ids": [1, 2]})
