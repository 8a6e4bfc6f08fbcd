"""Course content: course → module → lesson → step, owned by an instructor."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Integer, Text, text
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class CourseStatus(StrEnum):
    draft = "draft"
    published = "published"
    # Taken out of the catalog for good, but kept: learners have progress and practice in it.
    archived = "archived"


class Schedule(StrEnum):
    all_at_once = "all_at_once"
    drip = "drip"  # module N opens unlock_after_days after enrolment


class VideoProvider(StrEnum):
    youtube = "youtube"
    vimeo = "vimeo"
    file = "file"


class StepKind(StrEnum):
    text = "text"
    exercise = "exercise"
    breathing = "breathing"


class Side(StrEnum):
    left = "left"
    right = "right"
    both = "both"


# Bounds for exercise and breathing parameters. They are wide enough for any programme a
# therapist would write and narrow enough to catch typos (a hold of 0 or of an hour).
HOLD_SECONDS = (1, 120)
RELAX_SECONDS = (1, 120)
REPS = (1, 100)
SETS = (1, 20)
REST_SECONDS = (0, 600)
BREATH_SECONDS = (1, 20)
BREATH_HOLD_SECONDS = (0, 30)
CYCLES = (1, 100)
MAX_PRICE_CENTS = 1_000_000


def _parent(table: str) -> Column[int]:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False)


def _between(column: str, bounds: tuple[int, int]) -> CheckConstraint:
    low, high = bounds
    return CheckConstraint(f"{column} IS NULL OR {column} BETWEEN {low} AND {high}", name=column)


class Course(SQLModel, table=True):
    """A course an instructor publishes; price in euro cents, 0 for free."""

    __tablename__ = "course"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    title: str = Field(max_length=200)
    subtitle: str = Field(default="", max_length=300)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    language: str = Field(default="nl", max_length=8)
    price_cents: int = Field(default=0)
    status: str = Field(default=CourseStatus.draft.value, max_length=20)
    schedule: str = Field(default=Schedule.all_at_once.value, max_length=20)
    cover_image: str | None = Field(default=None, max_length=300)
    # The words that describe the cover to someone who cannot see it (None: none yet).
    cover_alt: str | None = Field(default=None, max_length=300)
    # Short lists shown on the course page; kept with the course as JSON.
    outcomes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    faq: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Words of earlier participants the instructor adds: {name, text, permission_on}, where
    # permission_on is the day (ISO) she noted the participant's permission to show them. None
    # until the first (a NOT NULL JSON column would need a server default, which PostgreSQL
    # cannot compare).
    testimonials: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    instructor_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="RESTRICT"), nullable=False
        )
    )
    # The instructor's saves of the course (the import and the studio count them).
    version: int = Field(default=1)
    # Bumped by database triggers on every change of the course's modules, lessons and steps,
    # so pages can cache the content per version (api/catalog/content.py). Never set it here.
    content_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    published_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    # A learner who has not been active this many days after enrolling (or since her last
    # activity) appears on the instructor's attention list. Bounded (1–365) where it is set,
    # not by a CHECK: adding one would make SQLite rebuild the table and lose its triggers.
    inactive_after_days: int = Field(default=7, sa_column_kwargs={"server_default": "7"})
    # "In N termijnen": how many monthly instalments she may pay in (0: paying at once only),
    # and each instalment's amount (None: the price divided by N, the remainder on the first).
    # Checked where they are set (api/payments/plans.py), not by a CHECK: see above.
    plan_instalments: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    plan_instalment_cents: int | None = Field(default=None)
    # Runs in cohorts (api/cohorts): she buys a place in a cohort and the modules open counted
    # from its start day; nothing opens before it. What she reads before the start (Markdown).
    in_cohorts: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    cohort_preparation: str = Field(
        default="", sa_column=Column(Text, nullable=False, default="", server_default=text("''"))
    )

    __table_args__ = (
        CheckConstraint(f"price_cents BETWEEN 0 AND {MAX_PRICE_CENTS}", name="price_cents"),
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="status"),
        CheckConstraint("schedule IN ('all_at_once', 'drip')", name="schedule"),
        Index("ix_course_instructor_id", "instructor_id"),
    )

    @property
    def is_free(self) -> bool:
        return self.price_cents == 0

    @property
    def is_published(self) -> bool:
        return self.status == CourseStatus.published


class Module(SQLModel, table=True):
    """An ordered part of a course, e.g. one week of a programme."""

    __tablename__ = "course_module"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(sa_column=_parent("course"))
    position: int = Field(default=0)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    unlock_after_days: int = Field(default=0)

    __table_args__ = (
        CheckConstraint("unlock_after_days BETWEEN 0 AND 3650", name="unlock_after_days"),
        Index("ix_course_module_course_id_position", "course_id", "position"),
    )


class Lesson(SQLModel, table=True):
    """An ordered part of a module: explanation, optional video, and steps."""

    __tablename__ = "lesson"

    id: int | None = Field(default=None, primary_key=True)
    module_id: int = Field(sa_column=_parent("course_module"))
    # Denormalised from the module so a course's lessons come in one indexed query.
    course_id: int = Field(sa_column=_parent("course"))
    position: int = Field(default=0)
    slug: str = Field(max_length=80)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    video_provider: str | None = Field(default=None, max_length=20)
    video_ref: str | None = Field(default=None, max_length=300)
    video_title: str = Field(default="", max_length=200)
    estimated_minutes: int = Field(default=5)
    free_preview: bool = Field(default=False)
    # An invitation to write in her journal after this lesson; None for none.
    journal_prompt: str | None = Field(default=None, max_length=300)
    # Bumped on every save in the studio: a save based on an older version is refused, so two
    # tabs editing the same lesson cannot silently overwrite each other.
    version: int = Field(default=1)

    __table_args__ = (
        CheckConstraint(
            "video_provider IS NULL OR video_provider IN ('youtube', 'vimeo', 'file')",
            name="video_provider",
        ),
        CheckConstraint("estimated_minutes BETWEEN 1 AND 240", name="estimated_minutes"),
        Index("uq_lesson_course_id_slug", "course_id", "slug", unique=True),
        Index("ix_lesson_module_id_position", "module_id", "position"),
    )


class Step(SQLModel, table=True):
    """An ordered part of a lesson: a text, an exercise or a breathing pattern."""

    __tablename__ = "lesson_step"

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(sa_column=_parent("lesson"))
    position: int = Field(default=0)
    kind: str = Field(max_length=20)
    title: str = Field(default="", max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # exercise
    hold_seconds: int | None = None
    relax_seconds: int | None = None
    reps: int | None = None
    sets: int | None = None
    rest_seconds: int | None = None
    side: str | None = Field(default=None, max_length=10)
    cues: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # breathing (hold_seconds above is the pause after breathing in)
    inhale_seconds: int | None = None
    exhale_seconds: int | None = None
    cycles: int | None = None
    # exercise: a picture or a short silent loop of the position (a file in MEDIA_DIR, served
    # by api/media/access.py as the lesson is) and the words that describe it.
    media_file: str | None = Field(default=None, max_length=300)
    media_alt: str | None = Field(default=None, max_length=300)

    __table_args__ = (
        CheckConstraint("kind IN ('text', 'exercise', 'breathing')", name="kind"),
        CheckConstraint("side IS NULL OR side IN ('left', 'right', 'both')", name="side"),
        _between("hold_seconds", (min(HOLD_SECONDS[0], BREATH_HOLD_SECONDS[0]), HOLD_SECONDS[1])),
        _between("relax_seconds", RELAX_SECONDS),
        _between("reps", REPS),
        _between("sets", SETS),
        _between("rest_seconds", REST_SECONDS),
        _between("inhale_seconds", BREATH_SECONDS),
        _between("exhale_seconds", BREATH_SECONDS),
        _between("cycles", CYCLES),
        Index("ix_lesson_step_lesson_id_position", "lesson_id", "position"),
    )


class InstructorProfile(SQLModel, table=True):
    """What a course page shows about its instructor: photo, biography and credentials."""

    __tablename__ = "instructor_profile"

    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
        )
    )
    # A file in MEDIA_DIR, shown to everyone on her course pages, and the words for it.
    photo: str | None = Field(default=None, max_length=300)
    photo_alt: str = Field(default="", max_length=300)
    bio: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # E.g. her BIG or registration number, shown as plain text.
    credentials: str = Field(default="", max_length=300)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())
