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


class StreamState(StrEnum):
    queued = "queued"  # waiting for the worker
    processing = "processing"  # the worker is converting it (see `progress`)
    ready = "ready"  # the adaptive stream, poster and duration are there
    failed = "failed"  # see `reason`; the original file keeps playing


class VideoStream(SQLModel, table=True):
    """The adaptive (HLS) stream of an uploaded video: the worker's job and what it made.

    One row per stored video file (`name`, the original, which is kept and plays until the stream
    is ready). The playlists, segments and poster live under `prefix` (api/media/hls.py), a random
    folder name of their own so that nothing about the original shows in their addresses.
    """

    __tablename__ = "video_stream"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)
    prefix: str = Field(max_length=32)
    state: str = Field(default=StreamState.queued.value, max_length=10)
    # 0–100 while processing, parsed from ffmpeg's progress report.
    progress: int = 0
    # A short code (api/media/hls.py REASONS) that the pages say in her language.
    reason: str | None = Field(default=None, max_length=40)
    duration_seconds: float | None = None
    has_poster: bool = False
    # The renditions' heights, smallest first: "360,540,720".
    renditions: str = Field(default="", max_length=60)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        CheckConstraint("state IN ('queued', 'processing', 'ready', 'failed')", name="state"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        Index("uq_video_stream_name", "name", unique=True),
        Index("uq_video_stream_prefix", "prefix", unique=True),
        Index("ix_video_stream_state", "state"),
    )
