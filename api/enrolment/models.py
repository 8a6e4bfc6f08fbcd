"""Enrolment: a learner in a course, and how she got there."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class EnrolmentSource(StrEnum):
    free = "free"
    purchase = "purchase"
    manual = "manual"


class EnrolmentStatus(StrEnum):
    active = "active"
    refunded = "refunded"
    disputed = "disputed"
    revoked = "revoked"
    # A payment plan's instalment is overdue past its grace period: back once it is paid.
    paused = "paused"


class Enrolment(SQLModel, table=True):
    """One learner in one course; `enrolled_at` starts the drip clock."""

    __tablename__ = "enrolment"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    course_id: int = Field(
        sa_column=Column(Integer, ForeignKey("course.id", ondelete="CASCADE"), nullable=False)
    )
    source: str = Field(max_length=20)
    status: str = Field(default=EnrolmentStatus.active.value, max_length=20)
    enrolled_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    status_changed_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    # Why an instructor or admin granted or revoked it by hand (e.g. "paid by bank transfer").
    note: str = Field(default="", max_length=500)
    changed_by_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
        ),
    )
    # In a course that runs in cohorts: her cohort, and its start (Amsterdam midnight), from
    # which the drip counts instead of `enrolled_at`. Kept here so every reader of the drip
    # (lesson access, Vandaag, the module mails) needs no other table (api/cohorts/service.py
    # keeps it in step when she moves or the start day changes).
    cohort_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("cohort.id", ondelete="SET NULL"), nullable=True),
    )
    drip_from: datetime | None = Field(default=None, sa_column=moment(nullable=True))

    __table_args__ = (
        # One row per learner and course: the database refuses a second enrolment, which makes
        # concurrent fulfilment (success page and webhook at once) safe.
        UniqueConstraint("user_id", "course_id", name="uq_enrolment_user_id_course_id"),
        CheckConstraint("source IN ('free', 'purchase', 'manual')", name="source"),
        CheckConstraint(
            "status IN ('active', 'refunded', 'disputed', 'revoked', 'paused')", name="status"
        ),
        Index("ix_enrolment_course_id", "course_id"),
        # The worker finds whose drip module opened today by enrolment day, across courses.
        Index("ix_enrolment_enrolled_at", "enrolled_at"),
        Index("ix_enrolment_drip_from", "drip_from"),
        Index("ix_enrolment_cohort_id", "cohort_id"),
    )

    @property
    def drip_start(self) -> datetime:
        """Where the drip clock starts: her cohort's start, or else the moment she enrolled."""
        return self.drip_from or self.enrolled_at

    @property
    def is_active(self) -> bool:
        return self.status == EnrolmentStatus.active
