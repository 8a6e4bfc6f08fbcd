"""Intake appointments: when an instructor can be booked, and who booked which time.

Availability is kept as wall-clock times in Amsterdam (a weekly "Tuesday 09:00–12:00" and
exceptions on single days); free times are made from it day by day in local time, so a 09:00
slot stays 09:00 after the clocks change. A booking is stored as a UTC moment, and the unique
pair (instructor, start) is what makes a time impossible to book twice.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow

DEFAULT_SLOT_MINUTES = 30
MAX_NAME = 100
MAX_PHONE = 30
MAX_MESSAGE = 1000
MAX_LINK = 500


def _account(*, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return Column(
        Integer,
        ForeignKey("user_account.id", ondelete=ondelete),
        nullable=nullable,
        index=True,
    )


class IntakeSetting(SQLModel, table=True):
    """An instructor's intake choices: slot length, her video-call link, the questionnaire."""

    __tablename__ = "intake_setting"

    instructor_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
        )
    )
    slot_minutes: int = Field(default=DEFAULT_SLOT_MINUTES)
    video_link: str = Field(default="", max_length=MAX_LINK)
    questionnaire_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("questionnaire.id", ondelete="SET NULL"), nullable=True
        ),
    )


class IntakeHours(SQLModel, table=True):
    """One weekly window in which she can be booked: a weekday (Monday = 0), from, until."""

    __tablename__ = "intake_hours"

    id: int | None = Field(default=None, primary_key=True)
    instructor_id: int = Field(sa_column=_account())
    weekday: int
    starts: str = Field(max_length=5)  # "HH:MM", Amsterdam
    ends: str = Field(max_length=5)


class ExceptionKind(StrEnum):
    off = "off"  # no intakes that day
    extra = "extra"  # extra times that day (one slot when until = from + a slot)


class IntakeException(SQLModel, table=True):
    """A single day that differs from the week: a day off, or extra times."""

    __tablename__ = "intake_exception"

    id: int | None = Field(default=None, primary_key=True)
    instructor_id: int = Field(sa_column=_account())
    day: date = Field(sa_column=Column(Date, nullable=False))
    kind: str = Field(max_length=10)
    starts: str = Field(default="", max_length=5)
    ends: str = Field(default="", max_length=5)


class IntakeBooking(SQLModel, table=True):
    """One booked intake. Cancelling deletes it, with any answers, and frees the time."""

    __tablename__ = "intake_booking"

    id: int | None = Field(default=None, primary_key=True)
    instructor_id: int = Field(sa_column=_account())
    # A learner who booked while signed in; a visitor without an account has none.
    user_id: int | None = Field(default=None, sa_column=_account(nullable=True))
    starts_at: datetime = Field(sa_column=moment())
    ends_at: datetime = Field(sa_column=moment())
    name: str = Field(max_length=MAX_NAME)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=MAX_PHONE)
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The intake questionnaire's answers: health data, kept only with the consent given on the
    # booking form for this purpose (`consent_at`).
    questionnaire_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("questionnaire.id", ondelete="SET NULL"), nullable=True
        ),
    )
    answers: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    consent_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    # The random part of her cancel-or-move link; the link itself is this, signed (service.py).
    manage_key: str = Field(max_length=64)
    # Raised with every move, so calendars replace the event instead of adding one.
    sequence: int = Field(default=0)
    language: str = Field(default="nl", max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    # Set once the reminder of the day before is queued (or not needed: booked within a day).
    reminded_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))

    __table_args__ = (
        UniqueConstraint("instructor_id", "starts_at"),
        # The worker's daily question: which bookings start within a day and await a reminder.
        Index("ix_intake_booking_starts_at", "starts_at"),
    )
