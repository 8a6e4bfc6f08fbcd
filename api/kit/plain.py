"""Plain reads: a page's one statement run straight on the database driver, its rows as tuples,
and the rows of a table in them as the objects the rest of Kern expects
(docs/performance.md#plain-reads).

SQLAlchemy's execution builds a result's metadata on every run from the cursor's description,
and psycopg makes a new object for every column each time it is asked; the ORM then sets up its
loaders for every entity in the statement, again on every run. For the lesson page's ~60
columns that was more than half of what reading its data cost Kern's process (measured in
docs/performance.md). A plain read does only what a SELECT needs:

- the statement is compiled once for each database, like any other;
- its parameters and its columns go through the same type processors SQLAlchemy applies (on
  SQLite a moment is text until its processor reads it, on PostgreSQL most need none);
- the connection's cursor events fire as for any statement (the tests count statements with
  them), and a database error goes through SQLAlchemy's own handling, so it comes wrapped and a
  lost connection is invalidated, as everywhere else;
- it runs on the session's own connection, in the session's transaction (or autocommit).

Written here rather than taken from a library: this is the part of SQLAlchemy's execution a
plain SELECT needs, without the per-run metadata; neither SQLAlchemy nor psycopg offers it on
its own. What it leaves out: statements whose SQL depends on their parameters (an IN list,
literal execution), which `PlainSelect` refuses when it compiles them.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from psycopg import RawCursor
from sqlalchemy import Connection, Dialect, Select, inspect
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Session, SQLModel

Model = TypeVar("Model", bound=SQLModel)
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement as one database runs it."""

    sql: str
    # The parameters' names in order, for a driver that takes them by position (SQLite).
    positions: tuple[str, ...] | None
    binds: Mapping[str, Processor]
    # The columns that have a processor, by their place in a row.
    results: tuple[tuple[int, Callable[[Any], Any]], ...]
    # On psycopg, a long statement: in PostgreSQL's own placeholders, for a raw cursor.
    raw: bool = False

    def parameters(self, values: Mapping[str, Any], defaults: dict[str, Any]) -> Any:
        given = {**defaults, **values}
        processed = {
            name: value if (process := self.binds.get(name)) is None else process(value)
            for name, value in given.items()
        }
        if self.positions is None:
            return processed
        return tuple(processed[name] for name in self.positions)


