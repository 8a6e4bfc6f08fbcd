"""Workers side by side, on committed rows and a real engine: each message goes out once."""

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api import db
from api.config import Settings
from api.mail.models import OutboxMessage, OutboxStatus
from api.mail.outbox import Report, deliver_all, enqueue
from api.mail.service import Message
from tests.mail.servers import TroubledServer

KIND = "concurrency-test"
MESSAGES = 60


@pytest.fixture
def committed(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions that commit for real, as separate worker processes would; the rows this test
    created are deleted afterwards."""
    # Its own pool: one connection per worker thread, none waiting for another's.
    engine = db.make_engine(database_url, pool_size=4)
    factory = db.make_sessionmaker(engine)
    try:
        yield factory
    finally:
        with factory() as session, session.begin():
            session.execute(delete(OutboxMessage).where(col(OutboxMessage.kind) == KIND))
        engine.dispose()


def run_side_by_side(workers: int, work: Callable[[], Report]) -> list[Report]:
    """Start `workers` threads at the same moment, each doing `work`; their reports."""
    start = threading.Barrier(workers)
    reports: list[Report] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            reports.append(work())
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(reports) == workers
    return reports


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_running_together_deliver_each_message_once(
    committed: sessionmaker[Session], settings: Settings, workers: int
) -> None:
    expected = [f"Bericht {number:02}" for number in range(MESSAGES)]
    with committed() as session, session.begin():
        for subject in expected:
            message = Message(to="anna@example.nl", subject=subject, text="Hallo Anna,\n")
            enqueue(session, message, kind=KIND, user_id=None)

    # A slow server keeps each worker busy with its batch while the others claim theirs.
    with TroubledServer(delay=0.01) as server:
        settings.smtp_url = server.url
        reports = run_side_by_side(workers, lambda: deliver_all(committed, settings))

        received = sorted(str(message["Subject"]) for message in server.messages)
        message_ids = {str(message["Message-ID"]) for message in server.messages}
    assert received == expected
    assert len(message_ids) == MESSAGES
    assert sum(report.sent for report in reports) == MESSAGES
    assert all(report == Report(sent=report.sent) for report in reports)
    # Every worker had a share, so they really ran side by side.
    assert all(report.sent > 0 for report in reports)
    with committed() as session:
        statuses = session.exec(
            select(OutboxMessage.status).where(col(OutboxMessage.kind) == KIND)
        ).all()
    assert statuses == [OutboxStatus.sent] * MESSAGES
