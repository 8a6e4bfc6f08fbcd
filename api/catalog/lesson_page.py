"""The lesson page's data in one statement: her session and account, the course with its
instructor, her enrolment and progress, and the lesson's public questions.

The lesson page is the busiest page, and each statement is a round trip to PostgreSQL with the
ORM's bookkeeping around it; reading its data together costs one instead of four
(docs/performance.md#one-statement-per-page), and reading it as a plain read spares the ORM's
bookkeeping too (docs/performance.md#plain-reads). The lists (her progress, the questions) come as
JSON beside the main row and become plain records, never ORM objects. What may be opened, and
by whom, is decided by the same service functions as everywhere (catalog.service).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.orm import join as orm_join
from sqlmodel import Session, col

from api.accounts import sessions
from api.accounts.models import AuthSession, User
from api.accounts.sessions import Visitor
from api.accounts.tokens import digest
from api.catalog import service
from api.catalog.course_pages import COURSE_TABLES, with_visitor
from api.catalog.models import Course, Lesson
from api.catalog.packages.schema import SLUG
from api.config import Settings
from api.db import json_rows
from api.enrolment.models import Enrolment
from api.kit.plain import PlainSelect, columns_of, loaded, width
from api.messages.models import LessonQuestion
from api.messages.public import PublicQuestion
from api.progress.service import (
    CourseProgress,
    ProgressRecord,
    progress_json,
    records_from_json,
)


@dataclass(frozen=True, slots=True)
class LessonRead:
    """What the statement found: the visitor, and the course as she may see it."""

    visitor: Visitor
    course: Course
    instructor: User
    # Hers, if she is signed in and has one (whatever its status).
    enrolment: Enrolment | None
    progress: dict[int, ProgressRecord]
    questions: list[PublicQuestion]


@dataclass(frozen=True, slots=True)
class LessonPage:
    """The lesson as she may open it, her progress (when enrolled) and its public questions."""

    view: service.LessonView
    progress: CourseProgress | None
    questions: list[PublicQuestion]


_lesson = Lesson.__table__  # type: ignore[attr-defined]
_question = LessonQuestion.__table__  # type: ignore[attr-defined]

# The lesson's public questions, found by the lesson's slug in the course (a unique index).
_QUESTIONS = (
    sa_select(
        json_rows(_question.c.question, _question.c.answer, _question.c.position, _question.c.id)
    )
    .select_from(_question.join(_lesson, _lesson.c.id == _question.c.lesson_id))
    .where(_lesson.c.course_id == Course.id, _lesson.c.slug == bindparam("lesson_slug"))
    .scalar_subquery()
)

# Where the visitor's columns begin in the row, after the course's, and where the lists do.
_VISITOR = width(COURSE_TABLES)
_LISTS = _VISITOR + len(sessions.VISITOR_COLUMNS)

# Built once: every lesson page runs it, as a plain read (docs/performance.md#plain-reads). The
# session is joined by its token's hash (a unique index), her enrolment by (course, user), the
# lists are correlated subqueries on their indexes.
_LESSON_PAGE = PlainSelect(
    sa_select(
        *columns_of(COURSE_TABLES),
        *sessions.VISITOR_COLUMNS,
        progress_json(Course.id, AuthSession.user_id).label("progress"),
        _QUESTIONS.label("questions"),
    )
    .select_from(with_visitor(orm_join(Course, User, col(User.id) == Course.instructor_id)))
    .where(col(Course.slug) == bindparam("slug"))
)


def read(
    session: Session, settings: Settings, *, token: str | None, slug: str, lesson_slug: str
) -> LessonRead | None:
    """The visitor behind `token` and the course's data for the lesson page (one statement; an
    expired session is removed, a used one touched, as `sessions.resolve` does); None when
    there is no such course."""
    if not SLUG.fullmatch(slug):
        return None
    row = _LESSON_PAGE.first(
        session,
        {
            "slug": slug,
            "lesson_slug": lesson_slug,
            "token_hash": digest(token) if token else None,
        },
    )
    if row is None:
        return None
    course, instructor, enrolment = loaded(COURSE_TABLES, row)
    visitor = sessions.admit_plain(session, settings, row, start=_VISITOR)
    progress, questions = row[_LISTS:]
    signed_in = visitor.signed_in is not None
    return LessonRead(
        visitor=visitor,
        course=course,
        instructor=instructor,
        enrolment=enrolment if signed_in else None,
        progress=records_from_json(progress) if signed_in else {},
        questions=_questions(questions),
    )


def open_lesson(
    session: Session, found: LessonRead, *, lesson_slug: str, now: datetime
) -> LessonPage:
    """The lesson with her progress, if she may open it: NotFound or LessonLocked otherwise,
    by the same rules as `service.lesson_view` (no statement while the content is cached)."""
    viewer = found.visitor.signed_in
    outline = service.outline_for(session, found, now=now)
    view = service.lesson_view_in(session, outline, lesson_slug=lesson_slug, viewer=viewer)
    progress = CourseProgress(outline, found.progress) if outline.enrolled else None
    return LessonPage(view=view, progress=progress, questions=found.questions)


def _questions(rows: list[list[Any]] | None) -> list[PublicQuestion]:
    # In the order the instructor gave them (position, then id): JSON aggregates have no
    # order of their own.
    ordered = sorted(rows or (), key=lambda row: (row[2], row[3]))
    return [PublicQuestion(question=row[0], answer=row[1]) for row in ordered]
