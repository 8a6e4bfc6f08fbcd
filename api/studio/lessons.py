"""Writing lessons in the studio: create, edit (safely, with two tabs open), reorder, delete.

Every function takes the course the caller already checked with `api.studio.access`, and looks
the module or lesson up *within* that course, so an id from another course is simply not found.
"""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.catalog import steps as catalog_steps
from api.catalog.models import Course, Lesson, Module, Step, VideoProvider
from api.catalog.packages.schema import (
    ESTIMATED_MINUTES,
    JOURNAL_PROMPT_LENGTH,
    SLUG_LENGTH,
    is_slug,
)
from api.errors import Conflict, FormError
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.kit.lookup import child_of
from api.kit.slugs import slugify
from api.media import usage as media_usage
from api.media.storage import MediaStorage
from api.progress.models import LessonProgress, PracticeLog
from api.studio import lesson_video
from api.studio.courses import (
    MARKDOWN_LENGTH,
    TITLE_LENGTH,
    clean_line,
    clean_text,
    first_free,
    touch,
)
from api.studio.modules import module_in, move_within, renumber

_NUMBER = re.compile(r"[0-9]{1,9}")


class LessonInput(BaseModel):
    """The lesson form as typed: plain strings and checkboxes, checked when saved."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str = ""
    slug: str = ""
    body: str = ""
    estimated_minutes: str = "5"
    free_preview: bool = False
    video_url: str = ""
    video_title: str = ""
    remove_video: bool = False
    journal_prompt: str = ""


@dataclass
class StepLine:
    """A step as the lesson page lists it: the step and its dose in one sentence."""

    step: Step
    dose: str


@dataclass
class LessonPage:
    """A lesson with its module, its steps and its place among the module's lessons."""

    course: Course
    module: Module
    lesson: Lesson
    steps: list[StepLine]
    index: int
    count: int


class LessonChanged(Conflict):
    """The lesson was saved elsewhere after this form was opened; nothing was written."""

    def __init__(self, current: Lesson) -> None:
        super().__init__(
            _(
                "This lesson has been changed elsewhere in the meantime (in another tab or "
                "by someone else). Nothing has been saved and nothing has been overwritten."
            )
        )
        self.current = current


def parse_number(value: str, bounds: tuple[int, int], *, field: str, errors: dict[str, str]) -> int:
    """A whole number within `bounds`; otherwise an error for `field` naming the range."""
    low, high = bounds
    text = value.strip()
    if _NUMBER.fullmatch(text) and low <= int(text) <= high:
        return int(text)
    errors[field] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
    return low


def form_values(lesson: Lesson) -> dict[str, str]:
    """The lesson as the edit form shows it."""
    return {
        "title": lesson.title,
        # As the form names its input: apart from the course's slug in the page's address.
        "lesson_slug": lesson.slug,
        "body": lesson.body,
        "estimated_minutes": str(lesson.estimated_minutes),
        "free_preview": "on" if lesson.free_preview else "",
        "video_url": lesson_video.video_url(lesson),
        "video_title": lesson.video_title,
        "journal_prompt": lesson.journal_prompt or "",
        "version": str(lesson.version),
    }


def changed_fields(saved: dict[str, str], typed: Mapping[str, object]) -> list[str]:
    """The form fields where what is saved differs from what was typed (version aside)."""
    return [
        name
        for name in saved
        if name != "version" and saved[name].strip() != str(typed.get(name, "")).strip()
    ]


# --- looking up ---------------------------------------------------------------------------------


def lesson_of(session: Session, *, course: Course, lesson_id: int) -> Lesson:
    """The course's lesson with this id; NotFound for any other id."""
    return child_of(
        session,
        Lesson,
        lesson_id,
        parent_column=col(Lesson.course_id),
        parent_id=course.id,
        message=_("We could not find this lesson."),
    )


