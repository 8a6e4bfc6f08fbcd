"""Sample data for development: the demo accounts, the sample courses in courses/ and the
sample articles in articles/."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from api.accounts import service as accounts
from api.accounts.models import Role, User
from api.articles import files as article_files
from api.articles.models import Article
from api.catalog import packages
from api.catalog import service as catalog
from api.catalog.models import StepKind
from api.config import ROOT
from api.consent import service as consent_service
from api.consent.texts import HEALTH_DATA_VERSION
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.errors import NotFound
from api.kit.ids import id_of
from api.media import imports as media_imports
from api.media.files import MB
from api.media.storage import MediaStorage
from api.practice_identity import service as identity_service
from api.progress import practice
from api.progress import service as progress_service
from api.terms import service as terms_service

COURSES_DIR = ROOT / "courses"
ARTICLES_DIR = ROOT / "articles"
# The sample courses bring small drawings only; a video in them would be a mistake.
SAMPLE_VIDEO_BYTES = 50 * MB
DEMO_INSTRUCTOR_EMAIL = "instructeur@kern.test"
DEMO_LEARNER_EMAIL = "deelnemer@kern.test"

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
    (Role.learner, "Lotte Jansen", DEMO_LEARNER_EMAIL, DEMO_PASSWORD_LEARNER),
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


# A made-up practice for development: the footer and the privacy statement show it.
DEMO_PRACTICE = identity_service.IdentityForm(
    trading_name="Bekkenpraktijk De Kern (demo)",
    street_address="Oudegracht 100",
    postcode="3511 AX",
    city="Utrecht",
    country="Nederland",
    email="praktijk@kern.test",
    phone="030 123 45 67",
    kvk_number="12345678",
    vat_number="NL123456789B01",
)


def load_demo_practice(session: Session) -> None:
    """Fill in the demo practice's details unless an admin already filled in real ones."""
    if identity_service.read(session) is None:
        identity_service.save(session, form=DEMO_PRACTICE, now=utcnow())


SAMPLE_TERMS = Path(terms_service.__file__).with_name("samples")


def load_demo_terms(session: Session) -> None:
    """The sample terms of sale (an example for the practice to review) unless there are some."""
    if terms_service.current(session) is None:
        form = terms_service.TermsForm(
            body_nl=(SAMPLE_TERMS / "nl.md").read_text(encoding="utf-8"),
            body_en=(SAMPLE_TERMS / "en.md").read_text(encoding="utf-8"),
        )
        terms_service.save(session, form=form, user=None, now=utcnow())


def course_folders(courses_dir: Path = COURSES_DIR) -> list[Path]:
    """The package folders under `courses_dir`, in name order."""
    if not courses_dir.is_dir():
        return []
    entries = courses_dir.iterdir()
    return sorted(entry for entry in entries if entry.is_dir() and not entry.name.startswith("."))


def load_sample_courses(
    session: Session, course_packages: list[packages.CoursePackage], *, storage: MediaStorage
) -> list[packages.ImportResult]:
    """Import the sample courses with their drawings, owned by the demo instructor, and let the
    demo learner follow them (load the demo accounts first)."""
    instructor = accounts.find_by_email(session, DEMO_INSTRUCTOR_EMAIL)
    if instructor is None:
        raise LookupError("the demo instructor does not exist; load the demo accounts first")
    results = [
        media_imports.import_package(
            session,
            package,
            instructor=instructor,
            storage=storage,
            max_video_bytes=SAMPLE_VIDEO_BYTES,
        )
        for package in course_packages
    ]
    load_demo_learning(session, now=utcnow())
    return results


def load_sample_articles(
    session: Session, *, storage: MediaStorage, articles_dir: Path = ARTICLES_DIR
) -> list[Article]:
    """Import the sample articles (create or update by slug), written by the demo instructor
    unless a file names another author who exists (load the demo accounts first)."""
    instructor = accounts.find_by_email(session, DEMO_INSTRUCTOR_EMAIL)
    return [
        article_files.import_file(session, path, storage=storage, author=instructor)
        for path in article_files.article_files(articles_dir)
    ]


