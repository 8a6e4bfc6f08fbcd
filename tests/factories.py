"""Small typed factories and helpers that act as a person would: fill in forms, log in."""

import itertools
import re
import time

import pyotp
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from api.accounts import service, twofactor
from api.accounts.models import Role, User
from api.catalog.models import (
    Course,
    CourseStatus,
    Lesson,
    Module,
    Schedule,
    Step,
    StepKind,
    VideoProvider,
)
from api.consent import service as consent_service
from api.consent.texts import HEALTH_DATA_VERSION
from api.db import utcnow
from api.media import owners
from api.security.csrf import FIELD, matches

PASSWORD = "rustig ademen 4 6"
_numbers = itertools.count(1)


def make_user(
    session: Session,
    *,
    name: str | None = None,
    email: str | None = None,
    role: Role = Role.learner,
    password: str = PASSWORD,
    verified: bool = True,
    language: str = "nl",
) -> User:
    """A stored account; unique email unless one is given."""
    number = next(_numbers)
    return service.create_user(
        session,
        name=name or f"Persoon {number}",
        email=email or f"persoon{number}@example.nl",
        password=password,
        role=role,
        language=language,
        verified=verified,
    )


def agree_to_health_data(session: Session, user: User) -> User:
    """Her consent to keeping her practice (health data), as she gives it on the consent page."""
    consent_service.give_health_consent(
        session, user=user, version=HEALTH_DATA_VERSION, language=user.language, now=utcnow()
    )
    return user


# A valid id per provider; `file` names a file under MEDIA_DIR.
VIDEO_REFS = {
    VideoProvider.youtube: "aBcDeFgHiJk",
    VideoProvider.vimeo: "76979871",
    VideoProvider.file: "oefening.mp4",
}


def _step(lesson_id: int, position: int) -> Step:
    """Exercise, breathing and text steps in turn, each with valid parameters."""
    kind = (StepKind.exercise, StepKind.breathing, StepKind.text)[position % 3]
    step = Step(lesson_id=lesson_id, position=position, kind=kind, title=f"Stap {position + 1}")
    if kind == StepKind.exercise:
        step.body = "Span je bekkenbodem rustig aan en laat helemaal los."
        step.hold_seconds, step.relax_seconds, step.reps, step.sets = 8, 8, 10, 3
        step.rest_seconds = 30
        step.cues = ["Blijf doorademen", "Billen ontspannen"]
    elif kind == StepKind.breathing:
        step.body = "Adem rustig in door je neus."
        step.inhale_seconds, step.hold_seconds, step.exhale_seconds, step.cycles = 4, 0, 6, 10
    else:
        step.body = "Lees dit eerst rustig door."
    return step


def course_lessons(session: Session, course: Course) -> list[Lesson]:
    """The course's lessons in course order (module, then position): the first is the free
    preview of a `make_course` course."""
    return list(
        session.exec(
            select(Lesson)
            .where(Lesson.course_id == course.id)
            .order_by(col(Lesson.module_id), col(Lesson.position))
        )
    )


