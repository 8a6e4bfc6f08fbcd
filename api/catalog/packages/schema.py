"""The course package format as pydantic models: course.yaml and the lesson front matter."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from api.catalog.models import (
    BREATH_HOLD_SECONDS,
    BREATH_SECONDS,
    CYCLES,
    HOLD_SECONDS,
    MAX_PRICE_CENTS,
    RELAX_SECONDS,
    REPS,
    REST_SECONDS,
    SETS,
    CourseStatus,
    Schedule,
    Side,
    VideoProvider,
)
from api.i18n import gettext as _
from api.questionnaires.definition import Definition
from api.questionnaires.models import MAX_EVERY_DAYS, CheckInMoment, QuestionnaireStatus

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_LENGTH = (3, 80)
# These bounds mirror check constraints in api/catalog/models.py that have no named constant.
ESTIMATED_MINUTES = (1, 240)
UNLOCK_AFTER_DAYS = (0, 3650)
PRICE_CENTS = (0, MAX_PRICE_CENTS)
# The lesson's journal prompt (Lesson.journal_prompt), one line.
JOURNAL_PROMPT_LENGTH = 300
# Days without activity before a learner is on her instructor's attention list.
INACTIVE_DAYS = (1, 365)
DEFAULT_INACTIVE_DAYS = 7

_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Z]{2})?$")
_LESSON_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,115}\.md$")
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_VIMEO_ID = re.compile(r"^[0-9]{1,20}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_slug(value: str) -> bool:
    """Whether `value` is a slug: a-z, 0-9 and single hyphens, 3–80 characters."""
    low, high = SLUG_LENGTH
    return low <= len(value) <= high and SLUG.match(value) is not None


def _check_slug(value: str) -> str:
    if not is_slug(value):
        raise PydanticCustomError(
            "slug", _("use a-z, 0-9 and single hyphens, 3–80 characters (e.g. sterke-basis)")
        )
    return value


def is_lesson_file(value: str) -> bool:
    """Whether `value` is a plain .md file name, so it cannot point outside lessons/."""
    return ".." not in value and _LESSON_FILE.match(value) is not None


def _check_lesson_file(value: str) -> str:
    if not is_lesson_file(value):
        raise PydanticCustomError(
            "lesson_file", _("must be a plain .md file name in lessons/, e.g. 01-welkom.md")
        )
    return value


def _check_media_file(value: str) -> str:
    # A name under MEDIA_DIR: no separators or parent references that could leave it.
    if not value or "/" in value or "\\" in value or ".." in value or _CONTROL.search(value):
        raise PydanticCustomError("media_file", _("must be a plain file name without / \\ or .."))
    return value


def _check_one_line(value: str) -> str:
    # As the studio keeps it: one line, so the prompt reads the same in both places.
    if _CONTROL.search(value):
        raise PydanticCustomError("one_line", _("must be one line, without control characters"))
    return value


def _check_language(value: str) -> str:
    if not _LANGUAGE.match(value):
        raise PydanticCustomError("language", _("must be a language code such as nl or en"))
    return value


def _within(bounds: tuple[int, int]) -> AfterValidator:
    """A check that a number lies between the two bounds, inclusive."""
    low, high = bounds

    def check(value: int) -> int:
        if not low <= value <= high:
            # Translated when the check runs, so the message is in the reader's language.
            message = _("must be between %(low)s and %(high)s", low=low, high=high)
            raise PydanticCustomError("out_of_range", message, {"low": low, "high": high})
        return value

    return AfterValidator(check)


# Numbers are strict: `true` or "8" in a number field is a mistake to report, not to convert.
HoldSeconds = Annotated[int, Strict(), _within(HOLD_SECONDS)]
RelaxSeconds = Annotated[int, Strict(), _within(RELAX_SECONDS)]
Reps = Annotated[int, Strict(), _within(REPS)]
Sets = Annotated[int, Strict(), _within(SETS)]
RestSeconds = Annotated[int, Strict(), _within(REST_SECONDS)]
BreathSeconds = Annotated[int, Strict(), _within(BREATH_SECONDS)]
BreathHoldSeconds = Annotated[int, Strict(), _within(BREATH_HOLD_SECONDS)]
Cycles = Annotated[int, Strict(), _within(CYCLES)]
EstimatedMinutes = Annotated[int, Strict(), _within(ESTIMATED_MINUTES)]
UnlockAfterDays = Annotated[int, Strict(), _within(UNLOCK_AFTER_DAYS)]
PriceCents = Annotated[int, Strict(), _within(PRICE_CENTS)]
InactiveDays = Annotated[int, Strict(), _within(INACTIVE_DAYS)]
Flag = Annotated[bool, Strict()]

Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]
OptionalTitle = Annotated[str, StringConstraints(max_length=200)]
Subtitle = Annotated[str, StringConstraints(max_length=300)]
Sentence = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Markdown = Annotated[str, StringConstraints(max_length=50_000)]
RequiredMarkdown = Annotated[str, StringConstraints(min_length=1, max_length=50_000)]

Slug = Annotated[str, AfterValidator(_check_slug)]
JournalPrompt = Annotated[
    str,
    StringConstraints(min_length=1, max_length=JOURNAL_PROMPT_LENGTH, strip_whitespace=True),
    AfterValidator(_check_one_line),
]
Language = Annotated[str, AfterValidator(_check_language)]
LessonFile = Annotated[str, AfterValidator(_check_lesson_file)]
MediaFile = Annotated[str, StringConstraints(max_length=300), AfterValidator(_check_media_file)]


class _Strict(BaseModel):
    # Unknown keys are refused so that a typo ("hold_second") is an error, not a silent default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class FaqEntry(_Strict):
    question: Sentence
    answer: RequiredMarkdown


OneLine = Annotated[
    str, StringConstraints(max_length=300, strip_whitespace=True), AfterValidator(_check_one_line)
]


class Testimonial(_Strict):
    """Words of an earlier participant, shown with her first name on the course page."""

    name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=60, strip_whitespace=True),
        AfterValidator(_check_one_line),
    ]
    text: Annotated[str, StringConstraints(min_length=1, max_length=600, strip_whitespace=True)]
    # The day the instructor noted the participant's permission to show them.
    permission_on: date


class InstructorManifest(_Strict):
    """The profile of the course's instructor, as her course pages show it."""

    photo: MediaFile | None = None
    photo_alt: OneLine = ""
    bio: Annotated[str, StringConstraints(max_length=5000, strip_whitespace=True)] = ""
    credentials: OneLine = ""

    @model_validator(mode="after")
    def _photo_is_described(self) -> "InstructorManifest":
        if self.photo and not self.photo_alt:
            raise PydanticCustomError(
                "photo_alt", _("a photo needs `photo_alt`: what it shows, in a few words")
            )
        return self


