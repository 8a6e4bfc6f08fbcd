"""Public questions and answers on a lesson: an instructor's rewrite of a conversation, without
anything that identifies the learner, shown to everyone who may see the lesson."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.catalog.models import Course, Lesson
from api.errors import FormError, NotFound
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.messages.models import MAX_MESSAGE_LENGTH, LessonQuestion

# Only the public page's text is checked here: the page's own checks (the box she ticked, the
# rewrite) belong to the form that turns a conversation into one.


def _text(value: str, field: str, errors: dict[str, str]) -> str:
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        errors[field] = _("Fill this in.")
    elif len(text) > MAX_MESSAGE_LENGTH:
        errors[field] = _("At most %(max)s characters.", max=MAX_MESSAGE_LENGTH)
    return text


@dataclass(frozen=True, slots=True)
class PublicQuestion:
    """A public question with its answer, as the lesson page shows it (plain values)."""

    question: str
    answer: str


def of_lesson(session: Session, *, lesson_id: int) -> list[LessonQuestion]:
    """The lesson's public questions in their order (one statement)."""
    return list(
        session.exec(
            select(LessonQuestion)
            .where(LessonQuestion.lesson_id == lesson_id)
            .order_by(col(LessonQuestion.position), col(LessonQuestion.id))
        ).all()
    )


def lesson_in(session: Session, *, course: Course, lesson_id: int) -> Lesson:
    """A lesson of this course; FormError at the lesson choice otherwise."""
    lesson = session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id:
        raise FormError({"lesson_id": _("Choose a lesson of this course.")})
    return lesson


def publish(
    session: Session, *, course: Course, lesson_id: int, question: str, answer: str, original: str
) -> LessonQuestion:
    """Add a rewritten question and its answer at the end of the lesson's list; FormError when
    the question is her own words unchanged."""
    errors: dict[str, str] = {}
    asked = _text(question, "question", errors)
    said = _text(answer, "answer", errors)
    if asked and asked == original.strip():
        errors["question"] = _(
            "This is still her own message. Rewrite it in your words, without anything that "
            "could identify her."
        )
    lesson = lesson_in(session, course=course, lesson_id=lesson_id) if not errors else None
    if errors or lesson is None:
        raise FormError(errors)
    last = session.exec(
        select(func.max(LessonQuestion.position)).where(LessonQuestion.lesson_id == lesson.id)
    ).one()
    item = LessonQuestion(
        lesson_id=id_of(lesson), position=(last + 1) if last is not None else 0,
        question=asked, answer=said,
    )  # fmt: skip
    session.add(item)
    session.flush()
    return item


def in_course(session: Session, *, course: Course, question_id: int) -> LessonQuestion:
    """A public question on one of this course's lessons; NotFound otherwise."""
    row = session.exec(
        select(LessonQuestion)
        .join(Lesson, col(Lesson.id) == LessonQuestion.lesson_id)
        .where(LessonQuestion.id == question_id, Lesson.course_id == id_of(course))
    ).first()
    if row is None:
        raise NotFound(_("We could not find this question."))
    return row


def update(session: Session, *, item: LessonQuestion, question: str, answer: str) -> None:
    """Change the text of a public question and its answer."""
    errors: dict[str, str] = {}
    asked, said = _text(question, "question", errors), _text(answer, "answer", errors)
    if errors:
        raise FormError(errors)
    item.question, item.answer = asked, said
    session.add(item)
    session.flush()


def remove(session: Session, *, item: LessonQuestion) -> None:
    """Take a public question off its lesson."""
    session.delete(item)
    session.flush()
