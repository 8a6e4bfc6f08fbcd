"""What the catalog API answers: courses as the catalog lists them, a course's outline and a
lesson."""

from pydantic import BaseModel


class InstructorPublic(BaseModel):
    name: str


class CourseSummary(BaseModel):
    """A course as the catalog lists it."""

    slug: str
    title: str
    subtitle: str
    language: str
    price_cents: int
    is_free: bool
    instructor: InstructorPublic


class LessonSummary(BaseModel):
    """A lesson in the outline; `locked` says whether this visitor may open it now."""

    slug: str
    title: str
    estimated_minutes: int
    free_preview: bool
    locked: bool


class ModulePublic(BaseModel):
    title: str
    summary: str
    unlock_after_days: int
    lessons: list[LessonSummary]


class FaqPublic(BaseModel):
    question: str
    answer_html: str


class CourseDetail(CourseSummary):
    """A course's page as data: description, outcomes, questions and the outline."""

    status: str
    schedule: str
    description_html: str
    outcomes: list[str]
    faq: list[FaqPublic]
    lesson_count: int
    total_minutes: int
    modules: list[ModulePublic]


class VideoPublic(BaseModel):
    """A video is a provider and its id (a file name for `file`), never HTML."""

    provider: str
    id: str
    title: str


class PicturePublic(BaseModel):
    """An exercise's picture of its position: where to fetch it, and the words for it."""

    url: str
    alt: str


class StepPublic(BaseModel):
    """A step; `params` holds the timing by field name, `description` reads it out."""

    id: int
    kind: str
    title: str
    body_html: str
    params: dict[str, int | str]
    cues: list[str]
    description: str
    picture: PicturePublic | None = None


class LessonLink(BaseModel):
    slug: str
    title: str


class LessonDetail(BaseModel):
    """A lesson with its video, explanation and steps."""

    slug: str
    title: str
    course_slug: str
    module_title: str
    number: int
    lesson_count: int
    estimated_minutes: int
    free_preview: bool
    body_html: str
    video: VideoPublic | None
    steps: list[StepPublic]
    previous: LessonLink | None
    next: LessonLink | None