# The demo learner follows both sample courses as if she enrolled this many days ago: in the drip
# course two weeks are open and the third opens in a few days.
DEMO_ENROLLED_DAYS_AGO = 9
# (course, how she got in, note, lessons completed), the most recently followed course last.
DEMO_COURSES = (
    ("adem-en-ontspan", EnrolmentSource.free, "", 2),
    ("sterke-basis", EnrolmentSource.manual, "demo", 4),
)
# Practices on recent days (days ago), so "Vandaag" shows a streak and a week with gaps.
DEMO_PRACTICE_DAYS = (0, 1, 2, 4, 6)


def load_demo_learning(session: Session, *, now: datetime) -> None:
    """Enrol the demo learner in the sample courses with some lessons done and some practice.

    Only when she is not enrolled yet: `kern seed` runs at every `make run`, and what she did in
    the demo since (a lesson undone, a practice logged) stays as she left it.
    """
    learner = accounts.find_by_email(session, DEMO_LEARNER_EMAIL)
    if learner is None:
        return
    for order, (slug, source, note, completed) in enumerate(DEMO_COURSES):
        try:
            outline = catalog.outline(session, slug=slug, viewer=learner, now=now)
        except NotFound:
            continue  # a seed without the sample courses
        if outline.enrolment is not None:
            continue
        enrolment = enrolment_service.grant(
            session, user_id=learner.id, course_id=outline.course.id, source=source, note=note
        )
        enrolment.enrolled_at = now - timedelta(days=DEMO_ENROLLED_DAYS_AGO)
        session.add(enrolment)
        session.flush()
        # The course listed last was opened last: "Vandaag" suggests going on there.
        opened_at = now - timedelta(hours=len(DEMO_COURSES) - 1 - order)
        _demo_progress(
            session, learner, slug=slug, completed=completed, now=now, opened_at=opened_at
        )


def _demo_progress(
    session: Session,
    learner: User,
    *,
    slug: str,
    completed: int,
    now: datetime,
    opened_at: datetime,
) -> None:
    """The first `completed` lessons done on past days, the next one opened at `opened_at`,
    and a few practices of their exercises."""
    user_id = id_of(learner)
    outline = catalog.outline(session, slug=slug, viewer=learner, now=now)
    done = outline.lessons[:completed]
    for index, lesson in enumerate(done):
        moment = now - timedelta(days=DEMO_ENROLLED_DAYS_AGO - 1 - index)
        progress_service.complete(session, user_id=user_id, lesson=lesson, now=moment)
    if len(outline.lessons) > completed:
        progress = progress_service.read(session, outline=outline, user_id=user_id)
        lesson = outline.lessons[completed]
        progress_service.record_visit(
            session, progress=progress, user_id=user_id, lesson=lesson, now=opened_at
        )
    steps = [
        step
        for lesson in done
        for step in catalog.lesson_view(
            session, slug=slug, lesson_slug=lesson.slug, viewer=learner, now=now
        ).steps
        if step.kind != StepKind.text
    ]
    if steps and not _may_keep_practice(session, learner, now=now):
        return
    for number, days_ago in enumerate(DEMO_PRACTICE_DAYS if steps else ()):
        step = steps[number % len(steps)]
        entry = practice.PracticeInput(
            client_id=f"seed-{slug}-{number}",
            step_id=id_of(step),
            practised_at=now - timedelta(days=days_ago, minutes=20 + 7 * number),
            duration_seconds=240 + 30 * number,
            sets_done=step.sets or 0,
            reps_done=(step.reps or 0) * (step.sets or 1) or (step.cycles or 0),
            effort=2 + number % 3 if step.kind == StepKind.exercise else None,
        )
        practice.log(session, user=learner, entry=entry, now=now)


def _may_keep_practice(session: Session, learner: User, *, now: datetime) -> bool:
    """The demo learner agreed to keeping her practice when she enrolled, unless she withdrew
    in the demo since: that choice stands."""
    if consent_service.has_health_consent(learner):
        return True
    if consent_service.health_consent_withdrawn(learner):
        return False
    consent_service.give_health_consent(
        session,
        user=learner,
        version=HEALTH_DATA_VERSION,
        language=learner.language,
        now=now - timedelta(days=DEMO_ENROLLED_DAYS_AGO),
    )
    return True
