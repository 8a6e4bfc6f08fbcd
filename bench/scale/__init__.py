"""Data at scale for the benchmark: `python -m bench.seed --learners 100000`.

Fills a database with the sample courses, twenty synthetic courses and N learners who enrolled
over the last year, opened and completed lessons as the drip schedule let them, and logged
practice. Everything is written in one transaction, so an interrupted run leaves nothing.
"""

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Connection, Engine, text
from sqlmodel import Session, col, select

from api import seed as sample
from api.accounts import passwords
from api.accounts.models import Role, User
from api.catalog import packages, steps
from api.catalog.models import Course, CourseStatus, Lesson, Module, Schedule, Step, StepKind
from api.config import get_settings
from api.db import WRITE_INTENT, utcnow
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.kit.ids import id_of
from api.media import imports as media_imports
from api.media.storage import storage_for
from bench.scale import plan
from bench.scale.bulk import BulkWriter, Row
from bench.scale.content import INSTRUCTORS, THEMES, synthetic_packages

DOMAIN = "scale.kern.test"
# Every scale account shares this password and one hash of it: argon2 takes ~0.1 s per hash by
# design, so hashing 100,000 passwords would take hours.
PASSWORD = "kern-bench-wachtwoord"  # noqa: S105 (a known password for test accounts)
BATCH = 2000  # learners per COPY: the progress bars move, memory stays small
# Popularity: the free sample course draws most learners, the synthetic ones fall off slowly.
SAMPLE_WEIGHTS = {"adem-en-ontspan": 6.0, "sterke-basis": 8.0}
FILLED_TABLES = (
    "consent",
    "mail_preference",
    "enrolment",
    "purchase_order",
    "lesson_progress",
    "practice_log",
)


class ScaleError(Exception):
    """The seed cannot run; the message is one line for the operator."""


class Tracker(Protocol):
    """Shows how far a phase is."""

    def start(self, phase: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


class _Silent:
    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


@dataclass
class Summary:
    """What the seed wrote, per table, and how long it took."""

    courses: int = 0
    instructors: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """One line per table: courses in the catalogue, instructors, then each filled table."""
        rows = {"course": self.courses, "instructors": self.instructors, **self.counts}
        return [f"  {name:<16} {count:>10,}" for name, count in rows.items()]


def run(
    engine: Engine,
    *,
    learners: int,
    seed: int = 1,
    now: datetime | None = None,
    tracker: Tracker | None = None,
) -> Summary:
    """Seed in one transaction, then refresh the planner's statistics.

    On PostgreSQL the filled tables are locked until the end: seed before starting the server.
    """
    started = time.perf_counter()
    # On SQLite the transaction takes the write lock at once instead of after the first reads.
    writing = engine.connect().execution_options(**{WRITE_INTENT: True})
    with writing as connection, connection.begin():
        summary = fill(connection, learners=learners, seed=seed, now=now, tracker=tracker)
    analyze(engine)
    summary.seconds = time.perf_counter() - started
    return summary


def fill(
    connection: Connection,
    *,
    learners: int,
    seed: int = 1,
    now: datetime | None = None,
    tracker: Tracker | None = None,
    synthetic_courses: int = len(THEMES),
) -> Summary:
    """Write the courses and `learners` learners in the connection's transaction.

    The moments are relative to `now`, by default the start of the current hour: the same seed
    in the same hour gives the same rows. Fewer synthetic courses make a quicker small seed.
    """
    now = now or utcnow().replace(minute=0, second=0, microsecond=0)
    if _already_seeded(connection):
        raise ScaleError(
            f"this database already has scale accounts (@{DOMAIN}); seed an empty database."
        )
    password_hash = passwords.hash_password(PASSWORD)
    with Session(bind=connection) as session:
        instructors = _instructors(session, password_hash, now)
        courses = _courses(session, instructors, synthetic_courses)
        session.flush()
    filler = _Filler(connection, seed, int(now.timestamp()), tracker or _Silent())
    return filler.fill(courses, learners, password_hash, instructors=len(instructors))


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics (and on PostgreSQL the visibility map) after the load."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        return
    # VACUUM cannot run in a transaction. Without it autovacuum would do the same work in the
    # middle of the benchmark that follows, and index-only scans would not be possible yet.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(
            f"VACUUM (ANALYZE) {', '.join(('user_account', *FILLED_TABLES))}"
        )


def _already_seeded(connection: Connection) -> bool:
    query = text("SELECT 1 FROM user_account WHERE email LIKE :pattern LIMIT 1")
    return connection.execute(query, {"pattern": f"%@{DOMAIN}"}).first() is not None


