"""Another instructor can neither open nor change a course that is not hers: every studio route
that names a course answers 403 to her (a learner's conversation 404: she need not know it
exists), and the course, its modules, lessons, steps, enrolments, conversations, public
questions and media stay exactly as they were.

The routes are read from the app itself, so a studio route added later is walked too; its path
parameters are filled with the ids of the owner's course.
"""

import io
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, SQLModel, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson, Module, Step
from api.cohorts import service as cohorts
from api.config import Settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentSource
from api.kit.ids import id_of
from api.messages.models import LessonQuestion, Message, Thread
from api.questionnaires.models import CheckIn, Questionnaire
from api.questionnaires.service import stored_definition
from tests.factories import csrf_token, enable_totp, log_in, make_course, make_user
from tests.questionnaires.test_definition import pain_test
from tests.test_access_matrix import PARAMETER, served_routes

# Plausible input for every kind of studio form, so an unguarded route would act on it.
FORM = {
    "title": "Overgenomen",
    "subtitle": "Niet van jou",
    "description": "Gewijzigd",
    "price": "1",
    "language": "nl",
    "schedule": "all_at_once",
    "status": "archived",
    "direction": "down",
    "kind": "exercise",
    "body": "Gewijzigd",
    "video_url": "https://youtu.be/dQw4w9WgXcQ",
    "hold_seconds": "5",
    "email": "bob@example.nl",
    "note": "overgenomen",
    "confirm": "yes",
    "confirmation": "yes",
    "version": "1",
}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def studio_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every studio route that names a course."""
    routes, _mounts, _unknown = served_routes(app)
    return sorted(
        (method, path) for method, path in routes if path.startswith("/studio/courses/{slug}")
    )


def snapshot(session: Session, course_id: int, settings: Settings) -> list[object]:
    """Everything of the course that a studio route could change, as plain values."""
    session.expire_all()

    def rows(model: type[SQLModel], column: object) -> list[dict[str, object]]:
        found = session.exec(select(model).where(column == course_id)).all()
        return sorted((row.model_dump() for row in found), key=lambda row: str(row["id"]))

    lesson_ids = [
        lesson.id for lesson in session.exec(select(Lesson).where(Lesson.course_id == course_id))
    ]
    steps = session.exec(select(Step).where(col(Step.lesson_id).in_(lesson_ids))).all()
    threads = session.exec(select(Thread).where(Thread.course_id == course_id)).all()
    messages = session.exec(
        select(Message).where(col(Message.thread_id).in_([thread.id for thread in threads]))
    ).all()
    questions = session.exec(
        select(LessonQuestion).where(col(LessonQuestion.lesson_id).in_(lesson_ids))
    ).all()
    media = (
        sorted(p.name for p in settings.media_dir.glob("*")) if settings.media_dir.exists() else []
    )
    return [
        rows(Course, Course.id),
        rows(Questionnaire, Questionnaire.course_id),
        rows(CheckIn, CheckIn.course_id),
        rows(Module, Module.course_id),
        rows(Lesson, Lesson.course_id),
        sorted((step.model_dump() for step in steps), key=lambda row: str(row["id"])),
        rows(Enrolment, Enrolment.course_id),
        [row.model_dump() for row in (*threads, *messages, *questions)],
        media,
    ]


@pytest.fixture
def owners_course(session: Session) -> tuple[Course, dict[str, str]]:
    """The owner's course with a learner in it, and the ids that fill the studio paths."""
    owner = make_user(session, role=Role.instructor, name="Ingrid Eigenaar")
    course = make_course(session, instructor=owner, price_cents=4900)
    learner = make_user(session, name="Lotte Leerling")
    enrolment = enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    module = session.exec(select(Module).where(Module.course_id == course.id)).first()
    lesson = session.exec(select(Lesson).where(Lesson.course_id == course.id)).first()
    assert module is not None
    assert lesson is not None
    step = session.exec(select(Step).where(Step.lesson_id == lesson.id)).first()
    assert step is not None
    questionnaire = Questionnaire(
        course_id=id_of(course),
        slug="eigen-vragen",
        title="Eigen vragen",
        definition=stored_definition(pain_test()),
    )
    session.add(questionnaire)
    session.flush()
    check_in = CheckIn(course_id=id_of(course), questionnaire_id=id_of(questionnaire), moment="end")
    session.add(check_in)
    thread = Thread(course_id=id_of(course), learner_id=id_of(learner))
    question = LessonQuestion(lesson_id=id_of(lesson), question="Mag het?", answer="Ja.")
    session.add_all([thread, question])
    session.flush()
    session.add(Message(thread_id=id_of(thread), author_id=learner.id, body="Mag het?"))
    cohort = cohorts.create(
        session, course=course, data=cohorts.CohortInput(date(2027, 1, 11), None, None, None)
    )
    session.flush()
    ids = {
        "slug": course.slug,
        "module_id": str(module.id),
        "lesson_id": str(lesson.id),
        "step_id": str(step.id),
        "enrolment_id": str(enrolment.id),
        "questionnaire_id": str(questionnaire.id),
        "check_in_id": str(check_in.id),
        "index": "0",
        "position": "1",  # the first testimonial
        "thread_id": str(thread.id),
        "question_id": str(question.id),
        "cohort_id": str(cohort.id),
    }
    return course, ids


