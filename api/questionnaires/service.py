"""Questionnaires read and answered: the definition of a stored questionnaire, a measurement
stored once per occasion, and the self-test's anonymous tally."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api import db
from api.accounts.models import Role, User
from api.catalog.models import Course, CourseStatus
from api.consent.service import require_health_consent
from api.i18n import TIMEZONE
from api.kit.ids import id_of
from api.questionnaires.definition import Definition, MultipleItem, SingleItem
from api.questionnaires.models import (
    Measurement,
    Questionnaire,
    QuestionnaireStatus,
    SelfTestTally,
)
from api.questionnaires.scoring import Answers, Result


def definition_of(questionnaire: Questionnaire) -> Definition:
    """The questionnaire's definition, parsed once per saved version in each process."""
    # updated_at too: SQLite gives a new row the id of a deleted newest one, at version 1 again.
    key = (id_of(questionnaire), questionnaire.version, questionnaire.updated_at)
    return _parsed(*key, _Frozen(questionnaire.definition))


class _Frozen:
    """The stored JSON as a cache argument: equal by the (id, version) beside it, so it is
    neither hashed nor compared."""

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen)


@lru_cache(maxsize=256)
def _parsed(
    questionnaire_id: int, version: int, updated_at: datetime, stored: _Frozen
) -> Definition:
    return Definition.model_validate(stored.value)


def stored_definition(definition: Definition) -> dict[str, Any]:
    """The definition as the row stores it (numbers as JSON numbers)."""
    return definition.model_dump(mode="json")


@dataclass(frozen=True)
class SelfTest:
    """A published self-test with the course that carries it."""

    questionnaire: Questionnaire
    definition: Definition
    course: Course


def self_test(session: Session, *, slug: str, viewer: User | None = None) -> SelfTest | None:
    """The self-test at /test/<slug>: published, with a published course; its instructor (and an
    admin) also sees it before, to try it. One statement."""
    row = session.exec(
        select(Questionnaire, Course)
        .join(Course, col(Course.id) == Questionnaire.course_id)
        .where(Questionnaire.slug == slug, col(Questionnaire.self_test).is_(True))
    ).first()
    if row is None:
        return None
    questionnaire, course = row
    public = (
        questionnaire.status == QuestionnaireStatus.published
        and course.status == CourseStatus.published
    )
    if not public and not _may_preview(viewer, course):
        return None
    return SelfTest(questionnaire, definition_of(questionnaire), course)


def _may_preview(viewer: User | None, course: Course) -> bool:
    if viewer is None:
        return False
    return viewer.role == Role.admin or viewer.id == course.instructor_id


def record(
    session: Session,
    *,
    user: User,
    questionnaire: Questionnaire,
    answers: Answers,
    result: Result,
    occasion: str,
    course_id: int | None,
    now: datetime,
) -> Measurement:
    """Store what she answered, once per occasion: a second submit of the same occasion (a
    double tap, a resent form) returns the measurement stored first and changes nothing.
    Health data: only with her consent (ConsentRequired otherwise)."""
    require_health_consent(user)
    values = {
        "user_id": id_of(user),
        "questionnaire_id": id_of(questionnaire),
        "course_id": course_id,
        "occasion": occasion,
        "answers": answers,
        "score": float(result.score),
        "subscores": {key: float(value) for key, value in result.subscores.items()},
        "band_index": result.band_index,
        "band_title": result.band.title if result.band is not None else "",
        "warning": result.warning,
        "taken_at": now,
    }
    table = Measurement.__table__  # type: ignore[attr-defined]
    row = db.upsert(session, table, values, keys=["user_id", "occasion"])
    if row is not None:
        return Measurement.model_validate(row._asdict())
    stored = session.exec(
        select(Measurement).where(
            Measurement.user_id == id_of(user), Measurement.occasion == occasion
        )
    ).one()
    return stored


def week_of(moment: datetime) -> date:
    """The Monday (Amsterdam time) of the week the moment falls in."""
    day = moment.astimezone(TIMEZONE).date()
    return day - timedelta(days=day.weekday())


def count_self_test(
    session: Session, *, questionnaire: Questionnaire, result: Result, now: datetime
) -> None:
    """Add one result to the self-test's tally of its band and week; nothing about who."""
    table = SelfTestTally.__table__  # type: ignore[attr-defined]
    db.upsert(
        session,
        table,
        {
            "questionnaire_id": id_of(questionnaire),
            "week": week_of(now),
            "band_index": result.band_index if result.band_index is not None else -1,
            "warning": result.warning,
            "count": 1,
        },
        keys=["questionnaire_id", "week", "band_index", "warning"],
        update=lambda table, excluded: {"count": table.c.count + 1},
    )


def as_decimal(value: float) -> Decimal:
    """A stored score as the exact one-decimal number it was."""
    return Decimal(str(value)).quantize(Decimal("0.1"))


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Every questionnaire she filled in, oldest first, each answer beside its question as she
    read it (one statement)."""
    rows = session.exec(
        select(Measurement, Questionnaire)
        .join(Questionnaire, col(Questionnaire.id) == Measurement.questionnaire_id)
        .where(Measurement.user_id == id_of(user))
        .order_by(col(Measurement.taken_at), col(Measurement.id))
    ).all()
    return [
        {
            "questionnaire": questionnaire.title,
            "questionnaire_slug": questionnaire.slug,
            "occasion": measurement.occasion,
            "taken_at": measurement.taken_at.isoformat(),
            "score": measurement.score,
            "subscores": measurement.subscores,
            "band": measurement.band_title,
            "warning_sign": measurement.warning,
            "answers": readable_answers(definition_of(questionnaire), measurement.answers),
        }
        for measurement, questionnaire in rows
    ]


def readable_answers(definition: Definition, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Each stored answer with its question's text and the option labels she chose."""
    readable = []
    for item in definition.items:
        if item.key not in answers:
            continue
        answer = answers[item.key]
        shown: Any = answer
        if isinstance(item, SingleItem) and isinstance(answer, int):
            shown = item.options[answer].label if answer < len(item.options) else answer
        elif isinstance(item, MultipleItem) and isinstance(answer, list):
            shown = [item.options[i].label for i in answer if i < len(item.options)]
        readable.append({"question": item.text, "key": item.key, "answer": shown})
    return readable


def erase(session: Session, *, user: User) -> None:
    """Delete everything she answered."""
    session.execute(delete(Measurement).where(col(Measurement.user_id) == id_of(user)))
