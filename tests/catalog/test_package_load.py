"""Reading a course package: every problem is refused with its file, line and field."""

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from api.accounts.models import Role
from api.catalog.models import Course, Lesson, Module, Step
from api.catalog.packages import PackageError, Problem, import_package, load_package
from tests.catalog.package_builder import PackageFiles, line_of, minimal_package
from tests.factories import make_user

# The problems are asserted by their English msgids.
pytestmark = pytest.mark.usefixtures("english")

Corruption = Callable[[PackageFiles], object]


def _problems(root: Path) -> list[Problem]:
    with pytest.raises(PackageError) as caught:
        load_package(root)
    return caught.value.problems


def _only_problem(root: Path) -> Problem:
    [problem] = _problems(root)
    return problem


def test_a_valid_package_loads_with_modules_and_lessons_in_order(tmp_path: Path) -> None:
    package = load_package(minimal_package().write(tmp_path))
    assert package.slug == "sterke-start"
    outline = [[lesson.meta.slug for lesson in m.lessons] for m in package.modules()]
    assert outline == [["welkom", "aanspannen"], ["ademen"]]
    ademen = package.lessons["03-ademen.md"]
    assert ademen.body == "Uitleg bij *Rustig ademen*.\n\nNog een alinea."
    [breathing] = ademen.meta.steps
    assert breathing.kind == "breathing"
    assert breathing.hold_seconds == 0  # the documented default


def test_rest_seconds_defaults_to_zero_and_free_preview_to_false(tmp_path: Path) -> None:
    files = minimal_package()
    del files.step("02-aanspannen.md", 1)["rest_seconds"]
    package = load_package(files.write(tmp_path))
    lesson = package.lessons["02-aanspannen.md"]
    assert lesson.meta.free_preview is False
    assert lesson.meta.steps[1].rest_seconds == 0  # type: ignore[union-attr]


def _set_step(file: str, index: int, key: str, value: object) -> Corruption:
    return lambda files: files.step(file, index).__setitem__(key, value)


def _set_lesson(file: str, key: str, value: object) -> Corruption:
    return lambda files: files.lessons[file].__setitem__(key, value)


def _set_course(key: str, value: object) -> Corruption:
    return lambda files: files.course.__setitem__(key, value)


def _list_lesson(name: str) -> Corruption:
    return lambda files: files.course["modules"][1]["lessons"].append(name)


# Each case: what to break, and the file, the text on the expected line, the field and message.
INVALID = {
    "hold of zero": (
        _set_step("02-aanspannen.md", 1, "hold_seconds", 0),
        ("lessons/02-aanspannen.md", "hold_seconds: 0", "steps[1].hold_seconds"),
        "must be between 1 and 120",
    ),
    "hold of an hour": (
        _set_step("02-aanspannen.md", 1, "hold_seconds", 3600),
        ("lessons/02-aanspannen.md", "hold_seconds: 3600", "steps[1].hold_seconds"),
        "must be between 1 and 120",
    ),
    "hold written as text": (
        _set_step("02-aanspannen.md", 1, "hold_seconds", "8"),
        ("lessons/02-aanspannen.md", "hold_seconds: '8'", "steps[1].hold_seconds"),
        "must be a whole number",
    ),
    "breathing hold above 30": (
        _set_step("03-ademen.md", 0, "hold_seconds", 31),
        ("lessons/03-ademen.md", "hold_seconds: 31", "steps[0].hold_seconds"),
        "must be between 0 and 30",
    ),
    "exercise without reps": (
        lambda files: files.step("02-aanspannen.md", 1).pop("reps"),
        ("lessons/02-aanspannen.md", "- kind: exercise", "steps[1].reps"),
        "required",
    ),
    "unknown field in a lesson": (
        _set_lesson("01-welkom.md", "free_previw", True),
        ("lessons/01-welkom.md", "free_previw: true", "free_previw"),
        "unknown field",
    ),
    "unknown field in course.yaml": (
        _set_course("prijs", 4900),
        ("course.yaml", "prijs: 4900", "prijs"),
        "unknown field",
    ),
    "exercise field in a text step": (
        _set_step("02-aanspannen.md", 0, "reps", 10),
        ("lessons/02-aanspannen.md", "reps: 10", "steps[0].reps"),
        "not allowed in a step of kind text",
    ),
    "unknown step kind": (
        _set_step("03-ademen.md", 0, "kind", "ademhaling"),
        ("lessons/03-ademen.md", "kind: ademhaling", "steps[0].kind"),
        "must be text, exercise or breathing",
    ),
    "bad lesson slug": (
        _set_lesson("03-ademen.md", "slug", "Rustig_Ademen"),
        ("lessons/03-ademen.md", "slug: Rustig_Ademen", "slug"),
        "use a-z, 0-9 and single hyphens",
    ),
    "duplicate lesson slug": (
        _set_lesson("03-ademen.md", "slug", "welkom"),
        ("lessons/03-ademen.md", "slug: welkom", "slug"),
        "'welkom' is also the slug of lessons/01-welkom.md",
    ),
    "bad YouTube id": (
        lambda files: files.lessons["01-welkom.md"]["video"].__setitem__("id", "abc"),
        ("lessons/01-welkom.md", "id: abc", "video.id"),
        "a YouTube id is 11 characters",
    ),
    "video file outside the media folder": (
        _set_lesson("01-welkom.md", "video", {"provider": "file", "id": "../geheim.mp4"}),
        ("lessons/01-welkom.md", "id: ../geheim.mp4", "video.id"),
        "must be a plain file name",
    ),
    "journal prompt over 300 characters": (
        _set_lesson("02-aanspannen.md", "journal_prompt", "Schrijf " + "a" * 300),
        ("lessons/02-aanspannen.md", "journal_prompt:", "journal_prompt"),
        "at most 300 characters",
    ),
    "journal prompt of two lines": (
        _set_lesson("02-aanspannen.md", "journal_prompt", "Schrijf op\nwat je voelde"),
        ("lessons/02-aanspannen.md", "journal_prompt:", "journal_prompt"),
        "must be one line",
    ),
    "bad price": (
        _set_course("price_cents", -100),
        ("course.yaml", "price_cents: -100", "price_cents"),
        "must be between 0 and 1000000",
    ),
    "unknown status": (
        _set_course("status", "gepubliceerd"),
        ("course.yaml", "status: gepubliceerd", "status"),
        "must be 'draft', 'published' or 'archived'",
    ),
    "missing lesson file": (
        lambda files: files.unwritten.add("03-ademen.md"),
        ("course.yaml", "- 03-ademen.md", "modules[1].lessons[0]"),
        "lessons/03-ademen.md does not exist",
    ),
    "path traversal in a lesson file name": (
        _list_lesson("../../geheim.md"),
        ("course.yaml", "- ../../geheim.md", "modules[1].lessons[1]"),
        "must be a plain .md file name in lessons/",
    ),
    "lesson file in a subfolder": (
        _list_lesson("extra/03-ademen.md"),
        ("course.yaml", "- extra/03-ademen.md", "modules[1].lessons[1]"),
        "must be a plain .md file name in lessons/",
    ),
    "lesson listed twice": (
        _list_lesson("01-welkom.md"),
        ("course.yaml", ("- 01-welkom.md", 2), "modules[1].lessons[1]"),
        "01-welkom.md is listed twice",
    ),
}