def _module_lessons(session: Session, module_id: int) -> list[Lesson]:
    return list(
        session.exec(
            select(Lesson)
            .where(Lesson.module_id == module_id)
            .order_by(col(Lesson.position), col(Lesson.id))
        )
    )


def page(session: Session, *, course: Course, lesson: Lesson) -> LessonPage:
    """Everything the lesson's studio page shows."""
    module = module_in(session, course=course, module_id=lesson.module_id)
    siblings = _module_lessons(session, lesson.module_id)
    rows = session.exec(
        select(Step).where(Step.lesson_id == lesson.id).order_by(col(Step.position), col(Step.id))
    )
    return LessonPage(
        course=course,
        module=module,
        lesson=lesson,
        steps=[StepLine(step, catalog_steps.describe(step)) for step in rows],
        index=next(i for i, row in enumerate(siblings) if row.id == lesson.id),
        count=len(siblings),
    )


# --- checking the form --------------------------------------------------------------------------


def _unique_slug(session: Session, course: Course, base: str, *, exclude: int | None) -> str:
    """`base`, or `base-2`, `base-3` … whichever no other lesson of the course uses."""
    taken = set(
        session.exec(
            select(Lesson.slug).where(Lesson.course_id == course.id, col(Lesson.id) != exclude)
        )
    )
    return first_free(base, taken)


def _slug(
    session: Session, course: Course, data: LessonInput, title: str, lesson: Lesson | None
) -> tuple[str, str | None]:
    """The lesson's slug, made from the title when left empty; or what is wrong with it."""
    typed = data.slug.strip().lower()
    exclude = lesson.id if lesson else None
    if not typed:
        base = slugify(title, max_length=SLUG_LENGTH[1])
        if len(base) < SLUG_LENGTH[0]:
            base = f"les-{base}" if base else "les"
        return _unique_slug(session, course, base, exclude=exclude), None
    if not is_slug(typed):
        made = slugify(title, max_length=SLUG_LENGTH[1])
        example = made if is_slug(made) else "adem-rustig"
        return typed, _(
            "Use only a–z, 0–9 and hyphens, 3 to 80 characters, for example %(example)s.",
            example=example,
        )
    if _unique_slug(session, course, typed, exclude=exclude) != typed:
        return typed, _(
            "Another lesson in this course already uses this web address. Choose another one, "
            "or leave the field empty to make one from the title."
        )
    return typed, None


def _check(
    session: Session, course: Course, data: LessonInput, lesson: Lesson | None = None
) -> dict[str, Any]:
    """The lesson's new column values; FormError listing every field that is wrong."""
    errors: dict[str, str] = {}
    title = clean_line(data.title)
    if not title:
        errors["title"] = _("Give the lesson a title.")
    elif len(title) > TITLE_LENGTH:
        errors["title"] = _("Keep the title under %(num)s characters.", num=TITLE_LENGTH)
    slug, slug_error = _slug(session, course, data, title, lesson)
    if slug_error:
        errors["slug"] = slug_error
    body = clean_text(data.body)
    if len(body) > MARKDOWN_LENGTH:
        errors["body"] = _("Keep the text under %(num)s characters.", num=MARKDOWN_LENGTH)
    minutes = parse_number(
        data.estimated_minutes, ESTIMATED_MINUTES, field="estimated_minutes", errors=errors
    )
    provider, ref = lesson_video.chosen(data.video_url, data.remove_video, lesson, errors)
    lesson_video.check_owned(
        session,
        course=course,
        lesson=lesson,
        errors=errors,
        ref=(ref if provider == VideoProvider.file else None),
    )
    video_title = clean_line(data.video_title)
    if len(video_title) > TITLE_LENGTH:
        errors["video_title"] = _("Keep the title under %(num)s characters.", num=TITLE_LENGTH)
    prompt = clean_line(data.journal_prompt)
    if len(prompt) > JOURNAL_PROMPT_LENGTH:
        errors["journal_prompt"] = _(
            "Keep the question under %(num)s characters.", num=JOURNAL_PROMPT_LENGTH
        )
    if errors:
        raise FormError(errors)
    return {
        "title": title,
        "slug": slug,
        "body": body,
        "estimated_minutes": minutes,
        "free_preview": data.free_preview,
        "video_provider": provider,
        "video_ref": ref,
        "video_title": video_title,
        "journal_prompt": prompt or None,
    }


