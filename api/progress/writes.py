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
from api.catalog.course_pages import NOT_WITH_A_VISITOR, with_visitor
from api.catalog.models import Course, Lesson, Step
from api.catalog.packages.schema import SLUG
from api.config import Settings
from api.enrolment.models import Enrolment


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


# Built once, as the pages' statements are. The session is joined by its token's hash (a unique
# index), her enrolment by (course, user); the course page's long texts are not read.
_COURSE = (
    sa_select(Course, User, Enrolment, *sessions.VISITOR_COLUMNS)
    .select_from(with_visitor(orm_join(Course, User, col(User.id) == Course.instructor_id)))
    .where(col(Course.slug) == bindparam("slug"))
    .options(*NOT_WITH_A_VISITOR)
)
_STEP = (
    sa_select(*service.STEP_COLUMNS, *sessions.VISITOR_COLUMNS)
    .select_from(with_visitor(service.step_joins()))
    .where(col(Step.id) == bindparam("step_id"))
    .options(*NOT_WITH_A_VISITOR)
)


def course(
    session: Session, settings: Settings, *, token: str | None, slug: str
) -> CourseRead | None:
    """The visitor behind `token` and the course (one statement; an expired session is removed,
    a used one touched, as `sessions.resolve` does); None when there is no such course."""
    if not SLUG.fullmatch(slug):
        return None
    row = session.execute(
        _COURSE, {"slug": slug, "token_hash": digest(token) if token else None}
    ).first()
    if row is None:
        return None
    found, instructor, enrolment, auth_session, viewer, learns = row
    visitor = sessions.admit_joined(
        session, settings, auth_session=auth_session, user=viewer, learns=learns
    )
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
    row = session.execute(
        _STEP, {"step_id": step_id, "token_hash": digest(token) if token else None}
    ).first()
    if row is None:
        return None
    *found, auth_session, viewer, learns = row
    visitor = sessions.admit_joined(
        session, settings, auth_session=auth_session, user=viewer, learns=learns
    )
    stepped, lesson, module, course_row, instructor, enrolment = found
    signed_in = visitor.signed_in is not None
    return StepRead(
        visitor,
        (stepped, lesson, module, course_row, instructor, enrolment if signed_in else None),
    )
