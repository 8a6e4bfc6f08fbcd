"""A picture of an exercise's position: uploaded in the studio's step editor, shown with the step.

Alice (an instructor) adds a photo, a drawing or a short loop to an exercise, with the words
that describe it. A drawing is kept as it is only when it holds nothing but shapes; a loop loses
its sound. The picture is served as the lesson is: a paid lesson's picture only to those who may
open the lesson.
"""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from api import i18n
from api.accounts.models import Role
from api.catalog.models import Course, Lesson, Step, StepKind
from api.config import Settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.media import pictures
from api.media.files import GENERATED_NAME, UploadRefused
from api.media.storage import LocalStorage
from tests.factories import csrf_token, log_in, make_course, make_user, own_media
from tests.ffmpeg import FFMPEG, FFPROBE, needs_ffmpeg
from tests.studio.test_uploads import fresh, image_bytes, instructor, refusal, stored


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """The messages of the checks called directly, in English as Alice reads them."""
    token = i18n.current_locale.set("en")
    yield
    i18n.current_locale.reset(token)


def reread(session: Session, step: Step) -> Step:
    session.expire_all()
    session.refresh(step)
    return step


DRAWING = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 360" role="img">'
    b"<title>Op je rug</title><!-- een mat -->"
    b'<defs><linearGradient id="mat"><stop offset="0" stop-color="#cfe2d6"/>'
    b"</linearGradient></defs>"
    b'<rect x="40" y="288" width="400" height="12" fill="url(#mat)"/>'
    b'<circle cx="94" cy="262" r="21" fill="#efdccb" stroke="#3d6f8f"/></svg>\n'
)
ALT = "Op je rug met gebogen knieën, voeten plat op de grond"


def lesson_steps(session: Session, course: Course, index: int = 0) -> tuple[Lesson, list[Step]]:
    """The course's lesson number `index` (0 is the free preview) and its steps in order."""
    lessons = session.exec(
        select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.id))
    ).all()
    lesson = lessons[index]
    steps = session.exec(
        select(Step).where(Step.lesson_id == lesson.id).order_by(col(Step.position))
    ).all()
    return lesson, list(steps)


def picture_url(course: Course, lesson: Lesson, step: Step) -> str:
    return f"/studio/courses/{course.slug}/lessons/{lesson.id}/steps/{step.id}/picture"


def send(client: TestClient, url: str, data: bytes | None, alt: str = ALT) -> Response:
    files = {"picture": ("houding.bin", data, "application/octet-stream")} if data else None
    response: Response = client.post(
        url,
        data={"csrf_token": csrf_token(client), "alt": alt},
        files=files,
        follow_redirects=False,
    )
    return response


