"""Uploading a cover image and a lesson video in the studio.

Alice (an instructor, using Kern in English) uploads to her own course. The content of a file
decides what it is, never its name or the browser's word for it; a refused file leaves nothing
behind, in MEDIA_DIR or in the database. Bob (another instructor), a learner and an anonymous
visitor can change nothing.
"""

import asyncio
import html
import io
import re
import struct
import threading
import zlib
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson
from api.config import Settings
from api.media import service as media
from api.media.files import GENERATED_NAME, MB
from api.media.storage import LocalStorage
from tests.factories import csrf_token, enable_totp, log_in, make_course, make_user

MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 40
WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
    b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02" + bytes(range(256)) * 40
)


def instructor(client: TestClient, session: Session, name: str = "Alice") -> User:
    """An instructor with two-step verification, signed in in `client`, using Kern in English."""
    user = make_user(session, name=name, role=Role.instructor, language="en")
    log_in(client, user, secret=enable_totp(session, user))
    return user


def image_bytes(
    size: tuple[int, int] = (640, 480), kind: str = "PNG", exif: Image.Exif | None = None
) -> bytes:
    out = io.BytesIO()
    picture = Image.new("RGB", size, (196, 120, 90))
    picture.paste((40, 90, 160), (0, 0, size[0] // 2, size[1]))  # left half blue
    picture.save(out, kind, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a canvas of width × height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
        + chunk(b"IEND", b"")
    )


File = tuple[str, bytes, str]  # the name the browser gives, the content, the browser's type


def upload(client: TestClient, url: str, field: str, file: File) -> Response:
    """Send the form as the browser does: the CSRF token and the file."""
    name, data, kind = file
    response: Response = client.post(
        url,
        data={"csrf_token": csrf_token(client)},
        files={field: (name, io.BytesIO(data), kind)},
        follow_redirects=False,
    )
    return response


def cover_url(course: Course) -> str:
    return f"/studio/courses/{course.slug}/cover"


def video_url(course: Course, lesson: Lesson) -> str:
    return f"/studio/courses/{course.slug}/lessons/{lesson.id}/video"


def stored(settings: Settings) -> list[str]:
    """Every entry in MEDIA_DIR, partial uploads included."""
    folder = settings.media_dir
    return sorted(entry.name for entry in folder.iterdir()) if folder.exists() else []


def refusal(response: Response) -> str:
    """The message of the page that says a file was not saved."""
    match = re.search(r'<div class="form-error" role="alert"><p>([^<]*)</p>', response.text)
    assert match, response.text
    return html.unescape(match.group(1))


def first_lesson(session: Session, course: Course) -> Lesson:
    lesson = session.exec(
        select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.id))
    ).first()
    assert lesson is not None
    return lesson


Row = TypeVar("Row", Course, Lesson)


def fresh(session: Session, row: Row) -> Row:
    session.expire_all()
    session.refresh(row)
    return row


# --- cover image --------------------------------------------------------------------------------


