"""`kern import`, `kern export` and `kern seed` with courses, as an operator runs them."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from api import db
from api.catalog.models import Course, Lesson, Module, Step
from api.catalog.packages import load_package
from api.cli import app as cli
from api.config import get_settings
from api.seed import DEMO_INSTRUCTOR_EMAIL
from tests.catalog.package_builder import MP4, line_of, minimal_package
from tests.catalog.test_package_export import content
from tests.conftest import TEST_VAPID_KEY

# The problems are asserted by their English msgids.
pytestmark = pytest.mark.usefixtures("english")

runner = CliRunner()
TITLE = "Sterke start — bekkenbodem in twee weken"


def _run(*args: str) -> Result:
    return runner.invoke(cli, list(args))


def _seed_accounts(tmp_path: Path) -> None:
    """The demo accounts, without the sample courses."""
    (tmp_path / "geen-cursussen").mkdir(exist_ok=True)
    result = _run("seed", "--courses", str(tmp_path / "geen-cursussen"))
    assert result.exit_code == 0, result.output


def _rows(url: str) -> dict[str, int]:
    engine = db.make_engine(url, pool_size=1)
    try:
        with Session(engine) as session:
            return {
                model.__name__: session.exec(select(func.count()).select_from(model)).one()
                for model in (Course, Module, Lesson, Step)
            }
    finally:
        engine.dispose()


def test_help_lists_import_and_export() -> None:
    result = _run("--help")
    assert "import" in result.output
    assert "export" in result.output


def test_import_creates_then_reports_unchanged_then_updated(
    operator_db: str, tmp_path: Path
) -> None:
    _seed_accounts(tmp_path)
    files = minimal_package()
    folder = str(files.write(tmp_path))

    first = _run("import", folder)
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == f"Created {TITLE} (2 modules, 3 lessons)"
    assert _rows(operator_db) == {"Course": 1, "Module": 2, "Lesson": 3, "Step": 4}

    second = _run("import", folder)
    assert second.stdout.strip() == f"Unchanged {TITLE} (2 modules, 3 lessons)"

    files.course["title"] = "Sterke start"
    files.write(tmp_path)
    third = _run("import", folder, "--instructor", DEMO_INSTRUCTOR_EMAIL)
    assert third.stdout.strip() == "Updated Sterke start (2 modules, 3 lessons)"


def test_invalid_package_prints_each_problem_and_writes_nothing(
    operator_db: str, tmp_path: Path
) -> None:
    _seed_accounts(tmp_path)
    files = minimal_package()
    files.step("02-aanspannen.md", 1)["hold_seconds"] = 0
    files.step("03-ademen.md", 0)["cycles"] = 0
    root = files.write(tmp_path)

    result = _run("import", str(root))

    assert result.exit_code == 1
    assert result.stdout == ""
    lesson, breathing = root / "lessons" / "02-aanspannen.md", root / "lessons" / "03-ademen.md"
    assert result.stderr.splitlines() == [
        f"{lesson}:{line_of(lesson, 'hold_seconds')}: steps[1].hold_seconds: "
        "must be between 1 and 120",
        f"{breathing}:{line_of(breathing, 'cycles')}: steps[0].cycles: must be between 1 and 100",
    ]
    assert _rows(operator_db) == {"Course": 0, "Module": 0, "Lesson": 0, "Step": 0}


def test_import_for_an_unknown_instructor_fails_and_writes_nothing(
    operator_db: str, tmp_path: Path
) -> None:
    _seed_accounts(tmp_path)
    folder = str(minimal_package().write(tmp_path))
    result = _run("import", folder, "--instructor", "niemand@praktijk.nl")
    assert result.exit_code == 1
    assert "no account with the email niemand@praktijk.nl" in result.stderr
    assert _rows(operator_db)["Course"] == 0


def test_import_as_a_learner_is_refused(operator_db: str, tmp_path: Path) -> None:
    _seed_accounts(tmp_path)
    folder = str(minimal_package().write(tmp_path))
    result = _run("import", folder, "--instructor", "deelnemer@kern.test")
    assert result.exit_code == 1
    assert "courses belong to an instructor" in result.stderr
    assert _rows(operator_db)["Course"] == 0


def test_import_in_production_requires_the_instructor(
    operator_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "Zq3v9TfK2mWc8rLp1xYh6NbD4sGj7aEu0oRi5kQw")
    monkeypatch.setenv("VAPID_PRIVATE_KEY", TEST_VAPID_KEY)
    get_settings.cache_clear()
    result = _run("import", str(minimal_package().write(tmp_path)))
    assert result.exit_code == 2
    assert "--instructor EMAIL is required in production" in result.stderr
    assert _rows(operator_db)["Course"] == 0


def test_export_writes_a_package_that_imports_unchanged(operator_db: str, tmp_path: Path) -> None:
    _seed_accounts(tmp_path)
    source = minimal_package().write(tmp_path / "bron")
    assert _run("import", str(source)).exit_code == 0

    result = _run("export", "sterke-start", str(tmp_path / "export"))

    assert result.exit_code == 0, result.output
    folder = tmp_path / "export" / "sterke-start"
    assert result.stdout.strip() == f"Exported sterke-start to {folder}"
    assert content(load_package(folder)) == content(load_package(source))
    again = _run("import", str(folder))
    assert again.stdout.strip() == f"Unchanged {TITLE} (2 modules, 3 lessons)"


def test_export_only_reads_while_the_running_site_writes(operator_db: str, tmp_path: Path) -> None:
    """An export takes no write lock (SQLite): the site may hold one meanwhile, and the export
    neither waits for it nor fails."""
    _seed_accounts(tmp_path)
    assert _run("import", str(minimal_package().write(tmp_path / "bron"))).exit_code == 0
    site = sqlite3.connect(operator_db.removeprefix("sqlite:///"), isolation_level=None)
    site.execute("BEGIN IMMEDIATE")
    try:
        result = _run("export", "sterke-start", str(tmp_path / "export"))
    finally:
        site.execute("ROLLBACK")
        site.close()
    assert result.exit_code == 0, result.output
    assert (tmp_path / "export" / "sterke-start").is_dir()


def test_export_of_an_unknown_course_fails(operator_db: str, tmp_path: Path) -> None:
    result = _run("export", "bestaat-niet", str(tmp_path))
    assert result.exit_code == 1
    assert "There is no course bestaat-niet." in result.stderr


def test_seed_imports_every_course_folder_owned_by_the_demo_instructor(
    operator_db: str, tmp_path: Path
) -> None:
    courses = tmp_path / "courses"
    minimal_package().write(courses)
    second = minimal_package()
    second.course["slug"], second.course["title"] = "rustig-ademen", "Rustig ademen"
    second.write(courses)

    first = _run("seed", "--courses", str(courses))
    again = _run("seed", "--courses", str(courses))

    assert first.exit_code == again.exit_code == 0, first.output
    assert first.stdout.splitlines()[-3:] == [
        "Sample courses:",
        "  Created Rustig ademen (2 modules, 3 lessons)",
        f"  Created {TITLE} (2 modules, 3 lessons)",
    ]
    assert again.stdout.splitlines()[-2:] == [
        "  Unchanged Rustig ademen (2 modules, 3 lessons)",
        f"  Unchanged {TITLE} (2 modules, 3 lessons)",
    ]


def test_seed_with_an_invalid_course_writes_nothing(operator_db: str, tmp_path: Path) -> None:
    courses = tmp_path / "courses"
    files = minimal_package()
    files.course["price_cents"] = -1
    files.write(courses)
    result = _run("seed", "--courses", str(courses))
    assert result.exit_code == 1
    assert "course.yaml:" in result.stderr
    assert "price_cents: must be between 0 and 1000000" in result.stderr
    assert _rows(operator_db)["Course"] == 0


def test_import_without_the_demo_instructor_says_how_to_get_one(
    operator_db: str, tmp_path: Path
) -> None:
    result = _run("import", str(minimal_package().write(tmp_path)))
    assert result.exit_code == 1
    assert "run `kern seed` first, or pass --instructor EMAIL" in result.stderr


def test_import_brings_the_files_in_media_and_export_writes_them_back(
    operator_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media_dir = tmp_path / "media"
    monkeypatch.setenv("MEDIA_DIR", str(media_dir))
    get_settings.cache_clear()
    _seed_accounts(tmp_path)
    files = minimal_package()
    files.lessons["01-welkom.md"]["video"] = {"provider": "file", "id": "welkom.mp4"}
    files.media = {"welkom.mp4": MP4}
    source = files.write(tmp_path / "bron")

    assert _run("import", str(source)).exit_code == 0
    assert (media_dir / "welkom.mp4").read_bytes() == MP4

    result = _run("export", "sterke-start", str(tmp_path / "export"))
    exported = tmp_path / "export" / "sterke-start"
    assert result.exit_code == 0, result.output
    assert (exported / "media" / "welkom.mp4").read_bytes() == MP4
    again = _run("import", str(exported))
    assert again.stdout.strip() == f"Unchanged {TITLE} (2 modules, 3 lessons)"
    assert sorted(path.name for path in media_dir.iterdir()) == ["welkom.mp4"]


def test_import_naming_a_file_that_is_not_hers_says_where_and_writes_nothing(
    operator_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    get_settings.cache_clear()
    _seed_accounts(tmp_path)
    files = minimal_package()
    files.lessons["01-welkom.md"]["video"] = {"provider": "file", "id": "van-een-ander.mp4"}
    root = files.write(tmp_path)

    result = _run("import", str(root))

    assert result.exit_code == 1
    lesson = root / "lessons" / "01-welkom.md"
    # (The progress bar leaves an empty line behind.)
    assert [line for line in result.stderr.splitlines() if line] == [
        f"{lesson}:{line_of(lesson, 'van-een-ander.mp4')}: video.id: van-een-ander.mp4 is not "
        "one of your files in Kern; put the file in the package's media/ folder, or upload it "
        "in the studio after importing"
    ]
    assert _rows(operator_db)["Course"] == 0