def make_course(
    session: Session,
    *,
    instructor: User | None = None,
    slug: str | None = None,
    status: str = CourseStatus.published,
    price_cents: int = 0,
    modules: int = 2,
    lessons_per_module: int = 3,
    steps_per_lesson: int = 2,
    free_preview_first: bool = True,
    video_provider: str | None = None,
    drip_days: list[int] | None = None,
) -> Course:
    """A stored course with modules, lessons and steps, each at positions 0..n; with
    `drip_days`, a drip course whose module m opens drip_days[m] days after enrolment."""
    number = next(_numbers)
    instructor = instructor or make_user(session, role=Role.instructor)
    assert instructor.id is not None
    published = status == CourseStatus.published
    course = Course(
        slug=slug or f"cursus-{number}",
        title=f"Cursus {number}",
        subtitle="Elke dag een paar minuten",
        description="Een **rustige** opbouw, week voor week.",
        price_cents=price_cents,
        status=str(status),
        outcomes=["Je bekkenbodem vinden", "Rustig ademen"],
        faq=[
            {"question": "Hoe lang duurt het?", "answer": "Zes weken, een paar *minuten* per dag."}
        ],
        instructor_id=instructor.id,
        published_at=utcnow() if published else None,
        schedule=Schedule.drip if drip_days else Schedule.all_at_once,
    )
    session.add(course)
    session.flush()
    assert course.id is not None
    for m in range(modules):
        module = Module(
            course_id=course.id,
            position=m,
            title=f"Week {m + 1}",
            summary="Opbouw",
            unlock_after_days=drip_days[m] if drip_days else 0,
        )
        session.add(module)
        session.flush()
        assert module.id is not None
        for n in range(lessons_per_module):
            lesson = Lesson(
                module_id=module.id,
                course_id=course.id,
                position=n,
                slug=f"les-{m + 1}-{n + 1}",
                title=f"Les {m + 1}.{n + 1}",
                body="Uitleg bij deze les.",
                estimated_minutes=5 + n,
                free_preview=free_preview_first and m == 0 and n == 0,
            )
            if video_provider is not None:
                lesson.video_provider = video_provider
                lesson.video_ref = VIDEO_REFS[VideoProvider(video_provider)]
                lesson.video_title = f"Video bij les {m + 1}.{n + 1}"
            session.add(lesson)
            session.flush()
            assert lesson.id is not None
            session.add_all(_step(lesson.id, position) for position in range(steps_per_lesson))
    if video_provider == VideoProvider.file:
        # Kern stored the upload for this course, so the course owns the file.
        own_media(session, course, VIDEO_REFS[VideoProvider.file])
    session.flush()
    # The database's triggers counted the content just added (course.content_version).
    session.refresh(course)
    return course


def own_media(session: Session, course: Course, name: str) -> None:
    """Record `course` as an owner of the stored file `name`, as an upload to it would."""
    assert course.id is not None
    kind = owners.kind_of(name)
    assert kind is not None, name
    owners.record(session, name=name, course_id=course.id, kind=kind)


def enable_totp(session: Session, user: User) -> str:
    """Switch on two-step verification; returns the secret for making codes."""
    secret = twofactor.pending_secret(session, user=user)
    twofactor.enable(session, user=user, code=pyotp.TOTP(secret).now())
    # The code just used may not be used again; the next login waits for a fresh step.
    user.totp_last_step = int(time.time() // 30) - 2
    session.add(user)
    session.flush()
    return secret


def csrf_token(client: TestClient) -> str:
    """The browser's CSRF token, fetching a page first if the browser has none yet."""
    token = client.cookies.get("kern_csrf")
    if not token:
        client.get("/login")
        token = client.cookies.get("kern_csrf")
    assert token
    return str(token)


def carries_csrf_token(client: TestClient, html: str) -> bool:
    """Whether `html` (a form, a page) carries the browser's token, masked as pages carry it."""
    values = re.findall(r'name="csrf_token" value="([^"]*)"', html)
    return bool(values) and all(matches(value, csrf_token(client)) for value in values)


def without_csrf_values(html: str) -> str:
    """The page with its CSRF values taken out: masked afresh, they differ in every response."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)


def post_form(
    client: TestClient, url: str, data: dict[str, str] | None = None, *, follow: bool = False
) -> Response:
    """Submit a form the way the browser does, CSRF token included."""
    response: Response = client.post(
        url, data={FIELD: csrf_token(client), **(data or {})}, follow_redirects=follow
    )
    return response


def new_browser(client: TestClient, *, ip: str = "testclient") -> TestClient:
    """Another browser on the same app, with its own cookies, connecting from `ip`."""
    return TestClient(client.app, base_url=str(client.base_url), client=(ip, 50000))


def sign_up(client: TestClient, **fields: str) -> Response:
    """Fill in the sign-up form (Alice unless told otherwise)."""
    data = {
        "name": "Alice de Vries",
        "email": "alice@example.nl",
        "password": PASSWORD,
        "language": "nl",
        **fields,
    }
    return post_form(client, "/register", data)


def log_in(
    client: TestClient, user: User, password: str = PASSWORD, secret: str | None = None
) -> None:
    """Log in through the real form (and the second step when she has one)."""
    response = post_form(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 303, response.text
    if secret is not None:
        assert response.headers["location"].startswith("/login/two-factor")
        response = post_form(client, "/login/two-factor", {"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 303, response.text


def field_error(html: str, name: str) -> str | None:
    """The error text shown under a form field, if any."""
    match = re.search(rf'<p class="field__error" id="f-{name}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


# The checkout form with her request for access to start at once (api/terms/waiver.py).
WAIVER = {"withdrawal_waiver": "yes"}
