"""Steps read as plain sentences in the learner's language, for reading without JavaScript."""

from collections.abc import Iterator

import pytest

from api import i18n
from api.catalog.models import Step
from api.catalog.steps import describe, played_seconds, routine_minutes, total_seconds


@pytest.fixture
def dutch() -> Iterator[None]:
    token = i18n.current_locale.set("nl")
    yield
    i18n.current_locale.reset(token)


def _exercise(**overrides: object) -> Step:
    step = Step(
        lesson_id=1, kind="exercise", hold_seconds=8, relax_seconds=8, reps=10, sets=3,
        rest_seconds=30,
    )  # fmt: skip
    for name, value in overrides.items():
        setattr(step, name, value)
    return step


@pytest.mark.usefixtures("dutch")
def test_an_exercise_reads_as_one_dutch_sentence() -> None:
    assert (
        describe(_exercise())
        == "Span 8 tellen aan, ontspan 8 tellen — 10 keer, 3 series, 30 seconden rust"
    )


@pytest.mark.usefixtures("dutch")
def test_singular_forms_and_no_rest_and_a_side() -> None:
    step = _exercise(hold_seconds=1, relax_seconds=1, reps=1, sets=1, rest_seconds=0, side="left")
    assert describe(step) == "Span 1 tel aan, ontspan 1 tel — 1 keer, 1 serie, links"


@pytest.mark.usefixtures("dutch")
def test_a_breathing_pattern_reads_in_dutch() -> None:
    step = Step(
        lesson_id=1, kind="breathing", inhale_seconds=4, hold_seconds=2, exhale_seconds=6, cycles=10
    )
    assert describe(step) == "Adem 4 tellen in, houd 2 tellen vast, adem 6 tellen uit — 10 keer"


def test_the_sentence_follows_the_interface_language() -> None:
    token = i18n.current_locale.set("en")
    try:
        assert describe(_exercise()) == (
            "Tighten for 8 counts, relax for 8 counts — 10 times, 3 sets, 30 seconds rest"
        )
    finally:
        i18n.current_locale.reset(token)


def test_total_time_counts_holds_relaxes_and_rests() -> None:
    # 3 sets × 10 × (8 + 8) s plus 2 rests of 30 s.
    assert total_seconds(_exercise()) == 3 * 10 * 16 + 2 * 30
    breathing = Step(
        lesson_id=1, kind="breathing", inhale_seconds=4, hold_seconds=0, exhale_seconds=6, cycles=10
    )
    assert total_seconds(breathing) == 100


def test_the_routine_counts_what_the_player_plays() -> None:
    # Per repetition the player adds a 1-second tighten cue; both sides add 5 s to change.
    assert played_seconds(_exercise()) == 3 * 10 * 17 + 2 * 30
    both = _exercise(reps=2, sets=1, rest_seconds=None, side="both")
    assert played_seconds(both) == 2 * (2 * 17) + 5
    breathing = Step(lesson_id=1, kind="breathing", inhale_seconds=4, exhale_seconds=6, cycles=3)
    # Each exercise after a 5-second count-in, rounded up to whole minutes, never 0.
    assert routine_minutes([_exercise(), breathing]) == -(-(5 + 570 + 5 + 30) // 60) == 11
    assert routine_minutes([breathing]) == 1