class ModuleManifest(_Strict):
    title: Title
    summary: Markdown = ""
    unlock_after_days: UnlockAfterDays = 0
    lessons: list[LessonFile]


class CheckInManifest(_Strict):
    """One of course.yaml's check_ins: when the course asks for one of its questionnaires."""

    questionnaire: Slug
    at: CheckInMoment
    module: Annotated[int, Strict(), _within((1, 1000))] | None = None  # 1-based, as people count
    days: Annotated[int, Strict(), _within((1, MAX_EVERY_DAYS))] | None = None

    @model_validator(mode="after")
    def _fits_moment(self) -> "CheckInManifest":
        if (self.at == CheckInMoment.module) != (self.module is not None):
            raise PydanticCustomError(
                "check_in_module", _("`module: N` goes with `at: module`, and only with it")
            )
        if (self.at == CheckInMoment.every) != (self.days is not None):
            raise PydanticCustomError(
                "check_in_days", _("`days: N` goes with `at: every`, and only with it")
            )
        return self


class PaymentPlanManifest(_Strict):
    """course.yaml's payment_plan: pay in N monthly instalments (api/payments/plans.py)."""

    instalments: Annotated[int, Strict(), _within((2, 12))]
    # Each instalment; left out: the price divided by the instalments, to the cent.
    instalment_cents: Annotated[int, Strict(), _within((50, PRICE_CENTS[1]))] | None = None


class PackageSchedule(StrEnum):
    """How modules open: the course's Schedule, or a drip from a cohort's start."""

    all_at_once = Schedule.all_at_once.value
    drip = Schedule.drip.value
    cohorts = "cohorts"


