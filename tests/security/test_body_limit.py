"""Request bodies over their route's limit are refused with 413 before anything reads them.

The attack: one anonymous POST of hundreds of megabytes, which Starlette would read whole into
a worker's memory before any check. Each test sends a body just over a limit, declared by its
Content-Length or sent in chunks without one, and shows both the 413 and that the route never
ran: what it would have stored is not there, and a chunked body was not even read to its end.
The same requests within the limit, and the upload routes with large files, still work.
"""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import AccountRequest, Role, User
from api.catalog.models import Lesson, Step, StepKind
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.main import ROUTERS
from api.payments.models import StripeEvent
from api.progress.models import PracticeLog
from api.security.body_limit import API_LIMIT, FORM_LIMIT, WEBHOOK_LIMIT, BodyLimitMiddleware
from api.security.csrf import FIELD
from tests.factories import (
    PASSWORD,
    agree_to_health_data,
    csrf_token,
    enable_totp,
    log_in,
    make_course,
    make_user,
)
from tests.studio.test_uploads import MP4, first_lesson, fresh, upload, video_url
from web.pages.studio.uploads import upload_paths

ENGLISH = {"Accept-Language": "en"}
CHUNK = 16 * 1024


class Chunks:
    """A body sent in chunks (Transfer-Encoding: chunked), counting how much was taken."""

    def __init__(self, head: bytes, total: int, filler: bytes = b" ") -> None:
        self.head, self.total, self.filler = head, total, filler
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        self.taken = len(self.head)
        while self.taken < self.total:
            chunk = self.filler * CHUNK
            self.taken += len(chunk)
            yield chunk


def practice_count(session: Session) -> int:
    return session.exec(select(func.count(col(PracticeLog.id)))).one()


def user_count(session: Session) -> int:
    return session.exec(select(func.count(col(User.id)))).one()


def sign_up_count(session: Session) -> int:
    """Sign-ups waiting for the mail worker, which creates the accounts."""
    return session.exec(select(func.count(col(AccountRequest.id)))).one()


@pytest.fixture
def learner_client(client: TestClient, session: Session) -> tuple[TestClient, int]:
    """A learner signed in and enrolled in a course; the id of an exercise step she may log."""
    learner = agree_to_health_data(session, make_user(session, language="en"))
    course = make_course(session)
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    step = session.exec(
        select(Step)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(Lesson.course_id == course.id, Step.kind == StepKind.exercise)
    ).first()
    assert step is not None
    assert step.id is not None
    log_in(client, learner)
    return client, step.id


def practice_json(step_id: int, padding: int = 0) -> bytes:
    """A valid practice log; JSON allows any amount of white space before it."""
    moment = (utcnow() - timedelta(minutes=5)).isoformat()
    document = (
        f'{{"client_id": "log-groot-1", "step_id": {step_id}, "practised_at": "{moment}", '
        '"duration_seconds": 240, "sets_done": 3, "reps_done": 30}'
    )
    return b" " * padding + document.encode()


def post_practice(client: TestClient, content: bytes | Chunks) -> tuple[int, dict[str, str]]:
    response = client.post(
        "/api/v1/practice",
        content=content if isinstance(content, bytes) else iter(content),
        headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_token(client)},
    )
    return response.status_code, response.json()


# --- the JSON API ----------------------------------------------------------------------------


def test_a_json_body_declared_over_64_kib_is_refused_and_the_route_never_runs(
    learner_client: tuple[TestClient, int], session: Session
) -> None:
    client, step_id = learner_client

    status, body = post_practice(client, practice_json(step_id, padding=API_LIMIT))

    assert status == 413
    assert body == {
        "error": "too_large",
        "detail": "This request is larger than Kern accepts here (at most 64 KB), so it was "
        "not read. Nothing was saved.",
    }
    assert practice_count(session) == 0
    # Within the limit the same log is stored: the 413 was the limit, nothing else.
    assert post_practice(client, practice_json(step_id, padding=1000))[0] == 201
    assert practice_count(session) == 1


