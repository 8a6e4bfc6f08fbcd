"""Questionnaires in the studio: the course's list, a new one, its settings, publishing and
deleting, and what its page shows (its problems, where it is used, the self-test's counts).

Every change is saved against the version the form was opened at (a conditional UPDATE), so of
two tabs the second save is refused instead of undoing the first; the version also keys the
parsed definition's cache (api.questionnaires.service.definition_of). The questions, sub-scores
and bands are edited in api/studio/questionnaire_parts.py.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.catalog.models import Course
from api.catalog.packages.schema import SLUG_LENGTH, is_slug
from api.db import utcnow
from api.errors import Conflict, FormError
from api.i18n import LANGUAGE_NAMES, ngettext
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.kit.lookup import child_of
from api.kit.slugs import slugify
from api.questionnaires.definition import Better, Definition, Problem, Scoring, format_score
from api.questionnaires.models import (
    CheckIn,
    Measurement,
    Questionnaire,
    QuestionnaireStatus,
    SelfTestTally,
)
from api.questionnaires.service import definition_of, stored_definition, week_of
from api.studio.courses import clean_line, clean_text, first_free

TITLE_LENGTH = 200
INTRO_LENGTH = 10_000  # as Definition.intro
TALLY_WEEKS = 12
_NUMBER = re.compile(r"[0-9]{1,9}")


class QuestionnaireChanged(Conflict):
    """The questionnaire was saved elsewhere after this form was opened; nothing was written."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This questionnaire has been changed elsewhere in the meantime (in another tab "
                "or by someone else). Nothing has been saved. The page now shows what is "
                "saved; make your change again."
            )
        )


# --- looking up -----------------------------------------------------------------------------


def questionnaire_of(session: Session, *, course: Course, questionnaire_id: int) -> Questionnaire:
    """The course's questionnaire with this id; NotFound for any other id."""
    return child_of(
        session,
        Questionnaire,
        questionnaire_id,
        parent_column=col(Questionnaire.course_id),
        parent_id=course.id,
        message=_("We could not find this questionnaire."),
    )


@dataclass(frozen=True)
class Line:
    """A questionnaire as the course's page lists it."""

    questionnaire: Questionnaire
    problems: int


def of_course(session: Session, *, course: Course) -> list[Line]:
    """The course's questionnaires by title, each with its number of problems (one statement)."""
    rows = session.exec(
        select(Questionnaire)
        .where(Questionnaire.course_id == course.id)
        .order_by(col(Questionnaire.title), col(Questionnaire.id))
    ).all()
    return [Line(row, len(definition_of(row).problems())) for row in rows]


def her_courses(session: Session, *, course: Course) -> list[tuple[str, str]]:
    """(slug, title) of every course of the course's instructor: what a band may recommend."""
    rows = session.exec(
        select(Course.slug, Course.title)
        .where(Course.instructor_id == course.instructor_id)
        .order_by(col(Course.title), col(Course.id))
    ).all()
    return [(slug, title) for slug, title in rows]


def problems_of(definition: Definition, courses: list[tuple[str, str]]) -> list[Problem]:
    """The definition's problems, and a band recommending a course that is not hers (any more)."""
    found = definition.problems()
    slugs = {slug for slug, _title in courses}
    for index, band in enumerate(definition.bands):
        if band.course is not None and band.course not in slugs:
            found.append(
                Problem(
                    f"bands[{index}]",
                    _(
                        "This band recommends %(course)s, which is not one of your courses; "
                        "choose another.",
                        course=band.course,
                    ),
                )
            )
    return found


def anchor(where: str) -> str:
    """The id of the part of the page a problem is about: items[2].options → item-2."""
    match = re.match(r"(items|subscores|bands)\[(\d+)\]", where)
    if match:
        return f"{match.group(1)[:-1]}-{match.group(2)}"
    if where in ("items", "subscores", "bands"):
        return where
    return "settings"


# --- writing --------------------------------------------------------------------------------


