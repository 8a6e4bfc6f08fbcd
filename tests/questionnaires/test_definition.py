"""A questionnaire's definition: parts checked as written, the whole checked before use, and the
score her answers come to."""

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from api.questionnaires.definition import Definition
from api.questionnaires.scoring import read_answers, score


def pain_test(**changes: Any) -> Definition:
    """Two 0–10 scales, a choice, several choices, a warning sign and a text: 0–27 in all."""
    data: dict[str, Any] = {
        "scoring": "sum",
        "meaningful_change": 2,
        "items": [
            {
                "kind": "scale",
                "key": "pain-now",
                "text": "Pijn nu?",
                "min_label": "geen",
                "max_label": "ergst",
            },
            {
                "kind": "scale",
                "key": "pain-week",
                "text": "Pijn deze week?",
                "min_label": "geen",
                "max_label": "ergst",
            },
            {
                "kind": "single",
                "key": "how-long",
                "text": "Hoe lang al?",
                "options": [
                    {"label": "weken", "points": 0},
                    {"label": "maanden", "points": 2},
                    {"label": "jaren", "points": 3},
                ],
            },
            {
                "kind": "multiple",
                "key": "worse",
                "text": "Wat maakt het erger?",
                "options": [
                    {"label": "zitten", "points": 1},
                    {"label": "stress", "points": 2},
                    {"label": "niets", "points": 0},
                ],
            },
            {"kind": "warning", "key": "bladder", "text": "Plots controle over je blaas kwijt?"},
            {"kind": "text", "key": "note", "text": "Nog iets?"},
        ],
        "subscores": [{"key": "pain", "title": "Pijn", "items": ["pain-now", "pain-week"]}],
        "bands": [
            {"min": 0, "max": 7, "title": "Licht", "course": "adem-en-ontspan"},
            {"min": 8, "max": 17, "title": "Matig", "course": "sterke-basis"},
            {"min": 18, "max": 26, "title": "Veel"},
        ],
    }
    data.update(changes)
    return Definition.model_validate(data)


def messages(definition: Definition) -> list[tuple[str, str]]:
    return [(problem.where, problem.message) for problem in definition.problems()]


def test_a_complete_questionnaire_has_no_problems_and_its_range_follows_its_items() -> None:
    definition = pain_test()

    assert definition.problems() == []
    assert definition.score_range() == (Decimal(0), Decimal(26))
    assert definition.score_range(["pain-now", "pain-week"]) == (Decimal(0), Decimal(20))


def test_no_items_no_scored_item_and_no_bands_are_each_named() -> None:
    empty = Definition.model_validate({})
    only_text = Definition.model_validate(
        {"items": [{"kind": "text", "key": "note", "text": "Nog iets?"}]}
    )

    assert messages(empty) == [
        ("items", "Voeg minstens één vraag toe."),
        ("bands", "Voeg minstens één band voor de uitslag toe."),
    ]
    assert [where for where, _ in messages(only_text)] == ["items", "bands"]


def test_a_gap_between_bands_names_the_scores_no_band_covers() -> None:
    definition = pain_test(
        bands=[{"min": 0, "max": 7, "title": "a"}, {"min": 10, "max": 26, "title": "b"}]
    )

    assert messages(definition) == [("bands[1]", "Geen band dekt de scores 8–9.")]


def test_an_overlap_and_a_band_outside_the_range_are_refused() -> None:
    overlap = pain_test(
        bands=[{"min": 0, "max": 9, "title": "a"}, {"min": 8, "max": 26, "title": "b"}]
    )
    outside = pain_test(
        bands=[{"min": 0, "max": 7, "title": "a"}, {"min": 8, "max": 30, "title": "b"}]
    )
    short = pain_test(bands=[{"min": 0, "max": 20, "title": "a"}])

    assert [where for where, _ in messages(overlap)] == ["bands[1]"]
    assert "overlapt" in messages(overlap)[0][1]
    assert messages(outside) == [
        ("bands[1]", "Deze band (8–30) ligt buiten de mogelijke scores 0–26.")
    ]
    assert messages(short) == [("bands", "Geen band dekt de scores 21–26.")]