class CourseManifest(_Strict):
    """course.yaml."""

    slug: Slug
    title: Title
    subtitle: Subtitle = ""
    language: Language
    price_cents: PriceCents
    status: CourseStatus
    # `cohorts`: a drip counted from the start day of her cohort (api/cohorts); the cohorts
    # themselves (dates, places) are the practice's planning, kept in the studio, not here.
    schedule: PackageSchedule
    cover_image: MediaFile | None = None
    cover_alt: OneLine = ""
    description: Markdown = ""
    # What she reads before her cohort starts (with `schedule: cohorts`).
    before_start: Markdown | None = None
    outcomes: list[Sentence] = Field(default_factory=list)
    faq: list[FaqEntry] = Field(default_factory=list)
    testimonials: list[Testimonial] = Field(default_factory=list, max_length=20)
    instructor: InstructorManifest | None = None
    inactive_after_days: InactiveDays = DEFAULT_INACTIVE_DAYS
    payment_plan: PaymentPlanManifest | None = None
    modules: list[ModuleManifest]
    check_ins: list[CheckInManifest] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _plan_fits_price(self) -> "CourseManifest":
        plan = self.payment_plan
        if plan is None:
            return self
        if self.price_cents == 0:
            raise PydanticCustomError(
                "payment_plan_free", _("a free course (price_cents: 0) has no payment_plan")
            )
        if plan.instalment_cents is None and self.price_cents // plan.instalments < 50:
            raise PydanticCustomError(
                "payment_plan_small", _("each instalment must be at least 50 cents")
            )
        if plan.instalment_cents is not None and (
            plan.instalment_cents * plan.instalments < self.price_cents
        ):
            raise PydanticCustomError(
                "payment_plan_short",
                _("instalments × instalment_cents must come to at least price_cents"),
            )
        return self


class Video(_Strict):
    # A Vimeo id written without quotes reads as a number; it is still the id.
    model_config = ConfigDict(coerce_numbers_to_str=True)

    provider: VideoProvider
    id: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    title: OptionalTitle = ""

    @field_validator("id")
    @classmethod
    def _id_fits_provider(cls, value: str, info: ValidationInfo) -> str:
        provider = info.data.get("provider")
        if provider == VideoProvider.youtube and not _YOUTUBE_ID.match(value):
            raise PydanticCustomError(
                "video_id", _("a YouTube id is 11 characters: A-Z a-z 0-9 _ -")
            )
        if provider == VideoProvider.vimeo and not _VIMEO_ID.match(value):
            raise PydanticCustomError("video_id", _("a Vimeo id is a number"))
        if provider == VideoProvider.file:
            return _check_media_file(value)
        return value


class TextStep(_Strict):
    kind: Literal["text"]
    title: OptionalTitle = ""
    body: RequiredMarkdown


class Picture(_Strict):
    """A picture or a short silent loop of an exercise's position, and the words for it."""

    file: MediaFile
    alt: Annotated[
        str,
        StringConstraints(min_length=1, max_length=300, strip_whitespace=True),
        AfterValidator(_check_one_line),
    ]


class ExerciseStep(_Strict):
    kind: Literal["exercise"]
    title: Title
    body: Markdown = ""
    hold_seconds: HoldSeconds
    relax_seconds: RelaxSeconds
    reps: Reps
    sets: Sets
    rest_seconds: RestSeconds = 0
    side: Side | None = None
    cues: list[Title] = Field(default_factory=list)
    picture: Picture | None = None


class BreathingStep(_Strict):
    kind: Literal["breathing"]
    title: Title
    body: Markdown = ""
    inhale_seconds: BreathSeconds
    hold_seconds: BreathHoldSeconds = 0
    exhale_seconds: BreathSeconds
    cycles: Cycles


AnyStep = Annotated[TextStep | ExerciseStep | BreathingStep, Field(discriminator="kind")]


class LessonMeta(_Strict):
    """The front matter of a lesson file."""

    slug: Slug
    title: Title
    estimated_minutes: EstimatedMinutes
    free_preview: Flag = False
    video: Video | None = None
    journal_prompt: JournalPrompt | None = None
    steps: list[AnyStep] = Field(default_factory=list)


class QuestionnaireManifest(Definition):
    """questionnaires/<slug>.yaml: the questionnaire's name and use, then its definition."""

    slug: Slug
    title: Title
    language: Language
    status: QuestionnaireStatus = QuestionnaireStatus.draft
    self_test: Flag = False

    @property
    def definition(self) -> Definition:
        """The definition fields alone, as the questionnaire row stores them."""
        return Definition.model_validate(self.model_dump(include=set(Definition.model_fields)))


HEAD_FIELDS = ("slug", "title", "language", "status", "self_test")


@dataclass(frozen=True)
class PackageLesson:
    """One lessons/<file>.md: its front matter and its Markdown body."""

    file_name: str
    meta: LessonMeta
    body: str