def _instructors(session: Session, password_hash: str, now: datetime) -> list[User]:
    """The synthetic courses' instructors (they set up two-step verification at first login)."""
    joined = now - timedelta(days=400)
    instructors = [
        User(
            email=f"{local}@{DOMAIN}",
            name=name,
            password_hash=password_hash,
            role=Role.instructor.value,
            email_verified_at=joined,
            created_at=joined,
        )
        for name, local in INSTRUCTORS
    ]
    session.add_all(instructors)
    session.flush()
    return instructors


def _courses(session: Session, instructors: list[User], synthetic: int) -> list[plan.CourseInfo]:
    """The sample courses and the synthetic ones, imported unless a course has their slug."""
    weights: dict[str, float] = {}
    for folder in sample.course_folders():
        try:
            package = packages.load_package(folder)
        except packages.PackageError as exc:
            raise ScaleError(exc.problems[0].located(folder)) from exc
        _import(session, package, instructors[0])
        weights[package.slug] = SAMPLE_WEIGHTS.get(package.slug, 5.0)
    for rank, (theme, package) in enumerate(synthetic_packages()[:synthetic]):
        _import(session, package, instructors[theme.instructor])
        weights[package.slug] = 6.0 / (1 + 0.3 * rank)
    return _catalogue(session, weights)


def _import(session: Session, package: packages.CoursePackage, instructor: User) -> None:
    # A course that exists (from `kern seed`, or edited in the studio) is used as it is.
    if session.exec(select(Course.id).where(Course.slug == package.slug)).first() is None:
        # The sample courses bring their drawings, stored where the server serves media from.
        media_imports.import_package(
            session,
            package,
            instructor=instructor,
            storage=storage_for(get_settings()),
            max_video_bytes=sample.SAMPLE_VIDEO_BYTES,
        )


def _catalogue(session: Session, weights: dict[str, float]) -> list[plan.CourseInfo]:
    """The published courses among `weights`, with their lessons in order and their
    practice steps, as the plan needs them."""
    found = session.exec(
        select(Course).where(
            col(Course.slug).in_(list(weights)), Course.status == CourseStatus.published
        )
    ).all()
    ids = [course.id for course in found]
    modules = {
        module.id: module
        for module in session.exec(select(Module).where(col(Module.course_id).in_(ids)))
    }
    lessons = session.exec(select(Lesson).where(col(Lesson.course_id).in_(ids))).all()
    practice: dict[int, list[Step]] = {}
    step_rows = session.exec(
        select(Step)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(col(Lesson.course_id).in_(ids), Step.kind != StepKind.text)
        .order_by(col(Step.lesson_id), col(Step.position))
    )
    for step in step_rows:
        practice.setdefault(step.lesson_id, []).append(step)
    by_course: dict[int, list[tuple[int, int, plan.LessonInfo]]] = {}
    for lesson in lessons:
        module = modules[lesson.module_id]
        info = plan.LessonInfo(
            id=id_of(lesson),
            unlock_after_days=module.unlock_after_days,
            minutes=lesson.estimated_minutes,
            file_video=lesson.video_provider == "file",
            steps=tuple(_step_info(step, lesson) for step in practice.get(id_of(lesson), [])),
        )
        by_course.setdefault(lesson.course_id, []).append((module.position, lesson.position, info))
    return [
        plan.CourseInfo(
            id=id_of(course),
            slug=course.slug,
            title=course.title,
            price_cents=course.price_cents,
            drip=course.schedule == Schedule.drip,
            instructor_id=course.instructor_id,
            weight=weights[course.slug],
            lessons=tuple(info for *_order, info in sorted(by_course.get(id_of(course), []))),
        )
        for course in sorted(found, key=lambda course: course.slug)
        if by_course.get(id_of(course))
    ]


def _step_info(step: Step, lesson: Lesson) -> plan.StepInfo:
    return plan.StepInfo(
        id=id_of(step),
        lesson_id=id_of(lesson),
        course_id=lesson.course_id,
        kind=step.kind,
        title=step.title or lesson.title,
        sets=step.sets or 0,
        reps=(step.reps or 0) * (step.sets or 1) or (step.cycles or 0),
        seconds=steps.total_seconds(step),
    )


RowsOf = Callable[[plan.Learner, int], list[Row]]


