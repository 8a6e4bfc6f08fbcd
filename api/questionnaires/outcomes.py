"""What her measurements show over time, and what a course's check-ins show over its learners.

Her series: per questionnaire she filled in, each measure (the total and each sub-score) at every
measurement, oldest first (one statement). A course's outcomes: per questionnaire of its
check-ins, how many learners with access improved by at least the meaningful change between
their first and latest measurement in the course, stayed about the same, or got worse, and how
many have not been measured twice yet (two statements, whatever the number of learners).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.catalog.models import Course
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.kit.ids import id_of
from api.questionnaires.definition import Better, Definition
from api.questionnaires.models import CheckIn, Measurement, Questionnaire
from api.questionnaires.service import as_decimal, definition_of

TOTAL = "total"  # the measure of the whole score (a sub-score may not use this key)


class Change(StrEnum):
    improved = "improved"  # at least the meaningful change, in the better direction
    same = "same"  # less than the meaningful change either way
    worse = "worse"  # at least the meaningful change, in the worse direction


def change(first: Decimal, latest: Decimal, definition: Definition) -> Change:
    """How the total score moved from `first` to `latest`, judged by the questionnaire's
    meaningful change and which way is better."""
    moved = latest - first
    if definition.better == Better.lower_is_better:
        moved = -moved
    if moved >= definition.meaningful_change:
        return Change.improved
    if -moved >= definition.meaningful_change:
        return Change.worse
    return Change.same


@dataclass(frozen=True)
class Point:
    """One measurement of one measure."""

    taken_at: datetime
    value: Decimal


@dataclass(frozen=True)
class Measure:
    """One measure of a questionnaire over time: the total (key "total") or a sub-score."""

    key: str
    title: str  # the sub-score's title; the questionnaire's for the total
    low: Decimal  # the lowest and highest score the measure can have
    high: Decimal
    points: list[Point]

    @property
    def is_total(self) -> bool:
        return self.key == TOTAL

    @property
    def first(self) -> Point:
        return self.points[0]

    @property
    def latest(self) -> Point:
        return self.points[-1]


@dataclass(frozen=True)
class Series:
    """Everything she filled in of one questionnaire, oldest first, measure by measure."""

    questionnaire: Questionnaire
    definition: Definition
    measurements: list[Measurement]

    @property
    def measures(self) -> list[Measure]:
        """The total first, then each sub-score she has values of."""
        definition = self.definition
        low, high = definition.score_range()
        found = [
            Measure(
                TOTAL,
                self.questionnaire.title,
                low,
                high,
                [Point(m.taken_at, as_decimal(m.score)) for m in self.measurements],
            )
        ]
        for subscore in definition.subscores:
            points = [
                Point(m.taken_at, as_decimal(m.subscores[subscore.key]))
                for m in self.measurements
                if subscore.key in m.subscores
            ]
            if points:
                low, high = definition.score_range(subscore.items)
                found.append(Measure(subscore.key, subscore.title, low, high, points))
        return found

    @property
    def change(self) -> Change | None:
        """How her total moved from the first to the latest; None with one measurement."""
        if len(self.measurements) < 2:
            return None
        first, latest = self.measurements[0], self.measurements[-1]
        return change(as_decimal(first.score), as_decimal(latest.score), self.definition)


def series(session: Session, *, user_id: int, course: Course | None = None) -> list[Series]:
    """Her measurements per questionnaire, in the order she first filled each in (one
    statement). With `course`: its check-ins, and the self-test results she kept of the
    questionnaires it carries."""
    query = (
        select(Measurement, Questionnaire)
        .join(Questionnaire, col(Questionnaire.id) == Measurement.questionnaire_id)
        .where(Measurement.user_id == user_id)
        .order_by(col(Measurement.taken_at), col(Measurement.id))
    )
    if course is not None:
        query = query.where(
            or_(
                col(Measurement.course_id) == id_of(course),
                and_(
                    col(Measurement.course_id).is_(None),
                    col(Questionnaire.course_id) == id_of(course),
                ),
            )
        )
    grouped: dict[int, tuple[Questionnaire, list[Measurement]]] = {}
    for measurement, questionnaire in session.exec(query).all():
        grouped.setdefault(id_of(questionnaire), (questionnaire, []))[1].append(measurement)
    return [
        Series(questionnaire, definition_of(questionnaire), measurements)
        for questionnaire, measurements in grouped.values()
    ]


# --- a course's outcomes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Of the learners with access, how the total of one check-in questionnaire moved between
    each one's first and latest measurement in the course."""

    questionnaire: Questionnaire
    definition: Definition
    improved: int
    same: int
    worse: int
    learners: int

    @property
    def measured_twice(self) -> int:
        return self.improved + self.same + self.worse

    @property
    def not_yet(self) -> int:
        """Learners with access not measured twice yet (once or not at all)."""
        return max(self.learners - self.measured_twice, 0)


