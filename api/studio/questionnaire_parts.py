"""The parts of a questionnaire in the studio: its questions (with their options), sub-scores
and bands, each added, edited, moved or deleted by its position.

Each part is checked with the same model a course package uses (api.questionnaires.definition),
so the studio saves nothing a package could not hold; the whole questionnaire may still have
problems (a band gap, a choice without points), which its page lists until she solves them.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlmodel import Session

from api.errors import FormError
from api.i18n import gettext as _
from api.kit.slugs import slugify
from api.questionnaires.definition import (
    MAX_OPTIONS,
    Band,
    ItemKind,
    MultipleItem,
    ScaleItem,
    SingleItem,
    Subscore,
    TextItem,
    WarningItem,
)
from api.questionnaires.models import Questionnaire
from api.questionnaires.service import definition_of
from api.studio.courses import clean_line, clean_text
from api.studio.questionnaires import change_definition, parse_decimal

_ITEM_MODELS: dict[str, type[BaseModel]] = {
    ItemKind.scale: ScaleItem,
    ItemKind.single: SingleItem,
    ItemKind.multiple: MultipleItem,
    ItemKind.warning: WarningItem,
    ItemKind.text: TextItem,
}
KEY_LENGTH = 40


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    # The questionnaire's version when the page was opened.
    version: str = ""


class NewItemInput(_Input):
    kind: str = ""
    text: str = ""


class ItemInput(_Input):
    key: str = ""
    text: str = ""
    min_label: str = ""
    max_label: str = ""
    # The option rows: a text and its points each, in order; empty rows are left out.
    option_label: list[str] = []
    option_points: list[str] = []


class SubscoreInput(_Input):
    key: str = ""
    title: str = ""
    items: list[str] = []


class BandInput(_Input):
    min: str = ""
    max: str = ""
    title: str = ""
    text: str = ""
    course: str = ""


class ActionInput(_Input):
    """A move or delete button: the direction, and the delete button's confirmation."""

    direction: str = ""
    confirm: str = ""


