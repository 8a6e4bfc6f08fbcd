"""Her progress and practice log in the download of all her data (GDPR: health data is hers),
and their erasure when she deletes her account."""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course, Lesson
from api.kit.ids import id_of
from api.progress import practice
from api.progress.models import LessonProgress


def export_progress(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Every lesson she opened or completed, with the course, in course order (one statement)."""
    rows = session.exec(
        select(LessonProgress, Lesson, Course)
        .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
        .join(Course, col(Course.id) == LessonProgress.course_id)
        .where(LessonProgress.user_id == user.id)
        .order_by(col(Course.slug), col(Lesson.module_id), col(Lesson.position))
    ).all()
    return [
        {
            "course": course.title,
            "course_slug": course.slug,
            "lesson": lesson.title,
            "lesson_slug": lesson.slug,
            "last_visited_at": record.last_visited_at and record.last_visited_at.isoformat(),
            "completed_at": record.completed_at and record.completed_at.isoformat(),
            "video_position_seconds": record.video_position_seconds,
        }
        for record, lesson, course in rows
    ]


def erase_progress(session: Session, *, user: User) -> None:
    """Delete her progress in every lesson."""
    session.execute(delete(LessonProgress).where(col(LessonProgress.user_id) == user.id))


def export_practice(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her whole practice log, newest first."""
    return practice.export(session, user_id=id_of(user))


def erase_practice(session: Session, *, user: User) -> None:
    """Delete her practice log, notes included."""
    practice.erase(session, user_id=id_of(user))
