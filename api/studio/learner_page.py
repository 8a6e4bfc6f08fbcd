"""One learner of a course at a glance, for her instructor: how far she is per module, when she
was last active, her practice per week and every practice, her check-ins, the journal entries
she shared with this course and her questions.

Each part is one statement, so the page costs the same round trips whatever her history; the
practice list is paged on (moment, id).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.attention import service as attention
from api.attention.models import AttentionHandled
from api.catalog.models import Course, Lesson, Module
from api.clock import local_day, week_start
from api.enrolment.models import Enrolment
from api.journal.models import JournalEntry
from api.kit.ids import id_of
from api.kit.keyset import Cursor
from api.messages.models import Message, Thread
from api.progress import practice
from api.progress.models import LessonProgress, PracticeLog
from api.progress.practice import PracticeEntry
from api.questionnaires import outcomes

WEEKS = 8  # practice per week: this week and the seven before it
PRACTICE_PAGE = 30
MAX_SHOWN = 100  # journal entries and messages: the newest this many


@dataclass(frozen=True)
class ModuleProgress:
    """Lessons of one module, and how many of them she completed."""

    title: str
    lessons: int
    completed: int


@dataclass(frozen=True)
class WeekPractice:
    """Her practice in one week (Monday to Sunday, Amsterdam)."""

    monday: date
    days: int
    seconds: int

    @property
    def minutes(self) -> int:
        return -(-self.seconds // 60)


@dataclass(frozen=True)
class LearnerPage:
    """Everything the instructor's page of one learner shows."""

    last_active_at: datetime
    modules: list[ModuleProgress]
    weeks: list[WeekPractice]
    practices: list[PracticeEntry]
    next_cursor: Cursor | None
    series: list[outcomes.Series]
    journal: list[JournalEntry]
    thread: Thread | None
    messages: list[Message]
    handled: list[AttentionHandled]


def _last_active(session: Session, enrolment: Enrolment) -> datetime:
    moments = session.execute(
        sa_select(*attention.activity_columns())
        .select_from(Enrolment)
        .where(col(Enrolment.id) == enrolment.id)
    ).one()
    return attention.last_active(enrolment.enrolled_at, *moments)


def _modules(session: Session, *, course_id: int, user_id: int) -> list[ModuleProgress]:
    rows = session.execute(
        sa_select(
            col(Module.title),
            func.count(col(Lesson.id)),
            func.count(col(LessonProgress.completed_at)),
        )
        .select_from(Module)
        .outerjoin(Lesson, col(Lesson.module_id) == Module.id)
        .outerjoin(
            LessonProgress,
            and_(
                col(LessonProgress.lesson_id) == Lesson.id,
                col(LessonProgress.user_id) == user_id,
            ),
        )
        .where(col(Module.course_id) == course_id)
        .group_by(col(Module.id), col(Module.title), col(Module.position))
        .order_by(col(Module.position), col(Module.id))
    ).all()
    return [ModuleProgress(title, int(lessons), int(done)) for title, lessons, done in rows]


def _weeks(session: Session, *, course_id: int, user_id: int, now: datetime) -> list[WeekPractice]:
    """Practice days and seconds per week, the oldest of the WEEKS weeks first."""
    first = week_start(local_day(now)) - timedelta(weeks=WEEKS - 1)
    rows = session.execute(
        sa_select(
            col(PracticeLog.practised_on), func.coalesce(func.sum(PracticeLog.duration_seconds), 0)
        )
        .where(
            col(PracticeLog.user_id) == user_id,
            col(PracticeLog.course_id) == course_id,
            col(PracticeLog.practised_on) >= first,
        )
        .group_by(col(PracticeLog.practised_on))
    ).all()
    per_week: dict[date, tuple[int, int]] = {}
    for day, seconds in rows:
        days, total = per_week.get(week_start(day), (0, 0))
        per_week[week_start(day)] = (days + 1, total + int(seconds))
    mondays = [first + timedelta(weeks=index) for index in range(WEEKS)]
    return [WeekPractice(monday, *per_week.get(monday, (0, 0))) for monday in mondays]


def _journal(session: Session, *, course_id: int, user_id: int) -> list[JournalEntry]:
    return list(
        session.exec(
            select(JournalEntry)
            .where(JournalEntry.user_id == user_id, JournalEntry.shared_course_id == course_id)
            .order_by(
                col(JournalEntry.day).desc(),
                col(JournalEntry.written_at).desc(),
                col(JournalEntry.id).desc(),
            )
            .limit(MAX_SHOWN)
        ).all()
    )


def _handled(session: Session, *, course_id: int, user_id: int) -> list[AttentionHandled]:
    """What was marked handled about her on the attention list, with the notes, newest first."""
    return list(
        session.exec(
            select(AttentionHandled)
            .where(AttentionHandled.course_id == course_id, AttentionHandled.learner_id == user_id)
            .order_by(col(AttentionHandled.handled_at).desc(), col(AttentionHandled.id).desc())
            .limit(MAX_SHOWN)
        ).all()
    )


def _conversation(
    session: Session, *, course_id: int, user_id: int
) -> tuple[Thread | None, list[Message]]:
    rows = session.exec(
        select(Thread, Message)
        .join(Message, col(Message.thread_id) == Thread.id, isouter=True)
        .where(Thread.learner_id == user_id, Thread.course_id == course_id)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(MAX_SHOWN)
    ).all()
    if not rows:
        return None, []
    return rows[0][0], [message for _thread, message in rows if message is not None]


def read(
    session: Session,
    *,
    course: Course,
    enrolment: Enrolment,
    learner: User,
    now: datetime,
    cursor: Cursor | None = None,
) -> LearnerPage:
    """Her page in this course (eight statements, whatever her history)."""
    course_id, user_id = id_of(course), id_of(learner)
    found = practice.entries(
        session, user_id=user_id, course_id=course_id, cursor=cursor, limit=PRACTICE_PAGE + 1
    )
    shown = found[:PRACTICE_PAGE]
    more = len(found) > PRACTICE_PAGE
    thread, messages = _conversation(session, course_id=course_id, user_id=user_id)
    return LearnerPage(
        last_active_at=_last_active(session, enrolment),
        modules=_modules(session, course_id=course_id, user_id=user_id),
        weeks=_weeks(session, course_id=course_id, user_id=user_id, now=now),
        practices=shown,
        next_cursor=practice.next_cursor(shown[-1]) if more and shown else None,
        series=outcomes.series(session, user_id=user_id, course=course),
        journal=_journal(session, course_id=course_id, user_id=user_id),
        thread=thread,
        messages=messages,
        handled=_handled(session, course_id=course_id, user_id=user_id),
    )