def _errors(exc: ValidationError) -> dict[str, str]:
    """A part's validation errors by input name, in her words."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        kind = error["type"]
        if kind in ("missing", "string_too_short"):
            message = _("Fill this in.")
        elif kind == "string_too_long":
            limit = (error.get("ctx") or {}).get("max_length")
            message = _("Use at most %(n)s characters.", n=limit)
        elif kind in ("key", "out_of_range", "bound"):
            message = error["msg"]  # Kern's own checks, already in her language
        else:
            message = _("We cannot use what is filled in here. Check it and try again.")
        errors.setdefault(name, message)
    return errors


def _checked(model: type[BaseModel], data: dict[str, Any], errors: dict[str, str]) -> Any:
    """The part as `model`; FormError with every wrong input (and `errors` found before)."""
    try:
        part = model.model_validate(data)
    except ValidationError as exc:
        raise FormError(_errors(exc) | errors) from None
    if errors:
        raise FormError(errors)
    return part.model_dump()


def _free_key(text: str, taken: list[str], fallback: str) -> str:
    base = slugify(text, max_length=KEY_LENGTH - 3) or fallback
    key, number = base, 1
    while key in taken:
        number += 1
        key = f"{base}-{number}"
    return key


def _at(parts: list[Any], index: int) -> None:
    if not 0 <= index < len(parts):
        raise FormError({"": _("This part is no longer there. The page now shows what is saved.")})


def _move(parts: list[Any], index: int, direction: str) -> None:
    _at(parts, index)
    if direction not in ("up", "down"):
        raise FormError({"direction": _("Choose whether to move it up or down.")})
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(parts):
        parts[index], parts[other] = parts[other], parts[index]


def _confirmed(data: ActionInput) -> None:
    if data.confirm != "yes":
        raise FormError(
            {"confirm": _("Nothing was deleted: confirm with the button “Yes, delete”.")}
        )


# --- questions ------------------------------------------------------------------------------


def add_item(session: Session, *, questionnaire: Questionnaire, data: NewItemInput) -> int:
    """A new question of the chosen kind at the end; its position."""
    errors: dict[str, str] = {}
    text = clean_line(data.text)
    if data.kind not in _ITEM_MODELS:
        errors["kind"] = _("Choose the kind of question.")
    keys = [item.key for item in definition_of(questionnaire).items]
    item: dict[str, Any] = {"kind": data.kind, "key": _free_key(text, keys, "vraag"), "text": text}
    if data.kind == ItemKind.scale:
        item |= {"min_label": _("Not at all"), "max_label": _("Very much")}
    elif data.kind in (ItemKind.single, ItemKind.multiple):
        item["options"] = []
    new = _checked(_ITEM_MODELS.get(data.kind, TextItem), item, errors)
    change_definition(
        session,
        questionnaire,
        version=data.version,
        change=lambda definition: definition["items"].append(new),
    )
    return len(keys)


def _options(data: ItemInput, errors: dict[str, str]) -> list[dict[str, Any]]:
    options = []
    for typed_label, typed_points in zip(data.option_label, data.option_points, strict=False):
        label, points = clean_line(typed_label), typed_points.strip()
        if not label and not points:
            continue
        if not label:
            errors["options"] = _("Give every option a text.")
        elif not points.isdigit() or int(points) > 100:
            errors["options"] = _("Give every option points: a whole number from 0 to 100.")
        options.append({"label": label, "points": int(points) if points.isdigit() else 0})
    if len(options) > MAX_OPTIONS:
        errors["options"] = _("Use at most %(num)s options.", num=MAX_OPTIONS)
    return options


def save_item(
    session: Session, *, questionnaire: Questionnaire, index: int, data: ItemInput
) -> None:
    """Save one question; a new key is followed by the sub-scores that name the old one."""
    items = definition_of(questionnaire).items
    _at(items, index)
    kind = items[index].kind
    errors: dict[str, str] = {}
    item: dict[str, Any] = {
        "kind": kind,
        "key": data.key.strip().lower(),
        "text": clean_line(data.text),
    }
    if kind == ItemKind.scale:
        item |= {"min_label": clean_line(data.min_label), "max_label": clean_line(data.max_label)}
    elif kind in (ItemKind.single, ItemKind.multiple):
        item["options"] = _options(data, errors)
    new = _checked(_ITEM_MODELS[kind], item, errors)
    old_key = items[index].key

    def change(definition: dict[str, Any]) -> None:
        definition["items"][index] = new
        for subscore in definition["subscores"]:
            subscore["items"] = [new["key"] if k == old_key else k for k in subscore["items"]]

    change_definition(session, questionnaire, version=data.version, change=change)


def move_item(
    session: Session, *, questionnaire: Questionnaire, index: int, data: ActionInput
) -> None:
    """Move a question one place up or down."""
    change_definition(
        session,
        questionnaire,
        version=data.version,
        change=lambda definition: _move(definition["items"], index, data.direction),
    )


def delete_item(
    session: Session, *, questionnaire: Questionnaire, index: int, data: ActionInput
) -> None:
    """Delete a question (a sub-score that counted it then names a missing question)."""
    _confirmed(data)
    _at(definition_of(questionnaire).items, index)
    change_definition(
        session,
        questionnaire,
        version=data.version,
        change=lambda definition: definition["items"].pop(index),
    )


# --- sub-scores -----------------------------------------------------------------------------


def _subscore(questionnaire: Questionnaire, data: SubscoreInput, index: int | None) -> Any:
    subscores = definition_of(questionnaire).subscores
    title = clean_line(data.title)
    key = data.key.strip().lower()
    if not key:
        taken = [s.key for i, s in enumerate(subscores) if i != index] + ["total"]
        key = _free_key(title, taken, "deelscore")
    errors = {} if data.items else {"items": _("Choose at least one question.")}
    return _checked(Subscore, {"key": key, "title": title, "items": data.items or ["x"]}, errors)


def add_subscore(session: Session, *, questionnaire: Questionnaire, data: SubscoreInput) -> None:
    """A new sub-score at the end."""
    new = _subscore(questionnaire, data, None)
    change_definition(
        session,
        questionnaire,
        version=data.version,
        change=lambda definition: definition["subscores"].append(new),
    )


def save_subscore(
    session: Session, *, questionnaire: Questionnaire, index: int, data: SubscoreInput
) -> None:
    """Save one sub-score."""
    _at(definition_of(questionnaire).subscores, index)
    new = _subscore(questionnaire, data, index)

    def change(definition: dict[str, Any]) -> None:
        definition["subscores"][index] = new

    change_definition(session, questionnaire, version=data.version, change=change)


def delete_subscore(
    session: Session, *, questionnaire: Questionnaire, index: int, data: ActionInput
) -> None:
    """Delete a sub-score."""
    _confirmed(data)
    _at(definition_of(questionnaire).subscores, index)
    change_definition(
        session,
        questionnaire,
        version=data.version,
        change=lambda definition: definition["subscores"].pop(index),
    )


# --- bands ----------------------------------------------------------------------------------


def _band(data: BandInput, courses: list[tuple[str, str]]) -> Any:
    errors: dict[str, str] = {}
    low = parse_decimal(data.min, "min", errors)
    high = parse_decimal(data.max, "max", errors)
    course = data.course.strip() or None
    if course is not None and course not in {slug for slug, _title in courses}:
        errors["course"] = _("Choose one of your courses, or none.")
    band = {
        "min": low,
        "max": high,
        "title": clean_line(data.title),
        "text": clean_text(data.text),
        "course": course,
    }
    return _checked(Band, band, errors)


def add_band(
    session: Session,
    *,
    questionnaire: Questionnaire,
    data: BandInput,
    courses: list[tuple[str, str]],
) -> None:
    """A new band; the bands are kept in the order of their scores."""
    new = _band(data, courses)

    def change(definition: dict[str, Any]) -> None:
        definition["bands"].append(new)
        definition["bands"].sort(key=lambda band: (band["min"], band["max"]))

    change_definition(session, questionnaire, version=data.version, change=change)


def save_band(
    session: Session,
    *,
    questionnaire: Questionnaire,
    index: int,
    data: BandInput,
    courses: list[tuple[str, str]],
) -> None:
    """Save one band."""
    _at(definition_of(questionnaire).bands, index)
    new = _band(data, courses)

    def change(definition: dict[str, Any]) -> None:
        definition["bands"][index] = new
        definition["bands"].sort(key=lambda band: (band["min"], band["max"]))

    change_definition(session, questionnaire, version=data.version, change=change)


def delete_band(
    session: Session, *, questionnaire: Questionnaire, index: int, data: ActionInput
) -> None:
    """Delete a band."""
    _confirmed(data)
    _at(definition_of(questionnaire).bands, index)
    change_definition(
        session,
        questionnaire,
        version=data.version,
        change=lambda definition: definition["bands"].pop(index),
    )
