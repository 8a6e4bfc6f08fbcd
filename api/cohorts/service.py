"""Cohorts of a course: which are open to join, the instructor's edits, and who is in which."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import CursorResult, bindparam, delete, exists, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from api.accounts.models import User
from api.catalog.models import Course
from api.clock import local_day, midnight
from api.cohorts.models import Cohort, CohortSeat, SeatStatus
from api.db import json_rows
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.errors import Conflict, FormError, NotFound
from api.i18n import gettext as _
from api.i18n import ngettext

MAX_CAPACITY = 10000
# How many coming cohorts the course page lists.
SHOWN = 3
# An enrolment the instructor may put into a group: she has the course (a paused payment plan
# still counts: she is back once she pays).
HAS_ACCESS = (EnrolmentStatus.active.value, EnrolmentStatus.paused.value)


def of_course(session: Session, *, course: Course, cohort_id: int | None) -> Cohort | None:
    """The course's cohort with this id; None for another course's or none."""
    if cohort_id is None:
        return None
    cohort = session.get(Cohort, cohort_id)
    return cohort if cohort is not None and cohort.course_id == course.id else None


def get(session: Session, *, course: Course, cohort_id: int) -> Cohort:
    """The course's cohort, or NotFound."""
    cohort = of_course(session, course=course, cohort_id=cohort_id)
    if cohort is None:
        raise NotFound(_("We could not find this group."))
    return cohort


@dataclass(frozen=True, slots=True)
class ComingCohort:
    """A coming cohort as the course page reads it beside its main row: plain values."""

    id: int
    starts_on: date
    capacity: int | None
    taken: int
    opens_on: date | None
    closes_on: date | None

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.taken, 0)


# A cohort as the offer reads it: a row of the table, or its plain values.
AnyCohort = Cohort | ComingCohort


def window_open(cohort: AnyCohort, *, now: datetime) -> bool:
    """Whether she may enrol today: after the window opens, until it closes (by default the
    start day itself)."""
    today = local_day(now)
    closes = cohort.closes_on or cohort.starts_on
    return (cohort.opens_on is None or cohort.opens_on <= today) and today <= closes


def joinable(cohort: AnyCohort, *, now: datetime) -> bool:
    return window_open(cohort, now=now) and cohort.places_left != 0


def coming(session: Session, *, course: Course, now: datetime) -> list[Cohort]:
    """Cohorts whose start has not passed, soonest first (one statement)."""
    return list(
        session.exec(
            select(Cohort)
            .where(Cohort.course_id == course.id, col(Cohort.starts_on) >= local_day(now))
            .order_by(col(Cohort.starts_on), col(Cohort.id))
        ).all()
    )


def next_open(
    session: Session, *, course: Course, now: datetime, after: Cohort | None = None
) -> Cohort | None:
    """The first cohort she can join now (after `after`, when given)."""
    for cohort in coming(session, course=course, now=now):
        if after is not None and (cohort.starts_on, cohort.id or 0) <= (
            after.starts_on,
            after.id or 0,
        ):
            continue
        if joinable(cohort, now=now):
            return cohort
    return None


@dataclass(frozen=True)
class Offer:
    """The course page's cohorts: the coming ones and the one its buy button is for."""

    cohorts: Sequence[AnyCohort]
    open: AnyCohort | None
    now: datetime

    def state(self, cohort: AnyCohort) -> str:
        """open, full, not_yet (window not open) or closed."""
        today = local_day(self.now)
        if cohort.opens_on is not None and today < cohort.opens_on:
            return "not_yet"
        if not window_open(cohort, now=self.now):
            return "closed"
        return "full" if cohort.places_left == 0 else "open"


def offer(session: Session, *, course: Course, now: datetime) -> Offer | None:
    """What the course page offers; None for a course without cohorts."""
    if not course.in_cohorts:
        return None
    return offer_of(course, coming(session, course=course, now=now), now=now)