def test_a_choice_whose_options_all_score_nothing_is_an_item_without_points() -> None:
    items = pain_test().model_dump()["items"]
    items[2]["options"] = [{"label": "ja", "points": 0}, {"label": "nee", "points": 0}]
    definition = pain_test(items=items, bands=[{"min": 0, "max": 23, "title": "a"}])

    assert messages(definition) == [
        ("items[2].options", "Geef de opties punten: nu scoort elke optie 0.")
    ]


def test_an_option_without_points_or_an_unknown_field_is_refused_as_written() -> None:
    with pytest.raises(ValidationError) as missing:
        Definition.model_validate(
            {"items": [{"kind": "single", "key": "a", "text": "?", "options": [{"label": "x"}]}]}
        )
    with pytest.raises(ValidationError):
        Definition.model_validate(
            {
                "items": [
                    {
                        "kind": "scale",
                        "key": "a",
                        "text": "?",
                        "min_label": "0",
                        "max_label": "10",
                        "point": 3,
                    }
                ]
            }
        )

    assert missing.value.errors()[0]["loc"] == ("items", 0, "single", "options", 0, "points")


def test_a_mean_score_is_rounded_to_one_decimal_and_bands_touch_at_a_tenth() -> None:
    definition = pain_test(
        scoring="mean",
        items=pain_test().model_dump()["items"][:2],
        subscores=[],
        bands=[{"min": 0, "max": 3.9, "title": "a"}, {"min": 4, "max": 10, "title": "b"}],
    )
    answers, errors = read_answers(definition, {"pain-now": "7", "pain-week": "0"})

    assert definition.problems() == []
    assert errors == {}
    assert score(definition, answers).score == Decimal("3.5")
    assert score(definition, answers).band_index == 0


def test_answers_are_scored_into_total_subscore_and_band() -> None:
    definition = pain_test()
    answers, errors = read_answers(
        definition,
        {
            "pain-now": "7",
            "pain-week": "5",
            "how-long": "2",
            "worse": ["0", "1"],
            "bladder": "no",
            "note": "  ",
        },
    )
    result = score(definition, answers)

    assert errors == {}
    assert answers == {
        "pain-now": 7,
        "pain-week": 5,
        "how-long": 2,
        "worse": [0, 1],
        "bladder": False,
    }
    assert (result.score, result.subscores, result.band_index) == (
        Decimal(18),
        {"pain": Decimal(12)},
        2,
    )
    assert result.recommended_course is None  # the last band names no course
    assert result.warnings == []


def test_a_warning_sign_overrides_the_band_and_suggests_no_course() -> None:
    definition = pain_test()
    answers, _ = read_answers(
        definition, {"pain-now": "1", "pain-week": "1", "how-long": "0", "bladder": "yes"}
    )
    result = score(definition, answers)

    assert result.band_index == 0
    assert result.band is not None
    assert result.band.course == "adem-en-ontspan"
    assert result.warning
    assert result.recommended_course is None


def test_missing_and_impossible_answers_get_a_message_in_her_language() -> None:
    _, errors = read_answers(
        pain_test(), {"pain-now": "11", "how-long": "9", "worse": ["7"], "bladder": "maybe"}
    )

    assert errors == {
        "pain-now": "Kies een getal van 0 tot 10.",
        "pain-week": "Beantwoord deze vraag.",
        "how-long": "Kies een van de opties.",
        "worse": "Kies een van de opties.",
        "bladder": "Kies ja of nee.",
    }


def test_the_stored_json_keeps_numbers_as_numbers_and_reads_back_the_same() -> None:
    definition = pain_test(meaningful_change=1.5)
    stored = definition.model_dump(mode="json")

    assert stored["meaningful_change"] == 1.5
    assert stored["bands"][0]["max"] == 7
    assert Definition.model_validate(stored) == definition
