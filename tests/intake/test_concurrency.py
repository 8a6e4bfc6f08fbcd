"""Several people book the same time at the same moment, on committed rows and a real engine
(threads; PostgreSQL when TEST_DATABASE_URL is set): exactly one gets it, every other one is
told the time was taken and offered the next free times."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, func, select

from api import db
from api.accounts.models import Role, User
from api.config import Settings
from api.intake import service as intake
from api.intake.models import IntakeBooking, IntakeHours, IntakeSetting
from api.mail.models import OutboxMessage
from api.ratelimit.models import RateLimitHit
from tests.factories import make_user
from tests.intake.test_service import BEFORE_SPRING

PEOPLE = 4


@pytest.fixture
def committed(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions that commit for real; everything the test made is deleted afterwards."""
    engine = db.make_engine(database_url, pool_size=PEOPLE + 1)
    factory = db.make_sessionmaker(engine)
    with factory() as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 0
    try:
        yield factory
    finally:
        with factory() as session, session.begin():
            session.execute(delete(OutboxMessage).where(col(OutboxMessage.kind).like("intake%")))
            # The bookings counted against the booking limit (api/intake/service.py).
            session.execute(delete(RateLimitHit).where(col(RateLimitHit.key).like("intake:%")))
            for table in (IntakeBooking, IntakeHours, IntakeSetting, User):
                session.execute(delete(table))
        engine.dispose()


def test_exactly_one_of_several_bookers_gets_the_time(
    committed: sessionmaker[Session], settings: Settings
) -> None:
    with committed() as session, session.begin():
        ingrid = make_user(session, name="Ingrid", role=Role.instructor)
        intake.add_hours(session, instructor=ingrid, weekday=4, starts="09:00", ends="11:00")
        ingrid_id = ingrid.id or 0
        first, second, *_ = intake.free_slots(session, instructor_id=ingrid_id, now=BEFORE_SPRING)
    start = threading.Barrier(PEOPLE)
    booked: list[int] = []
    refused: list[intake.SlotTaken] = []
    errors: list[BaseException] = []

    def book(number: int) -> None:
        try:
            start.wait()
            write = committed(execution_options={db.WRITE_INTENT: True})
            with write as session, session.begin():
                instructor = session.get(User, ingrid_id)
                assert instructor is not None
                done = intake.book(
                    session,
                    settings,
                    instructor=instructor,
                    slot=intake.slot_value(first),
                    name=f"Persoon {number}",
                    email=f"p{number}@example.nl",
                    phone="",
                    message="",
                    answers={},
                    consent=False,
                    learner=None,
                    language="nl",
                    now=BEFORE_SPRING,
                )
                booked.append(done.booking.id or 0)
        except intake.SlotTaken as taken:
            refused.append(taken)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    assert errors == []
    assert len(booked) == 1
    assert len(refused) == PEOPLE - 1
    assert all(taken.next_free[0] == second for taken in refused)
    with committed() as session:
        assert session.exec(select(func.count()).select_from(IntakeBooking)).one() == 1
