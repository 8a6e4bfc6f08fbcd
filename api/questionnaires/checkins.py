"""Which of a course's check-ins are due for her now, and which one a link or a submit names.

A check-in is due once its moment has come for her active enrolment (enrolled: the baseline;
every lesson of a module done; every lesson of the course done; each period of N days after
enrolment) and stays due until a measurement of its occasion exists: a missed one waits,
without reminders. Of the periods of an every-N-days check-in only the current one is shown, so
missed periods do not stack up; an earlier period she opened before the next began may still be
sent. Two statements for all her courses: the check-ins with their questionnaires, and the
occasions she has done; "Vandaag" instead reads both with its own statement, as JSON
(`check_ins_json`, `done_json`; docs/performance.md#one-statement-per-page).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import schedule
from api.catalog.models import Lesson
from api.catalog.service import CourseOutline
from api.clock import local_day
from api.db import json_rows
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.progress.service import CourseProgress
from api.questionnaires import service as questionnaires
from api.questionnaires.models import (
    CheckIn,
    CheckInMoment,
    Measurement,
    Questionnaire,
    QuestionnaireStatus,
)
from api.questionnaires.scoring import Answers, Result, read_answers, score
from api.questionnaires.service import definition_of

# The part of an occasion after "c{course}:", as it travels in a check-in's address:
# "q3-enrolment", "q3-module-2", "q3-end", "q3-every-14-2".
KEY = re.compile(
    r"^q(?P<q>[1-9][0-9]{0,9})-(?P<when>enrolment|end|module-\d{1,4}|every-\d{1,3}-\d{1,5})$"
)


class CheckInFields(Protocol):
    """What deciding a check-in's occasions reads of it: a `CheckIn` row, or a `CheckInRef`."""

    @property
    def id(self) -> int | None: ...
    @property
    def position(self) -> int: ...
    @property
    def moment(self) -> str: ...
    @property
    def module_position(self) -> int | None: ...
    @property
    def every_days(self) -> int | None: ...


class QuestionnaireFields(Protocol):
    """What a due check-in shows of its questionnaire: a `Questionnaire` row, or a
    `QuestionnaireRef`."""

    @property
    def id(self) -> int | None: ...
    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def language(self) -> str: ...


@dataclass(frozen=True, slots=True)
class CheckInRef:
    """A check-in as "Vandaag"'s statement brings it: plain values, no ORM object."""

    id: int
    position: int
    moment: str
    module_position: int | None
    every_days: int | None


@dataclass(frozen=True, slots=True)
class QuestionnaireRef:
    """A check-in's questionnaire as "Vandaag" shows it (its questions are not read)."""

    id: int
    slug: str
    title: str
    language: str


Q = TypeVar("Q", bound=QuestionnaireFields)


@dataclass(frozen=True)
class DueCheckIn(Generic[Q]):
    """One check-in occasion whose moment has come for her, with whether she has done it. Its
    questionnaire is the row (to fill it in) or, on "Vandaag", a `QuestionnaireRef`."""

    check_in: CheckInFields
    questionnaire: Q
    outline: CourseOutline
    when: str  # "enrolment", "module-2", "end", "every-14-3"
    since: datetime  # the moment it became due
    done: bool

    @property
    def occasion(self) -> str:
        """Measurement.occasion: "c12:q3:module-2"."""
        return f"c{id_of(self.outline.course)}:q{id_of(self.questionnaire)}:{self.when}"

    @property
    def key(self) -> str:
        """The occasion as its address names it: "q3-module-2"."""
        return f"q{id_of(self.questionnaire)}-{self.when}"

    @property
    def url(self) -> str:
        return f"/courses/{self.outline.course.slug}/check-ins/{self.key}"


def _module_done(progress: CourseProgress, position: int) -> datetime | None:
    """When she completed the last lesson of the module at `position`; None until all are done
    (or when the course has no such module, or it has no lessons)."""
    parts = [part for part in progress.outline.modules if part.module.position == position]
    if not parts or not parts[0].lessons:
        return None
    return _all_done(progress, parts[0].lessons)


def _all_done(progress: CourseProgress, lessons: list[Lesson]) -> datetime | None:
    moments = []
    for lesson in lessons:
        record = progress.by_lesson.get(id_of(lesson))
        if record is None or record.completed_at is None:
            return None
        moments.append(record.completed_at)
    return max(moments, default=None)


