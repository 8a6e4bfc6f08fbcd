"""Schedulers side by side, on committed rows and a real engine: each reminder is queued once."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, func, select

from api import db
from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.mail.models import OutboxMessage
from api.reminders import practice
from api.reminders.practice import queue_practice_reminders
from tests.factories import make_course
from tests.reminders.people import DUE, learner_with_reminders

PEOPLE = 12


@pytest.fixture
def committed(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions that commit for real, as two worker processes would; everything the test made
    is deleted afterwards (other tests expect these tables without committed rows)."""
    engine = db.make_engine(database_url, pool_size=4)
    factory = db.make_sessionmaker(engine)
    with factory() as session:
        # Every other test rolls back, so deleting all users and courses afterwards removes
        # exactly what this test made.
        assert session.exec(select(func.count()).select_from(User)).one() == 0
    try:
        yield factory
    finally:
        with factory() as session, session.begin():
            session.execute(
                delete(OutboxMessage).where(col(OutboxMessage.kind) == "practice_reminder")
            )
            session.execute(delete(Course))
            session.execute(delete(User))
        engine.dispose()


def test_two_schedulers_at_the_same_moment_queue_each_reminder_once(
    committed: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with committed() as session, session.begin():
        course = make_course(session)
        for _ in range(PEOPLE):
            learner_with_reminders(session, course=course)
    # Small batches, so the two interleave instead of one taking everything at once.
    monkeypatch.setattr(practice, "BATCH_SIZE", 3)
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def schedule() -> None:
        start.wait()
        try:
            writing = committed(execution_options={db.WRITE_INTENT: True})
            with writing as session, session.begin():
                counts.append(queue_practice_reminders(session, settings, now=DUE))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=schedule) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(counts) == PEOPLE
    with committed() as session:
        queued = session.exec(
            select(func.count(), func.count(func.distinct(OutboxMessage.user_id))).where(
                col(OutboxMessage.kind) == "practice_reminder"
            )
        ).one()
    assert tuple(queued) == (PEOPLE, PEOPLE)
