"""Enrolling: one click for free courses, access to lessons only when enrolled, grants by hand."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson, Module
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentSource, EnrolmentStatus
from tests.factories import enable_totp, log_in, make_course, make_user, post_form
from tests.smtp import Mailbox, link_path


def _lessons(session: Session, course: Course) -> list[Lesson]:
    return list(
        session.exec(
            select(Lesson)
            .join(Module, Module.id == Lesson.module_id)  # type: ignore[arg-type]
            .where(Lesson.course_id == course.id)
            .order_by(Module.position, Lesson.position)  # type: ignore[arg-type]
        ).all()
    )


def _enrolments(session: Session, course: Course) -> list[Enrolment]:
    return list(session.exec(select(Enrolment).where(Enrolment.course_id == course.id)).all())


def _instructor_client(app_client: TestClient, session: Session, instructor: User) -> TestClient:
    secret = enable_totp(session, instructor)
    log_in(app_client, instructor, secret=secret)
    return app_client


# --- free courses ---------------------------------------------------------------------------


def test_a_learner_enrols_in_a_free_course_with_one_click(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    course = make_course(session)
    log_in(client, alice)

    page = client.get(f"/courses/{course.slug}")
    assert f'action="/courses/{course.slug}/enrol"' in page.text
    response = post_form(client, f"/courses/{course.slug}/enrol")

    first = _lessons(session, course)[0]
    assert response.status_code == 303
    assert response.headers["location"] == f"/courses/{course.slug}/lessons/{first.slug}"
    [enrolment] = _enrolments(session, course)
    assert (enrolment.user_id, enrolment.source, enrolment.status) == (alice.id, "free", "active")


def test_enrolling_twice_keeps_one_enrolment(client: TestClient, session: Session) -> None:
    course = make_course(session)
    log_in(client, make_user(session))
    post_form(client, f"/courses/{course.slug}/enrol")
    post_form(client, f"/courses/{course.slug}/enrol")
    assert len(_enrolments(session, course)) == 1


def test_a_paid_course_cannot_be_joined_for_free(client: TestClient, session: Session) -> None:
    course = make_course(session, price_cents=4900)
    log_in(client, make_user(session))
    response = post_form(client, f"/courses/{course.slug}/enrol")
    assert response.status_code == 409
    assert _enrolments(session, course) == []


def test_an_anonymous_visitor_registers_and_her_mailed_link_brings_her_back_to_the_course(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    course = make_course(session)
    page = client.get(f"/courses/{course.slug}")
    register_link = f"/register?next=/courses/{course.slug}"
    assert f'href="{register_link}"' in page.text

    form = client.get(register_link)
    assert f'name="next" value="/courses/{course.slug}"' in form.text
    response = post_form(
        client,
        "/register",
        {
            "name": "Dana",
            "email": "dana@example.nl",
            "password": "een rustige ochtend",
            "language": "nl",
            "next": f"/courses/{course.slug}",
        },
    )
    assert response.status_code == 200
    [verification] = mailbox.wait_for(1)
    confirmed = post_form(client, link_path(verification))
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"/courses/{course.slug}"
    assert f'action="/courses/{course.slug}/enrol"' in client.get(f"/courses/{course.slug}").text


def test_the_login_link_on_the_course_page_returns_to_the_course(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    bob = make_user(session)
    page = client.get(f"/courses/{course.slug}")
    assert f'href="/login?next=/courses/{course.slug}"' in page.text
    response = post_form(
        client,
        "/login",
        {"email": bob.email, "password": "rustig ademen 4 6", "next": f"/courses/{course.slug}"},
    )
    assert response.headers["location"] == f"/courses/{course.slug}"


# --- access to lessons ----------------------------------------------------------------------


@pytest.fixture
def paid_course(session: Session) -> Course:
    return make_course(session, price_cents=4900)


def _second_lesson_url(session: Session, course: Course) -> str:
    return f"/courses/{course.slug}/lessons/{_lessons(session, course)[1].slug}"


def test_lessons_of_a_paid_course_stay_locked_without_enrolment(
    client: TestClient, session: Session, paid_course: Course
) -> None:
    url = _second_lesson_url(session, paid_course)
    assert client.get(url).status_code == 403
    log_in(client, make_user(session))
    assert client.get(url).status_code == 403
    api = client.get(f"/api/v1{url}")
    assert api.status_code == 403
    assert api.json()["error"] == "lesson_locked"


def test_an_enrolled_learner_opens_every_lesson_on_page_and_api(
    client: TestClient, session: Session, paid_course: Course
) -> None:
    alice = make_user(session)
    enrolment_service.grant(
        session, user_id=alice.id, course_id=paid_course.id, source=EnrolmentSource.purchase
    )
    log_in(client, alice)
    url = _second_lesson_url(session, paid_course)
    assert client.get(url).status_code == 200
    assert client.get(f"/api/v1{url}").status_code == 200
    outline = client.get(f"/api/v1/courses/{paid_course.slug}").json()
    assert not any(
        lesson["locked"] for module in outline["modules"] for lesson in module["lessons"]
    )


@pytest.mark.parametrize(
    "status", [EnrolmentStatus.refunded, EnrolmentStatus.disputed, EnrolmentStatus.revoked]
)
def test_an_ended_or_paused_enrolment_locks_the_lessons_again(
    client: TestClient, session: Session, paid_course: Course, status: EnrolmentStatus
) -> None:
    alice = make_user(session)
    enrolment = enrolment_service.grant(
        session, user_id=alice.id, course_id=paid_course.id, source=EnrolmentSource.purchase
    )
    enrolment_service.set_status(session, enrolment=enrolment, status=status)
    log_in(client, alice)
    assert client.get(_second_lesson_url(session, paid_course)).status_code == 403


def test_free_preview_lessons_stay_open_for_everyone(
    client: TestClient, session: Session, paid_course: Course
) -> None:
    first = _lessons(session, paid_course)[0]
    assert first.free_preview
    assert client.get(f"/courses/{paid_course.slug}/lessons/{first.slug}").status_code == 200


def test_the_courses_instructor_opens_every_lesson_without_enrolment(
    client: TestClient, session: Session
) -> None:
    teacher = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=teacher, price_cents=4900)
    _instructor_client(client, session, teacher)
    assert client.get(_second_lesson_url(session, course)).status_code == 200


def test_granting_at_the_same_time_twice_keeps_one_enrolment(
    session: Session, paid_course: Course
) -> None:
    alice = make_user(session)
    first = enrolment_service.grant(
        session, user_id=alice.id, course_id=paid_course.id, source=EnrolmentSource.purchase
    )
    second = enrolment_service.grant(
        session, user_id=alice.id, course_id=paid_course.id, source=EnrolmentSource.purchase
    )
    assert first.id == second.id
    assert len(_enrolments(session, paid_course)) == 1


# --- granting and ending access by hand ------------------------------------------------------


def test_the_instructor_gives_access_by_hand_with_a_reason(
    client: TestClient, session: Session
) -> None:
    teacher = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=teacher, price_cents=4900)
    carla = make_user(session)
    _instructor_client(client, session, teacher)

    response = post_form(
        client,
        f"/studio/courses/{course.slug}/learners",
        {"email": carla.email, "note": "Betaald per bankoverschrijving"},
    )

    assert response.status_code == 303
    [enrolment] = _enrolments(session, course)
    assert enrolment.user_id == carla.id
    assert enrolment.source == "manual"
    assert enrolment.note == "Betaald per bankoverschrijving"
    assert enrolment.changed_by_id == teacher.id
    page = client.get(f"/studio/courses/{course.slug}/learners")
    assert carla.email in page.text


@pytest.mark.parametrize(
    ("email", "note", "field"),
    [
        ("", "Betaald", "grant-email"),
        ("onbekend@example.nl", "Betaald", "grant-email"),
        (None, "", "grant-note"),
    ],
)
def test_giving_access_needs_a_known_learner_and_a_reason(
    client: TestClient, session: Session, email: str | None, note: str, field: str
) -> None:
    teacher = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=teacher, price_cents=4900)
    carla = make_user(session)
    _instructor_client(client, session, teacher)
    typed = carla.email if email is None else email
    response = post_form(
        client, f"/studio/courses/{course.slug}/learners", {"email": typed, "note": note}
    )
    assert response.status_code == 422
    assert f'id="f-{field}-error"' in response.text
    assert f'value="{typed}"' in response.text
    assert _enrolments(session, course) == []


def test_ending_access_needs_a_reason_and_locks_the_lessons(
    client: TestClient, session: Session
) -> None:
    teacher = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=teacher, price_cents=4900)
    carla = make_user(session)
    enrolment = enrolment_service.grant(
        session, user_id=carla.id, course_id=course.id, source=EnrolmentSource.purchase
    )
    _instructor_client(client, session, teacher)
    url = f"/studio/courses/{course.slug}/learners/{enrolment.id}/revoke"

    assert post_form(client, url, {"note": ""}).status_code == 422
    assert post_form(client, url, {"note": "Op eigen verzoek gestopt"}).status_code == 303

    session.refresh(enrolment)
    assert (enrolment.status, enrolment.note) == ("revoked", "Op eigen verzoek gestopt")
    learner = TestClient(client.app)
    log_in(learner, carla)
    assert learner.get(_second_lesson_url(session, course)).status_code == 403


def test_another_instructor_cannot_see_or_change_the_learners(
    client: TestClient, session: Session
) -> None:
    course = make_course(session, price_cents=4900)
    other = make_user(session, role=Role.instructor)
    carla = make_user(session)
    _instructor_client(client, session, other)
    assert client.get(f"/studio/courses/{course.slug}/learners").status_code == 403
    response = post_form(
        client, f"/studio/courses/{course.slug}/learners", {"email": carla.email, "note": "x"}
    )
    assert response.status_code == 403
    assert _enrolments(session, course) == []


def test_a_learner_cannot_open_the_learners_page(client: TestClient, session: Session) -> None:
    course = make_course(session)
    log_in(client, make_user(session))
    assert client.get(f"/studio/courses/{course.slug}/learners").status_code == 403


def test_a_revoked_learner_cannot_rejoin_a_free_course_herself(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    alice = make_user(session)
    enrolment = enrolment_service.enrol_free(session, user=alice, course=course)
    enrolment_service.set_status(session, enrolment=enrolment, status=EnrolmentStatus.revoked)
    log_in(client, alice)
    assert post_form(client, f"/courses/{course.slug}/enrol").status_code == 409
    session.refresh(enrolment)
    assert enrolment.status == "revoked"
