"""Answers read and scored: from a form or the API to a score, sub-scores, a band and warnings."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from api.i18n import gettext as _
from api.questionnaires.definition import (
    MAX_TEXT_ANSWER,
    SCALE,
    Band,
    Definition,
    Item,
    MultipleItem,
    ScaleItem,
    ScoredItem,
    Scoring,
    SingleItem,
    TextItem,
    WarningItem,
    round_score,
)

# One answer as stored: a 0–10 value or an option's position, several positions, yes/no, text.
Answer = int | list[int] | bool | str
Answers = dict[str, Answer]


@dataclass(frozen=True)
class Result:
    """What her answers come to. With a warning sign, the band is kept for the record only:
    she is told to see a doctor first, and no course is suggested."""

    score: Decimal
    subscores: dict[str, Decimal]
    band_index: int | None
    band: Band | None
    warnings: list[str] = field(default_factory=list)  # keys of the warning signs she said yes to

    @property
    def warning(self) -> bool:
        return bool(self.warnings)

    @property
    def recommended_course(self) -> str | None:
        """The slug of the course her band suggests; never with a warning sign."""
        if self.warning or self.band is None:
            return None
        return self.band.course


def read_answer(item: Item, raw: Any) -> Answer | None:
    """One answer from a form field (text, or a list of texts for several choices) or a JSON
    value. None when she left it open; ValueError with a message in her language when it is not
    an answer to this question."""
    if isinstance(item, TextItem):
        text = (raw if isinstance(raw, str) else "").strip()
        if len(text) > MAX_TEXT_ANSWER:
            raise ValueError(_("Keep it under %(count)s characters.", count=MAX_TEXT_ANSWER))
        return text or None
    if isinstance(item, MultipleItem):
        values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        chosen = sorted({_option(item.options, value) for value in values})
        return chosen
    if raw is None or raw == "":
        return None
    if isinstance(item, WarningItem):
        return _yes_or_no(raw)
    if isinstance(item, ScaleItem):
        value = _whole(raw)
        low, high = SCALE
        if value is None or not low <= value <= high:
            raise ValueError(_("Choose a number from 0 to 10."))
        return value
    return _option(item.options, raw)


def _yes_or_no(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw in ("yes", "no"):
        return bool(raw == "yes")
    raise ValueError(_("Choose yes or no."))


def _whole(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def _option(options: Sequence[Any], raw: Any) -> int:
    value = _whole(raw)
    if value is None or not 0 <= value < len(options):
        raise ValueError(_("Choose one of the options."))
    return value


def required(item: Item) -> bool:
    """Whether the question must be answered: several choices may be none, a text is optional."""
    return not isinstance(item, MultipleItem | TextItem)


def read_answers(
    definition: Definition, raw: Mapping[str, Any], *, keys: Sequence[str] | None = None
) -> tuple[Answers, dict[str, str]]:
    """Her answers to the questions of `keys` (all by default), and a message per question that
    is missing or not an answer. Unknown keys are ignored."""
    answers: Answers = {}
    errors: dict[str, str] = {}
    for item in definition.items:
        if keys is not None and item.key not in keys:
            continue
        try:
            answer = read_answer(item, raw.get(item.key))
        except ValueError as error:
            errors[item.key] = str(error)
            continue
        if answer is None:
            if required(item):
                errors[item.key] = _("Please answer this question.")
            continue
        answers[item.key] = answer
    return answers, errors


def points(item: ScoredItem, answer: Answer | None) -> int:
    """The points one answer gives (no answer to several choices: 0)."""
    if isinstance(item, ScaleItem):
        return answer if isinstance(answer, int) and not isinstance(answer, bool) else 0
    if isinstance(item, SingleItem):
        if isinstance(answer, int) and not isinstance(answer, bool):
            return item.options[answer].points
        return 0
    chosen = answer if isinstance(answer, list) else []
    return sum(item.options[index].points for index in chosen)


def score(definition: Definition, answers: Mapping[str, Answer]) -> Result:
    """The result of complete answers (read_answers gave no errors)."""
    total = _combine(definition, [points(i, answers.get(i.key)) for i in definition.scored_items])
    subscores = {}
    for subscore in definition.subscores:
        items = [i for i in definition.scored_items if i.key in subscore.items]
        subscores[subscore.key] = _combine(
            definition, [points(i, answers.get(i.key)) for i in items]
        )
    band_index = next(
        (index for index, band in enumerate(definition.bands) if band.min <= total <= band.max),
        None,
    )
    warnings = [item.key for item in definition.warning_items if answers.get(item.key) is True]
    return Result(
        score=total,
        subscores=subscores,
        band_index=band_index,
        band=definition.bands[band_index] if band_index is not None else None,
        warnings=warnings,
    )


def _combine(definition: Definition, values: list[int]) -> Decimal:
    if not values:
        return Decimal(0)
    total = Decimal(sum(values))
    if definition.scoring == Scoring.sum:
        return total
    return round_score(total / len(values))
