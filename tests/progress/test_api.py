"""The progress JSON API: her lessons and practice, the drip schedule on the server, and who may
read whose data."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson, Module, Schedule, Step, StepKind
from api.clock import current_time
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.progress.models import LessonProgress, PracticeLog
from tests.factories import (
    agree_to_health_data,
    csrf_token,
    enable_totp,
    log_in,
    make_course,
    make_user,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A Thursday in May; the week runs from Monday 11 to Sunday 17.
NOW = datetime(2026, 5, 14, 12, 0, tzinfo=AMSTERDAM)
EN = {"Accept-Language": "en"}

Clock = Callable[[datetime], None]


@pytest.fixture(autouse=True)
def clock(app: FastAPI) -> Clock:
    """Set the moment every request sees; it starts at NOW."""

    def set_to(moment: datetime) -> None:
        app.dependency_overrides[current_time] = lambda: moment

    set_to(NOW)
    return set_to


def _enrol(
    session: Session, user: User, course: Course, at: datetime = NOW - timedelta(days=1)
) -> None:
    enrolment = enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
    )
    enrolment.enrolled_at = at
    session.add(enrolment)
    session.flush()


def _as(client: TestClient, session: Session, user: User) -> TestClient:
    """The browser, signed in as this user (staff with their second factor)."""
    client.cookies.clear()
    log_in(client, user, secret=enable_totp(session, user) if user.needs_totp else None)
    return client


def _learner(session: Session, name: str) -> User:
    """A learner who agreed to Kern keeping her practice (tests/consent/ walks the other case)."""
    return agree_to_health_data(session, make_user(session, name=name, language="en"))


def _steps(session: Session, course: Course, lesson_slug: str) -> dict[str, int]:
    """The lesson's step ids by kind."""
    rows = session.exec(
        select(Step)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(Lesson.course_id == course.id, Lesson.slug == lesson_slug)
    ).all()
    return {step.kind: step.id or 0 for step in rows}


def _send(client: TestClient, method: str, url: str, body: Any = None) -> Response:
    headers = {"X-CSRF-Token": csrf_token(client), **EN}
    response: Response = client.request(method, url, json=body, headers=headers)
    return response


def _lesson_url(course: Course, lesson: str, what: str) -> str:
    return f"/api/v1/courses/{course.slug}/lessons/{lesson}/{what}"


def _practice(step_id: int, client_id: str = "log-0001", **changes: Any) -> dict[str, Any]:
    body = {
        "client_id": client_id,
        "step_id": step_id,
        "practised_at": NOW.isoformat(),
        "duration_seconds": 240,
        "sets_done": 3,
        "reps_done": 30,
        "effort": 3,
        "note": "Ging goed",
    }
    return body | changes


def _stored_logs(session: Session) -> int:
    return session.exec(select(func.count(col(PracticeLog.id)))).one()


def _stored_progress(session: Session) -> int:
    return session.exec(select(func.count(col(LessonProgress.id)))).one()


@pytest.fixture
def course(session: Session) -> Course:
    """A paid course of two modules with two lessons each; each lesson has an exercise, a
    breathing and a text step."""
    return make_course(
        session, modules=2, lessons_per_module=2, steps_per_lesson=3, price_cents=4900
    )


@pytest.fixture
def alice(session: Session, course: Course) -> User:
    alice = _learner(session, "Alice")
    _enrol(session, alice, course)
    return alice


@pytest.fixture
def alice_client(client: TestClient, session: Session, alice: User) -> TestClient:
    """The browser, signed in as Alice."""
    return _as(client, session, alice)


# --- her own progress -----------------------------------------------------------------------


def test_a_completed_lesson_shows_in_her_progress(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)

    response = _send(client, "PUT", _lesson_url(course, "les-1-2", "completion"))

    assert response.status_code == 200
    assert response.json()["completed"] is True
    lesson = client.get(_lesson_url(course, "les-1-2", "progress")).json()
    assert lesson["completed"] is True
    assert datetime.fromisoformat(lesson["completed_at"]) == NOW
    overview = client.get(f"/api/v1/courses/{course.slug}/progress").json()
    assert (overview["completed_count"], overview["lesson_count"], overview["percent"]) == (
        1,
        4,
        25,
    )
    assert [module["percent"] for module in overview["modules"]] == [50, 0]
    # She goes on after the lesson she was on, not back to the unfinished first one.
    assert overview["resume"] == {"slug": "les-2-1", "title": "Les 2.1"}
    assert overview["learner_id"] == alice.id


