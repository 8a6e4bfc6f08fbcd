"""Uploaded media: served from MEDIA_DIR with range requests, and nothing else.

A file is served by the rules of the courses that own it. A cover is public once its course is
published. A video is served to those who may open a lesson that shows it: everyone for a free
preview, otherwise the enrolled learner once its module has opened, the instructor and admins."""

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.accounts.models import Role, User
from api.catalog.models import Course, CourseStatus, VideoProvider
from api.clock import current_time
from api.config import Settings
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from tests.factories import course_lessons, enable_totp, log_in, make_course, make_user, own_media

VIDEO = bytes(range(256)) * 8  # 2 KiB of recognisable bytes


@pytest.fixture
def media_dir(settings: Settings, session: Session) -> Path:
    """oefening.mp4 in MEDIA_DIR, shown by (among others) a free-preview lesson."""
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / "oefening.mp4").write_bytes(VIDEO)
    make_course(session, video_provider=VideoProvider.file)
    return settings.media_dir


def _course_with_video(
    session: Session,
    settings: Settings,
    name: str,
    *,
    lesson_index: int = 1,
    status: str = CourseStatus.published,
    drip_days: list[int] | None = None,
) -> Course:
    """A course whose lesson number `lesson_index` (0 is the free preview) shows video `name`."""
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / name).write_bytes(VIDEO)
    course = make_course(session, status=status, drip_days=drip_days)
    lesson = course_lessons(session, course)[lesson_index]
    lesson.video_provider, lesson.video_ref = VideoProvider.file, name
    session.add(lesson)
    own_media(session, course, name)
    session.flush()
    return course


def _enrol(session: Session, learner: User, course: Course) -> None:
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )


def test_a_video_is_served_whole_with_its_type(client: TestClient, media_dir: Path) -> None:
    response = client.get("/media/oefening.mp4")

    assert response.status_code == 200
    assert response.content == VIDEO
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_range_request_gets_just_those_bytes(client: TestClient, media_dir: Path) -> None:
    response = client.get("/media/oefening.mp4", headers={"Range": "bytes=0-9"})

    assert response.status_code == 206
    assert response.content == VIDEO[:10]
    assert len(response.content) == 10
    assert response.headers["content-range"] == f"bytes 0-9/{len(VIDEO)}"
    assert response.headers["content-length"] == "10"


def test_seeking_to_the_middle_works(client: TestClient, media_dir: Path) -> None:
    response = client.get("/media/oefening.mp4", headers={"Range": "bytes=1000-"})

    assert response.status_code == 206
    assert response.content == VIDEO[1000:]
    assert response.headers["content-range"] == f"bytes 1000-{len(VIDEO) - 1}/{len(VIDEO)}"


def test_an_unsatisfiable_range_is_refused(client: TestClient, media_dir: Path) -> None:
    response = client.get("/media/oefening.mp4", headers={"Range": "bytes=99999-"})
    assert response.status_code == 416


@pytest.mark.parametrize(
    "name",
    [
        "bestaat-niet.mp4",
        "%2E%2E",
        "..%2Fkern.db",
        "%2E%2E%2Fkern.db",
        "..oefening.mp4",
        "oefening..mp4",
        ".verborgen.mp4",
        "map%2Foefening.mp4",
        "map%5Coefening.mp4",
        "oefening.mp4%00.html",
    ],
)
def test_names_outside_the_media_folder_are_not_found(
    name: str, client: TestClient, media_dir: Path
) -> None:
    (media_dir.parent / "kern.db").write_bytes(b"secret")
    (media_dir / "map").mkdir(exist_ok=True)
    (media_dir / "map" / "oefening.mp4").write_bytes(VIDEO)
    (media_dir / ".verborgen.mp4").write_bytes(VIDEO)

    response = client.get(f"/media/{name}")

    assert response.status_code == 404
    assert b"secret" not in response.content
    assert response.content != VIDEO


def test_a_symlink_out_of_the_folder_is_not_followed(
    client: TestClient, media_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elders.mp4"
    outside.write_bytes(b"secret")
    (media_dir / "link.mp4").symlink_to(outside)

    assert client.get("/media/link.mp4").status_code == 404


@pytest.mark.parametrize("name", ["pagina.html", "plaatje.svg", "script.js", "geen-extensie"])
def test_only_media_types_are_served(name: str, client: TestClient, media_dir: Path) -> None:
    # An uploaded page or SVG would run with Kern's own origin.
    (media_dir / name).write_text("<script>alert(1)</script>")
    assert client.get(f"/media/{name}").status_code == 404


@pytest.mark.parametrize("path", ["/media", "/media/", "/media/map", "/media/map/"])
def test_there_is_no_directory_listing(path: str, client: TestClient, media_dir: Path) -> None:
    (media_dir / "map").mkdir(exist_ok=True)
    response = client.get(path)
    assert response.status_code == 404
    assert "oefening.mp4" not in response.text


def test_a_missing_media_folder_is_not_an_error(client: TestClient) -> None:
    assert client.get("/media/oefening.mp4").status_code == 404


def test_head_requests_give_the_size_without_the_body(client: TestClient, media_dir: Path) -> None:
    response = client.head("/media/oefening.mp4")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(VIDEO))
    assert response.content == b""


