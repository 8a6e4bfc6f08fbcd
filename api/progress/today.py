"""The "Vandaag" page as data: what to read next, what to practise today, and how it is going.

A fixed number of statements whatever her history: enrolled courses, their modules and
lessons, her progress, the steps of the lessons she has opened, her practice days and today's
practice counts, and her courses' check-ins (with the ones she did, when there are any).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, literal
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlalchemy.orm import join as orm_join
from sqlmodel import Session, col

from api.accounts import sessions
from api.accounts.models import AuthSession, User
from api.accounts.sessions import Visitor
from api.accounts.tokens import digest
from api.catalog import service as catalog
from api.catalog.content import content_of
from api.catalog.course_pages import COURSE_TABLES
from api.catalog.models import Course, Lesson, Step
from api.clock import local_day
from api.config import Settings
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.kit.ids import id_of
from api.kit.plain import PlainSelect, columns_of, loaded, width
from api.messages import service as messages
from api.messages.service import UnreadAnswer
from api.progress import practice
from api.progress import service as progress_service
from api.progress.service import CourseProgress
from api.questionnaires import checkins
from api.questionnaires.checkins import DueCheckIn, QuestionnaireRef
from api.reminders import service as reminders

# How many of her most recently opened lessons per course give today's exercises.
LESSONS_PER_COURSE = 2


@dataclass(frozen=True)
class CourseToday:
    """One course on the page: how far she is and where to go on."""

    progress: CourseProgress
    next_lesson: Lesson | None
    # When the next lesson is still closed by the drip schedule, the moment it opens.
    next_opens_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.next_lesson is None


@dataclass(frozen=True)
class PracticeItem:
    """An exercise or breathing step from a lesson she has opened."""

    step: Step
    lesson: Lesson
    progress: CourseProgress
    done_today: int


@dataclass(frozen=True)
class Today:
    day: date
    courses: list[CourseToday]
    practice: list[PracticeItem]
    streak: int
    week: list[tuple[date, bool]]
    # The check-ins due now, the one due longest first; the page shows the first.
    check_ins: list[DueCheckIn[QuestionnaireRef]] = field(default_factory=list)
    # Answers from her therapist she has not read yet, newest first.
    answers: list[UnreadAnswer] = field(default_factory=list)
    # Whether to offer her a practice reminder (she has none and did not say no).
    offers_reminder: bool = False

    @property
    def practised_today(self) -> bool:
        return any(done for day, done in self.week if day == self.day)

    @property
    def next(self) -> CourseToday | None:
        """The course to continue first: the one she was active in most recently and has not
        finished, preferring lessons that are open now."""
        candidates = [item for item in self.courses if not item.finished]
        if not candidates:
            return None

        def rank(item: CourseToday) -> tuple[bool, datetime]:
            outline = item.progress.outline
            enrolled_at = outline.enrolment.enrolled_at if outline.enrolment else outline.now
            return (item.next_opens_at is None, item.progress.last_active_at or enrolled_at)

        return max(candidates, key=rank)


def _course_today(progress: CourseProgress, viewer: User) -> CourseToday:
    lesson = progress.resume
    if lesson is None or catalog.may_open(viewer, progress.outline, lesson):
        return CourseToday(progress, lesson, None)
    opens = progress.outline.opens_at(progress.outline.module_of[lesson.id])
    return CourseToday(progress, lesson, opens)


def _practice_items(
    session: Session,
    *,
    user: User,
    progresses: list[CourseProgress],
    counts: dict[int, int],
) -> list[PracticeItem]:
    """The exercise and breathing steps of the lessons she opened last that are open to her
    now (LESSONS_PER_COURSE of them per course): courses in the order she enrolled in them,
    then lessons and steps in course order.

    A programme builds up: this week's exercises carry on from last week's, so a list of every
    exercise she ever opened would not say what to do today.
    """
    # The steps come with the courses' cached content, not from another statement; which
    # lessons have any is worked out once per course version, so only her own progress records
    # are gone through here, not every lesson of every course.
    contents = content_of(session, [item.outline.course for item in progresses])
    items: list[PracticeItem] = []
    for progress in progresses:
        practised = contents[id_of(progress.outline.course)].practised
        seen: list[tuple[datetime, tuple[int, Lesson, tuple[Step, ...]]]] = []
        for lesson_id, record in progress.by_lesson.items():
            found = practised.get(lesson_id)
            if found is None:
                continue
            moments = [m for m in (record.last_visited_at, record.completed_at) if m is not None]
            if moments:
                seen.append((max(moments), found))
        seen.sort(key=lambda pair: pair[0], reverse=True)
        # The most recent ones that are open to her now (the older ones are not asked about).
        latest: list[tuple[int, Lesson, tuple[Step, ...]]] = []
        for _moment, found in seen:
            if len(latest) == LESSONS_PER_COURSE:
                break
            if catalog.may_open(user, progress.outline, found[1]):
                latest.append(found)
        for _place, lesson, steps in sorted(latest):
            items.extend(
                PracticeItem(step, lesson, progress, counts.get(id_of(step), 0)) for step in steps
            )
    return items


def _page_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row of `_page_columns` as the page takes it: the course, its instructor and her
    enrolment as objects (None without a course), then the other columns."""
    return (*loaded(COURSE_TABLES, row), *row[width(COURSE_TABLES) :])