class _Filler:
    """The four phases, each with its progress bar: learners, enrolments, progress, practice."""

    def __init__(self, connection: Connection, seed: int, now: int, tracker: Tracker) -> None:
        self.connection, self.seed, self.now, self.tracker = connection, seed, now, tracker
        self.writer = BulkWriter(connection)
        self.counts: dict[str, int] = {}

    def fill(
        self, courses: list[plan.CourseInfo], learners: int, password_hash: str, *, instructors: int
    ) -> Summary:
        if not courses:
            raise ScaleError("there are no published courses with lessons to enrol in.")
        with self.writer.foreign_keys_checked_at_end(FILLED_TABLES):
            people = self._learners(courses, learners, password_hash)
            ids = self._learner_ids()
            self._phase("enrolments", people, ids, {
                "consent": lambda p, user: [plan.consent_row(p, user)],
                "enrolment": plan.enrolment_rows,
                "purchase_order": lambda p, user: plan.order_rows(self.seed, p, user),
                "mail_preference": self._preference,
            })  # fmt: skip
            self._phase("progress", people, ids, {
                "lesson_progress": lambda p, user: plan.progress_rows(self.seed, p, user, self.now),
            })  # fmt: skip
            self._phase("practice", people, ids, {
                "practice_log": lambda p, user: plan.practice_rows(self.seed, p, user, self.now),
            })  # fmt: skip
        return Summary(courses=len(courses), instructors=instructors, counts=self.counts)

    def _learners(
        self, courses: list[plan.CourseInfo], learners: int, password_hash: str
    ) -> list[plan.Learner]:
        """Plan every learner and write her account; the plans drive the other phases."""
        self.tracker.start("learners", learners)
        people: list[plan.Learner] = []
        for start in range(1, learners + 1, BATCH):
            batch = [
                plan.plan_learner(self.seed, number, courses, self.now)
                for number in range(start, min(start + BATCH, learners + 1))
            ]
            self._write("user_account", [plan.user_row(p, password_hash, self.now) for p in batch])
            people += batch
            self.tracker.advance(len(batch))
        return people

    def _phase(
        self,
        phase: str,
        people: Sequence[plan.Learner],
        ids: dict[int, int],
        tables: dict[str, RowsOf],
    ) -> None:
        """Write the tables' rows in batches of learners, one COPY per table and batch."""
        self.tracker.start(phase, len(people))
        for start in range(0, len(people), BATCH):
            batch = people[start : start + BATCH]
            for table, rows_of in tables.items():
                self._write(table, [row for p in batch for row in rows_of(p, ids[p.number])])
            self.tracker.advance(len(batch))

    def _write(self, table: str, rows: list[Row]) -> None:
        self.writer.write(table, rows)
        self.counts[table] = self.counts.get(table, 0) + len(rows)

    def _learner_ids(self) -> dict[int, int]:
        """Each learner's id by her number, read back after the database assigned them."""
        rows = self.connection.execute(
            text("SELECT id, email FROM user_account WHERE email LIKE :pattern"),
            {"pattern": f"learner%@{DOMAIN}"},
        )
        return {int(email[len("learner") : email.index("@")]): user_id for user_id, email in rows}

    def _preference(self, learner: plan.Learner, user_id: int) -> list[Row]:
        row = plan.preference_row(self.seed, learner, user_id, self.now)
        return [row] if row else []


@contextmanager
def progress_bars() -> Iterator[Tracker]:
    """One progress bar per phase on stderr, each left standing when it is done."""
    columns = (
        TextColumn("{task.description:<11}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("learners"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        yield _RichTracker(progress)


class _RichTracker:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: int | None = None

    def start(self, phase: str, total: int) -> None:
        self.task = self.progress.add_task(phase, total=total)

    def advance(self, count: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, count)  # type: ignore[arg-type]


def sample_learners(
    session: Session, course_slug: str, count: int, *, now: datetime | None = None
) -> list[int]:
    """Ids of up to `count` scale learners actively enrolled in the course whose first module is
    open, lowest ids first (the same ones on every call)."""
    now = now or utcnow()
    first_unlock = session.exec(
        select(Module.unlock_after_days)
        .join(Course, col(Course.id) == Module.course_id)
        .where(Course.slug == course_slug)
        .order_by(col(Module.position))
        .limit(1)
    ).first()
    # A module opens at Amsterdam midnight `unlock_after_days` after enrolment; a day more
    # is a safe margin whatever the hour or the clock change.
    enrolled_before = now - timedelta(days=(first_unlock or 0) + 1)
    query = (
        select(Enrolment.user_id)
        .join(Course, col(Course.id) == Enrolment.course_id)
        .join(User, col(User.id) == Enrolment.user_id)
        .where(
            Course.slug == course_slug,
            Enrolment.status == EnrolmentStatus.active,
            col(Enrolment.enrolled_at) <= enrolled_before,
            col(User.email).like(f"learner%@{DOMAIN}"),
        )
        .order_by(col(Enrolment.user_id))
        .limit(count)
    )
    return list(session.exec(query).all())
