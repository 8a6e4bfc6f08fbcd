"""Places in a cohort: held when checkout starts, taken once paid, released when it ends unpaid.

Why a reservation rather than a check at fulfilment: a check when the payment comes in could
find the cohort full after she has paid, and then the only ways out are a refund or a move she
did not choose. So the place is held (counted in `cohort.taken`) before she is sent to Stripe,
and a full cohort is said on Kern's page before any money moves. The hold lasts as long as the
Checkout Session can be paid (Kern sets its `expires_at`) plus HOLD_GRACE for a late webhook; a
`checkout.session.expired` or a failed payment releases it at once.

The counter only moves by conditional UPDATEs (`taken < capacity`), which PostgreSQL runs one
after another on the row (each re-reads it after the other commits) and SQLite under its single
write lock, so two buyers of the last place cannot both get it; a CHECK on the table backs it.
"""

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import CursorResult, and_, or_, update
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.catalog.models import Course
from api.cohorts import service
from api.cohorts.models import Cohort, CohortSeat, SeatStatus
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment
from api.errors import FormError
from api.i18n import format_day
from api.i18n import gettext as _

log = logging.getLogger(__name__)

# Stripe lets a Checkout Session expire 30 minutes to 24 hours after it is made.
CHECKOUT_MINUTES = 30
# A held place outlives its session this long, for a `checkout.session.completed` that is late.
HOLD_GRACE = timedelta(hours=2)
# The same as api/payments/checkout.py's idempotency window: within it, the same expiry.
WINDOW_SECONDS = 10 * 60