def _broken(corrupt: Corruption, tmp_path: Path, files: PackageFiles | None = None) -> Path:
    """Write the package with one thing broken."""
    files = files or minimal_package()
    corrupt(files)
    return files.write(tmp_path)


@pytest.mark.parametrize("case", INVALID.keys())
def test_invalid_package_is_refused_naming_file_line_and_field(tmp_path: Path, case: str) -> None:
    corrupt, (file, needle, field), message = INVALID[case]
    text, nth = needle if isinstance(needle, tuple) else (needle, 1)
    root = _broken(corrupt, tmp_path)
    problem = _only_problem(root)
    line = line_of(root / file, text, nth=nth)
    assert (problem.file, problem.line, problem.field) == (file, line, field)
    assert message in problem.message
    assert str(problem).startswith(f"{file}:{problem.line}: {field}: ")


def _count_rows(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in (Course, Module, Lesson, Step)
    }


@pytest.mark.parametrize("case", ["hold of zero", "missing lesson file", "duplicate lesson slug"])
def test_refused_package_leaves_the_database_unchanged(
    session: Session, tmp_path: Path, case: str
) -> None:
    inge = make_user(session, role=Role.instructor)
    result = import_package(
        session, load_package(minimal_package().write(tmp_path)), instructor=inge
    )
    before = _count_rows(session)
    files = minimal_package()
    files.lessons["01-welkom.md"]["title"] = "Een nieuwe titel die niet mag landen"
    corrupt, _where, _message = INVALID[case]
    root = _broken(corrupt, tmp_path / "nieuw", files)
    with pytest.raises(PackageError):
        import_package(session, load_package(root), instructor=inge)
    session.refresh(result.course)
    assert _count_rows(session) == before
    assert result.course.version == 1


def test_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    root = minimal_package().write(tmp_path)
    lesson = root / "lessons" / "02-aanspannen.md"
    lesson.write_text(lesson.read_text().replace("reps: 10", "reps: [10"), encoding="utf-8")
    problem = _only_problem(root)
    assert problem.file == "lessons/02-aanspannen.md"
    assert problem.message.startswith("invalid YAML:")
    # The parser notices the open bracket at the next key at the latest.
    assert line_of(lesson, "reps: [10") <= (problem.line or 0) <= line_of(lesson, "sets: 3")


def test_duplicate_key_is_reported_instead_of_silently_using_the_last(tmp_path: Path) -> None:
    root = minimal_package().write(tmp_path)
    course = root / "course.yaml"
    course.write_text(course.read_text() + "price_cents: 0\n", encoding="utf-8")
    problem = _only_problem(root)
    assert (problem.file, problem.field, problem.message) == (
        "course.yaml",
        "price_cents",
        "appears twice",
    )
    assert problem.line == line_of(course, "price_cents: 0")


