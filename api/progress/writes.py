"""The two busiest writes, "mark complete" and "log practice", each read her session and account
with what she writes to (the course; the step with its lesson and course) in one statement, and
write in a second (docs/performance.md#the-two-busiest-writes).

What she may write to is decided by the same service functions as everywhere (catalog.service):
a lesson she may open, in a course she may see.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.orm import join as orm_join
from sqlmodel import Session, col

from api.accounts import sessions
from api.accounts.models import User
from api.accounts.sessions import Visitor
from api.accounts.tokens import digest
from api.catalog import service
from api.catalog.course_pages import COURSE_TABLES, with_visitor
from api.catalog.models import Course, Lesson, Module, Step
from api.catalog.packages.schema import SLUG
from api.config import Settings
from api.enrolment.models import Enrolment
from api.kit.plain import Columns, PlainSelect, columns_of, loaded, width


@dataclass(frozen=True, slots=True)
class CourseRead:
    """The visitor, and the course with its instructor and her enrolment (whatever its status)."""

    visitor: Visitor
    course: Course
    instructor: User
    enrolment: Enrolment | None


@dataclass(frozen=True, slots=True)
class StepRead:
    """The visitor, and the step with its lesson, module, course, instructor and her enrolment."""

    visitor: Visitor
    step: service.StepRow


# What the step's statement reads: the step, its lesson and module, then the course's part.
_STEP_TABLES = (Columns(Step), Columns(Lesson), Columns(Module), *COURSE_TABLES)

# Built once, as the pages' statements are, and plain reads as theirs are
# (docs/performance.md#plain-reads). The session is joined by its token's hash (a unique index),
# her enrolment by (course, user).
_COURSE = PlainSelect(
    sa_select(*columns_of(COURSE_TABLES), *sessions.VISITOR_COLUMNS)
    .select_from(with_visitor(orm_join(Course, User, col(User.id) == Course.instructor_id)))
    .where(col(Course.slug) == bindparam("slug"))
)
_STEP = PlainSelect(
    sa_select(*columns_of(_STEP_TABLES), *sessions.VISITOR_COLUMNS)
    .select_from(with_visitor(service.step_joins()))
    .where(col(Step.id) == bindparam("step_id"))
)


def course(
    session: Session, settings: Settings, *, token: str | None, slug: str
) -> CourseRead | None:
    """The visitor behind `token` and the course (one statement; an expired session is removed,
    a used one touched, as `sessions.resolve` does); None when there is no such course."""
    if not SLUG.fullmatch(slug):
        return None
    row = _COURSE.first(session, {"slug": slug, "token_hash": digest(token) if token else None})
    if row is None:
        return None
    found, instructor, enrolment = loaded(COURSE_TABLES, row)
    visitor = sessions.admit_plain(session, settings, row, start=width(COURSE_TABLES))
    return CourseRead(
        visitor, found, instructor, enrolment if visitor.signed_in is not None else None
    )


def open_lesson(session: Session, found: CourseRead, *, lesson_slug: str, now: datetime) -> Lesson:
    """A lesson of the course that she may open; NotFound or LessonLocked otherwise, by the same
    rules as `service.open_lesson` (no statement while the course's content is cached)."""
    viewer = found.visitor.signed_in
    outline = service.outline_for(session, found, now=now)
    return outline.lessons[service.open_index(outline, lesson_slug, viewer)]


def step(
    session: Session, settings: Settings, *, token: str | None, step_id: int
) -> StepRead | None:
    """The visitor behind `token` and the step she logs (one statement, with the session as in
    `course`); None when there is no such step."""
    row = _STEP.first(session, {"step_id": step_id, "token_hash": digest(token) if token else None})
    if row is None:
        return None
    visitor = sessions.admit_plain(session, settings, row, start=width(_STEP_TABLES))
    stepped, lesson, module, course_row, instructor, enrolment = loaded(_STEP_TABLES, row)
    signed_in = visitor.signed_in is not None
    return StepRead(
        visitor,
        (stepped, lesson, module, course_row, instructor, enrolment if signed_in else None),
    )
