"""What an instructor marked as handled on her attention list, with a short note."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


def _ref(table: str, *, ondelete: str = "CASCADE", nullable: bool = False) -> Column[int]:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable)


class AttentionHandled(SQLModel, table=True):
    """One reason a learner was on the list, marked handled. The reason's key names the event
    (e.g. "worse:<measurement id>", "question:<moment>"), so a new event of the same kind puts
    her on the list again."""

    __tablename__ = "attention_handled"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(sa_column=_ref("course"))
    learner_id: int = Field(sa_column=_ref("user_account"))
    reason_key: str = Field(max_length=100)
    note: str = Field(default="", max_length=300)
    handled_by_id: int | None = Field(
        default=None, sa_column=_ref("user_account", ondelete="SET NULL", nullable=True)
    )
    handled_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        UniqueConstraint(
            "course_id", "learner_id", "reason_key", name="uq_attention_handled_reason"
        ),
        Index("ix_attention_handled_learner_id", "learner_id"),
    )