def test_completing_twice_keeps_the_first_moment(
    client: TestClient, session: Session, clock: Clock, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    _send(client, "PUT", _lesson_url(course, "les-1-1", "completion"))
    clock(NOW + timedelta(hours=3))

    again = _send(client, "PUT", _lesson_url(course, "les-1-1", "completion"))

    assert again.status_code == 200
    assert datetime.fromisoformat(again.json()["completed_at"]) == NOW


def test_undo_marks_the_lesson_not_done(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    _send(client, "PUT", _lesson_url(course, "les-1-1", "completion"))

    response = _send(client, "DELETE", _lesson_url(course, "les-1-1", "completion"))

    assert response.status_code == 200
    assert response.json()["completed"] is False
    assert response.json()["completed_at"] is None
    assert client.get(f"/api/v1/courses/{course.slug}/progress").json()["percent"] == 0


def test_the_video_position_is_saved_in_whole_seconds(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    url = _lesson_url(course, "les-1-2", "position")

    response = _send(client, "PUT", url, {"seconds": 83.7})

    assert response.status_code == 200
    assert response.json()["video_position_seconds"] == 83
    progress = client.get(_lesson_url(course, "les-1-2", "progress")).json()
    assert progress["video_position_seconds"] == 83


@pytest.mark.parametrize("seconds", [-1, 86401, "half"])
def test_a_position_out_of_bounds_is_refused_and_the_old_one_kept(
    seconds: object,
    client: TestClient,
    session: Session,
    course: Course,
    alice: User,
) -> None:
    _as(client, session, alice)
    url = _lesson_url(course, "les-1-2", "position")
    _send(client, "PUT", url, {"seconds": 83})

    response = _send(client, "PUT", url, {"seconds": seconds})

    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    assert "seconds" in response.json()["fields"]
    progress = client.get(_lesson_url(course, "les-1-2", "progress")).json()
    assert progress["video_position_seconds"] == 83


def test_an_unknown_lesson_is_a_json_404(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    assert client.get(_lesson_url(course, "bestaat-niet", "progress")).status_code == 404
    response = _send(client, "PUT", _lesson_url(course, "bestaat-niet", "completion"))
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- the drip schedule and enrolment, enforced on the server ---------------------------------


# Enrolled on Monday 23 March 2026, 10:00; week 2 opens seven Amsterdam days later, at midnight
# on Monday 30 March, the first night after the clocks went forward (29 March).
ENROLLED = datetime(2026, 3, 23, 10, 0, tzinfo=AMSTERDAM)
DAY_6_2359 = datetime(2026, 3, 29, 23, 59, tzinfo=AMSTERDAM)
DAY_7_0000 = datetime(2026, 3, 30, 0, 0, tzinfo=AMSTERDAM)


@pytest.fixture
def drip_course(session: Session, course: Course) -> Course:
    course.schedule = Schedule.drip
    session.add(course)
    week_2 = session.exec(
        select(Module).where(Module.course_id == course.id, Module.position == 1)
    ).one()
    week_2.unlock_after_days = 7
    session.add(week_2)
    session.flush()
    return course


def _write(client: TestClient, session: Session, course: Course, what: str) -> Response:
    if what == "completion":
        return _send(client, "PUT", _lesson_url(course, "les-2-1", "completion"))
    if what == "position":
        return _send(client, "PUT", _lesson_url(course, "les-2-1", "position"), {"seconds": 5})
    step_id = _steps(session, course, "les-2-1")[StepKind.exercise]
    body = _practice(step_id, practised_at=(DAY_7_0000 - timedelta(minutes=1)).isoformat())
    return _send(client, "POST", "/api/v1/practice", body)


@pytest.mark.parametrize("what", ["completion", "position", "practice"])
def test_a_lesson_in_a_module_not_yet_open_is_refused_with_its_date(
    what: str, client: TestClient, session: Session, clock: Clock, drip_course: Course
) -> None:
    bea = _learner(session, "Bea")
    _enrol(session, bea, drip_course, at=ENROLLED)
    _as(client, session, bea)
    clock(DAY_6_2359)

    response = _write(client, session, drip_course, what)

    assert response.status_code == 403
    assert response.json() == {
        "error": "lesson_locked",
        "detail": "This lesson opens on 30 March 2026.",
    }
    assert (_stored_progress(session), _stored_logs(session)) == (0, 0)


@pytest.mark.parametrize("what", ["completion", "position", "practice"])
def test_the_lesson_opens_at_midnight_in_amsterdam(
    what: str, client: TestClient, session: Session, clock: Clock, drip_course: Course
) -> None:
    bea = _learner(session, "Bea")
    _enrol(session, bea, drip_course, at=ENROLLED)
    _as(client, session, bea)
    clock(DAY_7_0000)

    response = _write(client, session, drip_course, what)

    assert response.status_code in (200, 201), response.text


def test_her_course_progress_says_when_a_module_opens(
    client: TestClient, session: Session, clock: Clock, drip_course: Course
) -> None:
    bea = _learner(session, "Bea")
    _enrol(session, bea, drip_course, at=ENROLLED)
    _as(client, session, bea)
    url = f"/api/v1/courses/{drip_course.slug}/progress"

    clock(DAY_6_2359)
    before = client.get(url).json()["modules"][1]
    clock(DAY_7_0000)
    after = client.get(url).json()["modules"][1]

    assert before["open"] is False
    assert datetime.fromisoformat(before["opens_at"]) == DAY_7_0000
    assert [lesson["open"] for lesson in before["lessons"]] == [False, False]
    assert after["open"] is True
    assert [lesson["open"] for lesson in after["lessons"]] == [True, True]


def test_a_lesson_of_a_course_she_is_not_enrolled_in_is_refused(
    client: TestClient, session: Session, course: Course
) -> None:
    carla = _learner(session, "Carla")
    _as(client, session, carla)
    step_id = _steps(session, course, "les-1-2")[StepKind.exercise]

    completion = _send(client, "PUT", _lesson_url(course, "les-1-2", "completion"))
    position = _send(client, "PUT", _lesson_url(course, "les-1-2", "position"), {"seconds": 5})
    logged = _send(client, "POST", "/api/v1/practice", _practice(step_id))

    assert [r.status_code for r in (completion, position, logged)] == [403, 403, 403]
    assert {r.json()["error"] for r in (completion, position, logged)} == {"lesson_locked"}
    assert (_stored_progress(session), _stored_logs(session)) == (0, 0)


def test_a_free_preview_lesson_can_be_completed_without_enrolment(
    client: TestClient, session: Session, course: Course
) -> None:
    _as(client, session, _learner(session, "Carla"))
    response = _send(client, "PUT", _lesson_url(course, "les-1-1", "completion"))
    assert response.status_code == 200


# --- the practice log -----------------------------------------------------------------------


def test_a_practice_is_stored_once_however_often_it_is_sent(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    step_id = _steps(session, course, "les-1-1")[StepKind.exercise]

    first = _send(client, "POST", "/api/v1/practice", _practice(step_id))
    again = _send(client, "POST", "/api/v1/practice", _practice(step_id))
    # A later copy that differs (say, an edited note) is still the same practice.
    late = _send(client, "POST", "/api/v1/practice", _practice(step_id, note="Anders"))

    assert first.status_code == 201
    assert again.status_code == late.status_code == 200
    assert again.json() == late.json() == first.json()
    assert first.json()["step_kind"] == "exercise"
    assert first.json()["effort"] == 3
    assert first.json()["practised_on"] == "2026-05-14"
    assert _stored_logs(session) == 1


BAD_PRACTICE = [
    pytest.param({"effort": 6}, 422, id="effort above five"),
    pytest.param({"duration_seconds": -1}, 422, id="negative duration"),
    pytest.param({"reps_done": 10001}, 422, id="too many reps"),
    pytest.param({"client_id": "abc"}, 422, id="short client id"),
    pytest.param({"client_id": "log 0001 <b>"}, 422, id="client id with odd characters"),
    pytest.param({"note": "x" * 501}, 422, id="note too long"),
    pytest.param({"practised_at": "2026-05-14T12:00:00"}, 422, id="time without zone"),
    pytest.param(
        {"practised_at": (NOW + timedelta(days=1)).isoformat()}, 422, id="time far in the future"
    ),
    pytest.param(
        {"practised_at": (NOW - timedelta(days=200)).isoformat()}, 422, id="time long ago"
    ),
    pytest.param({"step_id": 99_999_999}, 404, id="unknown step"),
    pytest.param({"step_id": 10**20}, 422, id="step id beyond any id"),
]


@pytest.mark.parametrize(("changes", "status"), BAD_PRACTICE)
def test_bad_practice_input_is_refused_and_nothing_stored(
    changes: dict[str, Any],
    status: int,
    alice_client: TestClient,
    session: Session,
    course: Course,
) -> None:
    step_id = _steps(session, course, "les-1-1")[StepKind.exercise]

    response = _send(alice_client, "POST", "/api/v1/practice", _practice(step_id) | changes)

    assert response.status_code == status, response.text
    assert set(response.json()) >= {"error", "detail"}
    assert response.json()["detail"]
    assert _stored_logs(session) == 0


def test_a_note_keeps_what_she_wrote_without_invisible_nul_characters(
    alice_client: TestClient, session: Session, course: Course
) -> None:
    step_id = _steps(session, course, "les-1-1")[StepKind.exercise]
    body = _practice(step_id, note="  Rustig\x00 gedaan\nmorgen weer  ")

    response = _send(alice_client, "POST", "/api/v1/practice", body)

    assert response.status_code == 201
    assert response.json()["note"] == "Rustig gedaan\nmorgen weer"


def test_a_text_step_cannot_be_logged(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    step_id = _steps(session, course, "les-1-1")[StepKind.text]

    response = _send(client, "POST", "/api/v1/practice", _practice(step_id))

    assert response.status_code == 422
    assert response.json()["detail"] == "Only exercises and breathing can be logged."
    assert "step_id" in response.json()["fields"]
    assert _stored_logs(session) == 0


def _log_series(client: TestClient, session: Session, course: Course, days: list[int]) -> None:
    """Log a practice on each of these days before NOW (0 is today)."""
    steps = _steps(session, course, "les-1-1")
    for n, back in enumerate(days):
        kind = StepKind.exercise if n % 2 == 0 else StepKind.breathing
        body = _practice(
            steps[kind],
            client_id=f"log-{n:04d}",
            practised_at=(NOW - timedelta(days=back, minutes=n)).isoformat(),
            duration_seconds=60 * (n + 1),
        )
        assert _send(client, "POST", "/api/v1/practice", body).status_code == 201


def test_her_log_lists_newest_first_in_pages(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    _log_series(client, session, course, [3, 0, 1, 2, 0])

    first = client.get("/api/v1/practice", params={"limit": 3}).json()
    rest = client.get(
        "/api/v1/practice", params={"limit": 3, "cursor": first["next_cursor"]}
    ).json()

    ids = [item["client_id"] for item in first["items"] + rest["items"]]
    assert ids == ["log-0001", "log-0004", "log-0002", "log-0003", "log-0000"]
    assert rest["next_cursor"] is None
    assert first["items"][0]["course_slug"] == course.slug
    assert first["items"][0]["lesson_slug"] == "les-1-1"


def test_logs_at_the_same_moment_are_each_reached_once_two_at_a_time(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    steps = _steps(session, course, "les-1-1")
    for n in range(3):
        body = _practice(steps[StepKind.exercise], client_id=f"same-{n:04d}")
        assert _send(client, "POST", "/api/v1/practice", body).status_code == 201

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    for _page in range(3):
        page = client.get("/api/v1/practice", params=params).json()
        seen += [item["client_id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert sorted(seen) == ["same-0000", "same-0001", "same-0002"]
    assert page["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["gisteren", "1.0", "12", "99999999999999999999.1"])
def test_an_unreadable_cursor_is_a_422_that_names_it(alice_client: TestClient, cursor: str) -> None:
    response = alice_client.get("/api/v1/practice", params={"cursor": cursor}, headers=EN)

    assert response.status_code == 422
    assert "cursor" in response.text


def test_her_log_can_be_read_for_one_course(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    other = make_course(session)
    _enrol(session, alice, other)
    _as(client, session, alice)
    _log_series(client, session, course, [0])
    step_id = _steps(session, other, "les-1-1")[StepKind.exercise]
    _send(client, "POST", "/api/v1/practice", _practice(step_id, client_id="log-other"))

    everything = client.get("/api/v1/practice").json()["items"]
    one_course = client.get("/api/v1/practice", params={"course": other.slug}).json()["items"]

    assert len(everything) == 2
    assert [item["client_id"] for item in one_course] == ["log-other"]


def test_the_summary_counts_what_she_logged(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    _send(client, "PUT", _lesson_url(course, "les-1-1", "completion"))
    # Thursday twice, Wednesday and Tuesday: three days in a row; the Saturday before is apart.
    _log_series(client, session, course, [0, 0, 1, 2, 5])

    summary = client.get("/api/v1/summary").json()

    assert summary["day"] == "2026-05-14"
    assert summary["streak"] == 3
    assert summary["practised_today"] is True
    week = {day["day"]: (day["practices"], day["seconds"]) for day in summary["week"]}
    assert list(week) == [f"2026-05-{day}" for day in range(11, 18)]
    assert week["2026-05-14"] == (2, 60 + 120)
    assert week["2026-05-13"] == (1, 180)
    assert week["2026-05-12"] == (1, 240)
    assert week["2026-05-11"] == (0, 0)
    assert summary["next"]["slug"] == course.slug
    assert summary["next"]["next_lesson"] == {"slug": "les-1-2", "title": "Les 1.2"}
    [brief] = summary["courses"]
    assert (brief["completed_count"], brief["lesson_count"], brief["percent"]) == (1, 4, 25)


def test_the_streak_counts_amsterdam_days(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _as(client, session, alice)
    step_id = _steps(session, course, "les-1-1")[StepKind.exercise]
    # 00:30 in Amsterdam is still the previous day in UTC; each practice counts on the day
    # she lived it, so these are three days in a row.
    moments = [
        datetime(2026, 5, 12, 0, 30, tzinfo=AMSTERDAM),
        datetime(2026, 5, 13, 23, 30, tzinfo=AMSTERDAM),
        datetime(2026, 5, 14, 0, 30, tzinfo=AMSTERDAM),
    ]
    for n, moment in enumerate(moments):
        body = _practice(step_id, client_id=f"late-{n:04d}", practised_at=moment.isoformat())
        assert _send(client, "POST", "/api/v1/practice", body).status_code == 201

    assert client.get("/api/v1/summary").json()["streak"] == 3


# --- who may read and write whose data -------------------------------------------------------


def _alice_has_history(client: TestClient, session: Session, course: Course, alice: User) -> None:
    _as(client, session, alice)
    _send(client, "PUT", _lesson_url(course, "les-1-1", "completion"))
    _log_series(client, session, course, [0])


def _reads(course: Course, learner: User) -> list[str]:
    query = f"learner_id={learner.id}"
    return [
        f"/api/v1/courses/{course.slug}/progress?{query}",
        f"{_lesson_url(course, 'les-1-1', 'progress')}?{query}",
        f"/api/v1/practice?course={course.slug}&{query}",
    ]


def test_another_learner_cannot_read_her_data(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _alice_has_history(client, session, course, alice)
    bob = _learner(session, "Bob")
    _enrol(session, bob, course)
    _as(client, session, bob)

    responses = [client.get(url) for url in _reads(course, alice)]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert {r.json()["error"] for r in responses} == {"not_found"}


def test_another_learner_cannot_write_her_data(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _alice_has_history(client, session, course, alice)
    bob = _learner(session, "Bob")
    _enrol(session, bob, course)
    _as(client, session, bob)

    # Writes have no learner to choose: whatever bob sends changes only his own progress.
    query = f"?learner_id={alice.id}"
    _send(client, "DELETE", _lesson_url(course, "les-1-1", "completion") + query)
    _send(client, "PUT", _lesson_url(course, "les-1-1", "position") + query, {"seconds": 9})

    alice_progress = session.exec(
        select(LessonProgress).where(LessonProgress.user_id == alice.id)
    ).one()
    session.refresh(alice_progress)
    assert alice_progress.completed_at is not None
    assert alice_progress.video_position_seconds == 0


def test_her_instructor_reads_her_progress_and_practice_but_writes_nothing(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _alice_has_history(client, session, course, alice)
    instructor = session.get(User, course.instructor_id)
    assert instructor is not None
    _as(client, session, instructor)
    rows_before = _stored_progress(session)

    overview, lesson, practice = (client.get(url) for url in _reads(course, alice))

    assert overview.status_code == 200
    assert overview.json()["learner_id"] == alice.id
    assert overview.json()["completed_count"] == 1
    assert lesson.json()["completed"] is True
    assert [item["client_id"] for item in practice.json()["items"]] == ["log-0000"]
    assert _stored_progress(session) == rows_before


def test_an_instructor_cannot_read_her_data_of_another_instructors_course(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _alice_has_history(client, session, course, alice)
    stranger = make_user(session, role=Role.instructor)
    make_course(session, instructor=stranger)
    _as(client, session, stranger)

    responses = [client.get(url) for url in _reads(course, alice)]
    without_course = client.get("/api/v1/practice", params={"learner_id": alice.id})

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert without_course.status_code == 422


def test_an_instructor_cannot_read_someone_not_enrolled_in_her_course(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    dora = _learner(session, "Dora")
    instructor = session.get(User, course.instructor_id)
    assert instructor is not None
    _as(client, session, instructor)

    responses = [client.get(url) for url in _reads(course, dora)]
    nobody = client.get(f"/api/v1/courses/{course.slug}/progress?learner_id=99999999")

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert nobody.json() == responses[0].json()


def test_an_instructor_cannot_read_a_learner_enrolled_only_in_another_instructors_course(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    """Alice follows `course`; another instructor asks about her through a course of his own,
    which she never joined. Being enrolled somewhere is not enough: it must be his course."""
    _alice_has_history(client, session, course, alice)
    stranger = make_user(session, role=Role.instructor)
    his_course = make_course(session, instructor=stranger)
    _as(client, session, stranger)

    responses = [client.get(url) for url in _reads(his_course, alice)]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert {r.json()["error"] for r in responses} == {"not_found"}
    # The same answer as for an id nobody has: nothing tells him she has an account.
    nobody = client.get(f"/api/v1/courses/{his_course.slug}/progress?learner_id=99999999")
    assert responses[0].json() == nobody.json()


def test_her_instructor_cannot_write_her_progress(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _alice_has_history(client, session, course, alice)
    instructor = session.get(User, course.instructor_id)
    assert instructor is not None
    _as(client, session, instructor)

    _send(
        client, "DELETE", _lesson_url(course, "les-1-1", "completion") + f"?learner_id={alice.id}"
    )

    lesson = client.get(f"{_lesson_url(course, 'les-1-1', 'progress')}?learner_id={alice.id}")
    assert lesson.json()["completed"] is True


def test_an_admin_reads_a_learners_progress(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    _alice_has_history(client, session, course, alice)
    _as(client, session, make_user(session, role=Role.admin))

    responses = [client.get(url) for url in _reads(course, alice)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].json()["completed_count"] == 1


def test_an_instructor_without_a_second_factor_reads_nothing(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    instructor = session.get(User, course.instructor_id)
    assert instructor is not None
    log_in(client, instructor)

    response = client.get(_reads(course, alice)[0])

    assert response.status_code == 403
    assert response.json()["error"] == "two_factor_required"


ENDPOINTS = [
    ("GET", "/api/v1/courses/{slug}/progress"),
    ("GET", "/api/v1/courses/{slug}/lessons/les-1-1/progress"),
    ("PUT", "/api/v1/courses/{slug}/lessons/les-1-1/completion"),
    ("DELETE", "/api/v1/courses/{slug}/lessons/les-1-1/completion"),
    ("PUT", "/api/v1/courses/{slug}/lessons/les-1-1/position"),
    ("POST", "/api/v1/practice"),
    ("GET", "/api/v1/practice"),
    ("GET", "/api/v1/summary"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_visitor_without_a_session_gets_a_json_401(
    method: str, path: str, client: TestClient, session: Session, course: Course
) -> None:
    response = _send(client, method, path.format(slug=course.slug), {"seconds": 1})

    assert response.status_code == 401
    assert response.json() == {"error": "login_required", "detail": "Please log in first."}


# --- the documentation ----------------------------------------------------------------------


def test_the_openapi_document_describes_the_progress_api(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]

    def schema(path: str, method: str, status: str) -> str:
        content = paths[path][method]["responses"][status]["content"]
        return str(content["application/json"]["schema"].get("$ref", ""))

    lesson = "/api/v1/courses/{slug}/lessons/{lesson_slug}"
    assert schema("/api/v1/courses/{slug}/progress", "get", "200").endswith("CourseProgressPublic")
    assert schema(f"{lesson}/progress", "get", "200").endswith("LessonProgressPublic")
    for method in ("put", "delete"):
        assert schema(f"{lesson}/completion", method, "200").endswith("LessonProgressPublic")
        assert schema(f"{lesson}/completion", method, "403").endswith("ErrorPublic")
    assert schema(f"{lesson}/position", "put", "422").endswith("InvalidPublic")
    assert schema("/api/v1/practice", "post", "201").endswith("PracticePublic")
    assert schema("/api/v1/practice", "post", "200").endswith("PracticePublic")
    assert schema("/api/v1/practice", "post", "401").endswith("ErrorPublic")
    assert schema("/api/v1/practice", "get", "200").endswith("PracticePage")
    assert schema("/api/v1/summary", "get", "200").endswith("SummaryPublic")
    effort = document["components"]["schemas"]["PracticeCreate"]["properties"]["effort"]
    assert {"minimum": 1, "maximum": 5, "type": "integer"} in effort["anyOf"]
