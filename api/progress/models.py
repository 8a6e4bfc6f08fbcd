"""What a learner did: lessons opened and completed, video positions, and logged practice."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow

EFFORT = (1, 5)
MAX_NOTE_LENGTH = 500
MAX_DURATION_SECONDS = 4 * 3600


def _owner(table: str) -> Column[int]:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False)


class LessonProgress(SQLModel, table=True):
    """One learner in one lesson: when she last opened it, finished it, and where the video was."""

    __tablename__ = "lesson_progress"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner("user_account"))
    lesson_id: int = Field(sa_column=_owner("lesson"))
    # Denormalised from the lesson so a course's progress comes in one indexed query.
    course_id: int = Field(sa_column=_owner("course"))
    last_visited_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    video_position_seconds: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id", name="uq_lesson_progress_user_id_lesson_id"),
        CheckConstraint("video_position_seconds BETWEEN 0 AND 86400", name="video_position"),
        Index("ix_lesson_progress_user_id_course_id", "user_id", "course_id"),
        Index("ix_lesson_progress_lesson_id", "lesson_id"),
    )

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


class PracticeLog(SQLModel, table=True):
    """One finished (or stopped) practice of one step, as the learner's browser reported it."""

    __tablename__ = "practice_log"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner("user_account"))
    # The browser makes this id before the first attempt to send, so a log that is sent again
    # after a lost answer is recognised and stored once.
    client_id: str = Field(max_length=64)
    # The step may later be edited or deleted by the instructor; the log keeps what was done.
    step_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("lesson_step.id", ondelete="SET NULL"), nullable=True),
    )
    lesson_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("lesson.id", ondelete="SET NULL"), nullable=True),
    )
    course_id: int = Field(sa_column=_owner("course"))
    step_title: str = Field(default="", max_length=200)
    step_kind: str = Field(max_length=20)
    practised_at: datetime = Field(sa_column=moment())
    # The Amsterdam calendar day of practised_at, kept so streaks and week charts read one small
    # index instead of converting every timestamp.
    practised_on: date = Field(sa_column=Column(Date, nullable=False))
    duration_seconds: int = Field(default=0)
    sets_done: int = Field(default=0)
    reps_done: int = Field(default=0)
    effort: int | None = None
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        UniqueConstraint("user_id", "client_id", name="uq_practice_log_user_id_client_id"),
        CheckConstraint(
            f"effort IS NULL OR effort BETWEEN {EFFORT[0]} AND {EFFORT[1]}", name="effort"
        ),
        CheckConstraint(f"duration_seconds BETWEEN 0 AND {MAX_DURATION_SECONDS}", name="duration"),
        CheckConstraint("sets_done BETWEEN 0 AND 100", name="sets_done"),
        CheckConstraint("reps_done BETWEEN 0 AND 10000", name="reps_done"),
        Index("ix_practice_log_user_id_practised_on", "user_id", "practised_on"),
        Index("ix_practice_log_course_id_practised_on", "course_id", "practised_on"),
    )