def whole_number(text: str) -> int:
    """A whole number as typed; -1 for anything else."""
    return int(text) if _NUMBER.fullmatch(text.strip()) else -1


def version_of(text: str) -> int:
    """The version a form was opened at; -1 (never current) for anything else."""
    return whole_number(text)


def write(session: Session, questionnaire: Questionnaire, *, version: str, **values: Any) -> None:
    """Save `values` if the questionnaire is still at `version`, raising its version by one;
    QuestionnaireChanged otherwise. A slug taken meanwhile is a form error, not a 500."""
    try:
        with session.begin_nested():
            saved = session.execute(
                update(Questionnaire)
                .where(
                    col(Questionnaire.id) == id_of(questionnaire),
                    col(Questionnaire.version) == version_of(version),
                )
                .values(**values, version=col(Questionnaire.version) + 1, updated_at=utcnow())
                .returning(col(Questionnaire.id))
                .execution_options(synchronize_session=False)
            ).first()
    except IntegrityError:
        raise FormError(
            {"slug": _("Another questionnaire already uses this web address.")}
        ) from None
    session.refresh(questionnaire)
    if saved is None:
        raise QuestionnaireChanged


def change_definition(
    session: Session,
    questionnaire: Questionnaire,
    *,
    version: str,
    change: Callable[[dict[str, Any]], None],
) -> None:
    """Apply `change` to the definition (as plain data) and save it; a published questionnaire
    must stay without problems, so a change that would give it some is refused."""
    data = definition_of(questionnaire).model_dump()
    change(data)
    try:
        definition = Definition.model_validate(data)
    except ValidationError:
        # Each part was checked on its own; what is left is a limit of the whole.
        raise FormError({"": _("This would make the questionnaire too long.")}) from None
    _keep_usable(questionnaire, definition)
    write(session, questionnaire, version=version, definition=stored_definition(definition))


def _keep_usable(questionnaire: Questionnaire, definition: Definition) -> None:
    """Conflict when a published questionnaire would get problems: learners use it."""
    if questionnaire.status == QuestionnaireStatus.published and definition.problems():
        raise Conflict(
            _(
                "A published questionnaire must stay without problems, and this change would "
                "give it some. Take it back to draft first, make your changes, then publish it "
                "again."
            )
        )


# --- a new questionnaire and its settings ---------------------------------------------------


def _slug_taken(session: Session, slug: str, questionnaire: Questionnaire | None) -> bool:
    other = session.exec(select(Questionnaire.id).where(Questionnaire.slug == slug)).first()
    return other is not None and (questionnaire is None or other != questionnaire.id)


def _free_slug(session: Session, title: str) -> str:
    base = slugify(title, max_length=SLUG_LENGTH[1])
    if len(base) < SLUG_LENGTH[0]:
        base = f"vragenlijst-{base}".strip("-")
    taken = session.exec(
        select(Questionnaire.slug).where(col(Questionnaire.slug).startswith(base))
    ).all()
    return first_free(base, set(taken))


class NewInput(BaseModel):
    """The "new questionnaire" form: its title."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str = ""


def _title(text: str, errors: dict[str, str]) -> str:
    title = clean_line(text)
    if not title:
        errors["title"] = _("Give the questionnaire a title.")
    elif len(title) > TITLE_LENGTH:
        errors["title"] = _("Keep the title under %(num)s characters.", num=TITLE_LENGTH)
    return title


def create(session: Session, *, course: Course, data: NewInput) -> Questionnaire:
    """A new draft questionnaire of the course, in the course's language, without questions."""
    errors: dict[str, str] = {}
    title = _title(data.title, errors)
    if errors:
        raise FormError(errors)
    questionnaire = Questionnaire(
        course_id=id_of(course),
        slug=_free_slug(session, title),
        title=title,
        language=course.language,
        definition=stored_definition(Definition()),
    )
    try:
        with session.begin_nested():
            session.add(questionnaire)
            session.flush()
    except IntegrityError:
        raise FormError({"title": _("Please try again: the web address was just taken.")}) from None
    return questionnaire


