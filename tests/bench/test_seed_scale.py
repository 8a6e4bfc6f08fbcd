"""`python -m bench.seed`: learners with enrolments, progress and practice the app accepts."""

import secrets
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy import select as sa_select
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from api import db, migrate
from api.accounts import passwords
from api.accounts.models import User
from api.catalog import schedule
from api.catalog import service as catalog
from api.catalog.models import Course, Lesson, Module, Schedule, Step
from api.clock import local_day
from api.config import ROOT, get_settings
from api.enrolment.models import Enrolment
from api.progress.models import LessonProgress, PracticeLog
from bench import scale
from bench.seed import app as cli
from tests.conftest import TEST_SECRET_KEY, TEST_VAPID_KEY

runner = CliRunner()
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LEARNERS = 40
FEW_COURSES = 3  # synthetic courses besides the samples: enough variety, a quicker import


def _fill(connection: Connection, *, seed: int = 7) -> scale.Summary:
    return scale.fill(
        connection, learners=LEARNERS, seed=seed, now=NOW, synthetic_courses=FEW_COURSES
    )


@pytest.fixture
def seeded(connection: Connection) -> Iterator[tuple[Session, scale.Summary]]:
    """A small scale seed inside the test's rolled-back transaction."""
    summary = _fill(connection)
    with Session(bind=connection) as session:
        yield session, summary


def _learners(session: Session) -> list[User]:
    return list(session.exec(select(User).where(col(User.email).like("learner%@scale.kern.test"))))


def _count(session: Session, table: str, learner_ids: list[int]) -> int:
    ids = ",".join(map(str, learner_ids))
    query = f"SELECT count(*) FROM {table} WHERE user_id IN ({ids})"  # noqa: S608 (ints)
    return int(session.execute(text(query)).scalar_one())


def test_counts_in_the_summary_are_the_rows_in_the_database(
    seeded: tuple[Session, scale.Summary],
) -> None:
    session, summary = seeded
    learners = _learners(session)
    ids = [user.id or 0 for user in learners]
    assert len(learners) == summary.counts["user_account"] == LEARNERS
    # The sample courses (one folder each in courses/) and the synthetic ones.
    samples = len(list((ROOT / "courses").glob("*/course.yaml")))
    assert summary.courses == samples + FEW_COURSES
    for table in ("enrolment", "purchase_order", "mail_preference", "lesson_progress"):
        assert _count(session, table, ids) == summary.counts[table], table
    assert _count(session, "practice_log", ids) == summary.counts["practice_log"]
    per_learner = Counter(e.user_id for e in session.exec(select(Enrolment)) if e.user_id in ids)
    assert set(per_learner.values()) <= {1, 2, 3, 4}
    assert len(per_learner) == LEARNERS
    # Every learner has progress and practice on average: the benchmark needs both.
    assert summary.counts["lesson_progress"] > 10 * LEARNERS
    assert summary.counts["practice_log"] > 5 * LEARNERS


def test_learners_are_confirmed_and_share_one_password_hash(
    seeded: tuple[Session, scale.Summary],
) -> None:
    session, _summary = seeded
    learners = _learners(session)
    assert {user.role for user in learners} == {"learner"}
    assert all(user.email_verified_at is not None for user in learners)
    assert len({user.password_hash for user in learners}) == 1
    assert passwords.verify_password(learners[0].password_hash, scale.PASSWORD)


def test_progress_is_only_in_lessons_that_were_open(
    seeded: tuple[Session, scale.Summary],
) -> None:
    session, _summary = seeded
    # Five entities are more than SQLModel's typed select() takes; SQLAlchemy's does the same.
    rows = session.execute(
        sa_select(LessonProgress, Lesson, Module, Course, Enrolment)
        .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
        .join(Module, col(Module.id) == Lesson.module_id)
        .join(Course, col(Course.id) == LessonProgress.course_id)
        .join(
            Enrolment,
            (col(Enrolment.user_id) == LessonProgress.user_id)
            & (col(Enrolment.course_id) == LessonProgress.course_id),
        )
    ).all()
    assert rows
    drip_rows = 0
    for progress, lesson, module, course, enrolment in rows:
        visited = progress.last_visited_at
        assert visited is not None
        assert lesson.course_id == course.id
        assert enrolment.enrolled_at <= visited <= NOW
        assert visited <= enrolment.status_changed_at or enrolment.is_active
        if progress.completed_at is not None:
            assert visited <= progress.completed_at <= NOW
        if course.schedule == Schedule.drip:
            drip_rows += 1
            assert schedule.opens_at(enrolment.enrolled_at, module.unlock_after_days) <= visited
    assert drip_rows  # the drip rule was put to the test


def test_practice_follows_a_visit_to_its_lesson_and_is_dated_in_amsterdam(
    seeded: tuple[Session, scale.Summary],
) -> None:
    session, _summary = seeded
    visits = {
        (row.user_id, row.lesson_id): row.last_visited_at
        for row in session.exec(select(LessonProgress))
    }
    logs = session.exec(select(PracticeLog, Step).join(Step, col(Step.id) == PracticeLog.step_id))
    count = 0
    for log, step in logs:
        count += 1
        assert step.kind in ("exercise", "breathing")
        assert log.lesson_id == step.lesson_id
        assert log.step_kind == step.kind
        visited = visits[(log.user_id, step.lesson_id)]
        assert visited is not None
        assert visited <= log.practised_at <= log.created_at <= NOW
        assert log.practised_on == local_day(log.practised_at)
        assert (log.effort is None) == (step.kind == "breathing")
    assert count > 0


