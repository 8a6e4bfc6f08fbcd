"""What a questionnaire is made of: its items, how they score, and the bands of its result.

One model serves the course package (questionnaires/<slug>.yaml), the studio and the stored row
(`Questionnaire.definition`, as JSON). It checks each part as it is written (`Definition`), and
`problems()` checks the whole: a questionnaire with problems can be saved as a draft in the studio
but not published, imported or used as a self-test or check-in.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from api.i18n import format_number
from api.i18n import gettext as _

MAX_ITEMS = 60
MAX_OPTIONS = 12
POINTS = (0, 100)
SCALE = (0, 10)
MAX_TEXT_ANSWER = 500
KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ItemKind(StrEnum):
    scale = "scale"  # 0–10 with a label at each end
    single = "single"  # one option, each with points
    multiple = "multiple"  # any number of options, their points added
    warning = "warning"  # yes/no; a yes is a reason to see a doctor first
    text = "text"  # an optional short text; never scored


class Scoring(StrEnum):
    sum = "sum"
    mean = "mean"


class Better(StrEnum):
    """Which way a change of the score is an improvement (pain: lower)."""

    lower_is_better = "lower"
    higher_is_better = "higher"


def _check_key(value: str) -> str:
    if not 1 <= len(value) <= 40 or not KEY.match(value):
        raise PydanticCustomError(
            "key", _("use a-z, 0-9 and single hyphens, at most 40 characters (e.g. pain-now)")
        )
    return value


def _check_points(value: int) -> int:
    low, high = POINTS
    if not low <= value <= high:
        message = _("must be between %(low)s and %(high)s", low=low, high=high)
        raise PydanticCustomError("out_of_range", message, {"low": low, "high": high})
    return value


def _check_bound(value: Decimal) -> Decimal:
    # Bounds and changes are whole numbers or have one decimal (mean scores are rounded so).
    if value != value.quantize(Decimal("0.1")) or not Decimal(0) <= value <= Decimal(1000):
        raise PydanticCustomError(
            "bound", _("must be a number from 0 to 1000 with at most one decimal")
        )
    return value


Key = Annotated[str, AfterValidator(_check_key)]
Points = Annotated[int, Strict(), AfterValidator(_check_points)]


def _as_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# Written as numbers in YAML and JSON (7 or 3.5), compared exactly as decimals.
Bound = Annotated[
    Decimal, AfterValidator(_check_bound), PlainSerializer(_as_number, when_used="json")
]
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Markdown = Annotated[str, StringConstraints(max_length=10_000)]


class _Part(BaseModel):
    # A typo in a package ("point: 2") is an error, not a silent default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Part):
    label: Label
    points: Points


class ScaleItem(_Part):
    kind: Literal["scale"]
    key: Key
    text: Question
    min_label: Label
    max_label: Label


class SingleItem(_Part):
    kind: Literal["single"]
    key: Key
    text: Question
    options: list[Option] = Field(max_length=MAX_OPTIONS)


class MultipleItem(_Part):
    kind: Literal["multiple"]
    key: Key
    text: Question
    options: list[Option] = Field(max_length=MAX_OPTIONS)


class WarningItem(_Part):
    kind: Literal["warning"]
    key: Key
    text: Question


class TextItem(_Part):
    kind: Literal["text"]
    key: Key
    text: Question


Item = Annotated[
    ScaleItem | SingleItem | MultipleItem | WarningItem | TextItem, Field(discriminator="kind")
]
ScoredItem = ScaleItem | SingleItem | MultipleItem


class Subscore(_Part):
    key: Key
    title: Title
    items: list[Key] = Field(min_length=1, max_length=MAX_ITEMS)


class Band(_Part):
    min: Bound
    max: Bound
    title: Title
    text: Markdown = ""
    # A course of the same instructor, by slug; shown as a card unless a warning sign was given.
    course: Annotated[str, StringConstraints(max_length=80)] | None = None


class Definition(_Part):
    """Everything about a questionnaire but its name and where it is used."""

    intro: Markdown = ""
    scoring: Scoring = Scoring.sum
    better: Better = Better.lower_is_better
    # The change of the total score the instructor counts as a real one (e.g. 2 on 0–10).
    meaningful_change: Bound = Decimal(1)
    items: list[Item] = Field(default_factory=list, max_length=MAX_ITEMS)
    subscores: list[Subscore] = Field(default_factory=list, max_length=10)
    bands: list[Band] = Field(default_factory=list, max_length=10)

    def item(self, key: str) -> Item | None:
        return next((item for item in self.items if item.key == key), None)

    @property
    def scored_items(self) -> list[ScoredItem]:
        return [item for item in self.items if isinstance(item, ScoredItem)]

    @property
    def warning_items(self) -> list[WarningItem]:
        return [item for item in self.items if isinstance(item, WarningItem)]

    @property
    def step(self) -> Decimal:
        """The smallest difference two scores can have: bands touch at this distance."""
        return Decimal(1) if self.scoring == Scoring.sum else Decimal("0.1")

    def score_range(self, keys: list[str] | None = None) -> tuple[Decimal, Decimal]:
        """The lowest and highest score the scored items (or those of `keys`) can give."""
        items = [i for i in self.scored_items if keys is None or i.key in keys]
        if not items:
            return Decimal(0), Decimal(0)
        lows = [Decimal(item_range(i)[0]) for i in items]
        highs = [Decimal(item_range(i)[1]) for i in items]
        if self.scoring == Scoring.sum:
            return sum(lows, Decimal(0)), sum(highs, Decimal(0))
        return _mean(lows), _mean(highs)

    def problems(self) -> list["Problem"]:
        """Everything that keeps the questionnaire from being used, in the order of the page."""
        return _problems(self)


def item_range(item: ScoredItem) -> tuple[int, int]:
    """The fewest and most points one item can give."""
    if isinstance(item, ScaleItem):
        return SCALE
    points = [option.points for option in item.options]
    if not points:
        return 0, 0
    if isinstance(item, SingleItem):
        return min(points), max(points)
    return 0, sum(points)  # several choices: none chosen up to all


def _mean(values: list[Decimal]) -> Decimal:
    return round_score(sum(values, Decimal(0)) / len(values))


def round_score(value: Decimal) -> Decimal:
    """A mean score to one decimal, halves up (3.25 → 3.3), as the bands are written."""
    return value.quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")


@dataclass(frozen=True)
class Problem:
    """Why a questionnaire cannot be used yet: where (a field path) and what, in her language."""

    where: str  # e.g. "bands[1]", "items[2].options", "" for the whole
    message: str


def _problems(definition: Definition) -> list[Problem]:
    found = _item_problems(definition)
    scored = {item.key for item in definition.scored_items}
    for index, subscore in enumerate(definition.subscores):
        for key in subscore.items:
            if key not in scored:
                found.append(
                    Problem(
                        f"subscores[{index}].items",
                        _("%(key)s is not a scored question of this questionnaire.", key=key),
                    )
                )
    if [s.key for s in definition.subscores].count("total"):
        found.append(Problem("subscores", _("The key total is the whole score; pick another.")))
    found.extend(_band_problems(definition))
    low, high = definition.score_range()
    if definition.scored_items and definition.meaningful_change > high - low:
        found.append(
            Problem(
                "meaningful_change",
                _(
                    "The meaningful change is larger than the whole range of the score "
                    "(%(low)s–%(high)s).",
                    low=format_score(low),
                    high=format_score(high),
                ),
            )
        )
    if definition.meaningful_change <= 0:
        found.append(Problem("meaningful_change", _("The meaningful change must be above 0.")))
    return found


def _item_problems(definition: Definition) -> list[Problem]:
    found: list[Problem] = []
    keys = [item.key for item in definition.items]
    if not definition.items:
        found.append(Problem("items", _("Add at least one question.")))
    elif not definition.scored_items:
        found.append(
            Problem(
                "items",
                _("Add at least one scored question (a 0–10 scale or a choice with points)."),
            )
        )
    for index, item in enumerate(definition.items):
        if keys.index(item.key) != index:
            found.append(
                Problem(
                    f"items[{index}].key", _("Two questions have the key %(key)s.", key=item.key)
                )
            )
        if isinstance(item, SingleItem | MultipleItem):
            if len(item.options) < 2:
                found.append(
                    Problem(f"items[{index}].options", _("A choice needs at least two options."))
                )
            elif all(option.points == 0 for option in item.options):
                found.append(
                    Problem(
                        f"items[{index}].options",
                        _("Give the options points: now every option scores 0."),
                    )
                )
    return found


def _band_problems(definition: Definition) -> list[Problem]:
    if not definition.bands:
        return [Problem("bands", _("Add at least one band for the result."))]
    found = []
    low, high = definition.score_range()
    step = definition.step
    for index, band in enumerate(definition.bands):
        if band.min > band.max:
            found.append(
                Problem(f"bands[{index}]", _("This band's lowest score is above its highest."))
            )
        if definition.scoring == Scoring.sum and (band.min % 1 or band.max % 1):
            found.append(
                Problem(
                    f"bands[{index}]", _("A summed score is a whole number: use whole numbers.")
                )
            )
        if definition.scored_items and (band.min < low or band.max > high):
            found.append(
                Problem(
                    f"bands[{index}]",
                    _(
                        "This band (%(min)s–%(max)s) lies outside the possible scores "
                        "%(low)s–%(high)s.",
                        min=format_score(band.min),
                        max=format_score(band.max),
                        low=format_score(low),
                        high=format_score(high),
                    ),
                )
            )
    if found or not definition.scored_items:
        return found
    ordered = sorted(enumerate(definition.bands), key=lambda pair: (pair[1].min, pair[1].max))
    expected = low
    for index, band in ordered:
        if band.min > expected:
            found.append(
                Problem(
                    f"bands[{index}]",
                    _(
                        "No band covers the scores %(start)s–%(end)s.",
                        start=format_score(expected),
                        end=format_score(band.min - step),
                    ),
                )
            )
        elif band.min < expected:
            found.append(
                Problem(
                    f"bands[{index}]",
                    _(
                        "This band overlaps another from %(start)s.",
                        start=format_score(band.min),
                    ),
                )
            )
        expected = max(expected, band.max + step)
    if expected <= high:
        found.append(
            Problem(
                "bands",
                _(
                    "No band covers the scores %(start)s–%(end)s.",
                    start=format_score(expected),
                    end=format_score(high),
                ),
            )
        )
    return found


def format_score(value: Decimal | float | int) -> str:
    """A score as she reads it, in her language's notation (3,5 in Dutch)."""
    return format_number(value)