def occasions(
    progress: CourseProgress, check_in: CheckInFields, now: datetime
) -> list[tuple[str, datetime]]:
    """The occasions of one check-in whose moment has come, oldest first, each with the moment
    it came: for every N days, each period from the first to the current one."""
    enrolment = progress.outline.enrolment
    if enrolment is None:
        return []
    enrolled_at = enrolment.enrolled_at
    if check_in.moment == CheckInMoment.enrolment:
        return [("enrolment", enrolled_at)]
    if check_in.moment == CheckInMoment.module and check_in.module_position is not None:
        done = _module_done(progress, check_in.module_position)
        return [(f"module-{check_in.module_position}", done)] if done else []
    if check_in.moment == CheckInMoment.end:
        lessons = progress.outline.lessons
        done = _all_done(progress, lessons) if lessons else None
        return [("end", done)] if done else []
    if check_in.moment == CheckInMoment.every and check_in.every_days:
        # Counted in Amsterdam calendar days from the day she enrolled, like the drip schedule:
        # the next one is there in the morning, whatever the hour she enrolled.
        days = check_in.every_days
        # In a cohort, from its start day.
        start = enrolment.drip_start
        periods = (local_day(now) - local_day(start)).days // days
        return [
            (f"every-{days}-{k}", schedule.opens_at(start, k * days)) for k in range(1, periods + 1)
        ]
    return []


def _for_course(
    progress: CourseProgress,
    rows: list[tuple[CheckInFields, Q]],
    done: set[str],
    now: datetime,
) -> list[DueCheckIn[Q]]:
    """Every occasion of the course whose moment has come, done or not."""
    found: list[DueCheckIn[Q]] = []
    for check_in, questionnaire in rows:
        for when, since in occasions(progress, check_in, now):
            item = DueCheckIn(check_in, questionnaire, progress.outline, when, since, False)
            found.append(replace(item, done=item.occasion in done))
    return found


def _shown(items: list[DueCheckIn[Q]]) -> list[DueCheckIn[Q]]:
    """The occasions to ask for now: not done, and of an every-N-days check-in only the current
    period (the last whose moment has come)."""
    latest: dict[tuple[int, int], DueCheckIn[Q]] = {}
    single: list[DueCheckIn[Q]] = []
    for item in items:
        if item.check_in.moment == CheckInMoment.every:
            latest[(id_of(item.outline.course), id_of(item.check_in))] = item
        else:
            single.append(item)
    due = [item for item in single + list(latest.values()) if not item.done]
    # The same occasion may come from two check-ins (one questionnaire twice at one moment).
    unique = {item.occasion: item for item in reversed(due)}
    return sorted(unique.values(), key=lambda item: (item.since, item.check_in.position))


def _read(
    session: Session, *, user: User, course_ids: list[int]
) -> tuple[dict[int, list[tuple[CheckInFields, Questionnaire]]], set[str]]:
    """The courses' check-ins of published questionnaires, and her done occasions in them."""
    rows = session.exec(
        select(CheckIn, Questionnaire)
        .join(Questionnaire, col(Questionnaire.id) == CheckIn.questionnaire_id)
        .where(
            col(CheckIn.course_id).in_(course_ids),
            Questionnaire.status == QuestionnaireStatus.published.value,
        )
        .order_by(col(CheckIn.course_id), col(CheckIn.position), col(CheckIn.id))
    ).all()
    by_course: dict[int, list[tuple[CheckInFields, Questionnaire]]] = {}
    for check_in, questionnaire in rows:
        by_course.setdefault(check_in.course_id, []).append((check_in, questionnaire))
    if not by_course:
        return {}, set()
    done = session.exec(
        select(Measurement.occasion).where(
            Measurement.user_id == id_of(user),
            col(Measurement.course_id).in_(list(by_course)),
        )
    ).all()
    return by_course, set(done)


def _active(progresses: list[CourseProgress]) -> list[CourseProgress]:
    return [item for item in progresses if item.outline.enrolled]


def all_occasions(
    session: Session, *, user: User, progresses: list[CourseProgress], now: datetime
) -> list[DueCheckIn[Questionnaire]]:
    """Every check-in occasion whose moment has come in her active courses, done or not."""
    active = _active(progresses)
    if not active:
        return []
    by_course, done = _read(
        session, user=user, course_ids=[id_of(p.outline.course) for p in active]
    )
    return [
        item
        for progress in active
        for item in _for_course(
            progress, by_course.get(id_of(progress.outline.course), []), done, now
        )
    ]


def due(
    session: Session, *, user: User, progresses: list[CourseProgress], now: datetime
) -> list[DueCheckIn[Questionnaire]]:
    """The check-ins to ask her for now, the one due longest first (one statement without
    check-ins in her courses, two with)."""
    return _shown(all_occasions(session, user=user, progresses=progresses, now=now))


