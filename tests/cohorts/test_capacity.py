"""Ten buyers start checkout for a group of three at the same moment: three places, no more."""

import threading
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, func, select

from api import db
from api.accounts.models import User
from api.catalog.models import Course
from api.cohorts import seats
from api.cohorts import service as cohorts
from api.cohorts.models import Cohort, CohortSeat
from api.errors import FormError
from api.i18n import TIMEZONE
from tests.factories import make_course, make_user

BUYERS = 10
CAPACITY = 3
NOW = datetime(2026, 1, 5, 12, tzinfo=TIMEZONE)


@pytest.fixture
def committed(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions that commit for real, as concurrent requests do; deleted afterwards."""
    engine = db.make_engine(database_url, pool_size=BUYERS)
    factory = db.make_sessionmaker(engine)
    try:
        yield factory
    finally:
        with factory() as session, session.begin():
            session.execute(delete(Course))
            session.execute(delete(User))
        engine.dispose()


def test_exactly_capacity_checkouts_hold_a_place(committed: sessionmaker[Session]) -> None:
    with committed() as session, session.begin():
        course = make_course(session, price_cents=4900)
        course.in_cohorts = True
        cohort = cohorts.create(
            session,
            course=course,
            data=cohorts.CohortInput(date(2026, 1, 12), CAPACITY, None, None),
        )
        buyers = [make_user(session) for _ in range(BUYERS)]
        ids = (course.id, cohort.id, [buyer.id for buyer in buyers])
    course_id, cohort_id, buyer_ids = ids
    start = threading.Barrier(BUYERS)
    held: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def buy(user_id: int) -> None:
        start.wait()
        try:
            writing = committed(execution_options={db.WRITE_INTENT: True})
            with writing as session, session.begin():
                user = session.get(User, user_id)
                course = session.get(Course, course_id)
                assert user is not None
                assert course is not None
                seats.hold(session, user=user, course=course, cohort_id=cohort_id, now=NOW)
            held.append(user_id)
        except FormError:
            refused.append(user_id)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=buy, args=(user_id,)) for user_id in buyer_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert (len(held), len(refused)) == (CAPACITY, BUYERS - CAPACITY)
    with committed() as session:
        stored = session.get(Cohort, cohort_id)
        seats_held = session.exec(select(func.count()).select_from(CohortSeat)).one()
        assert stored is not None
        assert (stored.taken, seats_held) == (CAPACITY, CAPACITY)
