"""A learner's conversation with her course's instructor, and the public questions and answers
an instructor made of one, rewritten without anything that identifies her."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow

MAX_MESSAGE_LENGTH = 4000


def _ref(table: str, *, ondelete: str = "CASCADE", nullable: bool = False) -> Column[int]:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable)


class Thread(SQLModel, table=True):
    """One learner's conversation about one course with its instructor (and admins)."""

    __tablename__ = "thread"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(sa_column=_ref("course"))
    learner_id: int = Field(sa_column=_ref("user_account"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    last_message_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    # Since when her latest message waits for an answer; None once the instructor replied.
    awaiting_reply_since: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    # Read marks: a message is unread for the other side when it is newer than their mark.
    learner_read_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    instructor_read_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))

    __table_args__ = (
        UniqueConstraint("learner_id", "course_id", name="uq_thread_learner_id_course_id"),
        Index("ix_thread_course_id_awaiting_reply_since", "course_id", "awaiting_reply_since"),
    )


class Message(SQLModel, table=True):
    """One message in a thread, by the learner or by the course's instructor or an admin."""

    __tablename__ = "message"

    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(sa_column=_ref("thread"))
    # The learner's own messages go with her account (the thread's cascade); an instructor's
    # reply stays in her thread if the instructor's account goes.
    author_id: int | None = Field(
        default=None, sa_column=_ref("user_account", ondelete="SET NULL", nullable=True)
    )
    from_learner: bool = Field(default=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # The lesson she asked from, shown beside the message; kept if the lesson goes.
    lesson_id: int | None = Field(
        default=None, sa_column=_ref("lesson", ondelete="SET NULL", nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        CheckConstraint(f"length(body) BETWEEN 1 AND {MAX_MESSAGE_LENGTH}", name="body"),
        Index("ix_message_thread_id_created_at", "thread_id", "created_at"),
    )


class LessonQuestion(SQLModel, table=True):
    """A question and answer shown publicly on a lesson, written (or rewritten from a
    conversation, without anything that identifies her) by the instructor."""

    __tablename__ = "lesson_question"

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(sa_column=_ref("lesson"))
    position: int = Field(default=0)
    question: str = Field(sa_column=Column(Text, nullable=False))
    answer: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (Index("ix_lesson_question_lesson_id_position", "lesson_id", "position"),)
