"""Course packages in the studio: Alice downloads her course as a zip and imports zips, checked
exactly as `kern import` checks a folder. Bob (another instructor), a learner and an anonymous
visitor cannot export her course or import over it. Texts are asserted in English."""

import html
import io
import re
import stat
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson, Module
from api.catalog.packages import load_package
from api.config import Settings
from tests.catalog.package_builder import line_of, minimal_package
from tests.catalog.test_package_export import content
from tests.factories import (
    csrf_token,
    enable_totp,
    field_error,
    log_in,
    make_course,
    make_user,
    own_media,
)

SLUG = "sterke-start"


def instructor(client: TestClient, session: Session, name: str = "Alice") -> User:
    """An instructor with two-step verification, signed in in `client`, using Kern in English."""
    user = make_user(session, name=name, role=Role.instructor, language="en")
    log_in(client, user, secret=enable_totp(session, user))
    return user


def zipped(folder: Path, *, prefix: str | None = None) -> bytes:
    """The files under `folder` as a zip, inside a folder `prefix` (default: the folder's name)."""
    top = folder.name if prefix is None else prefix
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                archive.write(path, f"{top}/{name}" if top else name)
    return buffer.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def send_zip(client: TestClient, data: bytes, name: str = "cursus.zip") -> Response:
    response: Response = client.post(
        "/studio/import",
        data={"csrf_token": csrf_token(client)},
        files={"package": (name, io.BytesIO(data), "application/zip")},
        follow_redirects=False,
    )
    return response


def problems(response: Response) -> list[str]:
    """The list of problems the import page shows."""
    block = re.search(r'id="package-problems">(.*?)</ul>', response.text, re.S)
    assert block, response.text
    return [html.unescape(item) for item in re.findall(r"<li><code>(.*?)</code></li>", block[1])]


def courses_named(session: Session, slug: str) -> list[Course]:
    session.expire_all()
    return list(session.exec(select(Course).where(Course.slug == slug)))


def count(session: Session, model: type[Course] | type[Module] | type[Lesson]) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def export(client: TestClient, course: Course) -> Response:
    response: Response = client.get(f"/studio/courses/{course.slug}/export.zip")
    return response


# --- export ------------------------------------------------------------------------------------


def test_a_course_downloads_as_a_zip_in_the_package_format(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice, modules=2, lessons_per_module=2)

    response = export(client, course)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == f'attachment; filename="{course.slug}.zip"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == [
            f"{course.slug}/course.yaml",
            f"{course.slug}/lessons/01-les-1-1.md",
            f"{course.slug}/lessons/02-les-1-2.md",
            f"{course.slug}/lessons/03-les-2-1.md",
            f"{course.slug}/lessons/04-les-2-2.md",
        ]
        archive.extractall(tmp_path)
    package = load_package(tmp_path / course.slug)
    assert package.course.title == course.title
    assert [len(module.lessons) for module in package.modules()] == [2, 2]


def test_export_then_import_gives_the_same_course(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice, video_provider="file")
    course.cover_image = "0123456789abcdef0123456789abcdef.jpg"
    session.add(course)
    own_media(session, course, course.cover_image)
    session.flush()
    exported = export(client, course).content
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        archive.extractall(tmp_path / "before")
    lesson_ids = [lesson.id for lesson in session.exec(select(Lesson).order_by(col(Lesson.id)))]
    version = course.version

    same = send_zip(client, exported)

    assert same.status_code == 303
    assert same.headers["location"] == f"/studio/courses/{course.slug}?notice=unchanged"
    session.refresh(course)
    assert course.version == version  # nothing was written
    again = export(client, course).content
    with zipfile.ZipFile(io.BytesIO(again)) as archive:
        archive.extractall(tmp_path / "after")
    before = load_package(tmp_path / "before" / course.slug)
    after = load_package(tmp_path / "after" / course.slug)
    assert content(after) == content(before)
    assert [lesson.id for lesson in session.exec(select(Lesson).order_by(col(Lesson.id)))] == (
        lesson_ids
    )


