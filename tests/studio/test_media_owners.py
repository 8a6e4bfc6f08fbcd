"""Stored files belong to courses: an instructor cannot show another instructor's video.

Alice sells a course; its second lesson (not a free preview) shows a video she uploaded. Bob,
another instructor, tries to put that video into a free-preview lesson of his own course, so
that anyone could download it from /media/: with a package zip in the studio, with
`kern import`, and by pasting its link into a lesson in the studio. Each is refused with the
reason, nothing of it is saved, and the video stays for Alice's learners. What she does with
her own files, and what a package brings along, still works. Texts are asserted in English.
"""

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson
from api.catalog.packages import PackageError, load_package
from api.config import Settings
from api.media import imports
from api.media.files import MB
from api.media.models import MediaFile
from api.media.storage import LocalStorage
from api.studio import lessons
from tests.catalog.package_builder import MP4, PackageFiles, line_of, minimal_package
from tests.factories import field_error, make_course, make_user, post_form
from tests.studio.test_packages import courses_named, export, problems, send_zip, zipped
from tests.studio.test_uploads import first_lesson, fresh, instructor, stored, upload, video_url

PAID = MP4 + b"alice's paid exercise"
OWN = MP4 + b"bob's own recording"
NOT_HERS = (
    "{name} is not one of your files in Kern; put the file in the package's media/ folder, "
    "or upload it in the studio after importing"
)
NOT_HIS_UPLOAD = (
    "This video is not one of your uploads in Kern, so it cannot be used here. Upload the file "
    "below, or paste a YouTube or Vimeo link."
)


@pytest.fixture
def bob_client(app: FastAPI) -> Iterator[TestClient]:
    """A second browser, for Bob."""
    with TestClient(app, base_url="http://testserver") as browser:
        yield browser


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    """A browser nobody is signed in with."""
    with TestClient(app, base_url="http://testserver") as browser:
        yield browser


def paid_lesson(session: Session, course: Course) -> Lesson:
    """The course's second lesson, which is not a free preview."""
    rows = session.exec(
        select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.id))
    ).all()
    assert not rows[1].free_preview
    return rows[1]


@dataclass(frozen=True)
class Alices:
    """Alice, her paid course, the name Kern gave the video of its paid lesson, and MEDIA_DIR."""

    alice: User
    course: Course
    name: str
    media_dir: Path


@pytest.fixture
def alices(client: TestClient, session: Session, settings: Settings) -> Alices:
    """Alice signed in in `client`, after uploading the video of her course's paid lesson."""
    alice = instructor(client, session, "Alice")
    course = make_course(session, instructor=alice, slug="alices-cursus", price_cents=4900)
    lesson = paid_lesson(session, course)
    sent = upload(client, video_url(course, lesson), "video", ("les.mp4", PAID, "video/mp4"))
    assert sent.status_code == 303
    name = fresh(session, lesson).video_ref
    assert name is not None
    return Alices(alice, course, name, settings.media_dir)


def previewing(name: str, *, slug: str = "bobs-cursus") -> PackageFiles:
    """A package whose free-preview lesson shows the stored file `name`."""
    files = minimal_package()
    files.course["slug"] = slug
    files.lessons["01-welkom.md"]["video"] = {"provider": "file", "id": name}
    return files


def owners_of(session: Session, name: str) -> list[int | None]:
    """The ids of the courses that own the file, in the order they came to own it."""
    session.expire_all()
    rows = session.exec(
        select(MediaFile.course_id).where(MediaFile.name == name).order_by(col(MediaFile.id))
    )
    return list(rows)