# --- changing -----------------------------------------------------------------------------------


@contextmanager
def _slug_guard(session: Session) -> Iterator[None]:
    """A slug taken by another request after the check is a form error, not a 500."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError:
        raise FormError(
            {"slug": _("Another lesson in this course already uses this web address.")}
        ) from None


def create(session: Session, *, course: Course, module: Module, data: LessonInput) -> Lesson:
    """A new lesson at the end of the module; FormError for bad input."""
    values = _check(session, course, data)
    # Both rows were read from the database, so they have their ids.
    lesson = Lesson(
        module_id=id_of(module),
        course_id=id_of(course),
        position=len(_module_lessons(session, id_of(module))),
        **values,
    )
    with _slug_guard(session):
        session.add(lesson)
        session.flush()
    lesson_video.record(session, course=course, lesson=lesson)
    touch(session, course=course)
    return lesson


def save(
    session: Session,
    *,
    course: Course,
    lesson: Lesson,
    data: LessonInput,
    version: str,
    storage: MediaStorage,
) -> Lesson:
    """Save the form opened at `version`; LessonChanged when the lesson moved on since then."""
    values = _check(session, course, data, lesson)
    old_file = lesson.video_ref if lesson.video_provider == VideoProvider.file else None
    sent = int(version) if _NUMBER.fullmatch(version.strip()) else -1
    # Check and bump in one statement: of two saves based on the same version, the database
    # lets exactly one through, whatever this session read before.
    with _slug_guard(session):
        saved = session.execute(
            update(Lesson)
            .where(col(Lesson.id) == lesson.id, col(Lesson.version) == sent)
            .values(**values, version=col(Lesson.version) + 1)
            .returning(col(Lesson.id))
            .execution_options(synchronize_session=False)
        ).first()
    session.refresh(lesson)
    if saved is None:
        raise LessonChanged(lesson)
    if lesson.video_ref != old_file:
        lesson_video.record(session, course=course, lesson=lesson)
    touch(session, course=course)
    if old_file and old_file != lesson.video_ref:
        # The uploaded video she removed (or replaced by a link) goes once this commits.
        media_usage.discard_if_unused(session, name=old_file, storage=storage)
    return lesson


def move(session: Session, *, course: Course, lesson: Lesson, direction: str) -> None:
    """Move the lesson one place up or down within its module."""
    if move_within(session, _module_lessons(session, lesson.module_id), lesson, direction):
        touch(session, course=course)


def has_learner_data(session: Session, *, lesson: Lesson) -> bool:
    """Whether any learner opened, finished or practised this lesson."""
    progress = session.exec(
        select(LessonProgress.id).where(LessonProgress.lesson_id == lesson.id).limit(1)
    ).first()
    if progress is not None:
        return True
    practice = session.exec(
        select(PracticeLog.id).where(PracticeLog.lesson_id == lesson.id).limit(1)
    ).first()
    return practice is not None


def delete(session: Session, *, course: Course, lesson: Lesson) -> None:
    """Delete the lesson and its steps; Conflict when learners have worked on it."""
    if has_learner_data(session, lesson=lesson):
        raise Conflict(
            _(
                "Learners have already opened or practised this lesson, so it cannot be "
                "deleted: their progress would be lost. You can change the lesson instead, "
                "or archive the whole course."
            )
        )
    module_id = lesson.module_id
    session.delete(lesson)
    session.flush()
    renumber(session, _module_lessons(session, module_id))
    touch(session, course=course)