_check_in = CheckIn.__table__  # type: ignore[attr-defined]
_questionnaire = Questionnaire.__table__  # type: ignore[attr-defined]
_measurement = Measurement.__table__  # type: ignore[attr-defined]


def check_ins_json(course_id: Any) -> Any:
    """The course's check-ins of published questionnaires as a `json_rows` subquery, for a page
    that reads them beside its course rows; read with `due_from_json`."""
    return (
        sa_select(
            json_rows(
                _check_in.c.id,
                _check_in.c.position,
                _check_in.c.moment,
                _check_in.c.module_position,
                _check_in.c.every_days,
                _questionnaire.c.id,
                _questionnaire.c.slug,
                _questionnaire.c.title,
                _questionnaire.c.language,
            )
        )
        .select_from(
            _check_in.join(_questionnaire, _questionnaire.c.id == _check_in.c.questionnaire_id)
        )
        .where(
            _check_in.c.course_id == course_id,
            _questionnaire.c.status == QuestionnaireStatus.published.value,
        )
        .scalar_subquery()
    )


def done_json(user_id: Any) -> Any:
    """The occasions she has filled in, as a `json_rows` subquery beside a page's rows."""
    return (
        sa_select(json_rows(_measurement.c.occasion))
        .where(_measurement.c.user_id == user_id)
        .scalar_subquery()
    )


def due_from_json(
    progresses: list[CourseProgress],
    check_ins: dict[int, list[list[Any]] | None],
    done: list[list[Any]] | None,
    now: datetime,
) -> list[DueCheckIn[QuestionnaireRef]]:
    """`due` from what `check_ins_json` (by course id) and `done_json` brought: the same
    occasions, without a statement of its own."""
    done_occasions = {row[0] for row in done or ()}
    found: list[DueCheckIn[QuestionnaireRef]] = []
    for progress in _active(progresses):
        # In the course's order (position, then id): JSON aggregates have no order of their own.
        rows = sorted(
            check_ins.get(id_of(progress.outline.course)) or (), key=lambda r: (r[1], r[0])
        )
        pairs: list[tuple[CheckInFields, QuestionnaireRef]] = [
            (CheckInRef(*row[:5]), QuestionnaireRef(*row[5:])) for row in rows
        ]
        found += _for_course(progress, pairs, done_occasions, now)
    return _shown(found)


def find(
    session: Session, *, user: User, progress: CourseProgress, key: str, now: datetime
) -> DueCheckIn[Questionnaire] | None:
    """The occasion an address names, when its moment has come in this course (done or not);
    None for one that does not exist or is not open to her (yet)."""
    if not KEY.match(key):
        return None
    found = all_occasions(session, user=user, progresses=[progress], now=now)
    return next((item for item in found if item.key == key), None)


@dataclass(frozen=True)
class Submitted:
    """A check-in stored (or stored before: a double submit), and what it came to."""

    measurement: Measurement
    # Whether this submit stored it: the occasion was not done when the request read it.
    created: bool

    @property
    def warning(self) -> bool:
        """She said yes to a warning sign: she is told to see a doctor first."""
        return self.measurement.warning


def read(item: DueCheckIn[Questionnaire], raw: Mapping[str, Any]) -> tuple[Answers, Result]:
    """Her answers to the check-in's questions and what they come to; FormError with a message
    per question that is missing or not an answer."""
    definition = definition_of(item.questionnaire)
    answers, errors = read_answers(definition, raw)
    if errors:
        raise FormError(errors, _("Not every question has an answer yet. Look at the marked ones."))
    return answers, score(definition, answers)


def submit(
    session: Session,
    *,
    user: User,
    item: DueCheckIn[Questionnaire],
    raw: Mapping[str, Any],
    now: datetime,
) -> Submitted:
    """Store her check-in once: a second submit of the occasion returns the first and changes
    nothing. FormError for answers that cannot be used; ConsentRequired without her consent to
    keeping health data (nothing is stored then)."""
    answers, result = read(item, raw)
    stored = questionnaires.record(
        session,
        user=user,
        questionnaire=item.questionnaire,
        answers=answers,
        result=result,
        occasion=item.occasion,
        course_id=id_of(item.outline.course),
        now=now,
    )
    return Submitted(stored, created=not item.done)


def stored(session: Session, *, user: User, item: DueCheckIn[Any]) -> Measurement | None:
    """What she sent for the occasion, if she did (one statement)."""
    return session.exec(
        select(Measurement).where(
            Measurement.user_id == id_of(user), Measurement.occasion == item.occasion
        )
    ).first()