def test_a_photo_of_the_position_is_stored_with_its_words_and_shown_on_the_step_card(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    lesson, [exercise, *_] = lesson_steps(session, course)
    versions = (course.version, lesson.version)

    response = send(client, picture_url(course, lesson, exercise), image_bytes(kind="JPEG"))

    assert response.status_code == 303
    assert response.headers["location"].endswith(
        f"notice=picture-saved&edit={exercise.id}#step-{exercise.id}"
    )
    reread(session, exercise)
    assert exercise.media_file is not None
    assert GENERATED_NAME.match(exercise.media_file)
    assert exercise.media_file.endswith(".jpg")
    assert exercise.media_alt == ALT
    assert stored(settings) == [exercise.media_file]
    assert (fresh(session, course).version, fresh(session, lesson).version) == (
        versions[0] + 1,
        versions[1] + 1,
    )
    page = client.get(f"/courses/{course.slug}/lessons/{lesson.slug}").text
    assert (
        f'<img src="/media/{exercise.media_file}" alt="{ALT}" width="480" height="360" '
        'loading="lazy" decoding="async">'
    ) in page
    # Only the words change when she sends no new file.
    assert (
        send(client, picture_url(course, lesson, exercise), None, alt="Liggend").status_code == 303
    )
    assert reread(session, exercise).media_alt == "Liggend"
    assert stored(settings) == [exercise.media_file]


def test_a_picture_without_words_for_it_is_not_stored(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    lesson, [exercise, *_] = lesson_steps(session, course)

    response = send(client, picture_url(course, lesson, exercise), image_bytes(), alt="  ")

    assert response.status_code == 422
    assert "Describe the picture in a few words" in refusal(response)
    assert stored(settings) == []
    assert reread(session, exercise).media_file is None


def test_only_an_exercise_has_a_picture(client: TestClient, session: Session) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice, steps_per_lesson=3)
    lesson, [_exercise, breathing, text] = lesson_steps(session, course)

    for step in (breathing, text):
        assert send(client, picture_url(course, lesson, step), image_bytes()).status_code == 404


def test_a_drawing_is_kept_as_it_is_and_served_so_that_it_can_run_nothing(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    lesson, [exercise, *_] = lesson_steps(session, course)

    assert send(client, picture_url(course, lesson, exercise), DRAWING).status_code == 303

    name = reread(session, exercise).media_file
    assert name is not None
    assert name.endswith(".svg")
    assert (settings.media_dir / name).read_bytes() == DRAWING
    served = client.get(f"/media/{name}")
    assert served.status_code == 200
    assert served.content == DRAWING
    assert served.headers["content-type"] == "image/svg+xml"
    assert (
        served.headers["content-security-policy"]
        == "default-src 'none'; frame-ancestors 'none'; sandbox"
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ((b"<title>", b"<script>alert(1)</script><title>"), "the element <script>"),
        ((b"<circle", b'<circle onload="alert(1)"'), "the attribute onload"),
        ((b"<circle", b"<foreignObject/><circle"), "the element <foreignObject>"),
        ((b"url(#mat)", b"url(https://example.com/x)"), "may only point inside"),
        ((b"<title>", b'<?xml-stylesheet href="x.xsl"?><title>'), "processing instructions"),
        ((b"<circle cx", b'<circle style="fill:red" cx'), "the attribute style"),
        (
            (
                b'<rect x="40"',
                b'<rect xmlns:l="http://www.w3.org/1999/xlink" l:href="javascript:1" x="40"',
            ),
            "the attribute href",
        ),
        ((b"\n<svg", b'\n<!DOCTYPE svg [<!ENTITY a "b">]><svg'), "a DTD or entities"),
        ((b'viewBox="0 0 480 360" ', b""), "with a viewBox"),
    ],
    ids=[
        "script",
        "handler",
        "foreign",
        "link",
        "stylesheet",
        "style",
        "xlink",
        "dtd",
        "no-viewbox",
    ],
)
def test_a_drawing_with_anything_but_shapes_is_refused(
    change: tuple[bytes, bytes], problem: str
) -> None:
    drawing = DRAWING.replace(*change, 1)
    assert drawing != DRAWING

    with pytest.raises(UploadRefused) as refused:
        pictures.check_svg(drawing)

    assert problem in refused.value.message


def test_a_clean_drawing_passes_unchanged() -> None:
    assert pictures.check_svg(DRAWING) == DRAWING


def _video(path: Path, seconds: int, *, webm: bool) -> Path:
    """A tiny test-pattern video with a tone, made by ffmpeg."""
    codecs = (
        ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"]
        if webm
        else ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]
    )
    subprocess.run(
        [str(FFMPEG), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=32x24:rate=2",
         "-f", "lavfi", "-i", "sine", "-t", str(seconds), *codecs, "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _streams(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "probe.bin"
    path.write_bytes(data)
    found = subprocess.run(
        [str(FFPROBE), "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
         str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return found.stdout.split()


@needs_ffmpeg
@pytest.mark.parametrize("webm", [True, False], ids=["webm", "mp4"])
def test_a_short_loop_is_kept_without_its_sound(tmp_path: Path, webm: bool) -> None:
    source = _video(tmp_path / ("loop.webm" if webm else "loop.mp4"), 2, webm=webm)
    assert _streams(source.read_bytes(), tmp_path) == ["video", "audio"]

    data, extension = pictures.checked_file(source)

    assert extension == ("webm" if webm else "mp4")
    assert _streams(data, tmp_path) == ["video"]


@needs_ffmpeg
def test_a_loop_longer_than_ten_seconds_is_refused(tmp_path: Path) -> None:
    source = _video(tmp_path / "long.webm", 12, webm=True)

    with pytest.raises(UploadRefused) as refused:
        pictures.checked_file(source)

    assert "longer than 10 seconds" in refused.value.message


def test_removing_the_picture_clears_the_step_and_deletes_its_file(
    client: TestClient, session: Session, settings: Settings
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    lesson, [exercise, *_] = lesson_steps(session, course)
    send(client, picture_url(course, lesson, exercise), image_bytes())
    assert len(stored(settings)) == 1

    response = client.post(
        picture_url(course, lesson, exercise) + "/remove",
        data={"csrf_token": csrf_token(client)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    reread(session, exercise)
    assert (exercise.media_file, exercise.media_alt) == (None, None)
    assert stored(settings) == []


def test_a_paid_lessons_picture_is_only_for_those_who_may_open_the_lesson(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = make_course(session, price_cents=4900)
    _preview, [free_step, *_] = lesson_steps(session, course, 0)
    _paid, [paid_step, *_] = lesson_steps(session, course, 1)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    for step, name in ((free_step, "ruglig.svg"), (paid_step, "zitten.svg")):
        (settings.media_dir / name).write_bytes(DRAWING)
        step.media_file, step.media_alt = name, ALT
        session.add(step)
        own_media(session, course, name)
    session.flush()

    assert client.get("/media/ruglig.svg").status_code == 200  # a free preview's picture
    anonymous = client.get("/media/zitten.svg", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")

    learner = make_user(session, role=Role.learner)
    log_in(client, learner)
    assert client.get("/media/zitten.svg").status_code == 403
    enrolment_service.grant(
        session, user_id=learner.id, course_id=course.id, source=EnrolmentSource.manual
    )
    served = client.get("/media/zitten.svg")
    assert served.status_code == 200
    assert served.headers["cache-control"] == "private, max-age=3600"


def test_a_steps_picture_comes_along_in_an_export_and_back_in_an_import(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    from api.catalog.packages import export_course, load_package  # noqa: PLC0415
    from api.media.imports import import_package  # noqa: PLC0415

    course = make_course(session)
    _lesson, [exercise, *_] = lesson_steps(session, course)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / "ruglig.svg").write_bytes(DRAWING)
    exercise.media_file, exercise.media_alt = "ruglig.svg", ALT
    session.add(exercise)
    own_media(session, course, "ruglig.svg")
    session.flush()

    folder = export_course(
        session, slug=course.slug, target=tmp_path, storage=LocalStorage(settings.media_dir)
    )
    assert (folder / "media" / "ruglig.svg").read_bytes() == DRAWING
    assert f"      file: ruglig.svg\n      alt: {ALT}\n" in (folder / "lessons").joinpath(
        sorted(p.name for p in (folder / "lessons").iterdir())[0]
    ).read_text(encoding="utf-8")

    # Into an empty Kern: the drawing comes along under its own name, owned by the new course.
    other_media = tmp_path / "other"
    package = load_package(folder).renamed({})
    session.delete(course)
    session.flush()
    session.expunge_all()  # its lessons and steps went by the database's cascade
    owner = make_user(session, role=Role.instructor)
    result = import_package(
        session, package, instructor=owner, storage=LocalStorage(other_media), max_video_bytes=10**6
    )
    step = session.exec(
        select(Step)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(Lesson.course_id == result.course.id, Step.kind == StepKind.exercise)
        .order_by(col(Lesson.id), col(Step.position))
    ).first()
    assert step is not None
    assert (step.media_file, step.media_alt) == ("ruglig.svg", ALT)
    assert (other_media / "ruglig.svg").read_bytes() == DRAWING
