"""Exporting a course as a package: importing the export yields the same course."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import Session

from api.accounts.models import Role, User
from api.catalog.packages import (
    CoursePackage,
    export_course,
    import_package,
    load_package,
)
from api.config import Settings
from api.errors import AppError, NotFound
from api.media import imports
from api.media.files import MB
from api.media.storage import LocalStorage
from tests.catalog.package_builder import MP4, PackageFiles, jpeg, minimal_package
from tests.factories import make_user

# The problems are asserted by their English msgids.
pytestmark = pytest.mark.usefixtures("english")

# The order of docs/course-packages.md, which an exported file keeps.
COURSE_KEYS = [
    "slug",
    "title",
    "subtitle",
    "language",
    "price_cents",
    "status",
    "schedule",
    "cover_image",
    "description",
    "outcomes",
    "faq",
    "modules",
]


def content(package: CoursePackage) -> Any:
    """Everything a package says, without its lesson file names."""
    course = package.course.model_dump(exclude={"modules"})
    modules = [
        (
            module.manifest.model_dump(exclude={"lessons"}),
            [(lesson.meta, lesson.body) for lesson in module.lessons],
        )
        for module in package.modules()
    ]
    return course, modules


def rich_package() -> PackageFiles:
    """The minimal package with every optional field used and text that is easy to mangle."""
    files = minimal_package()
    files.course["cover_image"] = "omslag-sterke-start.jpg"
    files.media = {"omslag-sterke-start.jpg": jpeg(), "adem-ritme.mp4": MP4}
    files.course["description"] = (
        "# Wat je leert\n\n- Voelen, *aanspannen* en **loslaten**\n- Ademen: in 4, uit 6\n\n"
        "> Dit vervangt geen arts of fysiotherapeut.\n\n```\ncode: blijft staan\n```\n"
    )
    files.course["outcomes"].append("Ook met “aanhalingstekens” en een dubbele punt: zo")
    files.lessons["02-aanspannen.md"]["video"] = {"provider": "vimeo", "id": "76979871"}
    files.lessons["03-ademen.md"]["video"] = {
        "provider": "file",
        "id": "adem-ritme.mp4",
        "title": "Ademritme — één minuut",
    }
    files.step("02-aanspannen.md", 1)["body"] = "Regel één\nRegel twee\n\n- punt\n"
    files.step("03-ademen.md", 0)["hold_seconds"] = 2
    files.lessons["03-ademen.md"]["journal_prompt"] = "Schrijf: wat voelde je bij het uitademen?"
    files.bodies["02-aanspannen.md"] = "\n\nNa lege regels.\n\n    ingesprongen code\n\nÉcht einde."
    return files


@pytest.fixture
def inge(session: Session) -> User:
    return make_user(session, role=Role.instructor)


def with_media(session: Session, package: CoursePackage, inge: User, media_dir: Path) -> Any:
    """Import as `kern import` does: the files in the package's media/ folder come along."""
    return imports.import_package(
        session, package, instructor=inge, storage=LocalStorage(media_dir), max_video_bytes=MB
    )


def test_export_then_load_equals_the_original(
    session: Session, inge: User, tmp_path: Path, settings: Settings
) -> None:
    original = load_package(rich_package().write(tmp_path / "bron"))
    with_media(session, original, inge, settings.media_dir)

    folder = export_course(
        session,
        slug="sterke-start",
        target=tmp_path / "export",
        storage=LocalStorage(settings.media_dir),
    )

    assert folder == tmp_path / "export" / "sterke-start"
    exported = load_package(folder)
    assert content(exported) == content(original)
    assert sorted(exported.lessons) == ["01-welkom.md", "02-aanspannen.md", "03-ademen.md"]
    # The files travel with the package, as Kern stores them.
    assert sorted(exported.media) == ["adem-ritme.mp4", "omslag-sterke-start.jpg"]
    for name, path in exported.media.items():
        assert path.read_bytes() == (settings.media_dir / name).read_bytes()


def test_importing_an_export_changes_nothing(
    session: Session, inge: User, tmp_path: Path, settings: Settings
) -> None:
    with_media(session, load_package(rich_package().write(tmp_path)), inge, settings.media_dir)
    stored = sorted(path.name for path in settings.media_dir.iterdir())
    folder = export_course(
        session,
        slug="sterke-start",
        target=tmp_path / "export",
        storage=LocalStorage(settings.media_dir),
    )
    result = with_media(session, load_package(folder), inge, settings.media_dir)
    assert result.outcome == "Unchanged"
    assert result.course.version == 1
    assert sorted(path.name for path in settings.media_dir.iterdir()) == stored


def test_exported_files_are_readable_yaml_in_the_documented_order(
    session: Session, inge: User, tmp_path: Path, settings: Settings
) -> None:
    with_media(session, load_package(rich_package().write(tmp_path)), inge, settings.media_dir)
    folder = export_course(session, slug="sterke-start", target=tmp_path / "export")
    text = (folder / "course.yaml").read_text(encoding="utf-8")
    assert list(yaml.safe_load(text)) == COURSE_KEYS
    assert "title: Week 1 — Bewustwording" in text  # unicode kept, not escaped
    assert "description: |\n  # Wat je leert\n" in text  # Markdown as a literal block
    assert "modules:\n  - title:" in text  # lists indented under their key
    lesson = (folder / "lessons" / "02-aanspannen.md").read_text(encoding="utf-8")
    assert lesson.startswith("---\nslug: aanspannen\ntitle: Langzaam aanspannen\n")
    assert lesson.endswith("---\nNa lege regels.\n\n    ingesprongen code\n\nÉcht einde.\n")
    front = yaml.safe_load(lesson.split("---\n")[1])
    assert list(front) == ["slug", "title", "estimated_minutes", "free_preview", "video", "steps"]
    assert list(front["steps"][1]) == [
        "kind",
        "title",
        "body",
        "hold_seconds",
        "relax_seconds",
        "reps",
        "sets",
        "rest_seconds",
        "side",
        "cues",
    ]


def test_export_replaces_an_earlier_export_of_the_course(
    session: Session, inge: User, tmp_path: Path
) -> None:
    files = minimal_package()
    import_package(session, load_package(files.write(tmp_path / "v1")), instructor=inge)
    export_course(session, slug="sterke-start", target=tmp_path / "export")
    del files.lessons["01-welkom.md"]
    files.course["modules"][0]["lessons"].remove("01-welkom.md")
    import_package(session, load_package(files.write(tmp_path / "v2")), instructor=inge)

    folder = export_course(session, slug="sterke-start", target=tmp_path / "export")

    assert sorted(path.name for path in (folder / "lessons").iterdir()) == [
        "01-aanspannen.md",
        "02-ademen.md",
    ]
    assert len(load_package(folder).lessons) == 2


def test_export_refuses_a_folder_that_is_not_a_package(
    session: Session, inge: User, tmp_path: Path
) -> None:
    import_package(session, load_package(minimal_package().write(tmp_path)), instructor=inge)
    target = tmp_path / "elders"
    (target / "sterke-start").mkdir(parents=True)
    (target / "sterke-start" / "notities.txt").write_text("van iemand anders")
    with pytest.raises(AppError, match="not a course package"):
        export_course(session, slug="sterke-start", target=target)
    assert (target / "sterke-start" / "notities.txt").exists()


def test_export_of_an_unknown_course_is_not_found(session: Session, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        export_course(session, slug="bestaat-niet", target=tmp_path)
    with pytest.raises(NotFound):
        export_course(session, slug="../buiten", target=tmp_path)
    assert list(tmp_path.iterdir()) == []
