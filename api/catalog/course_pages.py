"""The course page's and the catalog's data, each in one statement with the visitor's session.

As for the lesson page (api/catalog/lesson_page.py): a round trip to PostgreSQL and the ORM's
bookkeeping around a statement cost a page more than the work PostgreSQL does for it, so each
page reads what it shows in one statement (docs/performance.md#one-statement-per-page). The
lists (her progress, the self-tests, the coming cohorts, the catalog's courses) come as JSON
beside the main row and become plain records. Who may see what is decided by the same service
functions as everywhere (catalog.service).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, literal
from sqlalchemy import select as sa_select
from sqlalchemy.orm import join as orm_join
from sqlmodel import Session, col

from api.accounts import sessions
from api.accounts.models import AuthSession, User
from api.accounts.sessions import Visitor
from api.accounts.tokens import digest
from api.catalog import service
from api.catalog.models import Course, CourseStatus, InstructorProfile
from api.catalog.packages.schema import SLUG
from api.clock import local_day
from api.cohorts import service as cohort_service
from api.cohorts.service import ComingCohort
from api.config import Settings
from api.db import json_rows
from api.enrolment.models import Enrolment
from api.kit.plain import Columns, PlainSelect, columns_of, loaded, width
from api.progress.service import ProgressRecord, progress_json, records_from_json
from api.questionnaires import selftest
from api.questionnaires.selftest import SelfTestLink


@dataclass(frozen=True, slots=True)
class CourseRead:
    """What the course page's statement found: the visitor, and the course's row and lists."""

    visitor: Visitor
    course: Course
    instructor: User
    profile: InstructorProfile | None
    takes_intakes: bool
    # Hers, if she is signed in and has one (whatever its status).
    enrolment: Enrolment | None
    progress: dict[int, ProgressRecord]
    # The public self-tests, in the order of `selftest.published_links`.
    self_tests: list[SelfTestLink]
    # The course's coming cohorts, soonest first (whether it runs in cohorts or not).
    cohorts: list[ComingCohort]


def with_visitor(course: Any) -> Any:
    """`course` (a join from the course table) with the visitor's session and account and her
    enrolment in the course (by (course, user)), outer joined."""
    return sessions.with_session(course).outerjoin(
        Enrolment,
        and_(
            col(Enrolment.course_id) == Course.id,
            col(Enrolment.user_id) == AuthSession.user_id,
        ),
    )


# What no statement with `with_visitor` but the course page's own reads of a course: its long
# texts (two of them JSON, parsed on every read). Not read, so neither sent nor turned into
# Python objects; code that touches one gets an error in the tests instead of a silent extra
# statement.
COURSE_PAGE_TEXTS = ("description", "outcomes", "faq", "testimonials", "cover_alt")

# What the lesson page, Vandaag and the two busiest writes read of a course, its instructor (not
# her secrets) and the learner's enrolment, in this order, as plain reads
# (docs/performance.md#plain-reads).
COURSE_TABLES = (
    Columns(Course, leaving_out=COURSE_PAGE_TEXTS),
    Columns(User, leaving_out=sessions.ACCOUNT_SECRETS),
    Columns(Enrolment),
)

# What the course page reads of each table (all of the course, not the instructor's secrets),
# as a plain read (docs/performance.md#plain-reads), and where in its row the other columns are.
_COURSE_PAGE_TABLES = (
    Columns(Course),
    Columns(User, leaving_out=sessions.ACCOUNT_SECRETS),
    Columns(InstructorProfile),
    Columns(Enrolment),
)
_TAKES_INTAKES = width(_COURSE_PAGE_TABLES)
_LISTS = _TAKES_INTAKES + 1 + len(sessions.VISITOR_COLUMNS)

# Built once: every course page runs it. The course by its slug, its instructor with her profile,
# the visitor's session, account and enrolment (by (course, user)); the lists are correlated
# subqueries on their indexes.
_COURSE_PAGE = PlainSelect(
    sa_select(
        *columns_of(_COURSE_PAGE_TABLES),
        service.TAKES_INTAKES,
        *sessions.VISITOR_COLUMNS,
        progress_json(Course.id, AuthSession.user_id).label("progress"),
        selftest.links_json(with_bands=True).label("self_tests"),
        cohort_service.coming_json(Course.id).label("cohorts"),
    )
    .select_from(
        with_visitor(
            orm_join(Course, User, col(User.id) == Course.instructor_id).outerjoin(
                InstructorProfile, col(InstructorProfile.user_id) == Course.instructor_id
            )
        )
    )
    .where(col(Course.slug) == bindparam("slug"))
)


def read_course(
    session: Session,
    settings: Settings,
    *,
    token: str | None,
    slug: str,
    now: datetime,
    language: str,
) -> CourseRead | None:
    """The visitor behind `token` and the course page's data (one statement; an expired session
    is removed, a used one touched, as `sessions.resolve` does); None when there is no such
    course. `language`: the page's, whose self-tests come first."""
    if not SLUG.fullmatch(slug):
        # Not a slug any course can have (PostgreSQL would even refuse a NUL in it).
        return None
    row = _COURSE_PAGE.first(
        session,
        {
            "slug": slug,
            "token_hash": digest(token) if token else None,
            "today": local_day(now),
        },
    )
    if row is None:
        return None
    course, instructor, profile, enrolment = loaded(_COURSE_PAGE_TABLES, row)
    visitor = sessions.admit_plain(session, settings, row, start=_TAKES_INTAKES + 1)
    progress, self_tests, cohorts = row[_LISTS:]
    signed_in = visitor.signed_in is not None
    return CourseRead(
        visitor=visitor,
        course=course,
        instructor=instructor,
        profile=profile,
        takes_intakes=bool(row[_TAKES_INTAKES]),
        enrolment=enrolment if signed_in else None,
        progress=records_from_json(progress) if signed_in else {},
        self_tests=selftest.links_from_json(self_tests, language=language),
        cohorts=cohort_service.coming_from_json(cohorts),
    )


