"""Journal entries: private to her unless she shares one with a course's instructor."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow

MAX_ENTRY_LENGTH = 5000


def _ref(table: str, *, ondelete: str = "CASCADE", nullable: bool = False) -> Column[int]:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable)


class JournalEntry(SQLModel, table=True):
    """One entry she wrote: health data, kept only with her consent."""

    __tablename__ = "journal_entry"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_ref("user_account"))
    day: date = Field(sa_column=Column(Date, nullable=False))  # her Amsterdam day
    text: str = Field(sa_column=Column(Text, nullable=False))
    tension: int | None = None  # 0–10
    pain: int | None = None  # 0–10
    # The prompt she wrote to, as she read it, and the lesson that offered it.
    prompt: str = Field(default="", max_length=300)
    lesson_id: int | None = Field(
        default=None, sa_column=_ref("lesson", ondelete="SET NULL", nullable=True)
    )
    # Shared with the instructor of this course (one she is enrolled in); None: private.
    shared_course_id: int | None = Field(
        default=None, sa_column=_ref("course", ondelete="SET NULL", nullable=True)
    )
    shared_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    written_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        CheckConstraint("tension IS NULL OR tension BETWEEN 0 AND 10", name="tension"),
        CheckConstraint("pain IS NULL OR pain BETWEEN 0 AND 10", name="pain"),
        CheckConstraint(f"length(text) BETWEEN 1 AND {MAX_ENTRY_LENGTH}", name="text"),
        Index("ix_journal_entry_user_id_day", "user_id", "day"),
        Index("ix_journal_entry_shared_course_id", "shared_course_id"),
    )