class PlainSelect:
    """A SELECT built once, run as a plain read: `rows` returns its rows as tuples, with the
    values SQLAlchemy would give."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[_Compiled, dict[str, Any]]] = {}

    def _for(self, dialect: Dialect) -> tuple[_Compiled, dict[str, Any]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            raw = dialect.driver == "psycopg" and len(compiled.string) > PSYCOPG_PARSES_OVER
            if raw:
                compiled = self.statement.compile(dialect=_numbered(dialect))
            if "POSTCOMPILE" in compiled.string:
                raise ValueError("a plain read cannot take parameters that change its SQL")
            binds = {
                name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for bind, name in compiled.bind_names.items()
            }
            processors = (
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            )
            results = tuple(
                (place, process) for place, process in enumerate(processors) if process is not None
            )
            positions = tuple(compiled.positiontup or ()) if compiled.positional else None
            plan = _Compiled(compiled.string, positions, binds, results, raw)
            # The statement's own values (a status it compares with, a literal): every run.
            defaults = {
                name: bind.effective_value
                for bind, name in compiled.bind_names.items()
                if not bind.required
            }
            found = self._compiled[dialect.name] = (plan, defaults)
        return found

    def rows(self, session: Session, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The statement's rows for these parameter values, on the session's connection."""
        # A session bound to a connection (api/db.py, a page's own) reads on it as it is; the
        # session's own way to a connection costs three times as much.
        bind = session.bind
        connection = bind if isinstance(bind, Connection) else session.connection()
        plan, defaults = self._for(connection.dialect)
        sql, parameters = plan.sql, plan.parameters(values, defaults)
        dbapi_connection = connection.connection
        # psycopg's own connection under SQLAlchemy's, for a raw cursor (typed loosely there).
        driver: Any = dbapi_connection.driver_connection
        cursor: Any = RawCursor(driver) if plan.raw else dbapi_connection.cursor()
        try:
            listening = connection._has_events or connection.engine._has_events
            if listening:
                for before in connection.dispatch.before_cursor_execute:
                    sql, parameters = before(connection, cursor, sql, parameters, None, False)
            cursor.execute(sql, parameters)
            fetched = cursor.fetchall()
            if listening:
                for after in connection.dispatch.after_cursor_execute:
                    after(connection, cursor, sql, parameters, None, False)
        except Exception as error:
            # Wrapped as SQLAlchemy's own errors are, and a lost connection invalidated.
            connection._handle_dbapi_exception(error, sql, parameters, cursor, None)
        finally:
            cursor.close()
        if not plan.results:
            return [tuple(row) for row in fetched]
        rows = []
        for row in fetched:
            processed = list(row)
            for place, process in plan.results:
                processed[place] = process(processed[place])
            rows.append(tuple(processed))
        return rows

    def first(self, session: Session, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.rows(session, values)
        return rows[0] if rows else None


# psycopg rewrites its placeholders (`%(name)s`) into PostgreSQL's ($1, $2, …) once per
# statement and keeps the result, but only for statements of at most 4 KB
# (psycopg._queries.MAX_CACHED_STATEMENT_LENGTH): a longer one, as Vandaag's is, is parsed
# again on every run. Such a statement is written with PostgreSQL's own placeholders and run on
# a raw cursor, which takes them as they are; a shorter one costs less the usual way
# (docs/performance.md#plain-reads).
PSYCOPG_PARSES_OVER = 4096


def _numbered(dialect: Dialect) -> Dialect:
    """The same dialect writing PostgreSQL's own placeholders."""
    make: Any = type(dialect)  # every dialect takes `paramstyle`; the base type does not say so
    return make(paramstyle="numeric_dollar")  # type: ignore[no-any-return]


class Columns(Generic[Model]):
    """A table's columns (but `leaving_out`) as a plain read selects them, for `model` or an
    `alias` of it (sqlalchemy.orm.aliased), and `load` to turn them back into an object of the
    model.

    The object is what a query of the ORM would have loaded and its session then let go of
    (detached): what it was read with is there, any other column raises when touched (as
    `raiseload` does), and a session it is added to later updates or deletes its row."""

    def __init__(
        self, model: type[Model], *, alias: Any = None,
        leaving_out: Sequence[str] = (),
    ) -> None:  # fmt: skip
        self.model = model
        entity: Any = alias if alias is not None else model
        self.keys = tuple(
            attribute.key
            for attribute in inspect(model).column_attrs
            if attribute.key not in leaving_out
        )
        self.columns = tuple(getattr(entity, key) for key in self.keys)
        mapper = inspect(model)
        self._manager = mapper.class_manager
        if len(mapper.primary_key) != 1:
            raise ValueError(f"{model.__name__}: load knows a one-column primary key only")
        self._primary_key = self.keys.index(mapper.primary_key[0].key)
        self._identity_class = mapper._identity_class
        # The columns left out are marked expired on each object, as make_transient_to_detached
        # would; its other attributes (relationships) it would only pop from an empty dict.
        self._left_out = frozenset(
            attribute.key for attribute in mapper.column_attrs if attribute.key not in self.keys
        )

    def __len__(self) -> int:
        return len(self.columns)

    def load(self, row: Sequence[Any], start: int) -> Model | None:
        """The object from `row[start:start + len(self)]`; None when an outer join found no
        row (its primary key is NULL)."""
        values = row[start : start + len(self.keys)]
        if values[self._primary_key] is None:
            return None
        loaded: Model = self._manager.new_instance()
        loaded.__dict__.update(zip(self.keys, values, strict=True))
        # What make_transient_to_detached does to a new object, without working out again for
        # each one what it can know once: the identity key of a one-column primary key and the
        # attributes to expire (docs/performance.md#plain-reads).
        state = instance_state(loaded)
        state.key = (self._identity_class, (values[self._primary_key],), None)
        if self._left_out:
            if self._manager.dispatch.expire:
                state._expire_attributes(state.dict, self._left_out)
            else:
                # For a new object (nothing loaded, changed or pending) expiring only adds the
                # names to its expired set and tells the "expire" event's listeners; with none
                # listening (Kern has none), in one step (docs/performance.md#plain-reads).
                state.expired_attributes.update(self._left_out)
        return loaded


def columns_of(tables: Sequence[Columns[Any]]) -> list[Any]:
    """These tables' columns, one after the other, to select."""
    return [column for table in tables for column in table.columns]


def width(tables: Sequence[Columns[Any]]) -> int:
    """How many columns these tables take in a row, one after the other."""
    return sum(len(table) for table in tables)


def loaded(tables: Sequence[Columns[Any]], row: Sequence[Any], start: int = 0) -> list[Any]:
    """Each table's object (or None) from `row`, their columns one after the other from
    `start`."""
    found = []
    for table in tables:
        found.append(table.load(row, start))
        start += len(table)
    return found
