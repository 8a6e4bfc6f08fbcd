"""The catalog's JSON API: the same courses and the same access rules as the pages."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.accounts.models import Role
from tests.factories import enable_totp, log_in, make_course, make_user

EN = {"Accept-Language": "en"}


def test_the_list_holds_published_courses_with_their_instructor(
    client: TestClient, session: Session
) -> None:
    teacher = make_user(session, name="Inge de Vries", role=Role.instructor)
    paid = make_course(session, instructor=teacher, price_cents=4900)
    make_course(session, status="draft")

    response = client.get("/api/v1/courses")

    assert response.status_code == 200
    assert response.json() == [
        {
            "slug": paid.slug,
            "title": paid.title,
            "subtitle": paid.subtitle,
            "language": "nl",
            "price_cents": 4900,
            "is_free": False,
            "instructor": {"name": "Inge de Vries"},
        }
    ]


def test_the_outline_says_which_lessons_are_locked_for_this_visitor(
    client: TestClient, session: Session
) -> None:
    course = make_course(session, modules=2, lessons_per_module=2, price_cents=4900)

    body = client.get(f"/api/v1/courses/{course.slug}").json()

    assert body["slug"] == course.slug
    assert body["is_free"] is False
    assert body["lesson_count"] == 4
    assert body["outcomes"] == course.outcomes
    assert "<strong>rustige</strong>" in body["description_html"]
    assert body["faq"][0]["question"] == "Hoe lang duurt het?"
    assert "<em>minuten</em>" in body["faq"][0]["answer_html"]
    assert [module["title"] for module in body["modules"]] == ["Week 1", "Week 2"]
    lessons = [lesson for module in body["modules"] for lesson in module["lessons"]]
    assert [lesson["slug"] for lesson in lessons] == ["les-1-1", "les-1-2", "les-2-1", "les-2-2"]
    assert [lesson["locked"] for lesson in lessons] == [False, True, True, True]
    assert [lesson["free_preview"] for lesson in lessons] == [True, False, False, False]
    assert lessons[0]["estimated_minutes"] == 5


def test_a_lesson_has_its_video_explanation_and_steps(client: TestClient, session: Session) -> None:
    course = make_course(session, steps_per_lesson=3, video_provider="youtube")

    response = client.get(f"/api/v1/courses/{course.slug}/lessons/les-1-1", headers=EN)

    assert response.status_code == 200
    body = response.json()
    assert body["video"] == {
        "provider": "youtube",
        "id": "aBcDeFgHiJk",
        "title": "Video bij les 1.1",
    }
    assert body["body_html"] == "<p>Uitleg bij deze les.</p>\n"
    assert body["number"] == 1
    assert body["lesson_count"] == 6
    assert body["previous"] is None
    assert body["next"] == {"slug": "les-1-2", "title": "Les 1.2"}
    exercise, breathing, text = body["steps"]
    # Steps carry their id, for the player and the practice log.
    assert len({step.pop("id") for step in (exercise, breathing, text)}) == 3
    assert exercise["kind"] == "exercise"
    assert exercise["params"] == {
        "hold_seconds": 8,
        "relax_seconds": 8,
        "reps": 10,
        "sets": 3,
        "rest_seconds": 30,
    }
    assert exercise["description"] == (
        "Tighten for 8 counts, relax for 8 counts — 10 times, 3 sets, 30 seconds rest"
    )
    assert exercise["cues"] == ["Blijf doorademen", "Billen ontspannen"]
    assert breathing["params"] == {
        "inhale_seconds": 4,
        "hold_seconds": 0,
        "exhale_seconds": 6,
        "cycles": 10,
    }
    assert text == {
        "kind": "text",
        "title": "Stap 3",
        "body_html": "<p>Lees dit eerst rustig door.</p>\n",
        "params": {},
        "cues": [],
        "description": "",
        "picture": None,
    }


def test_a_lesson_without_video_says_null(client: TestClient, session: Session) -> None:
    course = make_course(session)
    body = client.get(f"/api/v1/courses/{course.slug}/lessons/les-1-1").json()
    assert body["video"] is None


@pytest.mark.parametrize(
    "path",
    ["/api/v1/courses/bestaat-niet", "/api/v1/courses/bestaat-niet/lessons/les-1-1"],
)
def test_unknown_courses_are_json_404s(path: str, client: TestClient) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_an_unknown_lesson_is_a_json_404(client: TestClient, session: Session) -> None:
    course = make_course(session)
    response = client.get(f"/api/v1/courses/{course.slug}/lessons/bestaat-niet")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_locked_lesson_is_a_json_403(client: TestClient, session: Session) -> None:
    course = make_course(session, price_cents=4900)

    response = client.get(f"/api/v1/courses/{course.slug}/lessons/les-1-2", headers=EN)

    assert response.status_code == 403
    assert response.json() == {
        "error": "lesson_locked",
        "detail": "Buy the course to open this lesson.",
    }


@pytest.mark.parametrize("who", ["anonymous", "learner", "other instructor"])
def test_drafts_are_json_404s_for_the_public(
    who: str, client: TestClient, session: Session
) -> None:
    course = make_course(session, status="draft")
    if who != "anonymous":
        user = make_user(session, role=Role.learner if who == "learner" else Role.instructor)
        log_in(client, user, secret=enable_totp(session, user) if user.needs_totp else None)

    assert client.get(f"/api/v1/courses/{course.slug}").status_code == 404
    assert client.get(f"/api/v1/courses/{course.slug}/lessons/les-1-1").status_code == 404


@pytest.mark.parametrize("who", ["its instructor", "admin"])
def test_its_instructor_and_admins_read_drafts_and_locked_lessons(
    who: str, client: TestClient, session: Session
) -> None:
    owner = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=owner, status="draft")
    user = owner if who == "its instructor" else make_user(session, role=Role.admin)
    log_in(client, user, secret=enable_totp(session, user))

    outline = client.get(f"/api/v1/courses/{course.slug}")
    assert outline.status_code == 200
    assert outline.json()["status"] == "draft"
    assert not any(
        lesson["locked"] for module in outline.json()["modules"] for lesson in module["lessons"]
    )
    assert client.get(f"/api/v1/courses/{course.slug}/lessons/les-2-3").status_code == 200


def test_the_catalog_api_is_described_in_openapi(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()

    for path in (
        "/api/v1/courses",
        "/api/v1/courses/{slug}",
        "/api/v1/courses/{slug}/lessons/{lesson_slug}",
    ):
        operation = spec["paths"][path]["get"]
        assert operation["tags"] == ["catalog"]
        assert "200" in operation["responses"]
    lesson = spec["paths"]["/api/v1/courses/{slug}/lessons/{lesson_slug}"]["get"]
    assert {"403", "404"} <= set(lesson["responses"])
    assert {"CourseSummary", "CourseDetail", "LessonDetail", "StepPublic"} <= set(
        spec["components"]["schemas"]
    )
    # The pages are not part of the API description.
    assert not any(path.startswith(("/courses", "/media")) for path in spec["paths"])
