"""How a course is doing: enrolments and revenue per week, how far learners get, and how
regularly they practise.

Weeks run Monday to Sunday in Amsterdam. Each figure is one aggregate statement: rows are put in
their week by a CASE over the week boundaries (computed here, so daylight saving is right on every
backend) and counted per week in the database, so the cost does not grow with the history.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal
from sqlmodel import Session, col, select

from api.catalog import service as catalog
from api.catalog.models import Course, Lesson, Module
from api.clock import local_day, midnight, week_start
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.kit.ids import id_of
from api.payments.models import Order, OrderStatus
from api.progress.models import LessonProgress, PracticeLog

SALES_WEEKS = 12
PRACTICE_WEEKS = 8
# Pelvic-floor training works when done most days; three days a week is the least the dosing
# advice (2–3 times a day, daily) can be stretched to, so it is the line a week is judged by.
ADHERENT_DAYS = 3
# The bucket of a value before the first week shown.
EARLIER = -1


@dataclass(frozen=True)
class SalesWeek:
    """One week's new enrolments and money: paid in, and paid back (refunds, lost disputes)."""

    monday: date
    enrolments: int
    paid_cents: int
    reversed_cents: int

    @property
    def revenue_cents(self) -> int:
        return self.paid_cents - self.reversed_cents


@dataclass(frozen=True)
class LessonReach:
    """A lesson, in course order, with how many learners with access completed it."""

    lesson: Lesson
    module: Module
    completed: int


@dataclass(frozen=True)
class PracticeWeek:
    """One week's practice: of the learners with access by its end, who practised how often."""

    monday: date
    learners: int
    adherent: int
    practice_days: int

    @property
    def share(self) -> int:
        """Percentage of the learners who practised on at least ADHERENT_DAYS days."""
        return round(100 * self.adherent / self.learners) if self.learners else 0

    @property
    def average_days(self) -> float:
        """Practice days per learner in the week, one decimal."""
        return round(self.practice_days / self.learners, 1) if self.learners else 0.0


@dataclass(frozen=True)
class Insight:
    """The figures of the insight page, for the week that contains `today`."""

    today: date
    sales: list[SalesWeek]
    lessons: list[LessonReach]
    active_learners: int
    practice: list[PracticeWeek]

    @property
    def biggest_drop(self) -> tuple[LessonReach, LessonReach] | None:
        """The two lessons in a row between which the most learners stopped; None if none."""
        pairs = list(zip(self.lessons, self.lessons[1:], strict=False))
        drop = max(pairs, key=lambda pair: pair[0].completed - pair[1].completed, default=None)
        return drop if drop and drop[0].completed > drop[1].completed else None


def mondays(today: date, count: int) -> list[date]:
    """The Mondays of the last `count` weeks, oldest first, this week's last."""
    this_week = week_start(today)
    return [this_week - timedelta(weeks=count - 1 - n) for n in range(count)]


def _week_of(column: Any, starts: list[Any]) -> ColumnElement[int]:
    """Which week (0 = the first of `starts`) a value falls in; EARLIER before them."""
    latest_first = [(column >= start, index) for index, start in reversed(list(enumerate(starts)))]
    return case(*latest_first, else_=literal(EARLIER))


def _moments(weeks: list[date]) -> list[datetime]:
    return [midnight(monday) for monday in weeks]


def _sum_per_week(
    session: Session, week: ColumnElement[int], value: Any, *where: Any
) -> dict[int, int]:
    """SUM(value) per week over the rows that match `where`."""
    # Grouped in an outer query: PostgreSQL does not see two CASEs with their own bound
    # parameters as the same expression, so the CASE cannot be repeated in GROUP BY.
    rows = select(week.label("week"), value.label("value")).where(*where).subquery()
    found = session.exec(
        select(rows.c.week, func.coalesce(func.sum(rows.c.value), 0)).group_by(rows.c.week)
    ).all()
    return {int(index): int(total) for index, total in found}


