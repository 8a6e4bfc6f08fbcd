"""A course's payment plan ("in N termijnen"): set in the studio's course form and in course.yaml
(`payment_plan`), refused on a free course, exported back without loss."""

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session

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
        "price": "49",
        "language": course.language,
        "schedule": course.schedule,
        **changes,
    }


def test_the_course_form_sets_a_plan_and_refuses_one_on_a_free_course(
    client: TestClient, session: Session, ingrid: User
) -> None:
    course = make_course(session, instructor=ingrid, price_cents=4900)
    url = f"/studio/courses/{course.slug}"

    saved = post_form(client, url, edit_form(course, plan_instalments="3"))
    assert saved.status_code == 303
    session.refresh(course)
    assert (course.plan_instalments, course.plan_instalment_cents) == (3, None)

    refused = post_form(client, url, edit_form(course, price="0", plan_instalments="3"))
    assert refused.status_code == 422
    assert field_error(refused.text, "plan_instalments") == (
        "Een gratis cursus heeft geen betaling in termijnen. Stel eerst een prijs in."
    )
    assert 'name="plan_instalments" type="text" value="3"' in refused.text
    session.refresh(course)
    assert (course.price_cents, course.plan_instalments) == (4900, 3)  # nothing half-saved


def test_the_package_field_round_trips_and_is_refused_on_a_free_course(
    session: Session, tmp_path: Path
) -> None:
    inge = make_user(session, role=Role.instructor)
    files = minimal_package()
    files.course["price_cents"] = 4900
    files.course["payment_plan"] = {"instalments": 3, "instalment_cents": 1700}
    original = load_package(files.write(tmp_path / "bron"))
    import_package(session, original, instructor=inge)
    folder = export_course(session, slug=original.slug, target=tmp_path / "uit")
    written = yaml.safe_load((folder / "course.yaml").read_text(encoding="utf-8"))
    assert written["payment_plan"] == {"instalments": 3, "instalment_cents": 1700}

    files.course["price_cents"] = 0
    with pytest.raises(PackageError) as caught:
        load_package(files.write(tmp_path / "gratis"))
    assert "payment_plan" in str(caught.value.problems)