def _course_with_cover(session: Session, settings: Settings, name: str, *, status: str) -> Course:
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / name).write_bytes(b"RIFF....WEBP")
    course = make_course(session, status=status)
    course.cover_image = name
    session.add(course)
    own_media(session, course, name)
    session.flush()
    return course


def test_a_published_courses_cover_is_public_with_its_type(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _course_with_cover(session, settings, "omslag.webp", status=CourseStatus.published)

    response = client.get("/media/omslag.webp")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"].startswith("public")


def test_a_drafts_cover_is_shown_only_to_its_instructor(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = _course_with_cover(session, settings, "concept.webp", status=CourseStatus.draft)
    instructor = session.get(User, course.instructor_id)
    assert instructor is not None

    assert client.get("/media/concept.webp").status_code == 404
    log_in(client, make_user(session))
    assert client.get("/media/concept.webp").status_code == 404
    log_in(client, instructor, secret=enable_totp(session, instructor))
    response = client.get("/media/concept.webp")
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("private")


def test_an_image_no_course_owns_is_not_served(
    client: TestClient, session: Session, settings: Settings
) -> None:
    # Put there by hand, or named by a course that does not own it: nobody vouches for it.
    course = make_course(session)
    course.cover_image = "los.webp"
    session.add(course)
    session.flush()
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / "los.webp").write_bytes(b"RIFF....WEBP")

    assert client.get("/media/los.webp").status_code == 404


def test_a_video_no_lesson_shows_is_not_served(client: TestClient, settings: Settings) -> None:
    # E.g. a lesson's earlier video, or a file put there by hand: nobody may have paid for it.
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / "los.mp4").write_bytes(VIDEO)
    assert client.get("/media/los.mp4").status_code == 404


def test_a_paid_lessons_video_sends_an_anonymous_visitor_to_log_in(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _course_with_video(session, settings, "betaald.mp4")

    response = client.get("/media/betaald.mp4", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fmedia%2Fbetaald.mp4"
    assert response.content != VIDEO


def test_a_paid_lessons_video_is_refused_to_a_learner_who_is_not_enrolled(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _course_with_video(session, settings, "betaald.mp4")
    log_in(client, make_user(session))

    response = client.get("/media/betaald.mp4")

    assert response.status_code == 403
    assert response.content != VIDEO


def test_an_enrolled_learner_watches_and_seeks_in_her_lessons_video(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = _course_with_video(session, settings, "betaald.webm")
    learner = make_user(session)
    _enrol(session, learner, course)
    log_in(client, learner)

    whole = client.get("/media/betaald.webm")
    part = client.get("/media/betaald.webm", headers={"Range": "bytes=100-199"})

    assert whole.status_code == 200
    assert whole.content == VIDEO
    assert whole.headers["content-type"] == "video/webm"
    # Only for her: no shared cache may keep a copy.
    assert whole.headers["cache-control"].startswith("private")
    assert part.status_code == 206
    assert part.content == VIDEO[100:200]


def test_a_video_in_a_module_that_has_not_opened_yet_is_refused(
    app: FastAPI, client: TestClient, session: Session, settings: Settings
) -> None:
    # Lesson 3 is the first lesson of week 2, which opens 7 days after enrolment.
    course = _course_with_video(session, settings, "week2.mp4", lesson_index=3, drip_days=[0, 7])
    learner = make_user(session)
    _enrol(session, learner, course)
    log_in(client, learner)

    assert client.get("/media/week2.mp4").status_code == 403
    app.dependency_overrides[current_time] = lambda: utcnow() + timedelta(days=8)
    assert client.get("/media/week2.mp4").status_code == 200


def test_the_instructor_watches_the_videos_of_her_draft_course(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = _course_with_video(session, settings, "concept.mp4", status=CourseStatus.draft)
    instructor = session.get(User, course.instructor_id)
    assert instructor is not None

    assert client.get("/media/concept.mp4", follow_redirects=False).status_code == 303
    log_in(client, instructor, secret=enable_totp(session, instructor))
    assert client.get("/media/concept.mp4").content == VIDEO


def test_a_free_preview_in_a_draft_course_is_not_public(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _course_with_video(session, settings, "concept.mp4", lesson_index=0, status="draft")
    log_in(client, make_user(session))
    assert client.get("/media/concept.mp4").status_code == 403


def test_an_admin_watches_any_lessons_video(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _course_with_video(session, settings, "betaald.mp4")
    admin = make_user(session, role=Role.admin)
    log_in(client, admin, secret=enable_totp(session, admin))
    assert client.get("/media/betaald.mp4").status_code == 200
