"""PostgreSQL restarted under load: 503 with Retry-After meanwhile, every endpoint well again
afterwards, and no acknowledged progress or practice write lost.

The server is the real one (`kern serve`, two workers, production settings) on a private
PostgreSQL cluster that the test stops and starts while threads keep clicking. The pool is
tried both ways, whichever api/db.py chooses: with pre-ping, which tests each connection
before handing it out, and without, where SQLAlchemy only learns of the restart from a failed
statement and then drops the pool's older connections.
"""

import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlmodel import col, select

from api import db
from api.accounts import sessions
from api.catalog.models import Lesson, Step, StepKind
from api.config import Settings, get_settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.main import create_app
from bench import pgcluster
from tests.conftest import IN_CI, TEST_VAPID_KEY
from tests.factories import agree_to_health_data, make_course, make_user

# Starts a private PostgreSQL cluster and real servers, and stops them under load.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = secrets.token_urlsafe(48)
DOWN_SECONDS = 2.0
# Bounds for waiting, not measurements: a slow shared machine only makes the test take longer.
READY_WITHIN_SECONDS = 60.0  # with the suite on every core, two servers may start at once
LOAD_THREADS = {"completion": 2, "practice": 2, "page": 2}
LOGGABLE = [StepKind.exercise.value, StepKind.breathing.value]
LEARNERS = sum(LOAD_THREADS.values()) + 1  # one per thread, and one for the probes


@dataclass(frozen=True)
class Learner:
    user_id: int
    token: str


@dataclass(frozen=True)
class Scene:
    """A published course with many lessons, and enrolled learners with a session each."""

    slug: str
    lessons: dict[str, int]  # slug -> id
    step_ids: list[int]  # exercise and breathing steps, which can be logged
    learners: list[Learner]


@dataclass(frozen=True)
class Outcome:
    """One request of the load: what it wrote (if anything) and what came back."""

    kind: str
    path: str
    started: float
    status: int | None  # None: no HTTP answer at all
    retry_after: str | None = None
    body: str = ""
    written: object = None


@dataclass
class Load:
    """Threads that keep completing lessons, logging practice and reading pages."""

    base_url: str
    scene: Scene
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        learners = iter(self.scene.learners[1:])
        for kind, count in LOAD_THREADS.items():
            for _ in range(count):
                learner = next(learners)
                thread = threading.Thread(target=self._run, args=(kind, learner), daemon=True)
                self.threads.append(thread)
                thread.start()

    def finish(self) -> list[Outcome]:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        return self.outcomes

    def acknowledged(self, kind: str, *, since: float = 0.0) -> int:
        """How many requests of `kind` that started after `since` got a 2xx."""
        with self.lock:
            return sum(
                1
                for o in self.outcomes
                if o.kind == kind and o.started > since and _is_2xx(o.status)
            )

    def _run(self, kind: str, learner: Learner) -> None:
        requests = {
            "completion": self._completions,
            "practice": self._practices,
            "page": self._pages,
        }[kind](learner)
        with client_for(self.base_url, learner) as client:
            while not self.stop.is_set():
                method, path, body, written = next(requests)
                started = time.monotonic()
                try:
                    response = client.request(method, path, json=body)
                except httpx.TransportError as error:
                    outcome = Outcome(kind, path, started, None, body=repr(error))
                else:
                    outcome = Outcome(
                        kind,
                        path,
                        started,
                        response.status_code,
                        response.headers.get("retry-after"),
                        response.text,
                        written,
                    )
                with self.lock:
                    self.outcomes.append(outcome)

    def _completions(self, learner: Learner) -> Iterator[tuple[str, str, None, object]]:
        # Each lesson once per round; a later round only repeats acknowledged completions.
        while True:
            for lesson_slug, lesson_id in self.scene.lessons.items():
                path = f"/api/v1/courses/{self.scene.slug}/lessons/{lesson_slug}/completion"
                yield "PUT", path, None, (learner.user_id, lesson_id)

    def _practices(self, learner: Learner) -> Iterator[tuple[str, str, dict[str, object], object]]:
        while True:
            for step_id in self.scene.step_ids:
                client_id = uuid.uuid4().hex
                yield "POST", "/api/v1/practice", practice_body(client_id, step_id), client_id

    def _pages(self, _learner: Learner) -> Iterator[tuple[str, str, None, None]]:
        while True:
            for path in read_paths(self.scene):
                yield "GET", path, None, None


