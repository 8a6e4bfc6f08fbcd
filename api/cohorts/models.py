"""Cohorts: a course run that starts on a fixed day, and the places in it."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class Cohort(SQLModel, table=True):
    """One run of a course: its start day (Amsterdam), an optional capacity and the window in
    which she may enrol. `taken` counts the places held for a checkout and the places taken."""

    __tablename__ = "cohort"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(
        sa_column=Column(Integer, ForeignKey("course.id", ondelete="CASCADE"), nullable=False)
    )
    starts_on: date = Field(sa_column=Column(Date, nullable=False))
    # None: as many as want to join.
    capacity: int | None = Field(default=None)
    taken: int = Field(default=0)
    # Enrolment opens and closes on these days (Amsterdam, both inclusive); None: always open
    # before the start / until the start day itself.
    opens_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    closes_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity BETWEEN 1 AND 10000", name="capacity"),
        # The counter may never pass the capacity: the database refuses it even if a bug did not.
        CheckConstraint("taken >= 0 AND (capacity IS NULL OR taken <= capacity)", name="taken"),
        Index("ix_cohort_course_id_starts_on", "course_id", "starts_on"),
    )

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.taken, 0)


class SeatStatus(StrEnum):
    held = "held"  # reserved for a checkout that has not ended yet
    taken = "taken"  # paid for, or given: she is in the cohort
    released = "released"  # the checkout expired or failed; the place is free again


class CohortSeat(SQLModel, table=True):
    """A place in a cohort for one learner: held while she pays, then taken or released."""

    __tablename__ = "cohort_seat"

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cohort.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    status: str = Field(default=SeatStatus.held.value, max_length=10)
    checkout_session_id: str | None = Field(default=None, max_length=255)
    # A held place is let go after this moment unless Stripe has told how the checkout ended.
    expires_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        CheckConstraint("status IN ('held', 'taken', 'released')", name="status"),
        UniqueConstraint("checkout_session_id", name="uq_cohort_seat_checkout_session_id"),
        Index("ix_cohort_seat_cohort_id_status", "cohort_id", "status"),
        Index("ix_cohort_seat_user_id", "user_id"),
    )