def test_an_edited_export_updates_her_course_and_keeps_its_lessons(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    alice = instructor(client, session)
    course = make_course(session, instructor=alice)
    lesson_ids = {lesson.slug: lesson.id for lesson in session.exec(select(Lesson))}
    with zipfile.ZipFile(io.BytesIO(export(client, course).content)) as archive:
        archive.extractall(tmp_path)
    manifest = tmp_path / course.slug / "course.yaml"
    manifest.write_text(
        manifest.read_text().replace(f"title: {course.title}", "title: Nieuwe titel"),
        encoding="utf-8",
    )

    response = send_zip(client, zipped(tmp_path / course.slug, prefix=f"{course.slug} 2"))

    assert response.status_code == 303
    assert response.headers["location"] == f"/studio/courses/{course.slug}?notice=imported"
    [updated] = courses_named(session, course.slug)
    assert updated.title == "Nieuwe titel"
    assert updated.instructor_id == alice.id
    assert {lesson.slug: lesson.id for lesson in session.exec(select(Lesson))} == lesson_ids


def test_a_package_that_leaves_out_her_cover_and_video_files_removes_them(
    client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    instructor(client, session)
    folder = minimal_package().write(tmp_path)
    send_zip(client, zipped(folder))
    [course] = courses_named(session, SLUG)
    cover, video = "a" * 32 + ".jpg", "b" * 32 + ".mp4"
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    for name in (cover, video):
        (settings.media_dir / name).write_bytes(b"\0" * 16)
    course.cover_image = cover
    lesson = session.exec(select(Lesson).where(Lesson.course_id == course.id)).first()
    assert lesson is not None
    lesson.video_provider, lesson.video_ref = "file", video
    session.add_all([course, lesson])
    own_media(session, course, cover)
    own_media(session, course, video)
    session.flush()

    kept = send_zip(client, export(client, course).content)  # the export names both files
    assert kept.status_code == 303
    assert sorted(p.name for p in settings.media_dir.iterdir()) == [cover, video]

    send_zip(client, zipped(folder))  # the first package names neither

    assert list(settings.media_dir.iterdir()) == []


# --- import ------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [SLUG, "", "Mijn cursus (kopie)"], ids=str)
def test_a_new_package_becomes_her_course(
    prefix: str, client: TestClient, session: Session, tmp_path: Path
) -> None:
    alice = instructor(client, session)
    folder = minimal_package().write(tmp_path)

    response = send_zip(client, zipped(folder, prefix=prefix))

    assert response.status_code == 303
    assert response.headers["location"] == f"/studio/courses/{SLUG}?notice=imported"
    [course] = courses_named(session, SLUG)
    assert course.instructor_id == alice.id
    assert (count(session, Module), count(session, Lesson)) == (2, 3)


def test_mac_finder_extras_in_the_zip_are_ignored(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    instructor(client, session)
    folder = minimal_package().write(tmp_path)
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (folder / "lessons" / "._01-welkom.md").write_bytes(b"\0\5\26\7")
    data = zipped(folder)
    with zipfile.ZipFile(io.BytesIO(data), "a") as archive:
        archive.writestr(f"__MACOSX/{SLUG}/lessons/._02-aanspannen.md", b"\0\5\26\7")

    assert send_zip(client, data).status_code == 303


def test_an_invalid_package_lists_every_problem_and_imports_nothing(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    instructor(client, session)
    files = minimal_package()
    files.step("02-aanspannen.md", 1)["hold_seconds"] = 0
    files.step("03-ademen.md", 0)["cycles"] = 0
    folder = files.write(tmp_path)
    hold = line_of(folder / "lessons" / "02-aanspannen.md", "hold_seconds: 0")
    cycles = line_of(folder / "lessons" / "03-ademen.md", "cycles: 0")

    response = send_zip(client, zipped(folder))

    assert response.status_code == 422
    assert problems(response) == [
        f"lessons/02-aanspannen.md:{hold}: steps[1].hold_seconds: must be between 1 and 120",
        f"lessons/03-ademen.md:{cycles}: steps[0].cycles: must be between 1 and 100",
    ]
    assert courses_named(session, SLUG) == []


def test_a_missing_lesson_file_is_named(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    instructor(client, session)
    files = minimal_package()
    files.unwritten.add("03-ademen.md")
    folder = files.write(tmp_path)

    response = send_zip(client, zipped(folder))

    line = line_of(folder / "course.yaml", "- 03-ademen.md")
    assert problems(response) == [
        f"course.yaml:{line}: modules[1].lessons[0]: lessons/03-ademen.md does not exist"
    ]


def test_a_course_of_another_instructor_is_not_taken_over(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    bob = make_user(session, role=Role.instructor, name="Bob")
    theirs = make_course(session, instructor=bob, slug=SLUG)
    title = theirs.title
    instructor(client, session)

    response = send_zip(client, zipped(minimal_package().write(tmp_path)))

    assert response.status_code == 403
    message = html.unescape(field_error(response.text, "package") or "")
    assert "belongs to another instructor, so nothing was imported" in message
    [course] = courses_named(session, SLUG)
    assert (course.instructor_id, course.title) == (bob.id, title)


@pytest.mark.parametrize(
    "name",
    [
        "../evil.md",
        f"{SLUG}/../../evil.md",
        "/etc/cron.d/evil",
        "C:/Windows/evil.md",
        f"{SLUG}\\..\\evil.md",
        f"{SLUG}/lessons/./01-welkom.md",
    ],
)
def test_a_zip_with_a_path_outside_the_package_is_refused(
    name: str, client: TestClient, session: Session, tmp_path: Path
) -> None:
    instructor(client, session)
    buffer = io.BytesIO(zipped(minimal_package().write(tmp_path)))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(zipfile.ZipInfo(name), b"kwaad")

    response = send_zip(client, buffer.getvalue())

    assert response.status_code == 422
    assert problems(response) == [
        f"{name}: The zip holds a file with an unsafe name (a path outside the package)."
    ]
    assert courses_named(session, SLUG) == []


def test_a_zip_with_a_symbolic_link_is_refused(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    instructor(client, session)
    buffer = io.BytesIO(zipped(minimal_package().write(tmp_path)))
    link = zipfile.ZipInfo(f"{SLUG}/lessons/04-link.md")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(link, "/etc/passwd")

    response = send_zip(client, buffer.getvalue())

    assert problems(response) == ["The zip holds a symbolic link; packages hold plain files."]


def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    instructor(client, session)
    buffer = io.BytesIO(zipped(minimal_package().write(tmp_path)))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{SLUG}/lessons/99-bom.md", b"\0" * (60 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024  # 60 MB of zeros pack into a few kilobytes

    response = send_zip(client, buffer.getvalue())

    assert response.status_code == 422
    assert problems(response) == ["Unpacked, the zip would be larger than 50 MB."]
    assert courses_named(session, SLUG) == []


def test_a_zip_of_too_many_files_is_refused(client: TestClient, session: Session) -> None:
    instructor(client, session)
    data = zip_of({f"{SLUG}/lessons/{n:04d}.md": b"" for n in range(1001)})

    assert problems(send_zip(client, data)) == ["The zip holds more than 1000 files."]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Dit is geen zip.\n" * 20, "This is not a zip file, or it is damaged."),
        (zip_of({"leesmij.txt": b"Hallo"}), "The zip has no course.yaml"),
        (zip_of({"a/course.yaml": b"a", "b/course.yaml": b"b"}), "The zip has no course.yaml"),
    ],
    ids=["text", "no course.yaml", "two folders"],
)
def test_a_file_that_is_not_a_package_zip_is_refused(
    data: bytes, message: str, client: TestClient, session: Session
) -> None:
    instructor(client, session)
    response = send_zip(client, data)
    assert response.status_code == 422
    [problem] = problems(response)
    assert problem.startswith(message)


def test_without_a_file_she_is_asked_to_choose_one(client: TestClient, session: Session) -> None:
    instructor(client, session)
    response = send_zip(client, b"", name="")
    assert response.status_code == 422
    assert field_error(response.text, "package") == (
        "Choose the zip file of a course package first."
    )


def test_the_import_page_has_the_upload_form(client: TestClient, session: Session) -> None:
    instructor(client, session)
    page = client.get("/studio/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'name="package" accept=".zip,application/zip"' in page.text


# --- who may ------------------------------------------------------------------------------------


def test_another_instructor_can_neither_export_nor_import_over_her_course(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    alice = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=alice, slug=SLUG)
    instructor(client, session, name="Bob")

    assert export(client, course).status_code == 403
    assert send_zip(client, zipped(minimal_package().write(tmp_path))).status_code == 403
    [same] = courses_named(session, SLUG)
    assert same.instructor_id == alice.id


def test_a_learner_may_not_export_or_import(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    course = make_course(session)
    log_in(client, make_user(session))

    assert export(client, course).status_code == 403
    assert client.get("/studio/import").status_code == 403
    assert send_zip(client, zipped(minimal_package().write(tmp_path))).status_code == 403
    assert courses_named(session, SLUG) == []


def test_an_anonymous_visitor_is_sent_to_log_in(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    course = make_course(session)

    answers = [
        client.get(f"/studio/courses/{course.slug}/export.zip", follow_redirects=False),
        client.get("/studio/import", follow_redirects=False),
        send_zip(client, zipped(minimal_package().write(tmp_path))),
    ]

    assert [answer.status_code for answer in answers] == [303, 303, 303]
    assert answers[1].headers["location"] == "/login?next=%2Fstudio%2Fimport"
    assert courses_named(session, SLUG) == []
