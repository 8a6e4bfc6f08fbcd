"""Her progress and practice log in the download of all her data (GDPR: health data is hers)."""

from typing import Any

from sqlmodel import Session, col, select

from api.catalog.models import Course, Lesson
from api.progress import practice
from api.progress.models import LessonProgress


def export_progress(session: Session, *, user_id: int) -> list[dict[str, Any]]:
    """Every lesson she opened or completed, with the course, in course order (one statement)."""
    rows = session.exec(
        select(LessonProgress, Lesson, Course)
        .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
        .join(Course, col(Course.id) == LessonProgress.course_id)
        .where(LessonProgress.user_id == user_id)
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


def export(session: Session, *, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """The `progress` and `practice` parts of her data export."""
    return {
        "progress": export_progress(session, user_id=user_id),
        "practice": practice.export(session, user_id=user_id),
    }
