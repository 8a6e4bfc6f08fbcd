"""Questionnaires and check-ins in a course package: read, checked, stored and written back."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.packages import PackageError, export_course, import_package, load_package
from api.catalog.packages.archive import export_zip, unpacked
from api.catalog.packages.schema import QuestionnaireManifest
from api.kit.ids import id_of
from api.questionnaires import service as questionnaires
from api.questionnaires.models import CheckIn, Measurement, Questionnaire
from tests.catalog.package_builder import (
    PackageFiles,
    check_in_questionnaire,
    line_of,
    minimal_package,
)
from tests.factories import make_course, make_user

# The problems are asserted by their English msgids.
pytestmark = pytest.mark.usefixtures("english")

SLUG = "bekkenbodem-check-in"
ALL_MOMENTS: list[dict[str, Any]] = [
    {"questionnaire": SLUG, "at": "enrolment"},
    {"questionnaire": SLUG, "at": "module", "module": 2},
    {"questionnaire": SLUG, "at": "end"},
    {"questionnaire": SLUG, "at": "every", "days": 14},
]


@pytest.fixture
def inge(session: Session) -> User:
    return make_user(session, name="Inge", role=Role.instructor)


def with_questionnaires() -> PackageFiles:
    files = minimal_package()
    files.questionnaires[SLUG] = check_in_questionnaire()
    pijntest = check_in_questionnaire("pijntest")
    pijntest |= {"scoring": "sum", "title": "Pijntest", "meaningful_change": 2}
    pijntest["bands"] = [
        {"min": 0, "max": 6, "title": "Licht"},
        {"min": 7, "max": 17, "title": "Zwaar", "text": "Lees *dit*."},
    ]
    files.questionnaires["pijntest"] = pijntest
    files.course["check_ins"] = [dict(moment) for moment in ALL_MOMENTS]
    return files


def problems(files: PackageFiles, where: Path) -> list[str]:
    with pytest.raises(PackageError) as caught:
        load_package(files.write(where))
    return caught.value.messages


def stored(session: Session, slug: str = SLUG) -> Questionnaire:
    return session.exec(select(Questionnaire).where(Questionnaire.slug == slug)).one()


def check_ins(session: Session) -> list[tuple[str, str, int | None, int | None]]:
    rows = session.exec(
        select(CheckIn, Questionnaire)
        .join(Questionnaire, col(Questionnaire.id) == CheckIn.questionnaire_id)
        .order_by(col(CheckIn.position))
    ).all()
    return [(q.slug, c.moment, c.module_position, c.every_days) for c, q in rows]


def everything(package: Any) -> Any:
    """What a package says about its questionnaires and check-ins."""
    return (
        {slug: q.model_dump() for slug, q in package.questionnaires.items()},
        [c.model_dump() for c in package.course.check_ins],
    )


def test_questionnaires_and_check_ins_are_stored(
    session: Session, inge: User, tmp_path: Path
) -> None:
    result = import_package(
        session, load_package(with_questionnaires().write(tmp_path)), instructor=inge
    )

    row = stored(session)
    assert row.course_id == result.course.id
    assert (row.title, row.language, row.status, row.self_test) == (
        "Bekkenbodem check-in",
        "nl",
        "published",
        True,
    )
    definition = questionnaires.definition_of(row)
    assert [item.kind for item in definition.items] == [
        "scale",
        "single",
        "multiple",
        "warning",
        "text",
    ]
    assert str(definition.bands[1].max) == "5.7"
    assert definition.bands[1].course == "sterke-start"
    # Module 2 as a person counts is the module at position 1.
    assert check_ins(session) == [
        (SLUG, "enrolment", None, None),
        (SLUG, "module", 1, None),
        (SLUG, "end", None, None),
        (SLUG, "every", None, 14),
    ]


def test_an_export_imports_without_loss_and_without_a_change(
    session: Session, inge: User, tmp_path: Path
) -> None:
    original = load_package(with_questionnaires().write(tmp_path / "bron"))
    import_package(session, original, instructor=inge)
    version = stored(session).version

    folder = export_course(session, slug="sterke-start", target=tmp_path / "export")
    exported = load_package(folder)
    result = import_package(session, exported, instructor=inge)

    assert everything(exported) == everything(original)
    assert result.outcome == "Unchanged"
    assert stored(session).version == version
    text = (folder / "questionnaires" / f"{SLUG}.yaml").read_text(encoding="utf-8")
    assert list(yaml.safe_load(text))[:6] == [
        "slug",
        "title",
        "language",
        "status",
        "self_test",
        "intro",
    ]
    assert "max: 5.7" in text
    assert "meaningful_change: 1.5" in text
    assert "check_ins:\n  - questionnaire: bekkenbodem-check-in\n    at: enrolment" in (
        folder / "course.yaml"
    ).read_text(encoding="utf-8")


def test_the_studio_zip_carries_questionnaires_both_ways(
    session: Session, inge: User, tmp_path: Path
) -> None:
    import_package(session, load_package(with_questionnaires().write(tmp_path)), instructor=inge)
    zipped = export_zip(session, slug="sterke-start")
    (tmp_path / "pakket.zip").write_bytes(zipped)
    with (tmp_path / "pakket.zip").open("rb") as handle, unpacked(handle) as package:
        assert sorted(package.questionnaires) == ["bekkenbodem-check-in", "pijntest"]
        assert len(package.course.check_ins) == 4


def test_a_changed_questionnaire_gets_a_new_version_and_a_left_out_one_goes(
    session: Session, inge: User, tmp_path: Path
) -> None:
    files = with_questionnaires()
    import_package(session, load_package(files.write(tmp_path / "v1")), instructor=inge)
    first = stored(session)
    version = first.version
    files.questionnaires[SLUG]["title"] = "Check-in bekkenbodem"
    del files.questionnaires["pijntest"]
    files.course["check_ins"] = [{"questionnaire": SLUG, "at": "end"}]

    result = import_package(session, load_package(files.write(tmp_path / "v2")), instructor=inge)

    assert result.outcome == "Updated"
    session.refresh(first)
    assert (first.title, first.version) == ("Check-in bekkenbodem", version + 1)
    assert session.exec(select(Questionnaire.slug)).all() == [SLUG]
    assert check_ins(session) == [(SLUG, "end", None, None)]


def test_a_questionnaire_learners_filled_in_cannot_be_left_out(
    session: Session, inge: User, tmp_path: Path
) -> None:
    files = with_questionnaires()
    import_package(session, load_package(files.write(tmp_path / "v1")), instructor=inge)
    pijntest = stored(session, "pijntest")
    learner = make_user(session)
    session.add(
        Measurement(
            user_id=id_of(learner),
            questionnaire_id=id_of(pijntest),
            occasion="self-test:1",
            score=3,
        )
    )
    session.flush()
    del files.questionnaires["pijntest"]

    with pytest.raises(PackageError) as caught:
        import_package(session, load_package(files.write(tmp_path / "v2")), instructor=inge)

    assert caught.value.messages == [
        "questionnaires/pijntest.yaml: missing from the package, but it has been filled in 1 "
        "time; it cannot be deleted, so put the file back (as a draft if it is no longer used)."
    ]


def test_a_slug_of_another_instructor_or_another_course_is_refused(
    session: Session, inge: User, tmp_path: Path
) -> None:
    other = make_course(session, instructor=make_user(session, role=Role.instructor))
    session.add(Questionnaire(course_id=id_of(other), slug="pijntest", title="Andere"))
    own = make_course(session, instructor=inge)
    session.add(Questionnaire(course_id=id_of(own), slug=SLUG, title="Eigen"))
    session.flush()
    files = with_questionnaires()
    folder = files.write(tmp_path)

    with pytest.raises(PackageError) as caught:
        import_package(session, load_package(folder), instructor=inge)

    check_in_line = line_of(folder / "questionnaires" / f"{SLUG}.yaml", "slug:")
    assert caught.value.messages == [
        f"questionnaires/{SLUG}.yaml:{check_in_line}: slug: Your course {own.slug} has a "
        f"questionnaire {SLUG} already; choose another slug, or remove it there first.",
        "questionnaires/pijntest.yaml:1: slug: The questionnaire pijntest belongs to another "
        "instructor; choose another slug.",
    ]


def test_a_band_may_name_only_her_own_courses(session: Session, inge: User, tmp_path: Path) -> None:
    hers = make_course(session, instructor=inge)
    theirs = make_course(session, instructor=make_user(session, role=Role.instructor))
    files = with_questionnaires()
    files.questionnaires["pijntest"]["bands"][0]["course"] = hers.slug
    files.questionnaires["pijntest"]["bands"][1]["course"] = theirs.slug
    folder = files.write(tmp_path)

    with pytest.raises(PackageError) as caught:
        import_package(session, load_package(folder), instructor=inge)

    line = line_of(folder / "questionnaires" / "pijntest.yaml", f"course: {theirs.slug}")
    assert caught.value.messages == [
        f"questionnaires/pijntest.yaml:{line}: bands[1].course: {theirs.slug} is not one of "
        "your courses; name this course or another of yours."
    ]


def test_problems_of_a_questionnaire_are_named_at_their_fields(tmp_path: Path) -> None:
    files = with_questionnaires()
    questionnaire = files.questionnaires["pijntest"]
    questionnaire["items"][1]["options"] = [{"label": "Alleen", "points": 0}]
    questionnaire["bands"][1]["min"] = 9
    questionnaire["items"][0]["colour"] = "rood"
    questionnaire["items"][2]["kind"] = "slider"
    folder = files.write(tmp_path)
    path = folder / "questionnaires" / "pijntest.yaml"

    assert problems(files, tmp_path) == [
        f"questionnaires/pijntest.yaml:{line_of(path, 'colour')}: items[0].colour: not allowed "
        "in a question of kind scale",
        f"questionnaires/pijntest.yaml:{line_of(path, 'kind: slider')}: items[2].kind: must be "
        "scale, single, multiple, warning or text",
    ]
    del questionnaire["items"][0]["colour"]
    questionnaire["items"][2]["kind"] = "multiple"
    path = files.write(tmp_path / "twee") / "questionnaires" / "pijntest.yaml"
    assert problems(files, tmp_path / "twee") == [
        f"questionnaires/pijntest.yaml:{line_of(path, 'options:')}: items[1].options: A choice "
        "needs at least two options.",
        f"questionnaires/pijntest.yaml:{line_of(path, 'min: 9')}"
        ": bands[1]: This band (9–17) lies outside the possible scores 0–13.",
    ]


def test_check_ins_name_a_questionnaire_of_the_package_and_a_module_it_has(
    tmp_path: Path,
) -> None:
    files = with_questionnaires()
    files.course["check_ins"] = [
        {"questionnaire": "onbekend", "at": "enrolment"},
        {"questionnaire": SLUG, "at": "module", "module": 3},
        {"questionnaire": SLUG, "at": "every", "days": 400},
        {"questionnaire": SLUG, "at": "end", "days": 7},
        {"questionnaire": SLUG, "at": "module"},
    ]
    folder = files.write(tmp_path)
    course = folder / "course.yaml"

    assert problems(files, tmp_path) == [
        f"course.yaml:{line_of(course, 'questionnaire: onbekend')}: check_ins[0].questionnaire: "
        "there is no questionnaires/onbekend.yaml in this package",
        f"course.yaml:{line_of(course, 'module: 3')}: check_ins[1].module: the course has 2 "
        "modules; count from 1",
        f"course.yaml:{line_of(course, 'days: 400')}: check_ins[2].days: must be between 1 and 365",
        f"course.yaml:{line_of(course, 'questionnaire:', nth=4)}: check_ins[3]: `days: N` goes "
        "with `at: every`, and only with it",
        f"course.yaml:{line_of(course, 'questionnaire:', nth=5)}: check_ins[4]: `module: N` goes "
        "with `at: module`, and only with it",
    ]


def test_a_questionnaire_file_is_named_after_its_slug(tmp_path: Path) -> None:
    files = with_questionnaires()
    files.questionnaires["pijntest"]["slug"] = "pijn-test"
    files.course["check_ins"] = []
    folder = files.write(tmp_path)
    (folder / "questionnaires" / "Notities.yaml").write_text("slug: x\n", encoding="utf-8")

    assert problems(files, tmp_path) == [
        "questionnaires/Notities.yaml: a questionnaire file is named after its slug: "
        "<slug>.yaml, with a-z, 0-9 and hyphens, 3–80 characters",
        "questionnaires/pijntest.yaml:1: slug: 'pijn-test' differs from the file name "
        "'pijntest.yaml'; they must be the same",
    ]


def test_the_documented_questionnaire_is_valid() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "course-packages.md"
    section = docs.read_text(encoding="utf-8").split("## questionnaires/", 1)[1]
    example = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])

    questionnaire = QuestionnaireManifest.model_validate(example)

    assert questionnaire.definition.problems() == []
    assert [item.kind for item in questionnaire.items] == [
        "scale",
        "single",
        "multiple",
        "warning",
        "text",
    ]
