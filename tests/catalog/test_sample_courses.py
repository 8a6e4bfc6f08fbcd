"""The sample courses in courses/ are valid packages that survive an import/export round trip."""

from pathlib import Path

import pytest
from sqlmodel import Session

from api.accounts.models import Role
from api.catalog.packages import export_course, import_package, load_package
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
    for earlier in FOLDERS[: FOLDERS.index(folder)]:
        import_package(session, load_package(earlier), instructor=instructor)
    import_package(session, original, instructor=instructor)
    exported = load_package(export_course(session, slug=original.slug, target=tmp_path))
    assert content(exported) == content(original)
