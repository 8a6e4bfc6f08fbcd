"""A learner's progress: lessons visited and completed, video positions, and how far she is.

Writes are single upserts, so marking a lesson complete is one short statement however often
it is pressed; reads take one statement per course or per list of courses.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Table, bindparam, func
from sqlmodel import Session

from api.catalog.models import Lesson
from api.catalog.service import CourseOutline, ModuleOutline
from api.db import Upsert, bookkeeping, json_rows, moment_from_json, upsert
from api.kit.ids import id_of
from api.progress.models import LessonProgress

# A visit to the lesson she is already on is not written again within this time, so reading a
# lesson costs no write; "last active" stays accurate to within it.
VISIT_RESOLUTION = timedelta(minutes=15)
MAX_VIDEO_POSITION = 86400

TABLE: Table = LessonProgress.__table__  # type: ignore[attr-defined]


def _percent(done: int, total: int) -> int:
    return round(100 * done / total) if total else 0


class ProgressRecord(NamedTuple):
    """Her stored progress in one lesson, as pages read it: plain values, not an ORM object
    (making ~30 of those per page cost more than the query itself). A named tuple, made in a
    third of the time of a frozen dataclass
    (docs/performance.md#her-progress-records-as-named-tuples)."""

    lesson_id: int
    course_id: int
    last_visited_at: datetime | None
    completed_at: datetime | None
    video_position_seconds: int

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


@dataclass
class CourseProgress:
    """One learner's progress through one course, read alongside its outline."""

    outline: CourseOutline
    by_lesson: dict[int, ProgressRecord]

    def completed(self, lesson: Lesson) -> bool:
        record = self.by_lesson.get(id_of(lesson))
        return record is not None and record.completed

    @cached_property
    def completed_count(self) -> int:
        # A page asks several times (the bar, its words, "all done?"); the records do not
        # change while it renders.
        place_of = self.outline.place_of
        return sum(
            1
            for r in self.by_lesson.values()
            if r.completed_at is not None and r.lesson_id in place_of
        )

    @property
    def percent(self) -> int:
        return _percent(self.completed_count, self.outline.lesson_count)

    def module_percent(self, part: ModuleOutline) -> int:
        done = sum(1 for lesson in part.lessons if self.completed(lesson))
        return _percent(done, len(part.lessons))

    @property
    def last_visited(self) -> Lesson | None:
        """The lesson she opened most recently (of two at the same moment, the first in the
        course)."""
        place_of = self.outline.place_of
        visited = [
            (record.last_visited_at, -place_of[record.lesson_id])
            for record in self.by_lesson.values()
            if record.last_visited_at and record.lesson_id in place_of
        ]
        return self.outline.lessons[-max(visited)[1]] if visited else None

    @property
    def last_active_at(self) -> datetime | None:
        moments = [
            moment
            for record in self.by_lesson.values()
            for moment in (record.last_visited_at, record.completed_at)
            if moment is not None
        ]
        return max(moments, default=None)

    @property
    def resume(self) -> Lesson | None:
        """Where to continue: the lesson she was on if unfinished, else the first unfinished
        lesson after it, else the first unfinished one at all; None when all are done."""
        ordered = self.outline.lessons
        last = self.last_visited
        start = self.outline.place_of[last.id] if last is not None else 0
        for lesson in ordered[start:] + ordered[:start]:
            if not self.completed(lesson):
                return lesson
        return None

    def position(self, lesson: Lesson) -> int:
        """Where the lesson's `file` video was left, in whole seconds."""
        record = self.by_lesson.get(id_of(lesson))
        return record.video_position_seconds if record else 0


# Built once: the lesson page, course page and Vandaag run it on every request.
_PROGRESS = sa.select(
    TABLE.c.lesson_id,
    TABLE.c.course_id,
    TABLE.c.last_visited_at,
    TABLE.c.completed_at,
    TABLE.c.video_position_seconds,
).where(
    TABLE.c.user_id == bindparam("user_id"),
    TABLE.c.course_id.in_(bindparam("course_ids", expanding=True)),
)


def progress_json(course_id: Any, user_id: Any) -> Any:
    """Her progress in a course as a `json_rows` subquery, for a page that reads it beside its
    main row (`course_id` and `user_id` are the outer statement's columns or parameters); read
    it with `records_from_json`."""
    return (
        sa.select(
            json_rows(
                TABLE.c.lesson_id,
                TABLE.c.course_id,
                TABLE.c.last_visited_at,
                TABLE.c.completed_at,
                TABLE.c.video_position_seconds,
            )
        )
        .where(TABLE.c.user_id == user_id, TABLE.c.course_id == course_id)
        .scalar_subquery()
    )


def records_from_json(rows: list[list[Any]] | None) -> dict[int, ProgressRecord]:
    """Her progress records, by lesson id, from `progress_json`."""
    records = (
        ProgressRecord(
            lesson_id, course_id, moment_from_json(visited), moment_from_json(completed), position
        )
        for lesson_id, course_id, visited, completed, position in rows or ()
    )
    return {record.lesson_id: record for record in records}


def read(session: Session, *, outline: CourseOutline, user_id: int) -> CourseProgress:
    """The learner's progress in the outlined course (one statement)."""
    return read_many(session, outlines=[outline], user_id=user_id)[0]


def read_many(
    session: Session, *, outlines: list[CourseOutline], user_id: int
) -> list[CourseProgress]:
    """The learner's progress in each outlined course (one statement for all)."""
    if not outlines:
        return []
    rows = session.connection().execute(
        _PROGRESS, {"user_id": user_id, "course_ids": [o.course.id for o in outlines]}
    )
    by_course: dict[int, dict[int, ProgressRecord]] = {}
    for row in rows:
        record = ProgressRecord(*row)
        by_course.setdefault(record.course_id, {})[record.lesson_id] = record
    return [CourseProgress(o, by_course.get(id_of(o.course), {})) for o in outlines]


def _row(values: Any) -> LessonProgress:
    return LessonProgress.model_validate(dict(values._mapping))


def _key(user_id: int, lesson: Lesson, now: datetime) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "lesson_id": lesson.id,
        "course_id": lesson.course_id,
        "updated_at": now,
    }


