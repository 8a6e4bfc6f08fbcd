"""Who follows a course and how far each learner is, for the studio's table and its CSV export.

Everything is read with a fixed number of aggregate statements (enrolments with their accounts,
the lesson count, progress per learner, practice per learner), so a course with hundreds of
learners costs the same round trips as a course with one.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, func
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course, Lesson
from api.clock import local_day
from api.consent import service as consent_service
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment
from api.errors import NotFound
from api.i18n import N_
from api.i18n import gettext as _
from api.progress.models import LessonProgress, PracticeLog

# "Practice days in the last 7 days": today and the six calendar days before it, in Amsterdam.
PRACTICE_WINDOW_DAYS = 7

SOURCE_LABELS = {
    "free": N_("free"),
    "purchase": N_("bought"),
    "manual": N_("given by hand"),
}
STATUS_LABELS = {
    "active": N_("active"),
    "refunded": N_("refunded"),
    "disputed": N_("paused (payment dispute)"),
    "revoked": N_("ended"),
}
# Spreadsheet programs run a cell that starts with one of these as a formula (and a tab or
# carriage return can hide such a start), so a learner who names herself "=HYPERLINK(…)" could
# make her instructor's Excel open a link. Excel with an East Asian input setting also reads
# the full-width forms ＝ ＋ － ＠ as their ASCII signs. A leading apostrophe makes it plain text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@dataclass(frozen=True)
class LearnerRow:
    """One enrolment in the course with how far the learner is and how recently she was there."""

    enrolment: Enrolment
    learner: User
    completed: int
    lessons: int
    last_active_at: datetime | None
    practice_days: int

    @property
    def percent(self) -> int:
        """Lessons completed as a whole percentage of the course's lessons."""
        return round(100 * self.completed / self.lessons) if self.lessons else 0

    @property
    def consent_withdrawn(self) -> bool:
        """She withdrew her consent to keeping her practice (health data); the reason is hers."""
        return consent_service.health_consent_withdrawn(self.learner)

    @property
    def source_label(self) -> str:
        return _(SOURCE_LABELS.get(self.enrolment.source, self.enrolment.source))

    @property
    def status_label(self) -> str:
        return _(STATUS_LABELS.get(self.enrolment.status, self.enrolment.status))


def _lesson_count(session: Session, course_id: int | None) -> int:
    count = session.exec(select(func.count()).where(Lesson.course_id == course_id)).one()
    return int(count)


def _progress(session: Session, course_id: int | None) -> dict[int, tuple[int, datetime | None]]:
    """Per enrolled learner: lessons completed, and the last moment she opened or finished one."""
    rows = session.exec(
        select(
            LessonProgress.user_id,
            func.count(col(LessonProgress.completed_at)),
            func.max(col(LessonProgress.last_visited_at)),
            func.max(col(LessonProgress.completed_at)),
        )
        .join(
            Enrolment,
            and_(
                col(Enrolment.user_id) == LessonProgress.user_id,
                col(Enrolment.course_id) == LessonProgress.course_id,
            ),
        )
        .where(LessonProgress.course_id == course_id)
        .group_by(col(LessonProgress.user_id))
    ).all()
    return {
        user_id: (int(done), _latest(visited, finished))
        for user_id, done, visited, finished in rows
    }


def _practice(
    session: Session, course_id: int | None, since: date, today: date
) -> dict[int, tuple[int, datetime | None]]:
    """Per enrolled learner: days practised from `since` to `today`, and her last practice."""
    in_window = col(PracticeLog.practised_on).between(since, today)
    rows = session.exec(
        select(
            PracticeLog.user_id,
            func.count(distinct(case((in_window, col(PracticeLog.practised_on))))),
            func.max(col(PracticeLog.practised_at)),
        )
        .join(
            Enrolment,
            and_(
                col(Enrolment.user_id) == PracticeLog.user_id,
                col(Enrolment.course_id) == PracticeLog.course_id,
            ),
        )
        .where(PracticeLog.course_id == course_id)
        .group_by(col(PracticeLog.user_id))
    ).all()
    return {user_id: (int(days), last) for user_id, days, last in rows}


def _latest(*moments: datetime | None) -> datetime | None:
    return max((moment for moment in moments if moment is not None), default=None)


def one_learner(session: Session, *, course: Course, enrolment_id: int) -> tuple[Enrolment, User]:
    """One enrolment of the course with the learner's account (one statement); NotFound for an
    unknown enrolment or another course's."""
    row = session.exec(
        select(Enrolment, User)
        .join(User, col(User.id) == Enrolment.user_id)
        .where(Enrolment.id == enrolment_id, Enrolment.course_id == course.id)
    ).first()
    if row is None:
        raise NotFound(_("We could not find this learner in this course."))
    return row


def of_course(session: Session, *, course: Course, now: datetime) -> list[LearnerRow]:
    """Everyone with an enrolment in the course, newest first, with progress (four statements)."""
    today = local_day(now)
    since = today - timedelta(days=PRACTICE_WINDOW_DAYS - 1)
    enrolments = enrolment_service.of_course(session, course=course)
    lessons = _lesson_count(session, course.id)
    progress = _progress(session, course.id)
    practice = _practice(session, course.id, since, today)
    rows = []
    for enrolment, learner in enrolments:
        completed, last_lesson = progress.get(enrolment.user_id, (0, None))
        days, last_practice = practice.get(enrolment.user_id, (0, None))
        rows.append(
            LearnerRow(
                enrolment=enrolment,
                learner=learner,
                completed=completed,
                lessons=lessons,
                last_active_at=_latest(last_lesson, last_practice),
                practice_days=days,
            )
        )
    return rows


# --- the CSV export -------------------------------------------------------------------------


def safe_cell(value: Any) -> str:
    """The value as spreadsheet text that is never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _iso_day(moment: datetime | None) -> str:
    return local_day(moment).isoformat() if moment else ""


def _csv_header() -> list[str]:
    return [
        _("Name"),
        _("Email"),
        _("How"),
        _("Reason"),
        _("Enrolled on"),
        _("Status"),
        _("Progress (%)"),
        _("Lessons completed"),
        _("Lessons in the course"),
        _("Last active"),
        _("Practice days (last 7 days)"),
        _("Practice log consent"),
    ]


def _csv_row(row: LearnerRow) -> list[object]:
    return [
        row.learner.name,
        row.learner.email,
        row.source_label,
        row.enrolment.note,
        _iso_day(row.enrolment.enrolled_at),
        row.status_label,
        row.percent,
        row.completed,
        row.lessons,
        _iso_day(row.last_active_at),
        row.practice_days,
        _("withdrawn") if row.consent_withdrawn else "",
    ]


def to_csv(rows: Iterable[LearnerRow]) -> bytes:
    """The rows as a CSV file that Excel with Dutch settings opens into columns.

    Dutch Excel reads `;` as the list separator (the comma is the decimal sign there), so a
    semicolon file opens into columns with a double-click, where a comma file would land in one
    column. The byte order mark makes Excel read UTF-8, so names like "Zoë" stay intact.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(_csv_header())
    for row in rows:
        writer.writerow([safe_cell(value) for value in _csv_row(row)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
