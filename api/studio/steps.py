"""A lesson's steps in the studio: add one with the usual dosing, edit, reorder, delete.

A step change is a lesson change: it bumps the lesson's version (so a lesson form opened before
it is told the lesson changed) and the course's.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from api.catalog.models import (
    BREATH_HOLD_SECONDS,
    BREATH_SECONDS,
    CYCLES,
    HOLD_SECONDS,
    RELAX_SECONDS,
    REPS,
    REST_SECONDS,
    SETS,
    Course,
    Lesson,
    Side,
    Step,
    StepKind,
)
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.kit.lookup import child_of
from api.studio.courses import MARKDOWN_LENGTH, TITLE_LENGTH, clean_line, clean_text, touch
from api.studio.lessons import parse_number
from api.studio.modules import move_within, renumber

MAX_CUES = 20

# The dosing a new step starts with: gentler than the 8-10 s holds of PRODUCT.md, because a
# new learner often cannot hold that long yet and relaxing fully matters as much as squeezing;
# the form's hint tells the instructor to build up from here. Breathing in 4, out 6.
DEFAULTS: dict[str, dict[str, int]] = {
    StepKind.exercise: {
        "hold_seconds": 5,
        "relax_seconds": 10,
        "reps": 8,
        "sets": 2,
        "rest_seconds": 30,
    },
    StepKind.breathing: {"inhale_seconds": 4, "hold_seconds": 0, "exhale_seconds": 6, "cycles": 10},
}

# Each kind's numbers with their bounds; an empty field means the lower bound where that is 0.
NUMBERS: dict[str, dict[str, tuple[int, int]]] = {
    StepKind.exercise: {
        "hold_seconds": HOLD_SECONDS,
        "relax_seconds": RELAX_SECONDS,
        "reps": REPS,
        "sets": SETS,
        "rest_seconds": REST_SECONDS,
    },
    StepKind.breathing: {
        "inhale_seconds": BREATH_SECONDS,
        "hold_seconds": BREATH_HOLD_SECONDS,
        "exhale_seconds": BREATH_SECONDS,
        "cycles": CYCLES,
    },
    StepKind.text: {},
}
_NUMBER_FIELDS = sorted({name for names in NUMBERS.values() for name in names})


class StepInput(BaseModel):
    """A step's form as typed; each kind reads only its own fields."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str = ""
    body: str = ""
    hold_seconds: str = ""
    relax_seconds: str = ""
    reps: str = ""
    sets: str = ""
    rest_seconds: str = ""
    side: str = ""
    cues: str = ""
    inhale_seconds: str = ""
    exhale_seconds: str = ""
    cycles: str = ""


def step_of(session: Session, *, lesson: Lesson, step_id: int) -> Step:
    """The lesson's step with this id; NotFound for any other id."""
    return child_of(
        session,
        Step,
        step_id,
        parent_column=col(Step.lesson_id),
        parent_id=lesson.id,
        message=_("We could not find this step."),
    )


def _lesson_steps(session: Session, lesson: Lesson) -> list[Step]:
    return list(
        session.exec(
            select(Step)
            .where(Step.lesson_id == lesson.id)
            .order_by(col(Step.position), col(Step.id))
        )
    )


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def form_values(step: Step) -> dict[str, str]:
    """The step as its edit form shows it."""
    values = {name: _text(getattr(step, name)) for name in _NUMBER_FIELDS}
    values.update(title=step.title, body=step.body, side=step.side or "", cues="\n".join(step.cues))
    return values


def add(session: Session, *, course: Course, lesson: Lesson, kind: str) -> Step:
    """A new step at the end of the lesson, with the usual dosing for its kind."""
    if kind not in {item.value for item in StepKind}:
        raise FormError({"kind": _("Choose a text, an exercise or a breathing exercise.")})
    titles = {StepKind.exercise: _("Exercise"), StepKind.breathing: _("Breathing")}
    step = Step(
        lesson_id=id_of(lesson),
        position=len(_lesson_steps(session, lesson)),
        kind=kind,
        title=titles.get(StepKind(kind), ""),
        # A text step needs a text to be shown (and exported); this one asks to be replaced.
        body=_("Write the text of this step here.") if kind == StepKind.text else "",
    )
    for name, value in DEFAULTS.get(kind, {}).items():
        setattr(step, name, value)
    session.add(step)
    session.flush()
    touch(session, course=course, lesson=lesson)
    return step


def _cues(text: str, errors: dict[str, str]) -> list[str]:
    cues = [clean_line(line) for line in text.splitlines()]
    cues = [cue for cue in cues if cue]
    if any(len(cue) > TITLE_LENGTH for cue in cues):
        errors["cues"] = _("Keep each cue under %(num)s characters.", num=TITLE_LENGTH)
    elif len(cues) > MAX_CUES:
        errors["cues"] = _("Give at most %(num)s cues.", num=MAX_CUES)
    return cues


def _check(kind: str, data: StepInput) -> dict[str, Any]:
    """The step's new column values; FormError listing every field that is wrong."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"title": clean_line(data.title)}
    values["body"] = clean_text(data.body)
    if len(values["title"]) > TITLE_LENGTH:
        errors["title"] = _("Keep the title under %(num)s characters.", num=TITLE_LENGTH)
    elif not values["title"] and kind != StepKind.text:
        errors["title"] = _("Give the exercise a name, so she knows what she is doing.")
    if len(values["body"]) > MARKDOWN_LENGTH:
        errors["body"] = _("Keep the text under %(num)s characters.", num=MARKDOWN_LENGTH)
    elif not values["body"] and kind == StepKind.text:
        errors["body"] = _("Write the text of this step.")
    for name, bounds in NUMBERS[kind].items():
        typed = getattr(data, name).strip() or ("0" if bounds[0] == 0 else "")
        values[name] = parse_number(typed, bounds, field=name, errors=errors)
    if kind == StepKind.exercise:
        if data.side not in {"", *(side.value for side in Side)}:
            errors["side"] = _("Choose left, right, both sides, or nothing.")
        values["side"] = data.side or None
        values["cues"] = _cues(data.cues, errors)
    if errors:
        raise FormError(errors)
    return values


def save(session: Session, *, course: Course, lesson: Lesson, step: Step, data: StepInput) -> Step:
    """Save the step's form; FormError (and nothing changed) for bad input."""
    values = _check(step.kind, data)
    for name, value in values.items():
        setattr(step, name, value)
    session.add(step)
    session.flush()
    touch(session, course=course, lesson=lesson)
    return step


def move(session: Session, *, course: Course, lesson: Lesson, step: Step, direction: str) -> None:
    """Move the step one place up or down within its lesson."""
    if move_within(session, _lesson_steps(session, lesson), step, direction):
        touch(session, course=course, lesson=lesson)


def delete(session: Session, *, course: Course, lesson: Lesson, step: Step) -> None:
    """Delete the step; learners' practice logs keep what they did (their link is cleared)."""
    session.delete(step)
    session.flush()
    renumber(session, _lesson_steps(session, lesson))
    touch(session, course=course, lesson=lesson)
