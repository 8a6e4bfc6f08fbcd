"""A course's check-ins in the studio: which of its questionnaires it asks, and when.

The list is kept in order (positions 0..n-1); a check-in names a questionnaire of the same
course, as a course package does, so the course exports and imports whole.
"""

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.catalog.models import Course, Module
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.kit.lookup import child_of
from api.questionnaires.models import MAX_EVERY_DAYS, CheckIn, CheckInMoment, Questionnaire
from api.studio.modules import move_within, renumber
from api.studio.questionnaires import whole_number


@dataclass(frozen=True)
class Line:
    """A check-in with the questionnaire it asks."""

    check_in: CheckIn
    questionnaire: Questionnaire


class CheckInInput(BaseModel):
    """The "add a check-in" form as typed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    questionnaire: str = ""
    moment: str = ""
    module: str = ""  # 1-based, as she counts the modules
    days: str = ""


def of_course(session: Session, *, course: Course) -> list[Line]:
    """The course's check-ins in order, with their questionnaires (one statement)."""
    rows = session.exec(
        select(CheckIn, Questionnaire)
        .join(Questionnaire, col(Questionnaire.id) == CheckIn.questionnaire_id)
        .where(CheckIn.course_id == course.id)
        .order_by(col(CheckIn.position), col(CheckIn.id))
    ).all()
    return [Line(check_in, questionnaire) for check_in, questionnaire in rows]


def check_in_of(session: Session, *, course: Course, check_in_id: int) -> CheckIn:
    """The course's check-in with this id; NotFound for any other id."""
    return child_of(
        session,
        CheckIn,
        check_in_id,
        parent_column=col(CheckIn.course_id),
        parent_id=course.id,
        message=_("We could not find this check-in."),
    )


def _number(text: str, low: int, high: int, field: str, errors: dict[str, str]) -> int | None:
    if whole_number(text) < 0 or not low <= int(text) <= high:
        errors[field] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        return None
    return int(text)


def add(session: Session, *, course: Course, data: CheckInInput) -> CheckIn:
    """A check-in at the end of the list; FormError naming every wrong field."""
    errors: dict[str, str] = {}
    questionnaire = None
    if whole_number(data.questionnaire) > 0:
        questionnaire = session.get(Questionnaire, int(data.questionnaire))
    if questionnaire is None or questionnaire.course_id != course.id:
        errors["questionnaire"] = _("Choose one of the course's questionnaires.")
    if data.moment not in {moment.value for moment in CheckInMoment}:
        errors["moment"] = _("Choose when she is asked.")
    module = days = None
    if data.moment == CheckInMoment.module:
        modules = session.exec(select(func.count()).where(Module.course_id == course.id)).one()
        if not modules:
            errors["module"] = _("The course has no modules yet.")
        else:
            module = _number(data.module, 1, modules, "module", errors)
    if data.moment == CheckInMoment.every:
        days = _number(data.days, 1, MAX_EVERY_DAYS, "days", errors)
    if errors or questionnaire is None:
        raise FormError(errors)
    position = session.exec(select(func.count()).where(CheckIn.course_id == course.id)).one()
    check_in = CheckIn(
        course_id=id_of(course),
        position=position,
        questionnaire_id=id_of(questionnaire),
        moment=data.moment,
        module_position=module - 1 if module is not None else None,
        every_days=days,
    )
    session.add(check_in)
    session.flush()
    return check_in


def _rows(session: Session, course: Course) -> list[CheckIn]:
    return list(
        session.exec(
            select(CheckIn)
            .where(CheckIn.course_id == course.id)
            .order_by(col(CheckIn.position), col(CheckIn.id))
        )
    )


def move(session: Session, *, course: Course, check_in: CheckIn, direction: str) -> None:
    """Move the check-in one place up or down."""
    move_within(session, _rows(session, course), check_in, direction)


def delete(session: Session, *, course: Course, check_in: CheckIn) -> None:
    """Delete the check-in; what learners answered to it stays theirs."""
    session.delete(check_in)
    session.flush()
    renumber(session, _rows(session, course))