# The catalog's cards are its kept list's key (web/pages/catalog.py `course_list`), hashed and
# compared on every request: as named tuples that is done in C, as frozen dataclasses by a
# Python method per card (docs/performance.md#rendered-fragments).
class CourseCard(NamedTuple):
    """A published course as the catalog lists it: plain values for its card."""

    slug: str
    title: str
    subtitle: str
    language: str
    price_cents: int
    cover_image: str | None
    cover_alt: str | None

    @property
    def is_free(self) -> bool:
        return self.price_cents == 0


class Teacher(NamedTuple):
    """Who teaches a course on its card."""

    name: str


@dataclass(frozen=True, slots=True)
class CatalogRead:
    """What the catalog's statement found: the visitor, the courses and the self-tests."""

    visitor: Visitor
    # Newest first, as `service.list_published` gives them: (course, instructor).
    courses: list[tuple[CourseCard, Teacher]]
    self_tests: list[SelfTestLink]


_course = Course.__table__  # type: ignore[attr-defined]
_user = User.__table__  # type: ignore[attr-defined]
_published = (
    sa_select(
        _course.c.slug,
        _course.c.title,
        _course.c.subtitle,
        _course.c.language,
        _course.c.price_cents,
        _course.c.cover_image,
        _course.c.cover_alt,
        _user.c.name,
        # The order of `service.list_published`, as JSON has none.
        func.row_number()
        .over(order_by=(_course.c.published_at.desc().nulls_last(), _course.c.id.desc()))
        .label("place"),
    )
    .select_from(_course.join(_user, _user.c.id == _course.c.instructor_id))
    .where(_course.c.status == CourseStatus.published.value)
    .subquery("published")
)

# Built once, like the course page's: one row whoever asks, with her session when the cookie
# finds one.
_CATALOG = PlainSelect(
    sa_select(
        *sessions.VISITOR_COLUMNS,
        sa_select(json_rows(*_published.c)).scalar_subquery().label("courses"),
        selftest.links_json(with_bands=False).label("self_tests"),
    ).select_from(sessions.with_session(sa_select(literal(1).label("one")).subquery("page")))
)


def read_catalog(
    session: Session, settings: Settings, *, token: str | None, language: str
) -> CatalogRead:
    """The visitor behind `token`, every published course and the public self-tests (one
    statement; the session is admitted as `sessions.resolve` does)."""
    [row] = _CATALOG.rows(session, {"token_hash": digest(token) if token else None})
    visitor = sessions.admit_plain(session, settings, row, start=0)
    courses, self_tests = row[len(sessions.VISITOR_COLUMNS) :]
    ordered = sorted(courses or (), key=lambda found: found[8])
    return CatalogRead(
        visitor=visitor,
        courses=[(CourseCard(*found[:7]), Teacher(found[7])) for found in ordered],
        self_tests=selftest.links_from_json(self_tests, language=language),
    )
