"""What the progress API reads and answers: progress per lesson and course, practice logs,
and the summary of her day."""

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from api.catalog.schemas import LessonLink
from api.kit.ids import Id
from api.progress.models import EFFORT, MAX_DURATION_SECONDS, MAX_NOTE_LENGTH
from api.progress.service import MAX_VIDEO_POSITION

# The same bounds as the practice_log table's checks, so bad input is a 422 that names the
# field instead of a refused INSERT.
MAX_SETS = 100
MAX_REPS = 10_000


def _not_a_number(value: object) -> object:
    """Refuse a number where a date-time is due."""
    # Pydantic would read 1747200000 (or "0.5") as seconds since 1970; the API describes these
    # fields as ISO 8601 date-times, so a number is refused instead of taken for a moment.
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        raise ValueError("Give an ISO 8601 date and time, e.g. 2026-05-14T09:30:00+02:00")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _in_utc(value: datetime) -> datetime:
    """The moment in UTC, which is how the database compares and stores it."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+01:00 is a valid ISO 8601 date-time, but falls before year 1 in UTC.
        raise ValueError("This date and time is out of range") from None


# An ISO 8601 date-time with its offset, as documented, that has a UTC equivalent.
Moment = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_in_utc)]


class LessonProgressPublic(BaseModel):
    """One learner's progress in one lesson."""

    lesson_slug: str
    completed: bool
    completed_at: datetime | None
    last_visited_at: datetime | None
    video_position_seconds: int


class LessonStatePublic(BaseModel):
    """A lesson in the course progress; `open` says whether the learner may open it now."""

    slug: str
    title: str
    completed: bool
    open: bool


class ModuleProgressPublic(BaseModel):
    """A module's progress; `open` is false until its drip date (`opens_at`) has come."""

    title: str
    percent: int
    open: bool
    opens_at: datetime | None
    lessons: list[LessonStatePublic]


class CourseProgressPublic(BaseModel):
    """How far a learner is in a course, and where she goes on (`resume`)."""

    course_slug: str
    learner_id: int
    percent: int
    completed_count: int
    lesson_count: int
    resume: LessonLink | None
    last_active_at: datetime | None
    modules: list[ModuleProgressPublic]


class PositionUpdate(BaseModel):
    """Where the lesson's video is; whole seconds are kept."""

    seconds: float = Field(ge=0, le=MAX_VIDEO_POSITION)


class PracticeCreate(BaseModel):
    """A finished (or stopped) practice of one step, as the browser reports it."""

    client_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9-]+$",
        description="Made by the browser before the first attempt; a repeat is stored once",
    )
    step_id: Id
    practised_at: Moment
    duration_seconds: int = Field(ge=0, le=MAX_DURATION_SECONDS)
    sets_done: int = Field(ge=0, le=MAX_SETS)
    reps_done: int = Field(ge=0, le=MAX_REPS)
    effort: int | None = Field(default=None, ge=EFFORT[0], le=EFFORT[1])
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH)

    @field_validator("note")
    @classmethod
    def _without_nul(cls, note: str) -> str:
        # PostgreSQL cannot store a NUL character in text; it carries nothing she wrote.
        return note.replace("\x00", "")


class PracticePublic(BaseModel):
    """A logged practice; step title and kind are kept as they were when she practised."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    step_id: int | None
    lesson_id: int | None
    course_id: int
    step_title: str
    step_kind: str
    practised_at: datetime
    practised_on: date
    duration_seconds: int
    sets_done: int
    reps_done: int
    effort: int | None
    note: str


class PracticeEntryPublic(PracticePublic):
    """A logged practice with the course and lesson it belongs to."""

    course_slug: str
    course_title: str
    lesson_slug: str | None


class PracticePage(BaseModel):
    """Logs, newest first; pass `next_cursor` as `cursor` for the next page (null: no more)."""

    items: list[PracticeEntryPublic]
    next_cursor: str | None = Field(
        description="The last log's moment and id: logs that share a moment are never skipped"
    )


class WeekDayPublic(BaseModel):
    day: date
    practices: int
    seconds: int


class CourseBriefPublic(BaseModel):
    """A course on her day: how far she is, the lesson to go on with and, while the drip
    schedule holds it back, when it opens."""

    slug: str
    title: str
    percent: int
    completed_count: int
    lesson_count: int
    next_lesson: LessonLink | None
    next_opens_at: datetime | None


class SummaryPublic(BaseModel):
    """Her day: streak, this week (Monday to Sunday), the course to go on with first, and
    each course she follows."""

    day: date
    streak: int
    practised_today: bool
    week: list[WeekDayPublic]
    next: CourseBriefPublic | None
    courses: list[CourseBriefPublic]
