"""Two servers, one Kern: two `kern serve` processes on their own ports share one PostgreSQL
database and one SeaweedFS bucket, as two web replicas behind a load balancer do. A video
uploaded through one plays through the other once a worker (this test's own process) has made
its stream; a session made on one is valid on the other; and a lesson edited through one shows
on the other's next page, although that server had the course's content cached.

Each server, and the worker, has a media folder of its own that nothing may use: media kept on
one server's disk would not be found by the other. The test needs PostgreSQL
(TEST_DATABASE_URL): two servers cannot sensibly share one SQLite file (a file on one machine's
disk, locked whole by each writer), so without PostgreSQL it is skipped; CI always sets it.
"""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, create_engine, select

from api import db, migrate
from api.accounts.models import Role
from api.catalog.models import Course, Lesson
from api.config import Settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.media import transcode
from api.media.models import StreamState
from api.security.csrf import FIELD
from api.studio import lessons
from tests.conftest import TEST_DATABASE_URL, TEST_SECRET_KEY, _create_postgres_database
from tests.factories import PASSWORD, enable_totp, make_course, make_user
from tests.ffmpeg import FFMPEG, needs_ffmpeg
from tests.s3_server import S3Server

ROOT = Path(__file__).resolve().parents[2]
KERN = [sys.executable, "-m", "api"]

pytestmark = [
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.skipif(not TEST_DATABASE_URL, reason="two servers share PostgreSQL, not SQLite"),
]


@dataclass
class Setup:
    """What the test made in the shared database."""

    course: Course
    lesson: Lesson
    instructor_email: str
    instructor_secret: str
    learner_email: str


@pytest.fixture
def shared_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for the two servers, dropped afterwards."""
    url, admin = _create_postgres_database(TEST_DATABASE_URL)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            name = make_url(url).database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def setup(shared_database: str) -> Setup:
    """An instructor with two-step sign-in, her paid course, and a learner who bought it."""
    engine = create_engine(shared_database)
    with Session(engine, expire_on_commit=False) as session:
        instructor = make_user(session, role=Role.instructor)
        secret = enable_totp(session, instructor)
        course = make_course(session, instructor=instructor, price_cents=4900, modules=1)
        learner = make_user(session)
        enrolment_service.grant(
            session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
        )
        lesson = session.exec(
            select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.position))
        ).all()[1]  # not the free preview
        session.commit()
        made = Setup(course, lesson, instructor.email, secret, learner.email)
    engine.dispose()
    return made


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(
    database_url: str, s3: S3Server, prefix: str, folder: Path, port: int
) -> dict[str, str]:
    """One process's settings: the shared database, bucket and secret key; its own folders."""
    return {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "DB_POOL_SIZE": "2",
        "MEDIA_DIR": str(folder / "media"),  # never written: media lives in the bucket
        "MAIL_DIR": str(folder / "mail"),
        "MEDIA_STORAGE": "s3",
        "MEDIA_S3_ENDPOINT_URL": s3.endpoint_url,
        "MEDIA_S3_BUCKET": s3.bucket,
        "MEDIA_S3_ACCESS_KEY": s3.access_key,
        "MEDIA_S3_SECRET_KEY": s3.secret_key,
        "MEDIA_S3_PREFIX": prefix,
    }


@dataclass
class Servers:
    a: str
    b: str
    worker: Settings  # of a worker beside them, on the same database and bucket
    folders: list[Path]  # the media folders of the servers and the worker, to stay empty