def test_foreign_keys_are_all_back_and_hold_after_the_load(
    connection: Connection,
) -> None:
    before = _foreign_keys(connection)
    _fill(connection)
    assert _foreign_keys(connection) == before
    if connection.dialect.name == "sqlite":
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def _foreign_keys(connection: Connection) -> list[Any]:
    if connection.dialect.name == "sqlite":
        return []  # SQLite checks every row as it goes in (PRAGMA foreign_keys=ON)
    query = (
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' ORDER BY 1, 2"
    )
    return list(connection.exec_driver_sql(query).all())


def _dump(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The seeded rows by natural keys (emails, slugs), not by ids the database handed out."""
    queries = {
        "users": "SELECT u.email, u.name, u.language, u.created_at FROM user_account u",
        "enrolments": "SELECT u.email, c.slug, e.source, e.status, e.enrolled_at FROM enrolment e "
        "JOIN user_account u ON u.id = e.user_id JOIN course c ON c.id = e.course_id",
        "progress": "SELECT u.email, l.slug, p.last_visited_at, p.completed_at "
        "FROM lesson_progress p JOIN user_account u ON u.id = p.user_id "
        "JOIN lesson l ON l.id = p.lesson_id",
        "practice": "SELECT u.email, x.client_id, x.step_title, x.practised_at, x.duration_seconds "
        "FROM practice_log x JOIN user_account u ON u.id = x.user_id",
        "mail": "SELECT u.email, m.reminder_weekdays, m.reminder_times FROM mail_preference m "
        "JOIN user_account u ON u.id = m.user_id",
    }
    learners = {"pattern": "learner%@scale.kern.test"}
    return {
        name: sorted(
            tuple(row)
            for row in connection.execute(text(f"{query} WHERE u.email LIKE :pattern"), learners)
        )
        for name, query in queries.items()
    }


def _seed_and_dump(engine: Engine, seed: int) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            _fill(connection, seed=seed)
            return _dump(connection)
        finally:
            transaction.rollback()


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(engine: Engine) -> None:
    first, again, other = (_seed_and_dump(engine, seed) for seed in (7, 7, 8))
    assert first == again
    assert first["enrolments"] != other["enrolments"]
    assert first["practice"] != other["practice"]


def test_a_second_seed_into_the_same_database_is_refused(connection: Connection) -> None:
    _fill(connection)
    with pytest.raises(scale.ScaleError, match="already has scale accounts"):
        _fill(connection, seed=8)


def test_sample_learners_are_enrolled_with_the_first_lesson_open(
    seeded: tuple[Session, scale.Summary],
) -> None:
    session, _summary = seeded
    picked = scale.sample_learners(session, "sterke-basis", 5, now=NOW)
    assert picked
    assert picked == scale.sample_learners(session, "sterke-basis", 5, now=NOW)
    assert len(picked) <= 5
    for user_id in picked:
        learner = session.get(User, user_id)
        outline = catalog.outline(session, slug="sterke-basis", viewer=learner, now=NOW)
        assert outline.enrolled
        assert catalog.may_open(learner, outline, outline.lessons[0])


# The command itself commits, so it gets a database of its own on each backend.


@pytest.fixture
def empty_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A freshly migrated database that the command may commit to, as DATABASE_URL."""
    url = make_url(database_url)
    admin, name = None, f"kern_scale_{secrets.token_hex(4)}"
    if url.get_backend_name() == "sqlite":
        fresh = f"sqlite:///{tmp_path / 'scale.db'}"
    else:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        fresh = url.set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", fresh)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("APP_ENV", "development")
    migrate.upgrade(fresh)
    try:
        yield fresh
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def _scale_accounts(url: str) -> int:
    engine = db.make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            query = text("SELECT count(*) FROM user_account WHERE email LIKE :pattern")
            return int(connection.execute(query, {"pattern": "%@scale.kern.test"}).scalar_one())
    finally:
        engine.dispose()


def test_the_command_prints_a_summary_and_refuses_a_second_run(empty_database: str) -> None:
    result = runner.invoke(cli, ["--learners", "12", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Seeded 12 learners in" in result.output
    for table in ("user_account", "enrolment", "lesson_progress", "practice_log"):
        assert table in result.output
    assert scale.PASSWORD in result.output
    assert _scale_accounts(empty_database) == 12 + 5  # learners and instructors

    again = runner.invoke(cli, ["--learners", "12"])
    assert again.exit_code == 1
    assert "already has scale accounts" in again.output
    assert _scale_accounts(empty_database) == 12 + 5


def test_the_command_refuses_production_unless_forced(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "Zq3v9TfK2mWc8rLp1xYh6NbD4sGj7aEu0oRi5kQw")
    monkeypatch.setenv("VAPID_PRIVATE_KEY", TEST_VAPID_KEY)
    get_settings.cache_clear()
    result = runner.invoke(cli, ["--learners", "3"])
    assert result.exit_code == 2
    assert "not in production" in result.output
    assert "--force" in result.output
    assert _scale_accounts(empty_database) == 0

    forced = runner.invoke(cli, ["--learners", "3", "--force"])
    assert forced.exit_code == 0, forced.output
    assert _scale_accounts(empty_database) == 3 + 5
