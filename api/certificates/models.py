"""A certificate of completion: what it says, fixed when she made it, and its public code."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class Certificate(SQLModel, table=True):
    """Her certificate for one course; the words printed on it are kept as they were printed."""

    __tablename__ = "certificate"

    id: int | None = Field(default=None, primary_key=True)
    # The random part of the verification address /certificates/<code>.
    code: str = Field(max_length=32)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    # Kept when the course goes: the certificate says what it was.
    course_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("course.id", ondelete="SET NULL"), nullable=True),
    )
    name: str = Field(max_length=120)
    course_title: str = Field(max_length=200)
    instructor_name: str = Field(max_length=200)
    # The course's study time when she finished (see api/certificates/service.py hours_of).
    minutes: int
    issued_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        Index("uq_certificate_code", "code", unique=True),
        Index("uq_certificate_user_id_course_id", "user_id", "course_id", unique=True),
    )
