"""Adaptive streams: an uploaded lesson video is queued, the worker makes its HLS renditions
(never taller than the source), a poster and its length, and the lesson plays the stream; its
playlists and segments are served by the same rules as the video itself."""

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api import db
from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson
from api.config import Settings
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.media import hls, streams, transcode
from api.media.models import StreamState, VideoStream
from api.media.storage import storage_for
from tests.factories import csrf_token, enable_totp, log_in, make_course, make_user, new_browser
from tests.ffmpeg import FFMPEG, needs_ffmpeg

pytestmark = needs_ffmpeg


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Two seconds of ffmpeg's test pattern at 640×480 with a tone, and an MP4 of sound only."""
    folder = tmp_path_factory.mktemp("samples")
    made = {
        "video": ["-f", "lavfi", "-i", "testsrc=size=640x480:rate=10", "-f", "lavfi", "-i",
                  "sine", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
        "sound": ["-f", "lavfi", "-i", "sine"],
    }  # fmt: skip
    for name, inputs in made.items():
        subprocess.run(
            [FFMPEG, "-v", "error", "-y", *inputs, "-t", "2", "-c:a", "aac", "-shortest",
             str(folder / f"{name}.mp4")],
            check=True,
        )  # fmt: skip
    return {name: (folder / f"{name}.mp4").read_bytes() for name in made}


@pytest.fixture
def worker(connection: Connection) -> sessionmaker[Session]:
    """The worker's sessions, inside the test's transaction."""
    return db.make_sessionmaker(connection, join_transaction_mode="create_savepoint")


def paid_lesson(client: TestClient, session: Session) -> tuple[Course, Lesson]:
    """A paid course of an instructor signed in in `client`, and its second (paid) lesson."""
    alice = make_user(session, role=Role.instructor)
    log_in(client, alice, secret=enable_totp(session, alice))
    course = make_course(session, instructor=alice, price_cents=4900)
    lessons = session.exec(
        select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.id))
    ).all()
    return course, lessons[1]