def _is_2xx(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def practice_body(client_id: str, step_id: int) -> dict[str, object]:
    return {
        "client_id": client_id,
        "step_id": step_id,
        "practised_at": datetime.now(UTC).isoformat(),
        "duration_seconds": 90,
        "sets_done": 3,
        "reps_done": 10,
    }


def read_paths(scene: Scene) -> list[str]:
    first_lesson = next(iter(scene.lessons))
    return [
        "/courses",
        f"/courses/{scene.slug}",
        f"/courses/{scene.slug}/lessons/{first_lesson}",
        "/today",
        "/api/v1/summary",
        f"/api/v1/courses/{scene.slug}/progress",
    ]


def client_for(base_url: str, learner: Learner) -> httpx.Client:
    """A browser of `learner`: her session cookie, and the CSRF token as the page's script
    sends it. Set as a header, since the production cookies are Secure and this is http."""
    csrf = secrets.token_urlsafe(32)
    cookie = f"__Host-kern_session={learner.token}; __Host-kern_csrf={csrf}"
    return httpx.Client(
        base_url=base_url,
        headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Accept-Language": "en"},
        timeout=httpx.Timeout(15.0),
    )


# ---- the cluster, the data and the server ----


@pytest.fixture(scope="module")
def cluster() -> Iterator[pgcluster.Cluster]:
    """A private PostgreSQL cluster, migrated with `kern db upgrade`."""
    try:
        pgcluster.bin_dir()
    except RuntimeError as error:
        message = f"{error}: install the PostgreSQL server (apt-get install postgresql)."
        if IN_CI:
            pytest.fail(f"The database outage test is required in CI. {message}")
        pytest.skip(message)  # only outside CI, where a missing server is a set-up choice
    with pgcluster.Cluster() as cluster:
        cluster.create_database()
        env = {**os.environ, "DATABASE_URL": cluster.url, "APP_ENV": "test"}
        subprocess.run(
            [sys.executable, "-m", "api", "db", "upgrade"], env=env, cwd=ROOT, check=True
        )
        yield cluster


@pytest.fixture(scope="module")
def scene(cluster: pgcluster.Cluster) -> Scene:
    engine = db.make_engine(cluster.url, pool_size=1)
    settings = Settings(app_env="production", database_url=cluster.url, secret_key=SECRET_KEY)
    try:
        with db.make_sessionmaker(engine)() as session:
            course = make_course(session, modules=5, lessons_per_module=20, steps_per_lesson=2)
            learners = []
            for _ in range(LEARNERS):
                user = agree_to_health_data(session, make_user(session, language="en"))
                enrolment_service.grant(
                    session, user_id=user.id, course_id=course.id, source=EnrolmentSource.free
                )
                token = sessions.start(
                    session, settings, user=user, user_agent="outage test", ip_address="127.0.0.1"
                )
                learners.append(Learner(user.id or 0, token))
            rows = session.exec(
                select(Lesson.slug, Lesson.id, Step.id)
                .join(Step, col(Step.lesson_id) == Lesson.id)
                .where(Lesson.course_id == course.id, col(Step.kind).in_(LOGGABLE))
                .order_by(col(Lesson.id), col(Step.id))
            ).all()
            session.commit()
    finally:
        engine.dispose()
    return Scene(
        slug=course.slug,
        lessons={slug: lesson_id or 0 for slug, lesson_id, _step in rows},
        step_ids=[step_id or 0 for _slug, _lesson, step_id in rows],
        learners=learners,
    )


def deployed_pre_ping() -> bool:
    """Whether api/db.py's pool tests a connection before handing it out."""
    engine = db.make_engine("postgresql+psycopg://kern@127.0.0.1:1/kern")  # does not connect
    return bool(engine.pool._pre_ping)  # SQLAlchemy keeps the setting private


def app_with_the_other_pre_ping() -> FastAPI:
    """Kern as `kern serve` builds it, but with pre-ping the other way round; a uvicorn
    factory."""
    settings = get_settings()
    app = create_app(settings)
    app.state.engine.dispose()
    engine = create_engine(
        app.state.engine.url,
        pool_size=settings.request_slots,
        max_overflow=settings.db_pool_size - settings.request_slots,
        pool_pre_ping=not deployed_pre_ping(),
    )
    app.state.engine = engine
    app.state.sessionmaker = db.make_sessionmaker(engine)
    return app


@dataclass(frozen=True)
class Variant:
    """How the server's pool is built, and how PostgreSQL goes down."""

    command: list[str]
    stop_mode: str


VARIANTS = {
    # As deployed: `kern serve`; PostgreSQL stopped the polite way (a restart, an upgrade).
    "kern serve, fast stop": Variant([sys.executable, "-m", "api", "serve"], "fast"),
    # The other pool, and PostgreSQL stopped as in a crash: it recovers from its WAL on start,
    # and acknowledged commits must still be there.
    "other pre-ping, immediate stop": Variant(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"{__name__}:app_with_the_other_pre_ping",
            "--factory",
            "--no-access-log",
        ],
        "immediate",
    ),
}