def test_a_photo_becomes_the_cover_upright_smaller_and_without_its_metadata(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    version = course.version
    exif = Image.Exif()
    exif[0x0112] = 6  # taken with the phone on its side: shown turned a quarter to the right
    exif[0x010F] = "Telefoonmerk"  # camera make
    exif[0x0132] = "2026:03:01 07:45:00"  # when
    photo = image_bytes((2400, 1200), "JPEG", exif)

    response = upload(client, cover_url(course), "image", ("IMG_0001.JPG", photo, "image/jpeg"))

    assert response.status_code == 303
    assert response.headers["location"] == f"/studio/courses/{course.slug}?notice=cover-saved"
    fresh(session, course)
    name = course.cover_image
    assert name is not None
    assert GENERATED_NAME.match(name)
    assert name.endswith(".jpg")
    assert course.version == version + 1
    assert stored(settings) == [name]
    with Image.open(settings.media_dir / name) as saved:
        assert saved.format == "JPEG"
        assert saved.size == (800, 1600)  # turned upright, then at most 1600 px
        assert dict(saved.getexif()) == {}
        assert "icc_profile" not in saved.info
        # The blue half was on the left; turned a quarter to the right, it is at the top.
        top = saved.getpixel((400, 100))
        assert isinstance(top, tuple)
        assert top[2] > top[0]
    served = client.get(f"/media/{name}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("kind", "extension"), [("PNG", ".png"), ("WEBP", ".webp"), ("JPEG", ".jpg")]
)
def test_the_content_decides_the_format_not_the_name(
    kind: str, extension: str, client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)

    response = upload(
        client, cover_url(course), "image", ("foto.jpg", image_bytes(kind=kind), "image/jpeg")
    )

    assert response.status_code == 303
    fresh(session, course)
    assert course.cover_image is not None
    assert course.cover_image.endswith(extension)
    with Image.open(settings.media_dir / course.cover_image) as saved:
        assert saved.format == kind


def test_a_text_file_named_like_a_photo_is_refused(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)

    response = upload(
        client, cover_url(course), "image", ("photo.jpg", b"Dit is geen foto.\n" * 40, "image/jpeg")
    )

    assert response.status_code == 422
    assert "not a JPEG, PNG or WebP image" in refusal(response)
    assert f'href="/studio/courses/{course.slug}"' in response.text
    assert fresh(session, course).cover_image is None
    assert stored(settings) == []


@pytest.mark.parametrize(
    "data",
    [b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", image_bytes(kind="BMP"), image_bytes()[:200]],
    ids=["gif", "bmp", "cut-off png"],
)
def test_other_formats_and_damaged_images_are_refused(
    data: bytes, client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)

    response = upload(client, cover_url(course), "image", ("omslag.png", data, "image/png"))

    assert response.status_code == 422
    assert stored(settings) == []


def test_an_image_over_5_mb_is_refused_and_nothing_is_stored(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    big = image_bytes() + b"\0" * (5 * MB)

    response = upload(client, cover_url(course), "image", ("groot.png", big, "image/png"))

    assert response.status_code == 413
    assert "larger than 5 MB" in refusal(response)
    assert fresh(session, course).cover_image is None
    assert stored(settings) == []


def test_an_upload_declared_far_over_the_limit_is_refused_before_it_is_read(
    app: FastAPI, client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    reads: list[int] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, object]:
        reads.append(1)
        return {"type": "http.request", "body": b"\0" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    cookie = "; ".join(f"{key}={value}" for key, value in client.cookies.items())
    path = cover_url(course)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=grens"),
            (b"content-length", str(2_000 * MB).encode()),
            (b"cookie", cookie.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    # In a thread of its own: a browser test run before this one in the same worker leaves
    # Playwright's event loop running in this thread, where asyncio.run is refused.
    def call() -> None:
        asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()

    assert sent[0]["status"] == 413
    assert reads == []  # not one byte of the 2 GB was read
    assert stored(settings) == []
    page = b"".join(m["body"] for m in sent if m["type"] == "http.response.body")
    assert b"larger than 5 MB" in page
    assert b'action="/logout"' in page  # she still sees that she is signed in


def test_the_uploaded_file_name_is_never_used(
    client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)

    response = upload(
        client, cover_url(course), "image", ("../../etc/passwd.png", image_bytes(), "image/png")
    )

    assert response.status_code == 303
    fresh(session, course)
    assert course.cover_image is not None
    assert GENERATED_NAME.match(course.cover_image)
    assert stored(settings) == [course.cover_image]
    # Nothing was written next to MEDIA_DIR or above it.
    assert sorted(entry.name for entry in settings.media_dir.parent.iterdir()) == sorted(
        entry.name for entry in tmp_path.iterdir()
    )
    assert not (tmp_path / "etc").exists()
    assert not (settings.media_dir.parent / "passwd.png").exists()


@pytest.mark.parametrize("size", [(30_000, 30_000), (7_000, 7_000)], ids=["bomb", "40 MP+"])
def test_an_image_claiming_too_many_pixels_is_refused_without_decoding(
    size: tuple[int, int], client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)

    response = upload(
        client, cover_url(course), "image", ("bom.png", png_claiming(*size), "image/png")
    )

    assert response.status_code == 422
    assert "too many pixels" in refusal(response)
    assert stored(settings) == []


def test_without_a_file_she_is_asked_to_choose_one(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)

    response = upload(client, cover_url(course), "image", ("", b"", "application/octet-stream"))

    assert response.status_code == 422
    assert "Choose an image" in refusal(response)


def test_a_new_cover_replaces_the_old_file(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    upload(client, cover_url(course), "image", ("een.png", image_bytes(), "image/png"))
    first = fresh(session, course).cover_image

    upload(client, cover_url(course), "image", ("twee.png", image_bytes((300, 200)), "image/png"))

    second = fresh(session, course).cover_image
    assert second != first
    assert stored(settings) == [second]


def test_an_old_cover_another_course_still_shows_is_kept(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    upload(client, cover_url(course), "image", ("een.png", image_bytes(), "image/png"))
    first = fresh(session, course).cover_image
    copy = make_course(session, instructor=alice)  # e.g. imported from an export of the first
    copy.cover_image = first
    session.add(copy)
    session.flush()

    upload(client, cover_url(course), "image", ("twee.png", image_bytes(), "image/png"))

    assert first in stored(settings)
    assert len(stored(settings)) == 2


def test_a_cover_stored_in_a_transaction_that_rolls_back_is_removed(
    session: Session, settings: Settings
) -> None:
    course = make_course(session)
    session.commit()  # the test's savepoint: what came before stays

    name = media.set_cover(
        session,
        course=course,
        source=io.BytesIO(image_bytes()),
        storage=LocalStorage(settings.media_dir),
    )
    assert stored(settings) == [name]
    session.rollback()

    assert stored(settings) == []


# --- lesson video -------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "extension"), [(MP4, ".mp4"), (WEBM, ".webm")])
def test_a_video_file_becomes_the_lessons_video(
    data: bytes, extension: str, client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice, video_provider="youtube")
    lesson = first_lesson(session, course)
    versions = (course.version, lesson.version)

    response = upload(client, video_url(course, lesson), "video", ("les 1.bin", data, "text/plain"))

    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/studio/courses/{course.slug}/lessons/{lesson.id}?notice=video-saved"
    )
    fresh(session, lesson)
    fresh(session, course)
    assert lesson.video_provider == "file"
    assert lesson.video_ref is not None
    assert GENERATED_NAME.match(lesson.video_ref)
    assert lesson.video_ref.endswith(extension)
    assert (course.version, lesson.version) == (versions[0] + 1, versions[1] + 1)
    assert stored(settings) == [lesson.video_ref]
    assert (settings.media_dir / lesson.video_ref).read_bytes() == data
    # The first lesson is the free preview, so anyone may watch it, and seek in it.
    served = client.get(f"/media/{lesson.video_ref}", headers={"Range": "bytes=0-99"})
    assert served.status_code == 206
    assert served.content == data[:100]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (image_bytes(), "not an MP4 or WebM video"),
        (b"\x00\x00\x00\x18ftypheic" + b"\0" * 100, "not an MP4 or WebM video"),
        (b"\x1a\x45\xdf\xa3\x42\x82\x88matroska" + b"\0" * 100, "not an MP4 or WebM video"),
        (b"\x00\x00\x00\x14ftypqt  " + b"\0" * 100, "Save or export it as MP4"),
        (b"", "Choose a video"),
    ],
    ids=["png", "heic photo", "mkv", "quicktime", "empty"],
)
def test_a_file_that_is_not_an_mp4_or_webm_video_is_refused(
    data: bytes, message: str, client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice, video_provider="youtube")
    lesson = first_lesson(session, course)

    response = upload(client, video_url(course, lesson), "video", ("les.mp4", data, "video/mp4"))

    assert response.status_code == 422
    assert message in refusal(response)
    assert f'href="/studio/courses/{course.slug}/lessons/{lesson.id}"' in response.text
    assert fresh(session, lesson).video_provider == "youtube"
    assert stored(settings) == []


def test_a_video_over_the_configured_size_is_refused_and_its_partial_file_removed(
    client: TestClient, session: Session, settings: Settings
) -> None:
    settings.media_max_video_mb = 1
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    lesson = first_lesson(session, course)
    big = MP4 + b"\0" * MB  # just over 1 MB: past the early check, caught while copying

    response = upload(client, video_url(course, lesson), "video", ("les.mp4", big, "video/mp4"))

    assert response.status_code == 413
    assert "larger than 1 MB" in refusal(response)
    assert fresh(session, lesson).video_ref is None
    assert stored(settings) == []


def test_a_new_video_replaces_the_old_file(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    lesson = first_lesson(session, course)
    upload(client, video_url(course, lesson), "video", ("een.mp4", MP4, "video/mp4"))

    upload(client, video_url(course, lesson), "video", ("twee.webm", WEBM, "video/webm"))

    ref = fresh(session, lesson).video_ref
    assert stored(settings) == [ref]


def test_a_lesson_of_another_course_is_not_found(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    elsewhere = first_lesson(session, make_course(session, instructor=alice))

    response = upload(client, video_url(course, elsewhere), "video", ("les.mp4", MP4, "video/mp4"))

    assert response.status_code == 404
    assert fresh(session, elsewhere).video_ref is None
    assert stored(settings) == []


# --- who may upload -----------------------------------------------------------------------------


def _attempts(client: TestClient, course: Course, lesson: Lesson) -> list[Response]:
    return [
        upload(client, cover_url(course), "image", ("omslag.png", image_bytes(), "image/png")),
        upload(client, video_url(course, lesson), "video", ("les.mp4", MP4, "video/mp4")),
    ]


def test_another_instructor_can_upload_nothing_to_her_course(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = make_course(session, instructor=make_user(session, role=Role.instructor))
    lesson = first_lesson(session, course)
    instructor(client, session, name="Bob")

    assert [response.status_code for response in _attempts(client, course, lesson)] == [403, 403]
    assert fresh(session, course).cover_image is None
    assert fresh(session, lesson).video_ref is None
    assert stored(settings) == []


def test_a_learner_can_upload_nothing(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = make_course(session)
    log_in(client, make_user(session))

    answers = [
        response.status_code
        for response in _attempts(client, course, first_lesson(session, course))
    ]

    assert answers == [403, 403]
    assert stored(settings) == []


def test_an_anonymous_visitor_is_sent_to_log_in(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = make_course(session)

    responses = _attempts(client, course, first_lesson(session, course))

    assert [response.status_code for response in responses] == [303, 303]
    assert all(r.headers["location"].startswith("/login") for r in responses)
    assert stored(settings) == []


def test_an_admin_may_set_any_courses_cover(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = make_course(session)
    admin = make_user(session, role=Role.admin, language="en")
    log_in(client, admin, secret=enable_totp(session, admin))

    response = upload(
        client, cover_url(course), "image", ("omslag.png", image_bytes(), "image/png")
    )

    assert response.status_code == 303
    assert fresh(session, course).cover_image in stored(settings)