def upload(client: TestClient, course: Course, lesson: Lesson, data: bytes) -> str:
    """Upload `data` as the lesson's video; the stored original's name."""
    response = client.post(
        f"/studio/courses/{course.slug}/lessons/{lesson.id}/video",
        data={"csrf_token": csrf_token(client)},
        files={"video": ("les.mp4", data, "video/mp4")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    session = Session.object_session(lesson)
    assert session is not None
    session.expire_all()
    session.refresh(lesson)
    assert lesson.video_ref is not None
    return lesson.video_ref


def stream_of(session: Session, name: str) -> VideoStream:
    session.expire_all()
    found = session.exec(select(VideoStream).where(VideoStream.name == name)).one()
    return found


def status(client: TestClient, course: Course, lesson: Lesson) -> dict[str, object]:
    response = client.get(f"/studio/courses/{course.slug}/lessons/{lesson.id}/video/status")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize(
    ("size", "renditions"),
    [
        ((1920, 1080), [360, 540, 720]),
        ((1280, 720), [360, 540, 720]),
        ((640, 480), [360, 480]),
        ((1080, 1920), [360, 540, 720]),  # upright: the short side counts
        ((320, 240), [240]),
    ],
)
def test_no_rendition_is_taller_than_the_source(
    size: tuple[int, int], renditions: list[int]
) -> None:
    assert transcode.ladder(*size) == renditions


def test_progress_is_read_from_ffmpegs_report() -> None:
    report = ["frame=12", "out_time_us=1500000", "out_time_us=N/A", "progress=continue"]
    assert [transcode.percent_done(line, 6.0) for line in report] == [None, 25, None, None]
    assert transcode.percent_done("out_time_us=9000000", 6.0) == 99  # 100 once it is stored


def test_an_uploaded_video_becomes_a_stream_with_poster_and_length(
    client: TestClient,
    session: Session,
    settings: Settings,
    worker: sessionmaker[Session],
    samples: dict[str, bytes],
) -> None:
    course, lesson = paid_lesson(client, session)
    name = upload(client, course, lesson, samples["video"])
    assert stream_of(session, name).state == StreamState.queued
    assert status(client, course, lesson)["text"] == (
        "Wordt verwerkt: wacht op zijn beurt. Tot het klaar is, speelt het origineel."
    )

    assert transcode.process_next(worker, settings) == StreamState.ready

    stream = stream_of(session, name)
    assert (stream.state, stream.progress, stream.renditions) == ("ready", 100, "360,480")
    assert stream.duration_seconds == pytest.approx(2.0, abs=0.1)
    folder = settings.media_dir / hls.FOLDER / stream.prefix
    master = (folder / hls.MASTER).read_text()
    assert re.findall(r"^\S+\.m3u8$", master, re.MULTILINE) == ["360p.m3u8", "480p.m3u8"]
    assert "RESOLUTION=640x480" in master
    assert (folder / "360p_000.ts").is_file()
    assert (folder / hls.POSTER).read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
    assert (settings.media_dir / name).read_bytes() == samples["video"]  # the original stays
    assert status(client, course, lesson)["state"] == "ready"
    assert transcode.process_next(worker, settings) is None  # nothing else waits


def test_a_file_without_a_video_track_fails_with_a_reason_and_the_original_plays(
    client: TestClient,
    session: Session,
    settings: Settings,
    worker: sessionmaker[Session],
    samples: dict[str, bytes],
) -> None:
    course, lesson = paid_lesson(client, session)
    # An MP4 of sound only passes the upload's check of the first bytes; ffprobe finds no video.
    name = upload(client, course, lesson, samples["sound"])

    assert transcode.process_next(worker, settings) == StreamState.failed

    assert (stream_of(session, name).state, stream_of(session, name).reason) == (
        "failed",
        "no_video",
    )
    shown = status(client, course, lesson)
    assert shown["reason"] == "Er is geen videospoor in het bestand gevonden."
    assert (
        "Verwerken mislukt" in client.get(f"/studio/courses/{course.slug}/lessons/{lesson.id}").text
    )
    page = client.get(f"/courses/{course.slug}/lessons/{lesson.slug}").text
    assert f'src="/media/{name}"' in page
    assert "data-hls" not in page
    assert not (settings.media_dir / hls.FOLDER / stream_of(session, name).prefix).exists()


def test_the_lesson_plays_the_stream_which_only_those_with_access_get(
    client: TestClient,
    session: Session,
    settings: Settings,
    worker: sessionmaker[Session],
    samples: dict[str, bytes],
) -> None:
    course, lesson = paid_lesson(client, session)
    name = upload(client, course, lesson, samples["video"])
    learner, stranger = make_user(session), make_user(session)
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    session.flush()
    hers, theirs, nobody = browser(client, learner), browser(client, stranger), new_browser(client)
    lesson_url = f"/courses/{course.slug}/lessons/{lesson.slug}"
    before = hers.get(lesson_url).text
    assert f'src="/media/{name}"' in before
    assert "data-hls" not in before

    transcode.process_next(worker, settings)

    prefix = stream_of(session, name).prefix
    base = f"/media/hls/{prefix}"
    page = hers.get(lesson_url).text
    assert f'data-hls="{base}/master.m3u8"' in page
    assert f'poster="{base}/poster.jpg"' in page
    assert '<time class="video__length" datetime="PT2S">0:02</time>' in page
    assert f'<source src="/media/{name}">' in page  # without JavaScript the original plays
    assert "js/stream.js" in page
    assert "hls.light.min.js" in page  # the address stream.js loads it from, if it must

    files = ["master.m3u8", "360p.m3u8", "480p.m3u8", "360p_000.ts", "480p_000.ts", "poster.jpg"]
    types = {
        ".m3u8": "application/vnd.apple.mpegurl",
        ".ts": "video/mp2t",
        ".jpg": "image/jpeg",
    }
    for file in files:
        served = hers.get(f"{base}/{file}")
        assert served.status_code == 200, file
        assert served.headers["content-type"].split(";")[0] == types[Path(file).suffix]
        assert served.headers["cache-control"].startswith("private")
        assert theirs.get(f"{base}/{file}").status_code == 403, file
        assert nobody.get(f"{base}/{file}", follow_redirects=False).status_code == 303, file
    assert hers.get(f"{base}/../{name}").status_code == 404
    assert hers.get(f"{base}/other.txt").status_code == 404
    assert hers.get(f"/media/hls/{'0' * 32}/master.m3u8").status_code == 404


def test_a_replaced_video_takes_its_stream_along(
    client: TestClient,
    session: Session,
    settings: Settings,
    worker: sessionmaker[Session],
    samples: dict[str, bytes],
) -> None:
    course, lesson = paid_lesson(client, session)
    first = upload(client, course, lesson, samples["video"])
    transcode.process_next(worker, settings)
    folder = settings.media_dir / hls.FOLDER / stream_of(session, first).prefix
    assert folder.is_dir()

    second = upload(client, course, lesson, samples["video"])

    session.expire_all()
    assert session.exec(select(VideoStream.name)).all() == [second]
    assert not folder.exists()


def browser(client: TestClient, user: User) -> TestClient:
    signed_in = new_browser(client)
    log_in(signed_in, user)
    return signed_in


def test_a_video_whose_worker_stopped_is_taken_up_again_a_few_times(
    session: Session, worker: sessionmaker[Session]
) -> None:
    session.add(VideoStream(name="les.mp4", prefix="a" * 32))
    session.flush()
    first = streams.claim(worker)
    assert first is not None
    assert streams.claim(worker) is None  # another worker does not take it while it is busy

    later = utcnow() + streams.STALE_AFTER + timedelta(minutes=1)
    again = streams.claim(worker, now=later)
    third = streams.claim(worker, now=later + streams.STALE_AFTER * 2)

    assert again == first
    assert third == first
    assert streams.claim(worker, now=later + streams.STALE_AFTER * 4) is None
    session.expire_all()
    stopped = session.exec(select(VideoStream)).one()
    assert (stopped.state, stopped.reason, stopped.attempts) == ("failed", "failed", 3)


def test_with_object_storage_the_stream_is_made_from_and_stored_in_the_bucket(
    client: TestClient,
    session: Session,
    s3_settings: Settings,
    worker: sessionmaker[Session],
    samples: dict[str, bytes],
) -> None:
    """Several servers share one bucket: the worker fetches the original from it, stores the
    renditions there, and /media/hls streams them from it after the access check."""
    course, lesson = paid_lesson(client, session)
    name = upload(client, course, lesson, samples["video"])

    assert transcode.process_next(worker, s3_settings) == StreamState.ready

    prefix = stream_of(session, name).prefix
    stored = storage_for(s3_settings).list(f"{hls.FOLDER}/{prefix}/")
    assert {
        f"{hls.FOLDER}/{prefix}/{part}" for part in (hls.MASTER, hls.POSTER, "360p_000.ts")
    } <= set(stored)
    assert not (s3_settings.media_dir / hls.FOLDER).exists()  # nothing on this server's disk
    master = client.get(hls.output_url(prefix, hls.MASTER))
    assert master.status_code == 200
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert "360p.m3u8" in master.text
    segment = client.get(hls.output_url(prefix, "360p_000.ts"), headers={"Range": "bytes=0-187"})
    assert (segment.status_code, len(segment.content)) == (206, 188)
    assert segment.content[0] == 0x47  # an MPEG-TS packet starts with its sync byte
    stranger = new_browser(client)
    log_in(stranger, make_user(session))
    assert stranger.get(hls.output_url(prefix, hls.MASTER)).status_code == 403