def record_visit(
    session: Session, *, progress: CourseProgress, user_id: int, lesson: Lesson, now: datetime
) -> None:
    """Remember that she opened the lesson, for "continue where you left off"."""
    record = progress.by_lesson.get(id_of(lesson))
    if (
        record is not None
        and record.last_visited_at is not None
        and progress.last_visited is lesson
        and now - record.last_visited_at < VISIT_RESOLUTION
    ):
        return
    # A lost visit only makes "continue where you left off" one page less precise, which is
    # no reason to refuse the lesson.
    values = {**_key(user_id, lesson, now), "last_visited_at": now}
    bookkeeping(
        session,
        "lesson visit",
        lambda session: upsert(
            session,
            TABLE,
            values,
            keys=["user_id", "lesson_id"],
            update=lambda table, new: {
                "last_visited_at": new.last_visited_at,
                "updated_at": now,
            },
        ),
    )


# Built once: "mark complete" is one of the two busiest writes. Its row comes back as the
# plain record pages read, not as an ORM object.
_COMPLETE = Upsert(
    TABLE,
    keys=["user_id", "lesson_id"],
    returning=[
        TABLE.c.lesson_id,
        TABLE.c.course_id,
        TABLE.c.last_visited_at,
        TABLE.c.completed_at,
        TABLE.c.video_position_seconds,
    ],
    update=lambda table, new: {
        "completed_at": func.coalesce(table.c.completed_at, new.completed_at),
        "updated_at": new.updated_at,
    },
)


def complete(session: Session, *, user_id: int, lesson: Lesson, now: datetime) -> ProgressRecord:
    """Mark the lesson done; pressing it again keeps the first moment (one statement)."""
    row = _COMPLETE(
        session, {**_key(user_id, lesson, now), "completed_at": now, "last_visited_at": now}
    )
    assert row is not None  # noqa: S101 (an upsert that updates always returns its row)
    return ProgressRecord(**row._mapping)


def undo(session: Session, *, user_id: int, lesson: Lesson, now: datetime) -> LessonProgress:
    """Mark the lesson not done (again)."""
    row = upsert(
        session,
        TABLE,
        {**_key(user_id, lesson, now), "completed_at": None},
        keys=["user_id", "lesson_id"],
        update=lambda table, new: {"completed_at": None, "updated_at": now},
    )
    return _row(row)


def save_position(
    session: Session, *, user_id: int, lesson: Lesson, seconds: int, now: datetime
) -> LessonProgress:
    """Remember where she is in the lesson's video."""
    position = max(0, min(int(seconds), MAX_VIDEO_POSITION))
    row = upsert(
        session,
        TABLE,
        {**_key(user_id, lesson, now), "video_position_seconds": position},
        keys=["user_id", "lesson_id"],
        update=lambda table, new: {
            "video_position_seconds": new.video_position_seconds,
            "updated_at": now,
        },
    )
    return _row(row)


def lesson_record(progress: CourseProgress, lesson: Lesson) -> ProgressRecord | None:
    """Her stored progress in one lesson of the course, if any."""
    return progress.by_lesson.get(id_of(lesson))
