"""The migrations build exactly the schema the models describe, on every backend."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, Table, insert, text
from sqlalchemy.engine import make_url

from api import db, migrate
from api.models import metadata
from tests.conftest import TEST_DATABASE_URL, _create_postgres_database


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_database_is_at_the_newest_revision(engine: Engine, database_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    assert set(current) == set(script.get_heads())


def test_upgrading_twice_changes_nothing(engine: Engine, database_url: str) -> None:
    migrate.upgrade(database_url)
    test_models_and_migrations_agree(engine)


def test_revision_files_are_date_named(database_url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    for revision in script.walk_revisions():
        assert revision.path is not None
        name = revision.path.rsplit("/", 1)[-1]
        assert re.match(r"\d{4}_\d{2}_\d{2}_\d{4}-", name), name


# --- media_file: owners for the files courses named before files had owners ------------------


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same backend as `database_url`, for migrating step by step."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'stappen.db'}"
        return
    url, admin = _create_postgres_database(TEST_DATABASE_URL)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}"'))
        admin.dispose()


def _insert(connection: Connection, table: str, **values: object) -> int:
    """A row as the schema of this revision has it (reflected, not the models of today, which
    may have columns the revision has not): `values`, and a plain value for every other column
    that must have one."""
    reflected = Table(table, MetaData(), autoload_with=connection)
    row = dict(values)
    for column in reflected.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default:
            continue
        python_type = column.type.python_type
        row[column.name] = {
            bool: False,
            int: 0,
            str: "x",
            datetime: datetime(2026, 1, 1, tzinfo=UTC),
        }.get(python_type, "[]" if python_type is list else "{}")
    return int(
        connection.execute(insert(reflected).values(row).returning(reflected.c.id)).scalar_one()
    )


def _course(
    connection: Connection, instructor: int, *, created: datetime, cover: str | None, video: str
) -> int:
    course = _insert(
        connection,
        "course",
        slug=f"cursus-{created.day}",
        instructor_id=instructor,
        cover_image=cover,
        status="published",
        schedule="all_at_once",
        created_at=created,
        outcomes=[],
        faq=[],
    )
    module = _insert(connection, "course_module", course_id=course)
    _insert(
        connection,
        "lesson",
        course_id=course,
        module_id=module,
        slug="les",
        video_provider="file",
        video_ref=video,
        estimated_minutes=5,
    )
    return course


def test_existing_files_are_owned_by_the_courses_that_name_them(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, "e5c3b8a1f2d4")  # the revision before media_file
    engine = db.make_engine(fresh_url, pool_size=1)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            alice = _insert(connection, "user_account", email="alice@kern.test", role="instructor")
            bob = _insert(connection, "user_account", email="bob@kern.test", role="instructor")
            ids = (
                _course(connection, alice, created=start, cover="omslag.jpg", video="betaald.mp4"),
                # Her own copy, younger, names her video too.
                _course(
                    connection,
                    alice,
                    created=start + timedelta(days=5),
                    cover=None,
                    video="betaald.mp4",
                ),
                # Bob's free preview named her video: his course is younger, so it is not his.
                _course(
                    connection,
                    bob,
                    created=start + timedelta(days=3),
                    cover="eigen.jpg",
                    video="betaald.mp4",
                ),
            )

        migrate.upgrade(fresh_url)

        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT name, course_id, kind FROM media_file ORDER BY name, course_id")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("betaald.mp4", ids[0], "video"),
        ("betaald.mp4", ids[1], "video"),
        ("eigen.jpg", ids[2], "image"),
        ("omslag.jpg", ids[0], "image"),
    ]