class SettingsInput(BaseModel):
    """The questionnaire's own form as typed: every field a string, checked when saved."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str = ""
    slug: str = ""
    language: str = "nl"
    self_test: bool = False
    intro: str = ""
    scoring: str = Scoring.sum.value
    better: str = Better.lower_is_better.value
    meaningful_change: str = "1"
    version: str = ""


def settings_values(questionnaire: Questionnaire) -> dict[str, str]:
    """The settings form filled in as saved."""
    definition = definition_of(questionnaire)
    return {
        "title": questionnaire.title,
        "slug": questionnaire.slug,
        "language": questionnaire.language,
        "self_test": "on" if questionnaire.self_test else "",
        "intro": definition.intro,
        "scoring": definition.scoring.value,
        "better": definition.better.value,
        "meaningful_change": number_input(definition.meaningful_change),
        "version": str(questionnaire.version),
    }


def number_input(value: Decimal) -> str:
    """A bound as the form shows it, in Dutch notation: 2 or 2,5."""
    return format_score(value).replace(".", ",") if value % 1 else str(int(value))


def parse_decimal(text: str, field: str, errors: dict[str, str]) -> Decimal:
    """A number as people type it (2, 2,5 or 2.5); an error for `field` otherwise."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        value = Decimal(-1)
    if (
        not value.is_finite()
        or value < 0
        or value > 1000
        or value != value.quantize(Decimal("0.1"))
    ):
        errors[field] = _(
            "Fill in a number from 0 to 1000 with at most one decimal, e.g. 2 or 2,5."
        )
        return Decimal(0)
    return value


def _settings_slug(
    session: Session, typed: str, title: str, questionnaire: Questionnaire, errors: dict[str, str]
) -> str:
    slug = typed.strip().lower()
    if not slug:
        return questionnaire.slug if title == questionnaire.title else _free_slug(session, title)
    if not is_slug(slug):
        errors["slug"] = _(
            "Use only lowercase letters a–z, digits and single hyphens, 3 to 80 characters, "
            "for example pijntest."
        )
    elif _slug_taken(session, slug, questionnaire):
        errors["slug"] = _(
            "Another questionnaire already uses this web address. Choose another one."
        )
    return slug


def save_settings(session: Session, *, questionnaire: Questionnaire, data: SettingsInput) -> bool:
    """Save the settings form; False when nothing changed. FormError for a wrong field."""
    errors: dict[str, str] = {}
    title = _title(data.title, errors)
    slug = _settings_slug(session, data.slug, title, questionnaire, errors)
    intro = clean_text(data.intro)
    if len(intro) > INTRO_LENGTH:
        errors["intro"] = _("Keep the text under %(num)s characters.", num=INTRO_LENGTH)
    if data.language not in LANGUAGE_NAMES:
        errors["language"] = _("Choose a language from the list.")
    if data.scoring not in {item.value for item in Scoring}:
        errors["scoring"] = _("Choose one of the options in the list.")
    if data.better not in {item.value for item in Better}:
        errors["better"] = _("Choose one of the options in the list.")
    change = parse_decimal(data.meaningful_change, "meaningful_change", errors)
    if errors:
        raise FormError(errors)
    row = {"title": title, "slug": slug, "language": data.language, "self_test": data.self_test}
    parts = {
        "intro": intro,
        "scoring": Scoring(data.scoring),
        "better": Better(data.better),
        "meaningful_change": change,
    }
    definition = definition_of(questionnaire)
    if all(getattr(questionnaire, k) == v for k, v in row.items()) and all(
        getattr(definition, k) == v for k, v in parts.items()
    ):
        return False
    new = Definition.model_validate(definition.model_copy(update=parts).model_dump())
    _keep_usable(questionnaire, new)
    write(session, questionnaire, version=data.version, definition=stored_definition(new), **row)
    return True


# --- publishing and deleting ----------------------------------------------------------------