def assert_still_paid(anonymous: TestClient, name: str) -> None:
    """Anonymous visitors are sent to log in, and never get the bytes."""
    response = anonymous.get(f"/media/{name}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert PAID not in response.content


# --- the attack ------------------------------------------------------------------------------


def test_a_package_naming_her_paid_video_in_a_free_preview_is_refused(
    bob_client: TestClient,
    anonymous: TestClient,
    session: Session,
    tmp_path: Path,
    alices: Alices,
) -> None:
    course, name = alices.course, alices.name
    instructor(bob_client, session, "Bob")
    folder = previewing(name).write(tmp_path)

    response = send_zip(bob_client, zipped(folder))

    assert response.status_code == 422
    line = line_of(folder / "lessons" / "01-welkom.md", "id:")
    assert problems(response) == [
        f"lessons/01-welkom.md:{line}: video.id: {NOT_HERS.format(name=name)}"
    ]
    assert courses_named(session, "bobs-cursus") == []  # nothing was half-saved
    assert owners_of(session, name) == [course.id]
    assert sorted(p.name for p in alices.media_dir.iterdir()) == [name]
    assert_still_paid(anonymous, name)


def test_kern_import_of_such_a_package_is_refused(
    session: Session, settings: Settings, tmp_path: Path, alices: Alices
) -> None:
    name = alices.name
    bob = make_user(session, role=Role.instructor)
    package = load_package(previewing(name).write(tmp_path))

    with pytest.raises(PackageError) as refused:
        imports.import_package(
            session,
            package,
            instructor=bob,
            storage=LocalStorage(settings.media_dir),
            max_video_bytes=MB,
        )

    [problem] = refused.value.problems
    assert (problem.file, problem.field) == ("lessons/01-welkom.md", "video.id")
    assert courses_named(session, "bobs-cursus") == []


def test_pasting_her_video_into_his_lesson_is_refused(
    bob_client: TestClient,
    anonymous: TestClient,
    session: Session,
    alices: Alices,
) -> None:
    course, name = alices.course, alices.name
    bob = instructor(bob_client, session, "Bob")
    his = make_course(session, instructor=bob, slug="bobs-cursus")
    preview = first_lesson(session, his)
    before = (preview.video_provider, preview.video_ref, preview.version)
    url = f"/studio/courses/{his.slug}/lessons/{preview.id}"

    for link in (f"http://testserver/media/{name}", f"/media/{name}"):
        form = {**lessons.form_values(preview), "lesson_slug": preview.slug, "video_url": link}
        response = post_form(bob_client, url, form)

        assert response.status_code == 422
        assert field_error(response.text, "video_url") == NOT_HIS_UPLOAD
        assert link in response.text  # what he typed stays in the form
        fresh(session, preview)
        assert (preview.video_provider, preview.video_ref, preview.version) == before
    assert owners_of(session, name) == [course.id]
    assert_still_paid(anonymous, name)


def test_a_course_naming_a_file_it_does_not_own_grants_nothing(
    anonymous: TestClient, session: Session, alices: Alices
) -> None:
    # Data from before files had owners: Bob's free preview names her video all the same.
    name = alices.name
    his = make_course(session, slug="bobs-cursus")
    preview = first_lesson(session, his)
    preview.video_provider, preview.video_ref = "file", name
    session.add(preview)
    session.flush()
    assert preview.free_preview

    assert_still_paid(anonymous, name)


# --- what stays possible -----------------------------------------------------------------------


def test_she_may_show_her_video_in_another_course_of_hers(
    client: TestClient,
    anonymous: TestClient,
    session: Session,
    tmp_path: Path,
    alices: Alices,
) -> None:
    course, name = alices.course, alices.name

    response = send_zip(client, zipped(previewing(name, slug="alices-proefles").write(tmp_path)))

    assert response.status_code == 303
    [second] = courses_named(session, "alices-proefles")
    assert owners_of(session, name) == [course.id, second.id]
    # Her choice: the free preview of her second course shows it to everyone.
    assert anonymous.get(f"/media/{name}").content == PAID


def test_re_importing_her_own_course_keeps_its_video(
    client: TestClient,
    anonymous: TestClient,
    session: Session,
    settings: Settings,
    alices: Alices,
) -> None:
    course, name = alices.course, alices.name
    version = fresh(session, course).version

    response = send_zip(client, export(client, course).content)

    assert response.status_code == 303
    assert response.headers["location"].endswith("notice=unchanged")
    assert fresh(session, course).version == version
    assert stored(settings) == [name]
    assert owners_of(session, name) == [course.id]
    assert_still_paid(anonymous, name)


def test_she_may_paste_the_link_of_her_own_video_into_another_lesson(
    client: TestClient, session: Session, alices: Alices
) -> None:
    alice, course, name = alices.alice, alices.course, alices.name
    other = make_course(session, instructor=alice, slug="alices-tweede")
    lesson = first_lesson(session, other)
    form = {
        **lessons.form_values(lesson),
        "lesson_slug": lesson.slug,
        "video_url": f"http://testserver/media/{name}",
    }

    response = post_form(client, f"/studio/courses/{other.slug}/lessons/{lesson.id}", form)

    assert response.status_code == 303
    fresh(session, lesson)
    assert (lesson.video_provider, lesson.video_ref) == ("file", name)
    assert owners_of(session, name) == [course.id, other.id]


def test_a_package_may_bring_its_own_video(
    bob_client: TestClient,
    anonymous: TestClient,
    session: Session,
    settings: Settings,
    tmp_path: Path,
) -> None:
    instructor(bob_client, session, "Bob")
    files = previewing("mijn-oefening.mp4")
    files.media = {"mijn-oefening.mp4": OWN}

    response = send_zip(bob_client, zipped(files.write(tmp_path)))

    assert response.status_code == 303
    [his] = courses_named(session, "bobs-cursus")
    assert owners_of(session, "mijn-oefening.mp4") == [his.id]
    assert (settings.media_dir / "mijn-oefening.mp4").read_bytes() == OWN
    assert anonymous.get("/media/mijn-oefening.mp4").content == OWN  # his free preview
    again = send_zip(bob_client, zipped(files.write(tmp_path)))
    assert again.headers["location"].endswith("notice=unchanged")


def test_a_brought_file_with_her_files_name_becomes_his_own_copy(
    bob_client: TestClient,
    anonymous: TestClient,
    session: Session,
    tmp_path: Path,
    alices: Alices,
) -> None:
    course, name = alices.course, alices.name
    instructor(bob_client, session, "Bob")
    files = previewing(name)
    files.media = {name: OWN}

    response = send_zip(bob_client, zipped(files.write(tmp_path)))

    assert response.status_code == 303
    [his] = courses_named(session, "bobs-cursus")
    copy = first_lesson(session, his).video_ref
    assert copy is not None
    assert copy != name
    assert (alices.media_dir / name).read_bytes() == PAID  # hers is untouched
    assert (alices.media_dir / copy).read_bytes() == OWN
    assert owners_of(session, name) == [course.id]
    assert owners_of(session, copy) == [his.id]
    assert anonymous.get(f"/media/{copy}").content == OWN
    assert_still_paid(anonymous, name)
    # The same package again finds the copy it made: nothing changes.
    again = send_zip(bob_client, zipped(files.write(tmp_path)))
    assert again.headers["location"].endswith("notice=unchanged")
    assert sorted(p.name for p in alices.media_dir.iterdir()) == sorted([name, copy])


def test_a_brought_file_that_is_not_a_video_is_refused_and_nothing_is_stored(
    bob_client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    instructor(bob_client, session, "Bob")
    files = previewing("clip.mp4")
    files.media = {"clip.mp4": b"<html>not a video</html>"}

    response = send_zip(bob_client, zipped(files.write(tmp_path)))

    assert response.status_code == 422
    assert problems(response) == [
        "media/clip.mp4: This file is not an MP4 or WebM video. Choose a video in one of these "
        "formats; most phones and editing programs can save as MP4."
    ]
    assert courses_named(session, "bobs-cursus") == []
    assert stored(settings) == []


def test_her_export_zip_names_her_files_without_packing_them(
    client: TestClient, session: Session, alices: Alices
) -> None:
    course, name = alices.course, alices.name
    with zipfile.ZipFile(io.BytesIO(export(client, course).content)) as archive:
        assert not [member for member in archive.namelist() if "/media/" in member]
        lesson = archive.read(f"{course.slug}/lessons/02-les-1-2.md").decode()
    assert f"id: {name}" in lesson
