"""The sample courses in courses/ are valid packages that survive an import/export round trip."""

from pathlib import Path

import pytest
from sqlmodel import Session

from api.accounts.models import Role, User
from api.catalog.packages import CoursePackage, export_course, load_package
from api.media.imports import import_package
from api.media.storage import LocalStorage
from api.seed import COURSES_DIR, course_folders
from tests.catalog.test_package_export import content
from tests.factories import make_user

FOLDERS = course_folders(COURSES_DIR)


@pytest.mark.parametrize("folder", FOLDERS, ids=[folder.name for folder in FOLDERS])
def test_sample_course_is_a_valid_package(folder: Path) -> None:
    package = load_package(folder)
    assert package.slug == folder.name
    assert package.lesson_count > 0


@pytest.mark.parametrize("folder", FOLDERS, ids=[folder.name for folder in FOLDERS])
def test_sample_course_round_trips_through_the_database(
    session: Session, folder: Path, tmp_path: Path
) -> None:
    original = load_package(folder)
    instructor = make_user(session, role=Role.instructor)
    # As `kern seed` does: the folders before this one first, so a self-test's band may suggest
    # a sample course that comes earlier in name order.
    media_dir = tmp_path / "media"
    for earlier in FOLDERS[: FOLDERS.index(folder)]:
        _import(session, load_package(earlier), instructor, media_dir)
    _import(session, original, instructor, media_dir)
    target = tmp_path / "out"
    exported = load_package(export_course(session, slug=original.slug, target=target))
    assert content(exported) == content(original)
    # Its drawings come back byte for byte, under their own names.
    copied = load_package(
        export_course(session, slug=original.slug, target=target, storage=LocalStorage(media_dir))
    )
    assert {name: path.read_bytes() for name, path in copied.media.items()} == {
        name: path.read_bytes() for name, path in original.media.items()
    }


def _import(session: Session, package: CoursePackage, instructor: User, media_dir: Path) -> None:
    import_package(
        session,
        package,
        instructor=instructor,
        storage=LocalStorage(media_dir),
        max_video_bytes=10**6,
    )