@pytest.fixture
def servers(shared_database: str, s3_server: S3Server, tmp_path: Path) -> Iterator[Servers]:
    """Servers A and B, started side by side."""
    prefix = f"two-servers-{secrets.token_hex(6)}"
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [*KERN, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=_environment(shared_database, s3_server, prefix, tmp_path / f"server-{port}", port),
            cwd=ROOT,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for process, base in zip(processes, bases, strict=True):
            _wait_until_ready(process, base)
        worker = Settings(
            app_env="test",
            database_url=shared_database,
            secret_key=TEST_SECRET_KEY,
            media_dir=tmp_path / "worker" / "media",
            mail_dir=tmp_path / "worker" / "mail",
        )
        folders = [tmp_path / f"server-{port}" / "media" for port in ports]
        worker_settings = s3_server.use(worker, prefix=prefix)
        yield Servers(bases[0], bases[1], worker_settings, [*folders, worker.media_dir])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def _wait_until_ready(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            pytest.fail(f"the Kern server at {base} exited during start-up")
        time.sleep(0.1)
    pytest.fail(f"the Kern server at {base} did not answer /healthz within 60 s")


@pytest.fixture
def video(tmp_path: Path) -> bytes:
    """One second of ffmpeg's test pattern, small (one 240p rendition), with a tone."""
    path = tmp_path / "les.mp4"
    subprocess.run(
        [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
         "-f", "lavfi", "-i", "sine", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-t", "1", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


def _csrf(browser: httpx.Client) -> str:
    if not browser.cookies.get("kern_csrf"):
        browser.get("/login")
    return str(browser.cookies["kern_csrf"])


def _post(
    browser: httpx.Client, url: str, data: dict[str, str], **kwargs: object
) -> httpx.Response:
    return browser.post(url, data={FIELD: _csrf(browser), **data}, **kwargs)  # type: ignore[arg-type]


def _sign_in(browser: httpx.Client, email: str, secret: str | None = None) -> None:
    """Sign in through the login form (and the two-step code when she has one)."""
    response = _post(browser, "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    if secret is not None:
        assert response.headers["location"].startswith("/login/two-factor")
        response = _post(browser, "/login/two-factor", {"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 303, response.text


def _browser_on(base: str, signed_in: httpx.Client | None = None) -> httpx.Client:
    """A browser talking to `base`, with the cookies of `signed_in` (the same person, whose
    next request the load balancer sends to the other server)."""
    browser = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    if signed_in is not None:
        for cookie in signed_in.cookies.jar:
            browser.cookies.set(cookie.name, cookie.value or "")
    return browser


def test_two_servers_share_media_sessions_and_content(
    servers: Servers, setup: Setup, video: bytes
) -> None:
    a, b = servers.a, servers.b
    course, lesson = setup.course, setup.lesson
    studio_lesson = f"/studio/courses/{course.slug}/lessons/{lesson.id}"
    lesson_page = f"/courses/{course.slug}/lessons/{lesson.slug}"
    with _browser_on(a) as instructor_a, _browser_on(a) as learner_a:
        _sign_in(instructor_a, setup.instructor_email, setup.instructor_secret)
        _sign_in(learner_a, setup.learner_email)
        with (
            _browser_on(b, instructor_a) as instructor_b,
            _browser_on(b, learner_a) as learner_b,
            _browser_on(b) as stranger_b,
        ):
            # A session made on A is valid on B.
            assert instructor_b.get(studio_lesson).status_code == 200
            assert learner_b.get("/account").status_code == 200
            assert stranger_b.get("/account").status_code == 303  # to the login page

            # B reads the lesson, and so caches the course's content, before the edit.
            assert lesson.title in learner_b.get(lesson_page).text

            # Uploaded through A; a worker beside the servers makes its stream.
            response = instructor_a.post(
                f"{studio_lesson}/video",
                data={FIELD: _csrf(instructor_a)},
                files={"video": ("les.mp4", video, "video/mp4")},
            )
            assert response.status_code == 303, response.text
            engine = db.make_engine(servers.worker.database_url, pool_size=2)
            try:
                made = transcode.process_next(db.make_sessionmaker(engine), servers.worker)
            finally:
                engine.dispose()
            assert made == StreamState.ready

            # The lesson's title is changed through A's studio form (from the version the
            # form shows now: the upload saved the lesson too).
            form = instructor_a.get(studio_lesson).text
            version = re.search(r'name="version" value="([^"]*)"', form)
            assert version is not None
            typed = {"title": "Adem door je buik", "version": version[1]}
            saved = _post(instructor_a, studio_lesson, {**lessons.form_values(lesson), **typed})
            assert saved.status_code == 303, saved.text

            # B's next page shows the new title, and plays the video A received.
            page = learner_b.get(lesson_page)
            assert page.status_code == 200
            assert "Adem door je buik" in page.text
            original = re.search(r'<source src="(/media/[0-9a-f]+\.mp4)">', page.text)
            master = re.search(r'data-hls="(/media/hls/[0-9a-f]+/master\.m3u8)"', page.text)
            assert original is not None
            assert master is not None

            part = learner_b.get(original[1], headers={"Range": "bytes=100-1099"})
            assert part.status_code == 206
            assert part.content == video[100:1100]
            assert learner_b.get(original[1]).content == video

            base = master[1].rsplit("/", 1)[0]
            playlist = learner_b.get(master[1])
            assert playlist.status_code == 200
            rendition = re.findall(r"^\S+\.m3u8$", playlist.text, re.MULTILINE)[0]
            segments = learner_b.get(f"{base}/{rendition}")
            segment = re.findall(r"^\S+\.ts$", segments.text, re.MULTILINE)[0]
            # The same bytes from either server.
            for path in (master[1], f"{base}/{segment}"):
                from_b = learner_b.get(path)
                assert from_b.status_code == 200
                assert from_b.content == instructor_a.get(path).content
            # B checks access as A does: no segment for someone not signed in.
            assert stranger_b.get(f"{base}/{segment}").status_code == 303

            # Signing out through B ends the session on A too.
            assert _post(learner_b, "/logout", {}).status_code == 303
            assert learner_a.get("/account").status_code == 303
    # Nothing was kept on a server's own disk, where the other would not find it.
    assert [path for folder in servers.folders for path in folder.rglob("*")] == []