def test_a_chunked_json_body_is_refused_once_it_passes_64_kib(
    learner_client: tuple[TestClient, int], session: Session
) -> None:
    client, step_id = learner_client
    # In chunks and without a Content-Length. (The test client collects a chunked body before
    # it sends it; test_body_limit_live.py shows on a real server that reading stops.)
    # White space after the document keeps it valid JSON: only the size is wrong with it.
    body = Chunks(practice_json(step_id), total=2 * API_LIMIT)

    status, answer = post_practice(client, body)

    assert status == 413
    assert answer["error"] == "too_large"
    assert practice_count(session) == 0


# --- the Stripe webhook ------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
def test_a_webhook_body_over_1_mib_is_refused_as_json(
    declared: bool, client: TestClient, session: Session
) -> None:
    event = b'{"id": "evt_groot", "type": "checkout.session.completed"}'
    content = event + b" " * WEBHOOK_LIMIT
    body = content if declared else iter(Chunks(event, total=len(content)))

    response = client.post(
        "/stripe/webhook", content=body, headers={"Stripe-Signature": "t=1,v1=00"}
    )

    # The route itself would have answered 400 for the signature.
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert response.headers["connection"] == "close"
    assert session.exec(select(func.count(col(StripeEvent.id)))).one() == 0


# --- forms -------------------------------------------------------------------------------------


def registration(client: TestClient, padding: int) -> dict[str, str]:
    return {
        FIELD: csrf_token(client),
        "name": "Groot",
        "email": "groot@example.nl",
        "password": PASSWORD,
        "language": "nl",
        "extra": "x" * padding,
    }


def test_a_form_over_256_kib_is_refused_with_a_page_in_her_language(
    client: TestClient, session: Session
) -> None:
    users, sign_ups = user_count(session), sign_up_count(session)

    response = client.post(
        "/register",
        data=registration(client, FORM_LIMIT),
        headers=ENGLISH,
        follow_redirects=False,
    )

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "at most 256 KB), so it was not read. Nothing was saved." in response.text
    assert (user_count(session), sign_up_count(session)) == (users, sign_ups)
    # A few kilobytes too many is not an attack: the same form just under the limit registers.
    fitting = client.post(
        "/register", data=registration(client, 200 * 1024), follow_redirects=False
    )
    assert fitting.status_code == 200
    assert sign_up_count(session) == sign_ups + 1


def test_the_page_is_dutch_by_default(client: TestClient) -> None:
    body = iter(Chunks(f"{FIELD}={csrf_token(client)}&name=".encode(), total=2 * FORM_LIMIT))

    response = client.post(
        "/login",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 413
    assert '<html lang="nl"' in response.text
    assert "(hoogstens 256 KB), dus het is niet gelezen. Er is niets opgeslagen." in response.text


# --- uploads take large files, as before ---------------------------------------------------------


def test_a_video_upload_far_over_the_form_limit_is_accepted(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session, role=Role.instructor, language="en")
    log_in(client, alice, secret=enable_totp(session, alice))
    course = make_course(session, instructor=alice)
    lesson = first_lesson(session, course)
    video = MP4 + bytes(range(256)) * 4096  # about 1 MiB

    response = upload(client, video_url(course, lesson), "video", ("les.mp4", video, "video/mp4"))

    assert response.status_code == 303
    assert fresh(session, lesson).video_provider == "file"


def test_only_the_upload_routes_are_left_to_their_own_limits(app: FastAPI) -> None:
    # As api/main.py builds it: the upload routes found among Kern's routes.
    middleware = BodyLimitMiddleware(app, uploads=upload_paths(ROUTERS))

    assert middleware.limit_for("/api/v1/practice") == API_LIMIT
    assert middleware.limit_for("/stripe/webhook") == WEBHOOK_LIMIT
    assert middleware.limit_for("/register") == FORM_LIMIT
    assert middleware.limit_for("/studio/courses/sterke-start") == FORM_LIMIT
    assert middleware.limit_for("/studio/courses/sterke-start/lessons/12/steps") == FORM_LIMIT
    for upload_path in (
        "/studio/courses/sterke-start/cover",
        "/studio/courses/sterke-start/lessons/12/video",
        "/studio/import",
    ):
        assert middleware.limit_for(upload_path) is None
