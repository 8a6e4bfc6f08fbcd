"""A course's days without activity before a learner needs attention: in the studio's course
form (a whole number 1–365, 7 by default, a clear message otherwise) and in course.yaml
(`inactive_after_days`, optional, 7 by default), exported back without loss."""

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.accounts.models import Role, User
from api.catalog.models import Course
from api.catalog.packages import PackageError, export_course, import_package, load_package
from tests.catalog.package_builder import minimal_package
from tests.factories import enable_totp, field_error, log_in, make_course, make_user, post_form


@pytest.fixture
def ingrid(client: TestClient, session: Session) -> User:
    user = make_user(session, role=Role.instructor)
    log_in(client, user, secret=enable_totp(session, user))
    return user


def edit_form(course: Course, **changes: str) -> dict[str, str]:
    return {
        "title": course.title,
        "slug": course.slug,
        "price": "0",
        "language": course.language,
        "schedule": course.schedule,
        "inactive_after_days": str(course.inactive_after_days),
        **changes,
    }


def stored_days(session: Session, slug: str) -> int:
    session.expire_all()
    return session.exec(select(Course.inactive_after_days).where(Course.slug == slug)).one()


def test_the_course_form_sets_the_days(client: TestClient, session: Session, ingrid: User) -> None:
    course = make_course(session, instructor=ingrid)
    assert (
        'name="inactive_after_days" type="text" value="7"'
        in client.get(f"/studio/courses/{course.slug}").text
    )
    response = post_form(
        client, f"/studio/courses/{course.slug}", edit_form(course, inactive_after_days="14")
    )
    assert response.status_code == 303
    assert stored_days(session, course.slug) == 14


@pytest.mark.parametrize("typed", ["0", "366", "abc", "7,5", "-3"])
def test_days_outside_1_to_365_are_refused_in_dutch(
    client: TestClient, session: Session, ingrid: User, typed: str
) -> None:
    course = make_course(session, instructor=ingrid)
    response = post_form(
        client, f"/studio/courses/{course.slug}", edit_form(course, inactive_after_days=typed)
    )
    assert response.status_code == 422
    assert field_error(response.text, "inactive_after_days") == (
        "Vul een heel aantal dagen in van 1 tot 365, bijvoorbeeld 7."
    )
    assert f'value="{typed}"' in response.text
    assert stored_days(session, course.slug) == 7


def test_a_new_course_gets_7_days_when_the_field_is_empty(
    client: TestClient, session: Session, ingrid: User
) -> None:
    response = post_form(
        client,
        "/studio/courses/new",
        {"title": "Rustig begin", "price": "0", "language": "nl", "schedule": "all_at_once",
         "inactive_after_days": ""},
    )  # fmt: skip
    assert response.status_code == 303
    assert stored_days(session, "rustig-begin") == 7


def test_the_package_field_round_trips(session: Session, tmp_path: Path) -> None:
    inge = make_user(session, role=Role.instructor)
    files = minimal_package()
    files.course["inactive_after_days"] = 21
    original = load_package(files.write(tmp_path / "bron"))
    assert original.course.inactive_after_days == 21
    import_package(session, original, instructor=inge)
    assert stored_days(session, original.slug) == 21
    folder = export_course(session, slug=original.slug, target=tmp_path / "uit")
    written = yaml.safe_load((folder / "course.yaml").read_text(encoding="utf-8"))
    assert written["inactive_after_days"] == 21
    assert load_package(folder).course == original.course


def test_the_package_field_is_optional_and_left_out_at_its_default(
    session: Session, tmp_path: Path
) -> None:
    inge = make_user(session, role=Role.instructor)
    original = load_package(minimal_package().write(tmp_path / "bron"))
    assert original.course.inactive_after_days == 7
    import_package(session, original, instructor=inge)
    folder = export_course(session, slug=original.slug, target=tmp_path / "uit")
    assert "inactive_after_days" not in (folder / "course.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("value", [0, 366, "zeven"])
def test_the_package_refuses_days_outside_1_to_365(tmp_path: Path, value: object) -> None:
    files = minimal_package()
    files.course["inactive_after_days"] = value
    with pytest.raises(PackageError) as caught:
        load_package(files.write(tmp_path))
    assert "inactive_after_days" in str(caught.value.problems)