def checkout_expires_at() -> datetime:
    """When a Checkout Session started now stops taking payment: 30 to 40 minutes from now, the
    same for every request in one 10-minute window (a double click asks Stripe the same)."""
    window = int(time.time() // WINDOW_SECONDS)
    return datetime.fromtimestamp((window + 1) * WINDOW_SECONDS + CHECKOUT_MINUTES * 60, UTC)


def _take(session: Session, cohort_id: int) -> bool:
    """Count one more place in the cohort if there is room; whether there was."""
    result = session.execute(
        update(Cohort)
        .where(
            col(Cohort.id) == cohort_id,
            or_(col(Cohort.capacity).is_(None), col(Cohort.taken) < col(Cohort.capacity)),
        )
        .values(taken=col(Cohort.taken) + 1)
        .execution_options(synchronize_session=False)
    )
    _forget(session, cohort_id)
    return isinstance(result, CursorResult) and result.rowcount == 1


def _forget(session: Session, cohort_id: int) -> None:
    """The counter changed in the database: a loaded cohort reads it again when next used."""
    for item in list(session.identity_map.values()):
        if isinstance(item, Cohort) and item.id == cohort_id:
            session.expire(item)


def _give_back(session: Session, cohort_id: int, count: int = 1) -> None:
    session.execute(
        update(Cohort)
        .where(col(Cohort.id) == cohort_id)
        .values(taken=col(Cohort.taken) - count)
        .execution_options(synchronize_session=False)
    )
    _forget(session, cohort_id)


def release_expired(session: Session, *, cohort_id: int, now: datetime) -> int:
    """Free the places of checkouts that ended long ago without word from Stripe."""
    # The conditional UPDATE claims each seat once, even when two requests sweep together.
    released = session.execute(
        update(CohortSeat)
        .where(
            col(CohortSeat.cohort_id) == cohort_id,
            col(CohortSeat.status) == SeatStatus.held.value,
            col(CohortSeat.expires_at) <= now,
        )
        .values(status=SeatStatus.released.value)
        .returning(col(CohortSeat.id))
    ).all()
    if released:
        _give_back(session, cohort_id, len(released))
    return len(released)


def full_message(session: Session, *, cohort: Cohort, course: Course, now: datetime) -> str:
    """What she reads when a cohort cannot take her, with the next one that can."""
    following = service.next_open(session, course=course, now=now, after=cohort)
    if following is None:
        return _("This group is full, and no later group is open yet.")
    return _(
        "This group is full. The next group starts on %(day)s: choose it below.",
        day=format_day(following.starts_on),
    )


def hold(
    session: Session, *, user: User, course: Course, cohort_id: int | None, now: datetime
) -> CohortSeat | None:
    """Hold her place in the chosen cohort before she pays (FormError when it cannot take her);
    None for a course without cohorts, or when she has access already."""
    if not course.in_cohorts or catalog_service.can_preview(user, course):
        return None
    enrolment = enrolment_service.find(session, user_id=user.id, course_id=course.id)
    if enrolment is not None and enrolment.is_active:
        return None
    cohort = service.of_course(session, course=course, cohort_id=cohort_id)
    if cohort is None:
        raise FormError({"cohort": _("Choose a group to join.")})
    if not service.window_open(cohort, now=now):
        raise FormError({"cohort": _("Enrolment for this group is closed.")})
    mine = session.exec(
        select(CohortSeat).where(
            CohortSeat.cohort_id == cohort.id,
            CohortSeat.user_id == user.id,
            CohortSeat.status == SeatStatus.held.value,
            and_(col(CohortSeat.expires_at) > now),
        )
    ).first()
    if mine is not None:
        return mine  # a second click keeps the place she holds
    release_expired(session, cohort_id=cohort.id or 0, now=now)
    if not _take(session, cohort.id or 0):
        raise FormError({"cohort": full_message(session, cohort=cohort, course=course, now=now)})
    seat = CohortSeat(
        cohort_id=cohort.id or 0,
        user_id=user.id or 0,
        expires_at=max(checkout_expires_at(), now + timedelta(minutes=CHECKOUT_MINUTES))
        + HOLD_GRACE,
    )
    session.add(seat)
    session.flush()
    return seat


def attach(session: Session, *, seat: CohortSeat, checkout_session_id: str) -> None:
    """Tie the held place to the Checkout Session that pays for it."""
    seat.checkout_session_id = checkout_session_id
    session.add(seat)
    session.flush()


def settle(
    session: Session, *, checkout_session_id: str, user_id: int | None, course_id: int | None,
    paid: bool, ended_unpaid: bool,
) -> None:  # fmt: skip
    """After Stripe's word on a checkout: a paid place is taken and her enrolment joins the
    cohort; an expired or failed checkout gives its place back."""
    seat = session.exec(
        select(CohortSeat).where(CohortSeat.checkout_session_id == checkout_session_id)
    ).first()
    if seat is None:
        return
    if ended_unpaid and seat.status == SeatStatus.held:
        _set_status(session, seat, SeatStatus.released)
        _give_back(session, seat.cohort_id)
        return
    if not paid or seat.status == SeatStatus.taken:
        return
    if seat.status == SeatStatus.released and not _take(session, seat.cohort_id):
        # Stripe's word came after HOLD_GRACE and someone else has the place: she has paid, so
        # she keeps it and the cohort grows by one, rather than lose her money or her start.
        log.warning("cohort %s: paid place came back after release; one over", seat.cohort_id)
        session.execute(
            update(Cohort)
            .where(col(Cohort.id) == seat.cohort_id)
            .values(capacity=col(Cohort.capacity) + 1, taken=col(Cohort.taken) + 1)
            .execution_options(synchronize_session=False)
        )
        _forget(session, seat.cohort_id)
    _set_status(session, seat, SeatStatus.taken)
    enrolment = enrolment_service.find(session, user_id=user_id, course_id=course_id)
    cohort = session.get(Cohort, seat.cohort_id)
    if enrolment is not None and cohort is not None:
        service.place(session, enrolment=enrolment, cohort=cohort)


def _set_status(session: Session, seat: CohortSeat, status: SeatStatus) -> None:
    seat.status = status.value
    session.add(seat)
    session.flush()


def join(session: Session, *, enrolment: Enrolment, cohort: Cohort) -> None:
    """Give her a place in a cohort outright (a free course, or a move by the instructor)."""
    if not _take(session, cohort.id or 0):
        raise FormError(
            {"cohort": _("This group is full.")},
        )
    seat = CohortSeat(
        cohort_id=cohort.id or 0, user_id=enrolment.user_id, status=SeatStatus.taken.value
    )
    session.add(seat)
    session.flush()
    service.place(session, enrolment=enrolment, cohort=cohort)


def add(session: Session, *, enrolment: Enrolment, to: Cohort) -> None:
    """The instructor puts a learner who has the course without a group into one (capacity
    holds; the window does not apply, as with a move). Her drip counts from its start."""
    if to.course_id != enrolment.course_id:
        raise FormError({"cohort": _("Choose a group of this course.")})
    if enrolment.status not in service.HAS_ACCESS:
        raise FormError({"cohort": _("This learner has no access to the course.")})
    if enrolment.cohort_id is not None:
        raise FormError(
            {"cohort": _("This learner is in a group already: move her from that group's page.")}
        )
    join(session, enrolment=enrolment, cohort=to)


def join_free(session: Session, *, enrolment: Enrolment, course: Course, now: datetime) -> None:
    """A free course in cohorts: she joins the first cohort open now (once)."""
    if not course.in_cohorts or enrolment.cohort_id is not None:
        return
    cohort = service.next_open(session, course=course, now=now)
    if cohort is None:
        raise FormError({"cohort": _("No group is open for enrolment right now.")})
    join(session, enrolment=enrolment, cohort=cohort)


def move(session: Session, *, enrolment: Enrolment, to: Cohort) -> None:
    """Move a learner to another cohort of the same course; her place in the old one is freed."""
    if to.course_id != enrolment.course_id:
        raise FormError({"cohort": _("Choose a group of this course.")})
    if enrolment.cohort_id == to.id:
        return
    before = enrolment.cohort_id
    if not _take(session, to.id or 0):
        raise FormError({"cohort": _("This group is full.")})
    seat = None
    if before is not None:
        seat = session.exec(
            select(CohortSeat).where(
                CohortSeat.cohort_id == before,
                CohortSeat.user_id == enrolment.user_id,
                CohortSeat.status == SeatStatus.taken.value,
            )
        ).first()
    if seat is not None:
        _give_back(session, before or 0)
        seat.cohort_id = to.id or 0
        session.add(seat)
    else:
        session.add(
            CohortSeat(cohort_id=to.id or 0, user_id=enrolment.user_id, status=SeatStatus.taken)
        )
    session.flush()
    service.place(session, enrolment=enrolment, cohort=to)
