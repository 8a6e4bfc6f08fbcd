"""The migrations build exactly the schema the models describe, on every backend."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from api import db, migrate
from api.accounts.models import Role
from api.catalog.models import Course, Lesson
from api.models import metadata
from tests.conftest import TEST_DATABASE_URL, _create_postgres_database
from tests.factories import make_course, make_user


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


def _named(session: Session, course: Course, *, cover: str | None, video: str | None) -> None:
    course.cover_image = cover
    session.add(course)
    if video is not None:
        lesson = session.exec(select(Lesson).where(Lesson.course_id == course.id)).first()
        assert lesson is not None
        lesson.video_provider, lesson.video_ref = "file", video
        session.add(lesson)


def test_existing_files_are_owned_by_the_courses_that_name_them(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, "e5c3b8a1f2d4")  # the revision before media_file
    engine = db.make_engine(fresh_url, pool_size=1)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        with Session(engine) as session:
            alice = make_user(session, role=Role.instructor)
            bob = make_user(session, role=Role.instructor)
            alices = make_course(session, instructor=alice)
            her_copy = make_course(session, instructor=alice)
            bobs = make_course(session, instructor=bob)
            for course, days in ((alices, 0), (her_copy, 5), (bobs, 3)):
                course.created_at = start + timedelta(days=days)
            _named(session, alices, cover="omslag.jpg", video="betaald.mp4")
            _named(session, her_copy, cover=None, video="betaald.mp4")
            # Bob's free preview named her video: his course is younger, so it is not his.
            _named(session, bobs, cover="eigen.jpg", video="betaald.mp4")
            session.commit()
            ids = (alices.id, her_copy.id, bobs.id)

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