def fill(path: str, ids: dict[str, str]) -> str:
    return PARAMETER.sub(lambda match: ids[match.group(1)], path)


def send(client: TestClient, method: str, url: str) -> Response:
    response: Response
    if method == "GET":
        response = client.get(url, follow_redirects=False)
        return response
    token = csrf_token(client)
    files = {"image": ("omslag.png", io.BytesIO(PNG), "image/png")}
    if url.endswith("/video"):
        files = {
            "video": ("les.mp4", io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + b"\0" * 64), "video/mp4")
        }
    if url.endswith("/picture"):
        files = {"picture": ("houding.png", io.BytesIO(PNG), "image/png")}
    if url.endswith(("/cover", "/video", "/picture")):
        data = {"csrf_token": token, "alt": "Op je rug"}
        response = client.request(method, url, data=data, files=files, follow_redirects=False)
    else:
        response = client.request(
            method, url, data={**FORM, "csrf_token": token}, follow_redirects=False
        )
    return response


def test_every_studio_route_of_a_course_refuses_another_instructor_and_changes_nothing(
    app: FastAPI,
    client: TestClient,
    session: Session,
    settings: Settings,
    owners_course: tuple[Course, dict[str, str]],
) -> None:
    course, ids = owners_course
    other = make_user(session, role=Role.instructor, name="Olga Ander")
    log_in(client, other, secret=enable_totp(session, other))
    routes = studio_routes(app)
    assert ("GET", "/studio/courses/{slug}/learners") in routes  # the walk sees the studio
    before = snapshot(session, course.id or 0, settings)

    answers = {
        f"{method} {path}": send(client, method, fill(path, ids)).status_code
        for method, path in routes
    }

    assert answers == {key: 404 if "/questions/" in key else 403 for key in answers}
    assert snapshot(session, course.id or 0, settings) == before
    # The same browser, signed in as the owner, is let in: the refusals were about who asks.
    owner = session.get(User, course.instructor_id)
    assert owner is not None
    log_in(client, owner, secret=enable_totp(session, owner))
    assert client.get(f"/studio/courses/{course.slug}/learners").status_code == 200


def test_a_learner_is_refused_every_studio_route_of_a_course(
    app: FastAPI,
    client: TestClient,
    session: Session,
    settings: Settings,
    owners_course: tuple[Course, dict[str, str]],
) -> None:
    course, ids = owners_course
    log_in(client, make_user(session, name="Bea Buiten"))
    before = snapshot(session, course.id or 0, settings)

    answers = {
        f"{method} {path}": send(client, method, fill(path, ids)).status_code
        for method, path in studio_routes(app)
    }

    assert answers == dict.fromkeys(answers, 403)
    assert snapshot(session, course.id or 0, settings) == before