def _sales(
    session: Session, course_id: int | None, weeks: list[date], end: datetime
) -> list[SalesWeek]:
    """Enrolments, payments and reversals per week (three statements)."""
    starts = _moments(weeks)
    enrolled = col(Enrolment.enrolled_at)
    enrolments = _sum_per_week(
        session, _week_of(enrolled, starts), literal(1),
        Enrolment.course_id == course_id, enrolled >= starts[0], enrolled < end,
    )  # fmt: skip
    paid_at = col(Order.paid_at)
    paid = _sum_per_week(
        session, _week_of(paid_at, starts), col(Order.amount_cents),
        Order.course_id == course_id, paid_at >= starts[0], paid_at < end,
    )  # fmt: skip
    # A refund is dated by refunded_at; a lost dispute has no date of its own, and an order
    # changes no more after it, so its last update is when the money went back.
    reversed_at = case(
        (col(Order.status) == OrderStatus.refunded.value, col(Order.refunded_at)),
        else_=col(Order.updated_at),
    )
    reversed_ = _sum_per_week(
        session, _week_of(reversed_at, starts), col(Order.amount_cents),
        Order.course_id == course_id,
        col(Order.status).in_([OrderStatus.refunded.value, OrderStatus.dispute_lost.value]),
        col(Order.paid_at).is_not(None), reversed_at >= starts[0], reversed_at < end,
    )  # fmt: skip
    return [
        SalesWeek(monday, enrolments.get(n, 0), paid.get(n, 0), reversed_.get(n, 0))
        for n, monday in enumerate(weeks)
    ]


def _reach(session: Session, course: Course) -> list[LessonReach]:
    """Each lesson in course order with its completions by learners with access (three
    statements: modules, lessons, completions)."""
    completions = session.exec(
        select(LessonProgress.lesson_id, func.count())
        .join(
            Enrolment,
            and_(
                col(Enrolment.user_id) == LessonProgress.user_id,
                col(Enrolment.course_id) == LessonProgress.course_id,
                col(Enrolment.status) == EnrolmentStatus.active.value,
            ),
        )
        .where(LessonProgress.course_id == course.id, col(LessonProgress.completed_at).is_not(None))
        .group_by(col(LessonProgress.lesson_id))
    ).all()
    done = {lesson_id: int(count) for lesson_id, count in completions}
    return [
        LessonReach(lesson, part.module, done.get(id_of(lesson), 0))
        for part in catalog.modules_of(session, course)
        for lesson in part.lessons
    ]


def _learners_by_week(
    session: Session, course_id: int | None, starts: list[datetime], end: datetime
) -> list[int]:
    """How many learners with access now had enrolled by the end of each week (one statement)."""
    enrolled = col(Enrolment.enrolled_at)
    per_week = _sum_per_week(
        session, _week_of(enrolled, starts), literal(1),
        Enrolment.course_id == course_id,
        col(Enrolment.status) == EnrolmentStatus.active.value, enrolled < end,
    )  # fmt: skip
    counts, running = [], per_week.get(EARLIER, 0)
    for index in range(len(starts)):
        running += per_week.get(index, 0)
        counts.append(running)
    return counts


def _practice(
    session: Session, course_id: int | None, weeks: list[date], today: date, end: datetime
) -> list[PracticeWeek]:
    """Practice days per learner and week, counted per week (two statements)."""
    starts = _moments(weeks)
    learners = _learners_by_week(session, course_id, starts, end)
    day = col(PracticeLog.practised_on)
    logs = (
        select(
            PracticeLog.user_id,
            day.label("day"),
            _week_of(day, list(weeks)).label("week"),
            _week_of(col(Enrolment.enrolled_at), starts).label("joined"),
        )
        .join(
            Enrolment,
            and_(
                col(Enrolment.user_id) == PracticeLog.user_id,
                col(Enrolment.course_id) == PracticeLog.course_id,
                col(Enrolment.status) == EnrolmentStatus.active.value,
            ),
        )
        .where(PracticeLog.course_id == course_id, day >= weeks[0], day <= today)
        .subquery()
    )
    # A learner counts in the weeks from the one she enrolled in, like the learners above; a
    # practice of a free preview lesson before she enrolled does not count.
    per_learner = (
        select(logs.c.week, func.count(distinct(logs.c.day)).label("days"))
        .where(logs.c.week >= logs.c.joined)
        .group_by(logs.c.user_id, logs.c.week)
        .subquery()
    )
    rows = session.exec(
        select(
            per_learner.c.week,
            func.sum(case((per_learner.c.days >= ADHERENT_DAYS, 1), else_=0)),
            func.sum(per_learner.c.days),
        ).group_by(per_learner.c.week)
    ).all()
    found = {int(week): (int(adherent), int(days)) for week, adherent, days in rows}
    return [
        PracticeWeek(monday, learners[n], *found.get(n, (0, 0))) for n, monday in enumerate(weeks)
    ]


def read(session: Session, *, course: Course, now: datetime) -> Insight:
    """The course's figures up to `now` (a fixed number of statements, whatever the history)."""
    today = local_day(now)
    end = midnight(week_start(today) + timedelta(weeks=1))
    lessons = _reach(session, course)
    practice = _practice(session, course.id, mondays(today, PRACTICE_WEEKS), today, end)
    return Insight(
        today=today,
        sales=_sales(session, course.id, mondays(today, SALES_WEEKS), end),
        lessons=lessons,
        active_learners=practice[-1].learners,
        practice=practice,
    )
