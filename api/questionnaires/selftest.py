"""The public self-test around the questionnaire core: where it is offered, the course a result
suggests, and the signed token that carries a result she may keep.

Nothing she answers is stored while she takes the test: the answers travel in the pages' forms,
and a result she wants to keep travels in a token signed with SECRET_KEY (HMAC-SHA256 from the
standard library, as api/mail/unsubscribe.py signs its links), through her sign-up if need be,
until she is signed in, has given her consent and confirms.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, null
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course, CourseStatus
from api.catalog.packages.schema import SLUG
from api.config import Settings
from api.db import json_rows
from api.kit.ids import id_of
from api.questionnaires import service
from api.questionnaires.models import Questionnaire, QuestionnaireStatus
from api.questionnaires.scoring import Answers, Result
from api.questionnaires.service import SelfTest, definition_of

# How long a result can still be kept: long enough to sign up and open the mailed link.
KEEP_LIFETIME = timedelta(hours=24)
# A browser keeps a cookie of about 4 KB; a longer token is refused rather than lost silently.
MAX_TOKEN_LENGTH = 3800
_PURPOSE = b"kern-self-test-keep:"
MAX_SLUG_LENGTH = 80  # Questionnaire.slug


# --- where the self-tests are offered ----------------------------------------------------------


@dataclass(frozen=True)
class SelfTestLink:
    """A published self-test as a call to action: its address and the courses it concerns."""

    slug: str
    title: str
    language: str
    course_slug: str  # the course that carries it
    recommends: frozenset[str]  # the course slugs its bands suggest

    def concerns(self, course_slug: str) -> bool:
        """Whether the course carries this test or one of its bands suggests the course."""
        return course_slug == self.course_slug or course_slug in self.recommends


_PUBLISHED_TESTS = (
    select(Questionnaire, Course.slug)
    .join(Course, col(Course.id) == Questionnaire.course_id)
    .where(
        col(Questionnaire.self_test).is_(True),
        Questionnaire.status == QuestionnaireStatus.published,
        Course.status == CourseStatus.published,
    )
    .order_by(col(Questionnaire.title), col(Questionnaire.id))
)


_questionnaire = Questionnaire.__table__  # type: ignore[attr-defined]
_course = Course.__table__  # type: ignore[attr-defined]


def links_json(*, with_bands: bool) -> Any:
    """The public self-tests as a `json_rows` subquery, for a page that reads them beside its
    main row (docs/performance.md#one-statement-per-page); read it with `links_from_json`.
    `with_bands`: with each test's bands, whose courses `SelfTestLink.concerns` looks at."""
    ranked = (
        sa_select(
            _questionnaire.c.slug,
            _questionnaire.c.title,
            _questionnaire.c.language,
            _course.c.slug.label("course_slug"),
            _questionnaire.c.bands if with_bands else null(),
            # The order of `published_links` (the database's, by title), as JSON has none.
            func.row_number()
            .over(order_by=(_questionnaire.c.title, _questionnaire.c.id))
            .label("place"),
        )
        .select_from(_questionnaire.join(_course, _course.c.id == _questionnaire.c.course_id))
        .where(
            _questionnaire.c.self_test.is_(True),
            _questionnaire.c.status == QuestionnaireStatus.published.value,
            _course.c.status == CourseStatus.published.value,
        )
        .subquery("self_tests")
    )
    return sa_select(json_rows(*ranked.c)).scalar_subquery()


def links_from_json(rows: list[list[Any]] | None, *, language: str) -> list[SelfTestLink]:
    """The self-tests of `links_json`, in the order of `published_links`."""
    ordered = sorted(rows or (), key=lambda row: (row[2] != language, row[5]))
    return [
        SelfTestLink(
            slug=slug,
            title=title,
            language=test_language,
            course_slug=course_slug,
            recommends=_band_courses(bands),
        )
        for slug, title, test_language, course_slug, bands, _place in ordered
    ]


def _band_courses(bands: list[dict[str, Any]] | str | None) -> frozenset[str]:
    # SQLite hands a JSON value that passed through a subquery on as text, PostgreSQL as JSON.
    parsed = json.loads(bands) if isinstance(bands, str) else bands
    return frozenset(band["course"] for band in parsed or () if band.get("course"))


def published_links(session: Session, *, language: str) -> list[SelfTestLink]:
    """Every public self-test, those in `language` first, then by title (one statement)."""
    links = []
    for questionnaire, course_slug in session.exec(_PUBLISHED_TESTS).all():
        definition = definition_of(questionnaire)
        links.append(
            SelfTestLink(
                slug=questionnaire.slug,
                title=questionnaire.title,
                language=questionnaire.language,
                course_slug=course_slug,
                recommends=frozenset(band.course for band in definition.bands if band.course),
            )
        )
    # sorted() keeps the title order within each language group.
    return sorted(links, key=lambda link: link.language != language)


def find(session: Session, *, slug: str, viewer: User | None) -> SelfTest | None:
    """The self-test at /test/<slug> for this viewer; None for a slug no test can have."""
    if not SLUG.fullmatch(slug) or len(slug) > MAX_SLUG_LENGTH:
        # PostgreSQL would refuse some texts (a NUL) before saying it found nothing.
        return None
    return service.self_test(session, slug=slug, viewer=viewer)


def is_public(test: SelfTest) -> bool:
    """Whether strangers see it (else its instructor or an admin is trying it out)."""
    return (
        test.questionnaire.status == QuestionnaireStatus.published
        and test.course.status == CourseStatus.published
    )


def recommended_course(
    session: Session, *, test: SelfTest, result: Result
) -> tuple[Course, User] | None:
    """The published course her band suggests, with its instructor; None with a warning sign,
    without a suggestion, or when that course is not (or no longer) published. The course must
    be the instructor's own: a band cannot point at somebody else's."""
    slug = result.recommended_course
    if slug is None:
        return None
    row = session.exec(
        select(Course, User)
        .join(User, col(User.id) == Course.instructor_id)
        .where(
            Course.slug == slug,
            Course.status == CourseStatus.published,
            Course.instructor_id == test.course.instructor_id,
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


# --- the result she may keep -------------------------------------------------------------------


@dataclass(frozen=True)
class KeptResult:
    """What a keep token carries: which test, her answers as stored, and the result's nonce."""

    questionnaire_id: int
    answers: dict[str, Any]
    nonce: str

    @property
    def occasion(self) -> str:
        """The measurement's occasion: keeping the same result twice stores it once."""
        return f"self-test:{self.nonce}"


def new_nonce() -> str:
    """The identity of one shown result."""
    return secrets.token_urlsafe(12)


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signature(settings: Settings, body: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    return _encode(hmac.new(key, _PURPOSE + body.encode(), hashlib.sha256).digest())


def keep_token(
    settings: Settings,
    *,
    questionnaire: Questionnaire,
    answers: Answers,
    nonce: str,
    now: datetime,
) -> str:
    """A signed token of her answers to this test, valid for KEEP_LIFETIME."""
    payload = {
        "q": id_of(questionnaire),
        "a": answers,
        "n": nonce,
        "e": int((now + KEEP_LIFETIME).timestamp()),
    }
    body = _encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_signature(settings, body)}"


def read_keep_token(settings: Settings, token: str, *, now: datetime) -> KeptResult | None:
    """The result a token carries; None when it was not made by this Kern, was changed, or
    expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    body, _, signature = token.partition(".")
    if not hmac.compare_digest(signature.encode(), _signature(settings, body).encode()):
        return None
    payload = _payload(body)
    questionnaire_id, answers, nonce, expires = (payload.get(k) for k in ("q", "a", "n", "e"))
    if not (
        isinstance(questionnaire_id, int)
        and isinstance(answers, dict)
        and isinstance(nonce, str)
        and isinstance(expires, int)
        and now.timestamp() <= expires
    ):
        return None
    return KeptResult(questionnaire_id=questionnaire_id, answers=answers, nonce=nonce)


def _payload(body: str) -> dict[str, Any]:
    """The signed part as it was made; empty when it cannot be read (no token of this Kern)."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def belongs_to(kept: KeptResult, test: SelfTest) -> bool:
    """Whether the kept result is one of this test's."""
    return kept.questionnaire_id == id_of(test.questionnaire)
