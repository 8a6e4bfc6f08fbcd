"""Modules in the studio: add, edit, reorder and delete the parts of a course.

Positions within a course stay 0..n-1: moving swaps two neighbours and deleting closes the gap,
both in the request's one transaction. `move_within` and `renumber` work for any ordered rows
(lessons in a module, steps in a lesson) the same way.
"""

from collections.abc import Sequence
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.catalog.models import Course, Lesson, Module, Schedule
from api.catalog.packages.schema import UNLOCK_AFTER_DAYS
from api.errors import Conflict, FormError
from api.i18n import gettext as _
from api.kit.lookup import child_of
from api.progress.models import LessonProgress, PracticeLog
from api.studio.courses import MARKDOWN_LENGTH, TITLE_LENGTH, clean_line, clean_text, touch

DRIP_DAYS_PER_MODULE = 7


class ModuleForm(BaseModel):
    """The module form as typed; an empty unlock_after_days means "the default"."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str = ""
    summary: str = ""
    unlock_after_days: str = ""


class _Ordered(Protocol):
    position: int


Item = TypeVar("Item", bound=_Ordered)


def renumber(session: Session, ordered: Sequence[_Ordered]) -> None:
    """Give the items positions 0..n-1 in the order given."""
    for position, item in enumerate(ordered):
        if item.position != position:
            item.position = position
            session.add(item)
    session.flush()


def move_within(session: Session, siblings: Sequence[Item], item: Item, direction: str) -> bool:
    """Swap the item with its neighbour ("up" or "down"); False at either end."""
    if direction not in {"up", "down"}:
        raise FormError({"direction": _("Choose whether to move it up or down.")})
    ordered = list(siblings)
    index = next(i for i, sibling in enumerate(ordered) if sibling is item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return False
    ordered[index], ordered[other] = ordered[other], ordered[index]
    renumber(session, ordered)
    return True


def _modules(session: Session, course: Course) -> list[Module]:
    return list(
        session.exec(
            select(Module)
            .where(Module.course_id == course.id)
            .order_by(col(Module.position), col(Module.id))
        ).all()
    )


def module_in(session: Session, *, course: Course, module_id: int) -> Module:
    """A module of this course; NotFound for an unknown id or another course's module."""
    return child_of(
        session,
        Module,
        module_id,
        parent_column=col(Module.course_id),
        parent_id=course.id,
        message=_("We could not find this module."),
    )


def default_unlock_days(session: Session, *, course: Course) -> int:
    """When a new module opens: a week after the last one in a drip course, else at once."""
    if course.schedule != Schedule.drip:
        return 0
    count = session.exec(select(func.count()).where(Module.course_id == course.id)).one()
    return min(DRIP_DAYS_PER_MODULE * count, UNLOCK_AFTER_DAYS[1])


def _module_values(form: ModuleForm, *, default_days: int) -> tuple[str, str, int]:
    """Title, summary and opening day; FormError naming every field that is not right."""
    errors: dict[str, str] = {}
    title, summary = clean_line(form.title), clean_text(form.summary)
    if not title:
        errors["title"] = _("Give the module a title.")
    elif len(title) > TITLE_LENGTH:
        errors["title"] = _("The title can be at most %(max)s characters.", max=TITLE_LENGTH)
    if len(summary) > MARKDOWN_LENGTH:
        errors["summary"] = _("The text can be at most %(max)s characters.", max=MARKDOWN_LENGTH)
    days_text = form.unlock_after_days.strip()
    is_number = days_text.isascii() and days_text.isdigit() and len(days_text) <= 6
    days = int(days_text) if is_number else -1
    if not days_text:
        days = default_days
    elif not UNLOCK_AFTER_DAYS[0] <= days <= UNLOCK_AFTER_DAYS[1]:
        errors["unlock_after_days"] = _(
            "Enter a number of days from %(low)s to %(high)s.",
            low=UNLOCK_AFTER_DAYS[0],
            high=UNLOCK_AFTER_DAYS[1],
        )
    if errors:
        raise FormError(errors)
    return title, summary, days


def add_module(session: Session, *, course: Course, form: ModuleForm) -> Module:
    """A new module at the end of the course."""
    if course.id is None:
        raise ValueError("a module needs a stored course")
    title, summary, days = _module_values(
        form, default_days=default_unlock_days(session, course=course)
    )
    count = session.exec(select(func.count()).where(Module.course_id == course.id)).one()
    module = Module(
        course_id=course.id, position=count, title=title, summary=summary, unlock_after_days=days
    )
    session.add(module)
    touch(session, course=course)
    session.add(course)
    session.flush()
    return module


def update_module(session: Session, *, course: Course, module: Module, form: ModuleForm) -> None:
    """Save the module's title, summary and opening day."""
    new = _module_values(form, default_days=module.unlock_after_days)
    if new == (module.title, module.summary, module.unlock_after_days):
        return
    module.title, module.summary, module.unlock_after_days = new
    touch(session, course=course)
    session.add_all([module, course])
    session.flush()


def move_module(session: Session, *, course: Course, module: Module, direction: str) -> None:
    """Swap the module with the one above or below it."""
    if move_within(session, _modules(session, course), module, direction):
        touch(session, course=course)
        session.add(course)
        session.flush()


def module_blocker(session: Session, *, module: Module) -> str | None:
    """Why the module may not be deleted (learners' progress in it), or None."""
    lessons = select(Lesson.id).where(Lesson.module_id == module.id)
    progress = session.exec(
        select(LessonProgress.id).where(col(LessonProgress.lesson_id).in_(lessons))
    ).first()
    practice = session.exec(
        select(PracticeLog.id).where(col(PracticeLog.lesson_id).in_(lessons))
    ).first()
    if progress is None and practice is None:
        return None
    return _(
        "Learners have progress or practice in the lessons of this module, so it cannot be "
        "deleted. Change its lessons instead, or archive the course."
    )


def delete_module(session: Session, *, course: Course, module: Module) -> None:
    """Delete the module with its lessons; the others close up to positions 0..n-1."""
    if reason := module_blocker(session, module=module):
        raise Conflict(reason)
    # The database removes its lessons and their steps with it (ON DELETE CASCADE).
    session.delete(module)
    session.flush()
    renumber(session, _modules(session, course))
    touch(session, course=course)
    session.add(course)
    session.flush()