def offer_of(course: Course, cohorts: Sequence[AnyCohort], *, now: datetime) -> Offer | None:
    """The offer of a course's coming cohorts (soonest first), read here or with a page; None
    for a course without cohorts."""
    if not course.in_cohorts:
        return None
    first = next((cohort for cohort in cohorts if joinable(cohort, now=now)), None)
    return Offer(cohorts[:SHOWN], first, now)


_cohort = Cohort.__table__  # type: ignore[attr-defined]


def coming_json(course_id: Any) -> Any:
    """The cohorts of `coming` as a `json_rows` subquery, for a page that reads them beside its
    main row (`course_id`: the outer statement's column; the parameter `today`: her day, as
    `local_day` gives it); read it with `coming_from_json`."""
    return (
        sa_select(
            json_rows(
                _cohort.c.id,
                _cohort.c.starts_on,
                _cohort.c.capacity,
                _cohort.c.taken,
                _cohort.c.opens_on,
                _cohort.c.closes_on,
            )
        )
        .where(_cohort.c.course_id == course_id, _cohort.c.starts_on >= bindparam("today"))
        .scalar_subquery()
    )


def coming_from_json(rows: list[list[Any]] | None) -> list[ComingCohort]:
    """The cohorts of `coming_json`, soonest first (JSON has no order)."""
    cohorts = [
        ComingCohort(
            id=cohort_id,
            starts_on=date.fromisoformat(starts_on),
            capacity=capacity,
            taken=taken,
            opens_on=date.fromisoformat(opens_on) if opens_on else None,
            closes_on=date.fromisoformat(closes_on) if closes_on else None,
        )
        for cohort_id, starts_on, capacity, taken, opens_on, closes_on in rows or ()
    ]
    return sorted(cohorts, key=lambda cohort: (cohort.starts_on, cohort.id))


def place(session: Session, *, enrolment: Enrolment, cohort: Cohort) -> None:
    """Put her enrolment in the cohort: her drip counts from its start day."""
    enrolment.cohort_id = cohort.id
    enrolment.drip_from = midnight(cohort.starts_on)
    session.add(enrolment)
    session.flush()


@dataclass
class CohortInput:
    starts_on: date
    capacity: int | None
    opens_on: date | None
    closes_on: date | None


def _check(data: CohortInput, *, taken: int = 0) -> None:
    errors: dict[str, str] = {}
    if data.capacity is not None and not 1 <= data.capacity <= MAX_CAPACITY:
        errors["capacity"] = _("Enter a number of places from 1 to 10000, or leave it empty.")
    elif data.capacity is not None and data.capacity < taken:
        errors["capacity"] = _("%(count)s places are taken already.", count=taken)
    if data.opens_on and data.closes_on and data.closes_on < data.opens_on:
        errors["closes_on"] = _("Enrolment cannot close before it opens.")
    elif data.closes_on and data.closes_on > data.starts_on:
        errors["closes_on"] = _("Enrolment closes on the start day at the latest.")
    if errors:
        raise FormError(errors)


def create(session: Session, *, course: Course, data: CohortInput) -> Cohort:
    """A new cohort of the course."""
    _check(data)
    cohort = Cohort(course_id=course.id or 0, **vars(data))
    session.add(cohort)
    session.flush()
    return cohort


def edit(session: Session, *, cohort: Cohort, data: CohortInput) -> Cohort:
    """Change a cohort; a new start day moves the drip of everyone in it."""
    _check(data, taken=cohort.taken)
    moved = cohort.starts_on != data.starts_on
    for name, value in vars(data).items():
        setattr(cohort, name, value)
    session.add(cohort)
    session.flush()
    if moved:
        session.execute(
            update(Enrolment)
            .where(col(Enrolment.cohort_id) == cohort.id)
            .values(drip_from=midnight(cohort.starts_on))
        )
    return cohort


def learner_count(session: Session, *, cohort: Cohort) -> int:
    """How many learners are in the cohort."""
    return session.exec(
        select(func.count()).select_from(Enrolment).where(Enrolment.cohort_id == cohort.id)
    ).one()


