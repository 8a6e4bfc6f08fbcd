"""Steps as plain sentences, so an exercise can be followed without JavaScript."""

from api.catalog.models import Side, Step, StepKind
from api.i18n import gettext as _
from api.i18n import ngettext


def _exercise(step: Step) -> str:
    parts = [
        ngettext("Tighten for %(num)s count", "Tighten for %(num)s counts", step.hold_seconds or 0),
        ngettext("relax for %(num)s count", "relax for %(num)s counts", step.relax_seconds or 0),
    ]
    dose = [
        ngettext("%(num)s time", "%(num)s times", step.reps or 0),
        ngettext("%(num)s set", "%(num)s sets", step.sets or 0),
    ]
    if step.rest_seconds:
        dose.append(ngettext("%(num)s second rest", "%(num)s seconds rest", step.rest_seconds))
    sides = {Side.left: _("left side"), Side.right: _("right side"), Side.both: _("both sides")}
    if step.side in sides:
        dose.append(sides[Side(step.side)])
    return f"{', '.join(parts)} — {', '.join(dose)}"


def _breathing(step: Step) -> str:
    parts = [
        ngettext(
            "Breathe in for %(num)s count",
            "Breathe in for %(num)s counts",
            step.inhale_seconds or 0,
        )
    ]
    if step.hold_seconds:
        parts.append(
            ngettext("hold for %(num)s count", "hold for %(num)s counts", step.hold_seconds)
        )
    parts.append(
        ngettext(
            "breathe out for %(num)s count",
            "breathe out for %(num)s counts",
            step.exhale_seconds or 0,
        )
    )
    return f"{', '.join(parts)} — {ngettext('%(num)s time', '%(num)s times', step.cycles or 0)}"


def describe(step: Step) -> str:
    """E.g. "Span 8 tellen aan, ontspan 8 tellen — 10 keer, 3 series, 30 seconden rust"."""
    if step.kind == StepKind.exercise:
        return _exercise(step)
    if step.kind == StepKind.breathing:
        return _breathing(step)
    return ""


# The fields that time each kind of step, as the guided player and the API read them.
EXERCISE_PARAMS = ("hold_seconds", "relax_seconds", "reps", "sets", "rest_seconds", "side")
BREATHING_PARAMS = ("inhale_seconds", "hold_seconds", "exhale_seconds", "cycles")


def params(step: Step) -> dict[str, int | str]:
    """The step's timing by field name, without empty fields (none for text steps)."""
    names: dict[str, tuple[str, ...]] = {
        StepKind.exercise.value: EXERCISE_PARAMS,
        StepKind.breathing.value: BREATHING_PARAMS,
    }
    values = {name: getattr(step, name) for name in names.get(step.kind, ())}
    return {name: value for name, value in values.items() if value is not None}


def total_seconds(step: Step) -> int:
    """How long the step takes when followed at the given pace."""
    if step.kind == StepKind.exercise:
        per_rep = (step.hold_seconds or 0) + (step.relax_seconds or 0)
        sets = step.sets or 0
        sides = 2 if step.side == Side.both else 1
        return (
            per_rep * (step.reps or 0) * sets + (step.rest_seconds or 0) * max(sets - 1, 0)
        ) * sides
    if step.kind == StepKind.breathing:
        cycle = (step.inhale_seconds or 0) + (step.hold_seconds or 0) + (step.exhale_seconds or 0)
        return cycle * (step.cycles or 0)
    return 0


# How the guided player (web/static/js/player.js) plays a step beyond its dose: a 1-second
# "tighten" cue before every repetition, 5 seconds to change sides, and in today's routine a
# count-in before every exercise. The routine page hands READY_SECONDS to the script.
CUE_SECONDS = 1
SWITCH_SECONDS = 5
READY_SECONDS = 5


def played_seconds(step: Step) -> int:
    """How long the guided player takes for the step, its cues and side change included."""
    seconds = total_seconds(step)
    if step.kind == StepKind.exercise:
        sides = 2 if step.side == Side.both else 1
        seconds += CUE_SECONDS * (step.reps or 0) * (step.sets or 0) * sides
        seconds += SWITCH_SECONDS * (sides - 1)
    return seconds


def routine_minutes(steps: list[Step]) -> int:
    """Today's routine in whole minutes (at least 1): every step after its count-in."""
    return routine_minutes_of([played_seconds(step) for step in steps])


def routine_minutes_of(played: list[int]) -> int:
    """`routine_minutes` from each step's `played_seconds` (kept by a page that has them)."""
    seconds = sum(READY_SECONDS + each for each in played)
    return max(1, -(-seconds // 60))