@dataclass(frozen=True)
class PackageModule:
    """A module of course.yaml with its lessons resolved from their files."""

    manifest: ModuleManifest
    lessons: tuple[PackageLesson, ...]


COURSE_FILE = "course.yaml"
LESSONS_DIR = "lessons"
MEDIA_DIR = "media"
QUESTIONNAIRES_DIR = "questionnaires"


def questionnaire_file(slug: str) -> str:
    """The package file of the questionnaire with this slug."""
    return f"{QUESTIONNAIRES_DIR}/{slug}.yaml"


@dataclass(frozen=True)
class MediaRef:
    """A stored file the package names: the course's cover, a lesson's uploaded video or a
    step's picture."""

    name: str
    video: bool  # a lesson's video; else the course's cover image (or a step's picture)
    file: str  # the package file that names it, e.g. lessons/02-adem.md
    field: str  # e.g. video.id
    # A step's picture: an image, a drawing or a short loop (`video` says nothing then).
    picture: bool = False

    @property
    def where(self) -> tuple[str, str]:
        return self.file, self.field


@dataclass(frozen=True)
class CoursePackage:
    """A valid course package, ready to import."""

    course: CourseManifest
    lessons: dict[str, PackageLesson]  # by file name
    # Files the package brings in its media/ folder, by the name the package uses.
    media: Mapping[str, Path] = field(default_factory=dict)
    # The line of each (file, field) that names a stored file, a questionnaire's slug or a
    # band's course, for the problems only the import can find.
    lines: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # questionnaires/<slug>.yaml, by slug.
    questionnaires: Mapping[str, QuestionnaireManifest] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.course.slug

    def media_refs(self) -> list[MediaRef]:
        """Every stored file the package names, in reading order."""
        refs = []
        if self.course.cover_image:
            refs.append(MediaRef(self.course.cover_image, False, COURSE_FILE, "cover_image"))
        instructor = self.course.instructor
        if instructor is not None and instructor.photo:
            refs.append(MediaRef(instructor.photo, False, COURSE_FILE, "instructor.photo"))
        for name, lesson in sorted(self.lessons.items()):
            video = lesson.meta.video
            if video is not None and video.provider == VideoProvider.file:
                refs.append(MediaRef(video.id, True, f"{LESSONS_DIR}/{name}", "video.id"))
            for number, step in enumerate(lesson.meta.steps):
                if isinstance(step, ExerciseStep) and step.picture is not None:
                    where = f"steps.{number}.picture.file"
                    refs.append(
                        MediaRef(step.picture.file, False, f"{LESSONS_DIR}/{name}", where, True)
                    )
        return refs

    def renamed(self, names: Mapping[str, str]) -> "CoursePackage":
        """The package with each stored file it names renamed as `names` says."""
        if not any(names.get(ref.name, ref.name) != ref.name for ref in self.media_refs()):
            return self
        cover = self.course.cover_image
        if cover is not None:
            cover = names.get(cover, cover)
        instructor = self.course.instructor
        if instructor is not None and instructor.photo:
            photo = names.get(instructor.photo, instructor.photo)
            instructor = instructor.model_copy(update={"photo": photo})
        course = self.course.model_copy(update={"cover_image": cover, "instructor": instructor})
        lessons = {name: _renamed(lesson, names) for name, lesson in self.lessons.items()}
        return replace(self, course=course, lessons=lessons)

    def modules(self) -> list[PackageModule]:
        """The modules in order, each with its lessons in order."""
        return [
            PackageModule(module, tuple(self.lessons[name] for name in module.lessons))
            for module in self.course.modules
        ]

    @property
    def lesson_count(self) -> int:
        return sum(len(module.lessons) for module in self.course.modules)


def _renamed(lesson: PackageLesson, names: Mapping[str, str]) -> PackageLesson:
    video = lesson.meta.video
    if video is not None and video.provider == VideoProvider.file:
        video = video.model_copy(update={"id": names.get(video.id, video.id)})
    steps = [_renamed_step(step, names) for step in lesson.meta.steps]
    return replace(lesson, meta=lesson.meta.model_copy(update={"video": video, "steps": steps}))


def _renamed_step(step: AnyStep, names: Mapping[str, str]) -> AnyStep:
    if not isinstance(step, ExerciseStep) or step.picture is None:
        return step
    file = names.get(step.picture.file, step.picture.file)
    return step.model_copy(update={"picture": step.picture.model_copy(update={"file": file})})
