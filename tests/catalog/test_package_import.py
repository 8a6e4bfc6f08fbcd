"""Importing a package: create or update the course by slug, in the caller's transaction."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson, Module, Step
from api.catalog.packages import ImportResult, import_package, load_package
from api.errors import Conflict
from tests.catalog.package_builder import PackageFiles, minimal_package
from tests.factories import make_user


@pytest.fixture
def inge(session: Session) -> User:
    """The instructor who owns the imported courses."""
    return make_user(session, name="Inge", role=Role.instructor)


def _import(session: Session, files: PackageFiles, where: Path, instructor: User) -> ImportResult:
    return import_package(session, load_package(files.write(where)), instructor=instructor)


def _course(session: Session, slug: str = "sterke-start") -> Course:
    return session.exec(select(Course).where(Course.slug == slug)).one()


def _lessons(session: Session, course: Course) -> dict[str, Lesson]:
    rows = session.exec(select(Lesson).where(Lesson.course_id == course.id)).all()
    return {row.slug: row for row in rows}


def _outline(session: Session, course: Course) -> list[tuple[str, list[str]]]:
    """Module titles with their lesson slugs, in order."""
    modules = session.exec(
        select(Module).where(Module.course_id == course.id).order_by(col(Module.position))
    ).all()
    lessons = session.exec(
        select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.position))
    ).all()
    return [
        (module.title, [lesson.slug for lesson in lessons if lesson.module_id == module.id])
        for module in modules
    ]


def _steps(session: Session, lesson: Lesson) -> list[Step]:
    query = select(Step).where(Step.lesson_id == lesson.id).order_by(col(Step.position))
    return list(session.exec(query).all())


def test_import_creates_the_course_with_modules_lessons_and_steps_in_order(
    session: Session, inge: User, tmp_path: Path
) -> None:
    result = _import(session, minimal_package(), tmp_path, inge)
    assert (result.created, result.outcome) == (True, "Created")
    assert (result.modules, result.lessons, result.steps) == (2, 3, 4)
    course = _course(session)
    assert course.instructor_id == inge.id
    assert (course.title, course.price_cents, course.status, course.schedule) == (
        "Sterke start — bekkenbodem in twee weken",
        4900,
        "published",
        "drip",
    )
    assert course.faq == [
        {"question": "Hoe vaak oefen ik?", "answer": "Twee tot drie keer per dag."}
    ]
    assert course.version == 1
    assert course.published_at is not None
    assert _outline(session, course) == [
        ("Week 1 — Bewustwording", ["welkom", "aanspannen"]),
        ("Week 2 — Adem", ["ademen"]),
    ]
    lessons = _lessons(session, course)
    welkom = lessons["welkom"]
    assert (welkom.video_provider, welkom.video_ref, welkom.free_preview) == (
        "youtube",
        "aBcDeFgHiJk",
        True,
    )
    text, exercise = _steps(session, lessons["aanspannen"])
    assert (text.kind, text.body, text.reps) == ("text", "Ga comfortabel liggen.", None)
    assert (exercise.kind, exercise.hold_seconds, exercise.reps, exercise.sets) == (
        "exercise",
        8,
        10,
        3,
    )
    assert (exercise.side, exercise.cues) == ("both", ["Adem door", "Billen ontspannen"])
    [breathing] = _steps(session, lessons["ademen"])
    assert (breathing.inhale_seconds, breathing.hold_seconds, breathing.exhale_seconds) == (4, 0, 6)
    assert breathing.reps is None


def test_importing_the_same_package_twice_changes_nothing(
    session: Session, inge: User, tmp_path: Path
) -> None:
    files = minimal_package()
    _import(session, files, tmp_path, inge)
    course = _course(session)
    before = (course.version, course.updated_at, _lessons(session, course))
    step_ids = [step.id for lesson in before[2].values() for step in _steps(session, lesson)]

    again = _import(session, files, tmp_path, inge)

    assert (again.created, again.changed, again.outcome) == (False, False, "Unchanged")
    session.refresh(course)
    after = _lessons(session, course)
    assert (course.version, course.updated_at) == before[:2]
    assert {slug: row.id for slug, row in after.items()} == {
        slug: row.id for slug, row in before[2].items()
    }
    assert [step.id for lesson in after.values() for step in _steps(session, lesson)] == step_ids


def test_changed_package_updates_in_place_and_bumps_the_version(
    session: Session, inge: User, tmp_path: Path
) -> None:
    files = minimal_package()
    _import(session, files, tmp_path / "v1", inge)
    course = _course(session)
    first = {slug: row.id for slug, row in _lessons(session, course).items()}
    updated_at = course.updated_at

    changed = files.copy()
    changed.course["title"] = "Sterke start (herzien)"
    changed.lessons["02-aanspannen.md"]["title"] = "Aanspannen en loslaten"
    changed.step("02-aanspannen.md", 1)["hold_seconds"] = 10
    del changed.lessons["01-welkom.md"]
    changed.course["modules"][0]["lessons"] = ["02-aanspannen.md"]
    changed.lessons["04-snel.md"] = {
        "slug": "snel-aanspannen",
        "title": "Snel aanspannen",
        "estimated_minutes": 4,
    }
    changed.course["modules"][1]["lessons"].append("04-snel.md")
    result = _import(session, changed, tmp_path / "v2", inge)

    assert (result.created, result.outcome) == (False, "Updated")
    session.refresh(course)
    assert (course.title, course.version) == ("Sterke start (herzien)", 2)
    assert course.updated_at > updated_at
    lessons = _lessons(session, course)
    assert set(lessons) == {"aanspannen", "ademen", "snel-aanspannen"}
    assert lessons["aanspannen"].id == first["aanspannen"]
    assert lessons["ademen"].id == first["ademen"]
    assert lessons["aanspannen"].title == "Aanspannen en loslaten"
    assert _steps(session, lessons["aanspannen"])[1].hold_seconds == 10
    assert session.get(Lesson, first["welkom"]) is None
    assert _outline(session, course) == [
        ("Week 1 — Bewustwording", ["aanspannen"]),
        ("Week 2 — Adem", ["ademen", "snel-aanspannen"]),
    ]


def test_lesson_moved_out_of_a_removed_module_keeps_its_id(
    session: Session, inge: User, tmp_path: Path
) -> None:
    files = minimal_package()
    _import(session, files, tmp_path / "v1", inge)
    course = _course(session)
    ademen_id = _lessons(session, course)["ademen"].id

    merged = files.copy()
    week_2 = merged.course["modules"].pop()
    merged.course["modules"][0]["lessons"] += week_2["lessons"]
    _import(session, merged, tmp_path / "v2", inge)

    assert _outline(session, course) == [
        ("Week 1 — Bewustwording", ["welkom", "aanspannen", "ademen"])
    ]
    assert _lessons(session, course)["ademen"].id == ademen_id
    assert session.exec(select(Module).where(Module.course_id == course.id)).all()[0].position == 0


def test_steps_are_updated_by_position_and_surplus_steps_removed(
    session: Session, inge: User, tmp_path: Path
) -> None:
    files = minimal_package()
    _import(session, files, tmp_path / "v1", inge)
    lesson = _lessons(session, _course(session))["aanspannen"]
    text_id, exercise_id = (step.id for step in _steps(session, lesson))

    changed = files.copy()
    # The exercise becomes a breathing step; the text step goes.
    changed.lessons["02-aanspannen.md"]["steps"] = [
        {
            "kind": "breathing",
            "title": "Ademen",
            "inhale_seconds": 4,
            "exhale_seconds": 6,
            "cycles": 5,
        }
    ]
    _import(session, changed, tmp_path / "v2", inge)

    [step] = _steps(session, lesson)
    assert step.id == text_id
    assert (step.kind, step.inhale_seconds, step.hold_seconds, step.cycles) == (
        "breathing",
        4,
        0,
        5,
    )
    assert (step.reps, step.relax_seconds, step.cues, step.side) == (None, None, [], None)
    assert session.get(Step, exercise_id) is None


def test_publishing_sets_published_at_and_a_draft_clears_it(
    session: Session, inge: User, tmp_path: Path
) -> None:
    files = minimal_package()
    files.course["status"] = "draft"
    _import(session, files, tmp_path / "v1", inge)
    course = _course(session)
    assert course.published_at is None

    files.course["status"] = "published"
    _import(session, files, tmp_path / "v2", inge)
    session.refresh(course)
    assert course.published_at is not None
    assert course.version == 2

    files.course["status"] = "draft"
    _import(session, files, tmp_path / "v3", inge)
    session.refresh(course)
    assert course.published_at is None


def test_a_course_of_another_instructor_is_not_taken_over(
    session: Session, inge: User, tmp_path: Path
) -> None:
    files = minimal_package()
    _import(session, files, tmp_path, inge)
    other = make_user(session, role=Role.instructor)
    files.course["title"] = "Overgenomen"
    with pytest.raises(Conflict):
        _import(session, files, tmp_path, other)
    assert _course(session).title != "Overgenomen"


def test_progress_is_reported_once_per_lesson(session: Session, inge: User, tmp_path: Path) -> None:
    seen: list[str] = []
    package = load_package(minimal_package().write(tmp_path))
    import_package(session, package, instructor=inge, progress=seen.append)
    assert seen == ["Welkom", "Langzaam aanspannen", "Rustig ademen"]


def _large_package(modules: int, lessons_per_module: int) -> PackageFiles:
    """A programme of `modules` weeks, each lesson with an exercise and a breathing step."""
    files = minimal_package()
    template = files.lessons["02-aanspannen.md"]
    breathing = files.step("03-ademen.md", 0)
    files.lessons, files.course["modules"] = {}, []
    for week in range(modules):
        names = []
        for number in range(lessons_per_module):
            name = f"{week:02d}-{number:02d}-les.md"
            files.lessons[name] = {**template, "slug": f"week-{week}-les-{number}"}
            files.lessons[name]["steps"] = [*template["steps"], breathing]
            names.append(name)
        files.course["modules"].append({"title": f"Week {week + 1}", "lessons": names})
    return files


@contextmanager
def _count_statements(connection: Connection) -> Iterator[list[str]]:
    """The statements sent one by one; an executemany batch (one per table) is left out."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        _connection, _cursor, statement, _parameters, _context, executemany = args
        if not executemany:
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_import_uses_the_same_few_statements_whatever_the_size(
    session: Session, connection: Connection, inge: User, tmp_path: Path
) -> None:
    counts = []
    for weeks in (3, 6):
        files = _large_package(weeks, 5)
        files.course["slug"] = f"programma-{weeks}-weken"
        package = load_package(files.write(tmp_path))
        # The same statements for twice the size (how long it takes is for bench/, not here).
        with _count_statements(connection) as statements:
            import_package(session, package, instructor=inge)
        counts.append(len(statements))
        with _count_statements(connection) as statements:
            assert not import_package(session, package, instructor=inge).changed
        # Course, modules, lessons, steps and questionnaires: read, nothing written.
        assert len(statements) == 5
    assert counts[0] == counts[1] <= 6
