"""Cohorts: the drip from the start day, the window, a full group and its next one, a move."""

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session

from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.models import Course
from api.clock import midnight
from api.cohorts import seats
from api.cohorts import service as cohorts
from api.cohorts.models import Cohort, SeatStatus
from api.config import Settings
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.errors import FormError
from api.i18n import TIMEZONE
from api.payments import checkout, fulfilment
from api.payments.fulfilment import CheckoutFacts
from api.payments.models import Order
from tests.factories import make_course, make_user

# Monday 5 January 2026, noon in Amsterdam; the first group starts a week later.
NOW = datetime(2026, 1, 5, 12, tzinfo=TIMEZONE)
START = date(2026, 1, 12)


def _course(session: Session) -> Course:
    course = make_course(session, price_cents=4900, drip_days=[0, 7])
    course.in_cohorts = True
    session.add(course)
    session.flush()
    return course


def _cohort(session: Session, course: Course, starts_on: date, **data: object) -> Cohort:
    fields = {"capacity": None, "opens_on": None, "closes_on": None, **data}
    return cohorts.create(
        session,
        course=course,
        data=cohorts.CohortInput(starts_on=starts_on, **fields),  # type: ignore[arg-type]
    )


def _paid_place(session: Session, course: Course, cohort: Cohort, user: User) -> None:
    seat = seats.hold(session, user=user, course=course, cohort_id=cohort.id, now=NOW)
    assert seat is not None
    seats.attach(session, seat=seat, checkout_session_id=f"cs_{user.id}")
    enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.purchase
    )
    seats.settle(
        session, checkout_session_id=f"cs_{user.id}", user_id=user.id, course_id=course.id,
        paid=True, ended_unpaid=False,
    )  # fmt: skip


def test_week_one_opens_at_amsterdam_midnight_of_the_start_day(session: Session) -> None:
    course = _course(session)
    cohort = _cohort(session, course, START)
    alice = make_user(session, name="Alice")
    _paid_place(session, course, cohort, alice)

    def opened(moment: datetime) -> list[bool]:
        outline = catalog.outline(session, slug=course.slug, viewer=alice, now=moment)
        return [outline.is_open(part.module) for part in outline.modules]

    start = midnight(START)
    assert start.utcoffset() == timedelta(hours=1)  # winter time: 23:00 UTC the day before
    assert opened(NOW) == [False, False]  # she bought a week early: nothing opens yet
    assert opened(start - timedelta(seconds=1)) == [False, False]
    assert opened(start) == [True, False]
    assert opened(midnight(START + timedelta(days=7))) == [True, True]


def test_the_window_decides_who_may_join(session: Session) -> None:
    course = _course(session)
    later = _cohort(session, course, START, opens_on=date(2026, 1, 6))
    closed = _cohort(session, course, START, closes_on=date(2026, 1, 4))
    offer = cohorts.offer(session, course=course, now=NOW)
    assert offer is not None
    assert [offer.state(later), offer.state(closed)] == ["not_yet", "closed"]
    assert offer.open is None
    with pytest.raises(FormError):
        seats.hold(session, user=make_user(session), course=course, cohort_id=closed.id, now=NOW)
    assert cohorts.offer(session, course=course, now=NOW + timedelta(days=1)).open == later  # type: ignore[union-attr]


def test_a_full_group_offers_the_next_one(session: Session) -> None:
    course = _course(session)
    first = _cohort(session, course, START, capacity=1)
    second = _cohort(session, course, START + timedelta(days=28), capacity=10)
    seats.hold(session, user=make_user(session), course=course, cohort_id=first.id, now=NOW)

    with pytest.raises(FormError) as refused:
        seats.hold(session, user=make_user(session), course=course, cohort_id=first.id, now=NOW)
    assert "9 februari 2026" in refused.value.fields["cohort"]
    offer = cohorts.offer(session, course=course, now=NOW)
    assert offer is not None
    assert offer.state(first) == "full"
    assert offer.open == second