def set_status(
    session: Session,
    *,
    questionnaire: Questionnaire,
    status: str,
    version: str,
    courses: list[tuple[str, str]],
) -> None:
    """Publish (only without problems) or take back to draft."""
    if status not in {item.value for item in QuestionnaireStatus}:
        raise FormError({"status": _("Choose publish or draft.")})
    if status == QuestionnaireStatus.published:
        problems = problems_of(definition_of(questionnaire), courses)
        if problems:
            raise Conflict(
                ngettext(
                    "This questionnaire has %(num)s problem; solve it before you publish.",
                    "This questionnaire has %(num)s problems; solve them before you publish.",
                    len(problems),
                )
            )
    write(session, questionnaire, version=version, status=status)


@dataclass(frozen=True)
class Usage:
    """Where a questionnaire is used: the course's check-ins, and answers of learners."""

    check_ins: int
    measurements: int


def usage(session: Session, *, questionnaire: Questionnaire) -> Usage:
    """How many check-ins use it and how often it was filled in (one statement)."""
    check_ins = (
        select(func.count()).where(col(CheckIn.questionnaire_id) == id_of(questionnaire))
    ).scalar_subquery()
    measurements = (
        select(func.count()).where(col(Measurement.questionnaire_id) == id_of(questionnaire))
    ).scalar_subquery()
    counted = session.exec(select(check_ins, measurements)).one()
    return Usage(check_ins=counted[0], measurements=counted[1])


def deletion_blocker(used: Usage) -> str | None:
    """Why the questionnaire cannot be deleted; None when it may go."""
    if used.measurements:
        return ngettext(
            "It has been filled in %(num)s time; those answers are kept, so it cannot be "
            "deleted. Take it back to draft instead.",
            "It has been filled in %(num)s times; those answers are kept, so it cannot be "
            "deleted. Take it back to draft instead.",
            used.measurements,
        )
    if used.check_ins:
        return ngettext(
            "%(num)s check-in of the course uses it; delete that check-in first.",
            "%(num)s check-ins of the course use it; delete those check-ins first.",
            used.check_ins,
        )
    return None


def delete(session: Session, *, questionnaire: Questionnaire, confirmed: bool) -> None:
    """Delete the questionnaire (its self-test counts go with it); Conflict while it is used."""
    blocker = deletion_blocker(usage(session, questionnaire=questionnaire))
    if blocker is not None:
        raise Conflict(blocker)
    if not confirmed:
        raise Conflict(_("Nothing was deleted: confirm with the button “Yes, delete”."))
    session.delete(questionnaire)
    session.flush()


# --- the self-test's counts -----------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """The self-test's anonymous results of the last weeks: per week (newest first), per band
    (by index), those with a warning sign apart."""

    weeks: list[date]
    counts: dict[tuple[date, int], int]  # (week, band index; -1 no band), without warning sign
    warnings: dict[date, int]

    def total(self, week: date) -> int:
        bands = sum(count for (day, _band), count in self.counts.items() if day == week)
        return bands + self.warnings.get(week, 0)

    @property
    def everyone(self) -> int:
        return sum(self.counts.values()) + sum(self.warnings.values())

    @property
    def unmatched(self) -> bool:
        return any(band == -1 for _week, band in self.counts)


def tally(session: Session, *, questionnaire: Questionnaire, now: datetime) -> Tally:
    """The last TALLY_WEEKS weeks of the self-test's counts (one statement)."""
    monday = week_of(now)
    weeks = [monday - timedelta(weeks=n) for n in range(TALLY_WEEKS)]
    rows = session.exec(
        select(SelfTestTally).where(
            SelfTestTally.questionnaire_id == id_of(questionnaire),
            col(SelfTestTally.week) >= weeks[-1],
        )
    ).all()
    counts: dict[tuple[date, int], int] = {}
    warnings: dict[date, int] = {}
    for row in rows:
        if row.warning:
            warnings[row.week] = warnings.get(row.week, 0) + row.count
        else:
            counts[(row.week, row.band_index)] = row.count
    return Tally(weeks, counts, warnings)
