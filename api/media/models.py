"""Which course owns which file in MEDIA_DIR."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class MediaKind(StrEnum):
    image = "image"  # a course's cover, or a step's picture
    video = "video"  # a lesson's uploaded video, or a step's loop


class MediaFile(SQLModel, table=True):
    """A course that owns a stored file: its upload went there, or its package brought it.

    A file can be owned by several courses of one instructor (she named her own file in another
    of her courses); `/media/<name>` serves it by the rules of the courses that own it, and a
    course may name only files its instructor's courses own (api/media/owners.py).
    """

    __tablename__ = "media_file"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)
    course_id: int = Field(
        sa_column=Column(Integer, ForeignKey("course.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        CheckConstraint("kind IN ('image', 'video')", name="kind"),
        Index("uq_media_file_name_course_id", "name", "course_id", unique=True),
        Index("ix_media_file_course_id", "course_id"),
    )