def test_an_expired_checkout_frees_its_place(session: Session) -> None:
    course = _course(session)
    cohort = _cohort(session, course, START, capacity=1)
    bob = make_user(session)
    seat = seats.hold(session, user=bob, course=course, cohort_id=cohort.id, now=NOW)
    assert seat is not None
    seats.attach(session, seat=seat, checkout_session_id="cs_bob")
    seats.settle(
        session, checkout_session_id="cs_bob", user_id=bob.id, course_id=course.id,
        paid=False, ended_unpaid=True,
    )  # fmt: skip
    session.refresh(cohort)
    assert (seat.status, cohort.taken) == (SeatStatus.released, 0)
    assert seats.hold(session, user=make_user(session), course=course, cohort_id=cohort.id, now=NOW)


def test_the_instructor_moves_a_learner_to_another_group(session: Session) -> None:
    course = _course(session)
    first = _cohort(session, course, START, capacity=5)
    second = _cohort(session, course, START + timedelta(days=28), capacity=5)
    carla = make_user(session, name="Carla")
    _paid_place(session, course, first, carla)
    enrolment = enrolment_service.find(session, user_id=carla.id, course_id=course.id)
    assert enrolment is not None
    assert enrolment.cohort_id == first.id

    seats.move(session, enrolment=enrolment, to=second)
    session.refresh(first)
    session.refresh(second)
    assert (first.taken, second.taken) == (0, 1)
    assert enrolment.drip_from == midnight(second.starts_on)
    assert [user.name for _, user in cohorts.learners(session, cohort=second)] == ["Carla"]
    # A new start day moves her drip with it.
    cohorts.edit(
        session,
        cohort=second,
        data=cohorts.CohortInput(START + timedelta(days=35), 5, None, None),
    )
    session.refresh(enrolment)
    assert enrolment.drip_from == midnight(START + timedelta(days=35))


def test_a_free_course_in_groups_puts_her_in_the_first_open_one(session: Session) -> None:
    course = make_course(session, drip_days=[0, 7])
    course.in_cohorts = True
    full = _cohort(session, course, START, capacity=1)
    seats.join_free(
        session,
        enrolment=enrolment_service.enrol_free(session, user=make_user(session), course=course),
        course=course,
        now=NOW,
    )
    following = _cohort(session, course, START + timedelta(days=28))
    dana = enrolment_service.enrol_free(session, user=make_user(session), course=course)
    seats.join_free(session, enrolment=dana, course=course, now=NOW)
    assert dana.cohort_id == following.id != full.id


def test_stripe_expiring_the_checkout_frees_the_place_and_paying_takes_it(
    session: Session, settings: Settings
) -> None:
    course = _course(session)
    cohort = _cohort(session, course, START, capacity=2)
    erik, fay = make_user(session), make_user(session)
    for user in (erik, fay):
        seat = seats.hold(session, user=user, course=course, cohort_id=cohort.id, now=NOW)
        assert seat is not None
        seats.attach(session, seat=seat, checkout_session_id=f"cs_{user.id}")
        session.add(Order(user_id=user.id, course_id=course.id, course_title=course.title,
                          stripe_checkout_session_id=f"cs_{user.id}"))  # fmt: skip
    session.flush()

    def facts(user: User, status: str, paid: str) -> CheckoutFacts:
        return CheckoutFacts(f"cs_{user.id}", status, paid, user.id, course.id, 4900, 4900)

    fulfilment.apply_checkout(session, settings, facts(erik, "expired", "unpaid"))
    fulfilment.apply_checkout(session, settings, facts(fay, "complete", "paid"))
    session.refresh(cohort)
    assert cohort.taken == 1
    enrolment = enrolment_service.find(session, user_id=fay.id, course_id=course.id)
    assert enrolment is not None
    assert enrolment.drip_from == midnight(START)


def test_a_buy_form_without_the_waiver_holds_no_place(session: Session, settings: Settings) -> None:
    course = _course(session)
    cohort = _cohort(session, course, (utcnow() + timedelta(days=7)).date(), capacity=1)
    buyer = make_user(session)

    with pytest.raises(FormError) as refused:
        checkout.start_checkout(
            session, settings, user=buyer, course=course, waiver=False, cohort_id=cohort.id
        )

    assert "withdrawal_waiver" in refused.value.fields
    session.refresh(cohort)
    assert cohort.taken == 0  # the refused form is answered (and committed) without a place
