"""The learners behind the load: login sessions opened directly, and the requests each one makes.

Sessions are started with Kern's own sessions.start(), not through /login: the login form is
rate limited and runs a deliberately slow password hash, neither of which is being measured.
"""

from __future__ import annotations

import json
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from api import db
from api.accounts import sessions
from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.models import StepKind
from api.config import Settings
from api.kit.ids import id_of
from api.security import csrf
from bench.wrk import Request

# What a phone's browser sends with every request: Kern picks the language from it, and a
# server (or its proxy) that compresses does so because of it.
BROWSER_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "nl-NL,nl;q=0.9,en;q=0.8",
    "Accept-Encoding": "gzip, deflate",
    "User-Agent": "Mozilla/5.0 (Linux; Android 14) kern-bench",
}
# The pages in the order they are measured, with the statuses that count as a success.
PAGES: dict[str, tuple[int, ...]] = {
    "catalog": (200,),
    "course": (200,),
    "course-enrolled": (200,),
    "lesson": (200,),
    "today": (200,),
    "complete": (200,),
    "practice": (201,),
}
ANONYMOUS = ("catalog", "course")


@dataclass(frozen=True)
class Step:
    id: int
    kind: str


@dataclass(frozen=True)
class Learner:
    """A signed-in learner: her cookies and what she may open in the course."""

    user_id: int
    session_cookie: str
    csrf_token: str
    lessons: tuple[str, ...]
    steps: tuple[Step, ...]


def prepare(
    settings: Settings, *, course_slug: str, user_ids: Iterable[int], now: datetime
) -> list[Learner]:
    """Open a session for each learner and note the lessons and steps she may open now."""
    engine = db.make_engine(settings.database_url, pool_size=1)
    learners = []
    try:
        with db.make_sessionmaker(engine)() as session, session.begin():
            steps_of: dict[str, tuple[Step, ...]] = {}
            for user_id in user_ids:
                user = session.get(User, user_id)
                if user is None:
                    continue
                outline = catalog.outline(session, slug=course_slug, viewer=user, now=now)
                lessons = [
                    lesson for lesson in outline.lessons if catalog.may_open(user, outline, lesson)
                ]
                if not lessons or not outline.enrolled:
                    continue
                for lesson in lessons:
                    if lesson.slug not in steps_of:
                        steps_of[lesson.slug] = _steps(session, user, course_slug, lesson.slug, now)
                token = sessions.start(
                    session, settings, user=user, user_agent="kern-bench", ip_address="127.0.0.1"
                )
                learners.append(
                    Learner(
                        user_id=user_id,
                        session_cookie=token,
                        csrf_token=secrets.token_urlsafe(csrf.TOKEN_BYTES),
                        lessons=tuple(lesson.slug for lesson in lessons),
                        steps=tuple(step for lesson in lessons for step in steps_of[lesson.slug]),
                    )
                )
    finally:
        engine.dispose()
    return learners


def _steps(
    session: Session, viewer: User, slug: str, lesson_slug: str, now: datetime
) -> tuple[Step, ...]:
    """The lesson's exercise and breathing steps, read as a learner who may open it."""
    view = catalog.lesson_view(session, slug=slug, lesson_slug=lesson_slug, viewer=viewer, now=now)
    return tuple(Step(id_of(step), step.kind) for step in view.steps if step.kind != StepKind.text)


def requests_for(
    page: str, learners: list[Learner], *, course_slug: str, settings: Settings, now: datetime
) -> list[Request]:
    """One request per learner for the page, each learner on another of her lessons or steps."""
    found = []
    for number, learner in enumerate(learners):
        request = _request(
            page, learner, number, course_slug=course_slug, settings=settings, now=now
        )
        if request is not None:
            found.append(request)
    return found


def _request(
    page: str, learner: Learner, number: int, *, course_slug: str, settings: Settings, now: datetime
) -> Request | None:
    cookies = f"{csrf.cookie_name(settings.is_production)}={learner.csrf_token}"
    if page not in ANONYMOUS:
        cookies = f"{sessions.cookie_name(settings)}={learner.session_cookie}; {cookies}"
    headers = {**BROWSER_HEADERS, "Cookie": cookies}
    lesson = learner.lessons[number % len(learner.lessons)]
    pages = {
        "catalog": "/courses",
        "course": f"/courses/{course_slug}",
        # The same page for a learner signed in and enrolled: her progress and where to go on.
        "course-enrolled": f"/courses/{course_slug}",
        "lesson": f"/courses/{course_slug}/lessons/{lesson}",
        "today": "/today",
    }
    if page in pages:
        return Request("GET", pages[page], headers)
    api_headers = {
        **headers,
        "Accept": "application/json",
        "Origin": settings.base_url,
        "X-CSRF-Token": learner.csrf_token,
    }
    if page == "complete":
        path = f"/api/v1/courses/{course_slug}/lessons/{lesson}/completion"
        return Request("PUT", path, api_headers, body="")
    if page != "practice":
        raise ValueError(f"unknown page {page}")
    if not learner.steps:
        return None
    step = learner.steps[number % len(learner.steps)]
    body = practice_body(step, practised_at=now - timedelta(minutes=5))
    return Request(
        "POST", "/api/v1/practice", {**api_headers, "Content-Type": "application/json"}, body
    )


def practice_body(step: Step, *, practised_at: datetime) -> str:
    """A practice of the step as the player reports it; load.lua fills in the client id."""
    body: dict[str, object] = {
        "client_id": "{client_id}",
        "step_id": step.id,
        "practised_at": practised_at.astimezone(UTC).isoformat(),
        "duration_seconds": 300,
        "sets_done": 3 if step.kind == StepKind.exercise else 0,
        "reps_done": 30 if step.kind == StepKind.exercise else 10,
    }
    if step.kind == StepKind.exercise:
        body["effort"] = 3
    return json.dumps(body)


def check(base_url: str, page: str, requests: list[Request], *, sample: int = 3) -> None:
    """Send the first few requests once and refuse to measure answers that are not a success
    (a redirect to the login page would otherwise look like a fast page)."""
    for request in requests[:sample]:
        body = request.body
        if body is not None:
            body = body.replace("{client_id}", f"check-{secrets.token_hex(8)}")
        headers = {k: v for k, v in request.headers.items() if k != "Accept-Encoding"}
        prepared = urllib.request.Request(  # noqa: S310 (our own URL)
            base_url + request.path,
            data=None if body is None else body.encode(),
            headers=headers,
            method=request.method,
        )
        status, text = _send(prepared)
        if status not in PAGES[page]:
            raise RuntimeError(
                f"{page}: {request.method} {request.path} answered {status}, not "
                f"{' or '.join(map(str, PAGES[page]))}: {_gist(text)}"
            )


def _gist(text: str) -> str:
    """An HTML page's title, or the start of any other answer."""
    title = re.search(r"<title>(.*?)</title>", text, re.DOTALL)
    return title.group(1).strip() if title else text[:500]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


def _send(request: urllib.request.Request) -> tuple[int, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def fresh_now() -> datetime:
    return datetime.now(UTC)