def _page_columns(user_id: Any) -> list[Any]:
    """Her active courses (with instructor and enrolment), her progress in each and its
    check-ins; beside them, once for the page: her practice days, her unread answers, whether
    to offer a reminder and the check-ins she filled in."""
    return [
        *columns_of(COURSE_TABLES),
        progress_service.progress_json(Course.id, user_id).label("progress"),
        checkins.check_ins_json(Course.id).label("check_ins"),
        practice.summary_json(user_id).label("practice"),
        messages.unread_answers_json(user_id).label("answers"),
        reminders.offers_reminder_sql(user_id).label("offers_reminder"),
        checkins.done_json(user_id).label("check_ins_done"),
    ]


def _courses_of(left: Any, user_id: Any) -> Any:
    """`left` with her active enrolments, their courses and instructors (outer joined: a row
    without a course when she has none)."""
    courses = orm_join(Enrolment, Course, col(Course.id) == Enrolment.course_id).join(
        User, col(User.id) == Course.instructor_id
    )
    active = and_(
        col(Enrolment.user_id) == user_id,
        col(Enrolment.status) == EnrolmentStatus.active.value,
    )
    return orm_join(left, courses, active, isouter=True)


_ORDER = (col(Enrolment.enrolled_at), col(Enrolment.id))

# Vandaag's data for a learner the request knows (the API's overview). Built once, like the
# next one (docs/performance.md#one-statement-per-page).
_TODAY = PlainSelect(
    sa_select(*_page_columns(bindparam("user_id")))
    .select_from(
        _courses_of(sa_select(literal(1).label("one")).subquery("page"), bindparam("user_id"))
    )
    .order_by(*_ORDER)
)

# The same with her session and account, found by the session cookie's hash: "Vandaag" costs
# one statement, her courses' check-ins included. Her id for the page's lists is looked up by the
# same unique index once for the statement (`_MY_ID`), as they sit in subqueries of their own.
_me = aliased(AuthSession, name="me")
_MY_ID = (
    sa_select(col(_me.user_id))
    .where(col(_me.token_hash) == bindparam("token_hash"))
    .scalar_subquery()
)
_TODAY_BY_TOKEN = PlainSelect(
    sa_select(*sessions.VISITOR_COLUMNS, *_page_columns(_MY_ID))
    .select_from(
        _courses_of(
            orm_join(AuthSession, sessions.VIEWER, col(sessions.VIEWER.id) == AuthSession.user_id),
            AuthSession.user_id,
        )
    )
    .where(col(AuthSession.token_hash) == bindparam("token_hash"))
    .order_by(*_ORDER)
)


@dataclass(frozen=True)
class Visit:
    """Who opened "Vandaag", and the page's rows as the statement found them."""

    visitor: Visitor
    rows: list[tuple[Any, ...]]


def read_visit(session: Session, settings: Settings, *, token: str | None, now: datetime) -> Visit:
    """The visitor behind the session cookie's `token` with "Vandaag"'s data (one statement; an
    expired session is removed, a used one touched, as `sessions.resolve` does)."""
    if token is None:
        return Visit(Visitor(), [])
    rows = _TODAY_BY_TOKEN.rows(
        session, {"token_hash": digest(token), **practice.summary_params(now)}
    )
    if not rows:
        return Visit(Visitor(), [])
    visitor = sessions.admit_plain(session, settings, rows[0], start=0)
    visitor_columns = len(sessions.VISITOR_COLUMNS)
    return Visit(visitor, [_page_row(row[visitor_columns:]) for row in rows])


def of_visit(session: Session, visit: Visit, *, user: User, now: datetime) -> Today:
    """Vandaag for the signed-in visitor of `read_visit` (no statement of its own)."""
    return _today(session, visit.rows, user=user, now=now)


def read(session: Session, *, user: User, now: datetime) -> Today:
    """Everything the "Vandaag" page shows for this learner at this moment (one statement)."""
    rows = _TODAY.rows(session, {"user_id": id_of(user), **practice.summary_params(now)})
    return _today(session, [_page_row(row) for row in rows], user=user, now=now)


def _today(session: Session, rows: list[tuple[Any, ...]], *, user: User, now: datetime) -> Today:
    courses = [(row[0], row[1], row[2]) for row in rows if row[0] is not None]
    records = {id_of(row[0]): row[3] for row in rows if row[0] is not None}
    check_ins = {id_of(row[0]): row[4] for row in rows if row[0] is not None}
    outlines = catalog.outlines_of(session, courses, viewer=user, now=now)
    progresses = [
        CourseProgress(outline, progress_service.records_from_json(records[id_of(outline.course)]))
        for outline in outlines
    ]
    # The page's own lists are the same on every row.
    *_per_course, practised_rows, answers, offers, done = rows[0]
    practised = practice.summary_from_json(practised_rows)
    days, today = practised.days, local_day(now)
    return Today(
        day=today,
        courses=[_course_today(item, user) for item in progresses],
        practice=_practice_items(
            session, user=user, progresses=progresses, counts=practised.done_today
        ),
        streak=practice.streak(days, today),
        week=practice.this_week(days, today),
        check_ins=checkins.due_from_json(progresses, check_ins, done, now),
        answers=messages.unread_answers_from_json(answers),
        offers_reminder=bool(offers),
    )


def routine(session: Session, *, user: User, now: datetime) -> list[PracticeItem]:
    """Today's exercises for her routine, the same ones "Vandaag" lists: her courses and her
    progress in them (two statements; the steps come from the content cache)."""
    outlines = catalog.enrolled_outlines(session, viewer=user, now=now)
    progresses = progress_service.read_many(session, outlines=outlines, user_id=id_of(user))
    return _practice_items(session, user=user, progresses=progresses, counts={})