@pytest.fixture(params=list(VARIANTS))
def server(
    request: pytest.FixtureRequest, cluster: pgcluster.Cluster, tmp_path: Path
) -> Iterator[tuple[str, Path, str]]:
    """Kern with production settings and two workers, as a 2-core server runs it; yields its
    address, its log file and how to stop PostgreSQL."""
    port = pgcluster.free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": cluster.url,
        "SECRET_KEY": SECRET_KEY,
        "VAPID_PRIVATE_KEY": TEST_VAPID_KEY,
        "BASE_URL": base_url,
        "LOG_LEVEL": "WARNING",
        "MEDIA_DIR": str(tmp_path / "media"),
    }
    variant = VARIANTS[request.param]
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*variant.command, "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: _answers(f"{base_url}/readyz"), "the server did not become ready")
        yield base_url, log_path, variant.stop_mode
    finally:
        process.terminate()
        process.wait(timeout=15)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(condition: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{failure} within {READY_WITHIN_SECONDS:.0f} s")
        time.sleep(0.1)


def every_endpoint_answers(base_url: str, scene: Scene) -> bool:
    """One pass over every kind of request the load makes, as the probe learner; all 2xx?"""
    learner = scene.learners[0]
    lesson = next(iter(scene.lessons))
    completion = f"/api/v1/courses/{scene.slug}/lessons/{lesson}/completion"
    with client_for(base_url, learner) as client:
        try:
            answers = [client.get(path) for path in read_paths(scene)]
            answers.append(client.put(completion))
            body = practice_body(uuid.uuid4().hex, scene.step_ids[0])
            answers.append(client.post("/api/v1/practice", json=body))
        except httpx.TransportError:
            return False
    return all(_is_2xx(answer.status_code) for answer in answers)


def stored(cluster: pgcluster.Cluster) -> tuple[set[str], set[tuple[int, int]]]:
    """The practice logs' client ids and the completed (learner, lesson) pairs on the server."""
    client_ids = set(cluster.psql("kern", "SELECT client_id FROM practice_log").split())
    pairs = cluster.psql(
        "kern",
        "SELECT user_id || ',' || lesson_id FROM lesson_progress WHERE completed_at IS NOT NULL",
    ).split()
    completed = {(int(user), int(lesson)) for user, lesson in (pair.split(",") for pair in pairs)}
    return client_ids, completed


# ---- the tests ----


def test_a_restart_under_load_answers_503_then_recovers_and_keeps_acknowledged_writes(
    cluster: pgcluster.Cluster, scene: Scene, server: tuple[str, Path, str]
) -> None:
    base_url, log_path, stop_mode = server
    load = Load(base_url, scene)
    load.start()
    try:
        wait_until(
            lambda: all(load.acknowledged(kind) >= 3 for kind in LOAD_THREADS),
            "the load did not get going",
        )
        cluster.stop(stop_mode)
        time.sleep(DOWN_SECONDS)
        cluster.start()
        wait_until(lambda: every_endpoint_answers(base_url, scene), "Kern did not recover")
        recovered = time.monotonic()
        # The load goes on a little after the recovery, which must hold for every worker.
        wait_until(
            lambda: all(load.acknowledged(kind, since=recovered) >= 3 for kind in LOAD_THREADS),
            "the load did not go on after the restart",
        )
    finally:
        outcomes = load.finish()

    no_answer = [o for o in outcomes if o.status is None]
    assert not no_answer, f"requests without an HTTP answer: {no_answer[:3]}"
    wrong = [o for o in outcomes if not _is_2xx(o.status) and o.status != 503]
    assert not wrong, "answers other than 2xx or 503: " + "; ".join(
        f"{o.status} {o.path} {o.body[:200]!r}" for o in wrong[:5]
    )
    unavailable = [o for o in outcomes if o.status == 503]
    assert unavailable, "no request met the outage: the test did not test it"
    for outcome in unavailable:
        assert outcome.retry_after is not None, outcome
        assert outcome.retry_after.isdigit(), outcome
        assert "Traceback" not in outcome.body
        assert "psycopg" not in outcome.body
        if outcome.path.startswith("/api/"):
            assert '"error":"unavailable"' in outcome.body
        else:
            assert "Not available right now" in outcome.body
    late = [o for o in outcomes if o.started > recovered and not _is_2xx(o.status)]
    assert not late, f"failures after the recovery: {late[:3]}"

    client_ids, completed = stored(cluster)
    acknowledged = [o for o in outcomes if _is_2xx(o.status) and o.written is not None]
    lost = [
        o.written
        for o in acknowledged
        if o.written not in (client_ids if o.kind == "practice" else completed)
    ]
    assert not lost, f"acknowledged writes missing after the restart: {lost[:5]}"

    server_log = log_path.read_text()
    assert "database unreachable" in server_log
    assert "Traceback" not in server_log


class ConnectionCutter:
    """Ends a request's database connection at a chosen moment, as a restart of PostgreSQL
    does to the connections it finds: before a statement that starts with a given text, or
    at COMMIT."""

    def __init__(self, engine: Engine, admin: Engine) -> None:
        self.admin = admin
        self.moment: str | None = None
        event.listen(engine, "commit", self._on_commit)
        event.listen(engine, "before_cursor_execute", self._on_statement)

    def _on_commit(self, connection: Connection) -> None:
        if self.moment == "COMMIT":
            self._cut(connection)

    def _on_statement(
        self, connection: Connection, _cursor: object, statement: str, *_: object
    ) -> None:
        if self.moment and self.moment != "COMMIT" and statement.startswith(self.moment):
            self._cut(connection)

    def _cut(self, connection: Connection) -> None:
        self.moment = None
        pid = connection.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        with self.admin.connect() as other:
            # Waits (up to 5 s) until the backend is gone, so the statement meets a dead line.
            other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


@pytest.fixture
def cut(cluster: pgcluster.Cluster, scene: Scene) -> Iterator[tuple[TestClient, ConnectionCutter]]:
    """Kern in this process on the cluster, signed in as the probe learner, with a cutter."""
    settings = Settings(
        app_env="production",
        database_url=cluster.url,
        secret_key=SECRET_KEY,
        base_url="http://testserver",
        db_pool_size=2,
    )
    app = create_app(settings)
    admin = create_engine(cluster.url, pool_size=1)
    csrf = secrets.token_urlsafe(32)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            client.headers.update({"X-CSRF-Token": csrf, "Accept-Language": "en"})
            client.cookies.update(
                {"__Host-kern_session": scene.learners[0].token, "__Host-kern_csrf": csrf}
            )
            yield client, ConnectionCutter(app.state.engine, admin)
    finally:
        admin.dispose()


def test_a_commit_cut_off_by_a_disconnect_is_answered_503_and_not_stored(
    cluster: pgcluster.Cluster, scene: Scene, cut: tuple[TestClient, ConnectionCutter]
) -> None:
    """The connection dies at the very moment of COMMIT: the answer must not be a 2xx."""
    client, cutter = cut
    client_id = uuid.uuid4().hex
    body = practice_body(client_id, scene.step_ids[0])
    cutter.moment = "COMMIT"
    response = client.post("/api/v1/practice", json=body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == "unavailable"
    assert client_id not in stored(cluster)[0]

    # The player sends the same log again; now it is stored.
    assert client.post("/api/v1/practice", json=body).status_code == 201
    assert client_id in stored(cluster)[0]


@pytest.mark.parametrize(
    ("statement", "page"),
    [
        # The visitor's session is the first thing any page reads (a dependency).
        ("SELECT auth_session.", "/today"),
        # The lesson page notes her visit in a savepoint and forgives a failed one (SQLite's
        # busy database); a lost connection must still come out as a 503. The last lesson:
        # the probe learner has not been there, so the page writes her visit.
        ("INSERT INTO lesson_progress", "/courses/{slug}/lessons/{last_lesson}"),
    ],
)
def test_a_connection_lost_during_a_page_is_a_503_page(
    scene: Scene, cut: tuple[TestClient, ConnectionCutter], statement: str, page: str
) -> None:
    client, cutter = cut
    path = page.format(slug=scene.slug, last_lesson=list(scene.lessons)[-1])
    cutter.moment = statement
    response = client.get(path)
    assert cutter.moment is None, "the cut did not happen: the page ran other statements"
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "Not available right now" in response.text
    assert client.get(path).status_code == 200