def test_front_matter_must_be_opened_and_closed(tmp_path: Path) -> None:
    root = minimal_package().write(tmp_path)
    lesson = root / "lessons" / "01-welkom.md"
    lesson.write_text(lesson.read_text().removeprefix("---\n"), encoding="utf-8")
    assert "must start with a line `---`" in _only_problem(root).message
    lesson.write_text("---\nslug: welkom\ntitle: Welkom\n", encoding="utf-8")
    assert "not closed" in _only_problem(root).message


def test_folder_name_must_equal_the_slug_and_lessons_are_not_read_before(tmp_path: Path) -> None:
    files = minimal_package()
    files.step("02-aanspannen.md", 1)["hold_seconds"] = 0  # would be a second problem
    root = files.write(tmp_path, folder="andere-naam")
    problem = _only_problem(root)
    assert (problem.file, problem.line, problem.field) == ("course.yaml", 1, "slug")
    assert "'sterke-start' differs from the folder name 'andere-naam'" in problem.message


def test_a_folder_that_is_not_a_slug_is_refused_before_any_file_is_read(tmp_path: Path) -> None:
    root = tmp_path / "Niet_Een_Slug"
    root.mkdir()
    (root / "course.yaml").mkdir()  # reading it would fail with another message
    problem = _only_problem(root)
    assert problem.file == ""
    assert "folder name 'Niet_Een_Slug' must be the course slug" in problem.message


def test_symlink_escaping_the_package_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "geheim.md"
    secret.write_text("---\nslug: geheim\n---\n", encoding="utf-8")
    root = minimal_package().write(tmp_path / "pakket")
    lesson = root / "lessons" / "03-ademen.md"
    lesson.unlink()
    lesson.symlink_to(secret)
    problem = _only_problem(root)
    assert (problem.file, problem.field) == ("course.yaml", "modules[1].lessons[0]")
    assert "not a file inside the package folder" in problem.message


def test_symlink_inside_the_package_is_followed(tmp_path: Path) -> None:
    root = minimal_package().write(tmp_path)
    lesson = root / "lessons" / "03-ademen.md"
    (root / "concept.md").write_text(lesson.read_text(), encoding="utf-8")
    lesson.unlink()
    lesson.symlink_to(root / "concept.md")
    assert load_package(root).lessons["03-ademen.md"].meta.slug == "ademen"


def test_lesson_file_that_no_module_lists_is_refused(tmp_path: Path) -> None:
    root = minimal_package().write(tmp_path)
    (root / "lessons" / "04-vergeten.md").write_text("---\nslug: x\n---\n", encoding="utf-8")
    problem = _only_problem(root)
    assert problem.file == "lessons/04-vergeten.md"
    assert "not listed in course.yaml" in problem.message


def test_every_problem_of_the_package_is_reported_at_once(tmp_path: Path) -> None:
    files = minimal_package()
    files.course["language"] = "Nederlands"
    files.step("02-aanspannen.md", 1)["sets"] = 0
    files.step("03-ademen.md", 0)["cycles"] = 1000
    files.lessons["01-welkom.md"]["estimated_minutes"] = 0
    root = files.write(tmp_path)
    messages = [str(problem) for problem in _problems(root)]
    assert [message.split(": ")[:2] for message in messages] == [
        [f"course.yaml:{line_of(root / 'course.yaml', 'language:')}", "language"],
        [
            f"lessons/01-welkom.md:{line_of(root / 'lessons/01-welkom.md', 'estimated_')}",
            "estimated_minutes",
        ],
        [
            f"lessons/02-aanspannen.md:{line_of(root / 'lessons/02-aanspannen.md', 'sets:')}",
            "steps[1].sets",
        ],
        [
            f"lessons/03-ademen.md:{line_of(root / 'lessons/03-ademen.md', 'cycles:')}",
            "steps[0].cycles",
        ],
    ]


def test_package_error_message_lists_every_problem(tmp_path: Path) -> None:
    files = minimal_package()
    files.step("02-aanspannen.md", 1)["reps"] = 0
    files.step("02-aanspannen.md", 1)["sets"] = 0
    with pytest.raises(PackageError) as caught:
        load_package(files.write(tmp_path))
    assert caught.value.status_code == 422
    assert caught.value.message.count("\n") == 1
    assert "steps[1].reps" in caught.value.message
    assert "steps[1].sets" in caught.value.message


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    root = minimal_package().write(tmp_path)
    course = root / "course.yaml"
    text = course.read_text().replace("outcomes:\n", "outcomes: &uitkomsten\n")
    course.write_text(text + "extra: *uitkomsten\n", encoding="utf-8")
    problem = _only_problem(root)
    assert (problem.file, problem.field) == ("course.yaml", "extra")
    assert "aliases" in problem.message


def test_a_list_as_key_is_an_unknown_field_not_a_crash(tmp_path: Path) -> None:
    root = minimal_package().write(tmp_path)
    course = root / "course.yaml"
    course.write_text(course.read_text() + "? [a, b]\n: c\n", encoding="utf-8")
    assert _problems(root)