def delete_cohort(session: Session, *, cohort: Cohort) -> None:
    """Delete a cohort nobody is in (Conflict otherwise: move them first). One conditional
    DELETE, so a place held by a checkout at the same moment keeps the cohort."""
    learners = learner_count(session, cohort=cohort)
    if learners:
        raise Conflict(
            ngettext(
                "This group cannot be deleted: %(num)s learner is in it. Move her to another "
                "group first.",
                "This group cannot be deleted: %(num)s learners are in it. Move them to another "
                "group first.",
                learners,
            )
        )
    deleted = session.execute(
        delete(Cohort)
        .where(
            col(Cohort.id) == cohort.id,
            col(Cohort.taken) == 0,
            ~exists().where(col(Enrolment.cohort_id) == cohort.id),
        )
        .execution_options(synchronize_session=False)
    )
    if not (isinstance(deleted, CursorResult) and deleted.rowcount == 1):
        raise Conflict(
            _(
                "Someone is paying for a place in this group right now, so it cannot be deleted "
                "yet. Please try again later."
            )
        )
    # The row is gone: the session forgets its object rather than refresh it later.
    session.expunge(cohort)


def of_instructor_course(session: Session, *, course: Course) -> list[Cohort]:
    """Every cohort of the course, newest start first."""
    return list(
        session.exec(
            select(Cohort)
            .where(Cohort.course_id == course.id)
            .order_by(col(Cohort.starts_on).desc(), col(Cohort.id).desc())
        ).all()
    )


def learners(session: Session, *, cohort: Cohort) -> list[tuple[Enrolment, User]]:
    """The learners in a cohort, by name (one statement)."""
    return list(
        session.exec(
            select(Enrolment, User)
            .join(User, col(User.id) == Enrolment.user_id)
            .where(Enrolment.cohort_id == cohort.id)
            .order_by(func.lower(User.name), col(User.id))
        ).all()
    )


def without_group(session: Session, *, course: Course) -> list[tuple[Enrolment, User]]:
    """Learners with access to the course but in no cohort (given access by hand, or bought
    before the course ran in cohorts), by name (one statement)."""
    return list(
        session.exec(
            select(Enrolment, User)
            .join(User, col(User.id) == Enrolment.user_id)
            .where(
                Enrolment.course_id == course.id,
                col(Enrolment.cohort_id).is_(None),
                col(Enrolment.status).in_(HAS_ACCESS),
            )
            .order_by(func.lower(User.name), col(User.id))
        ).all()
    )


def set_preparation(session: Session, *, course: Course, text: str) -> None:
    """What she reads before the start (Markdown, sanitised when shown)."""
    course.cohort_preparation = text.strip()
    course.version += 1
    session.add(course)
    session.flush()


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her places in cohorts: which course, which start, held or taken."""
    rows = session.exec(
        select(CohortSeat, Cohort, Course)
        .join(Cohort, col(Cohort.id) == CohortSeat.cohort_id)
        .join(Course, col(Course.id) == Cohort.course_id)
        .where(CohortSeat.user_id == user.id)
        .order_by(col(CohortSeat.id))
    ).all()
    return [
        {
            "course_slug": course.slug,
            "starts_on": cohort.starts_on.isoformat(),
            "status": seat.status,
            "created_at": seat.created_at.isoformat(),
        }
        for seat, cohort, course in rows
    ]


def erase(session: Session, *, user: User) -> None:
    """Delete her places; a place she held or had is free again."""
    seats = session.exec(
        select(CohortSeat).where(
            CohortSeat.user_id == user.id,
            col(CohortSeat.status).in_([SeatStatus.held.value, SeatStatus.taken.value]),
        )
    ).all()
    for seat in seats:
        session.execute(
            update(Cohort).where(col(Cohort.id) == seat.cohort_id).values(taken=Cohort.taken - 1)
        )
    session.execute(delete(CohortSeat).where(col(CohortSeat.user_id) == user.id))