def _first_and_latest(
    session: Session, course_id: int, questionnaire_ids: list[int]
) -> dict[tuple[int, int], list[tuple[int, Decimal]]]:
    """Per (learner, questionnaire): the first and the latest total, ranked in the database so
    only two rows per learner come back (one statement)."""
    partition = (col(Measurement.user_id), col(Measurement.questionnaire_id))
    oldest_first = (col(Measurement.taken_at), col(Measurement.id))
    newest_first = (col(Measurement.taken_at).desc(), col(Measurement.id).desc())
    ranked = (
        sa_select(
            col(Measurement.user_id).label("user_id"),
            col(Measurement.questionnaire_id).label("questionnaire_id"),
            col(Measurement.score).label("score"),
            func.row_number().over(partition_by=partition, order_by=oldest_first).label("rank"),
            func.row_number().over(partition_by=partition, order_by=newest_first).label("back"),
        )
        .join(
            Enrolment,
            and_(
                col(Enrolment.user_id) == Measurement.user_id,
                col(Enrolment.course_id) == Measurement.course_id,
                col(Enrolment.status) == EnrolmentStatus.active.value,
            ),
        )
        .where(
            col(Measurement.course_id) == course_id,
            col(Measurement.questionnaire_id).in_(questionnaire_ids),
        )
        .subquery()
    )
    rows = session.execute(
        sa_select(ranked.c.user_id, ranked.c.questionnaire_id, ranked.c.rank, ranked.c.score).where(
            or_(ranked.c.rank == 1, ranked.c.back == 1)
        )
    ).all()
    found: dict[tuple[int, int], list[tuple[int, Decimal]]] = {}
    for user_id, questionnaire_id, rank, score in rows:
        found.setdefault((user_id, questionnaire_id), []).append((rank, as_decimal(score)))
    return found


def of_course(session: Session, *, course: Course) -> list[Outcome]:
    """Per questionnaire of the course's check-ins: improved, about the same, worse, and not
    measured twice yet (two statements; one when the course has no check-ins)."""
    course_id = id_of(course)
    learners = (
        select(func.count())
        .select_from(Enrolment)
        .where(
            col(Enrolment.course_id) == course_id,
            col(Enrolment.status) == EnrolmentStatus.active.value,
        )
        .scalar_subquery()
    )
    used = select(CheckIn.questionnaire_id).where(CheckIn.course_id == course_id)
    rows = session.exec(
        select(Questionnaire, learners)
        .where(col(Questionnaire.id).in_(used))
        .order_by(col(Questionnaire.id))
    ).all()
    if not rows:
        return []
    totals = _first_and_latest(session, course_id, [id_of(q) for q, _count in rows])
    outcomes = []
    for questionnaire, count in rows:
        definition = definition_of(questionnaire)
        tally = dict.fromkeys(Change, 0)
        for (_user, questionnaire_id), ranked in totals.items():
            if questionnaire_id != questionnaire.id or len(ranked) < 2:
                continue
            first, latest = (score for _rank, score in sorted(ranked))
            tally[change(first, latest, definition)] += 1
        outcomes.append(
            Outcome(
                questionnaire,
                definition,
                tally[Change.improved],
                tally[Change.same],
                tally[Change.worse],
                int(count),
            )
        )
    return outcomes
