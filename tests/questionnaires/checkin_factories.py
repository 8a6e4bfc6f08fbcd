"""Check-ins built directly with the models: a pelvic-floor check-in questionnaire, the
course's check-in moments, and her enrolment at a chosen moment."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course, Lesson
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentSource
from api.kit.ids import id_of
from api.progress import service as progress_service
from api.questionnaires import service
from api.questionnaires.definition import Definition
from api.questionnaires.models import CheckIn, Questionnaire


def bladder_check_in(**changes: Any) -> Definition:
    """How often she leaks (0–3), how much it bothers her and her back pain (0–10 each), a
    warning sign and a note: 0–23 in all; sub-scores "leaking" and "back pain"."""
    data: dict[str, Any] = {
        "scoring": "sum",
        "better": "lower",
        "meaningful_change": 3,
        "items": [
            {
                "kind": "single",
                "key": "how-often",
                "text": "Hoe vaak verlies je urine?",
                "options": [
                    {"label": "nooit", "points": 0},
                    {"label": "een keer per week", "points": 1},
                    {"label": "elke dag", "points": 2},
                    {"label": "meerdere keren per dag", "points": 3},
                ],
            },
            {
                "kind": "scale",
                "key": "bother",
                "text": "Hoeveel last heb je ervan?",
                "min_label": "geen last",
                "max_label": "heel veel last",
            },
            {
                "kind": "scale",
                "key": "back-pain",
                "text": "Hoeveel rugpijn heb je nu?",
                "min_label": "geen pijn",
                "max_label": "ergste pijn",
            },
            {"kind": "warning", "key": "numb", "text": "Voelt je kruis ineens gevoelloos?"},
            {"kind": "text", "key": "note", "text": "Wil je nog iets kwijt?"},
        ],
        "subscores": [
            {"key": "leaking", "title": "Lekken", "items": ["how-often", "bother"]},
            {"key": "back-pain", "title": "Pijn", "items": ["back-pain"]},
        ],
        "bands": [
            {"min": 0, "max": 7, "title": "Weinig klachten"},
            {"min": 8, "max": 15, "title": "Matig"},
            {"min": 16, "max": 23, "title": "Veel klachten"},
        ],
    }
    data.update(changes)
    return Definition.model_validate(data)


def make_questionnaire(
    session: Session, course: Course, *, slug: str = "bekken-check-in", status: str = "published"
) -> Questionnaire:
    questionnaire = Questionnaire(
        course_id=id_of(course),
        slug=slug,
        title="Bekkenbodem check-in",
        status=status,
        definition=service.stored_definition(bladder_check_in()),
    )
    session.add(questionnaire)
    session.flush()
    return questionnaire


def add_check_in(
    session: Session,
    course: Course,
    questionnaire: Questionnaire,
    moment: str,
    *,
    position: int = 0,
    module_position: int | None = None,
    every_days: int | None = None,
) -> CheckIn:
    check_in = CheckIn(
        course_id=id_of(course),
        position=position,
        questionnaire_id=id_of(questionnaire),
        moment=moment,
        module_position=module_position,
        every_days=every_days,
    )
    session.add(check_in)
    session.flush()
    return check_in


def enrol_at(session: Session, user: User, course: Course, moment: datetime) -> Enrolment:
    """Her enrolment, as if she enrolled at `moment`."""
    enrolment = enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
    )
    enrolment.enrolled_at = moment
    session.add(enrolment)
    session.flush()
    return enrolment


def lessons_of(session: Session, course: Course) -> list[Lesson]:
    lessons = session.exec(
        select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.id))
    ).all()
    return list(lessons)


def complete(session: Session, user: User, lessons: list[Lesson], moment: datetime) -> None:
    for lesson in lessons:
        progress_service.complete(session, user_id=id_of(user), lesson=lesson, now=moment)


def answers(
    how_often: int = 2, bother: int = 6, back_pain: int = 7, numb: str = "no", note: str = ""
) -> dict[str, str]:
    """A filled-in form: total how_often + bother + back_pain."""
    return {
        "how-often": str(how_often),
        "bother": str(bother),
        "back-pain": str(back_pain),
        "numb": numb,
        "note": note,
    }
