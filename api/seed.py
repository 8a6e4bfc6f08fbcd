"""Sample data for development: the demo accounts and the sample courses in courses/."""

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from api.accounts import service as accounts
from api.accounts.models import Role
from api.catalog import packages
from api.config import ROOT

COURSES_DIR = ROOT / "courses"
DEMO_INSTRUCTOR_EMAIL = "instructeur@kern.test"

# Known passwords are fine here: demo accounts exist only outside production (the CLI refuses
# to create them there), and a newcomer needs to log in without reading code.
DEMO_PASSWORD_INSTRUCTOR = "demo rustig bekken"  # noqa: S105
DEMO_PASSWORD_LEARNER = "demo adem in en uit"  # noqa: S105


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    name: str
    email: str
    password: str
    created: bool


DEMO_ACCOUNTS = (
    (Role.instructor, "Inge de Vries", DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD_INSTRUCTOR),
    (Role.learner, "Lotte Jansen", "deelnemer@kern.test", DEMO_PASSWORD_LEARNER),
)


def load_demo_accounts(session: Session) -> list[DemoLogin]:
    """Create the demo instructor and learner unless they exist; report their logins."""
    logins = []
    for role, name, email, password in DEMO_ACCOUNTS:
        exists = accounts.find_by_email(session, email) is not None
        if not exists:
            accounts.create_user(
                session, name=name, email=email, password=password, role=role, verified=True
            )
        logins.append(DemoLogin(role, name, email, password, created=not exists))
    return logins


def course_folders(courses_dir: Path = COURSES_DIR) -> list[Path]:
    """The package folders under `courses_dir`, in name order."""
    if not courses_dir.is_dir():
        return []
    entries = courses_dir.iterdir()
    return sorted(entry for entry in entries if entry.is_dir() and not entry.name.startswith("."))


def load_sample_courses(
    session: Session, course_packages: list[packages.CoursePackage]
) -> list[packages.ImportResult]:
    """Import the sample courses, owned by the demo instructor (load the demo accounts first)."""
    instructor = accounts.find_by_email(session, DEMO_INSTRUCTOR_EMAIL)
    if instructor is None:
        raise LookupError("the demo instructor does not exist; load the demo accounts first")
    return [
        packages.import_package(session, package, instructor=instructor)
        for package in course_packages
    ]
