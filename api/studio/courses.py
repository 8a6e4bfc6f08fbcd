"""Writing courses in the studio: the course form, its status, and deleting it.

Every function checks all of its input before it changes anything, so a refused form leaves
the database as it was. The limits mirror the course-package format
(api/catalog/packages/schema.py), so whatever the studio saves can be exported and imported.
"""

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog import service as catalog
from api.catalog.models import MAX_PRICE_CENTS, Course, CourseStatus, Lesson, Schedule
from api.catalog.packages.schema import (
    DEFAULT_INACTIVE_DAYS,
    INACTIVE_DAYS,
    SLUG_LENGTH,
    is_slug,
)
from api.db import utcnow
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.errors import Conflict, FormError
from api.i18n import LANGUAGE_NAMES, format_price, ngettext
from api.i18n import gettext as _
from api.kit.slugs import slugify
from api.payments import plans
from api.payments.models import Order
from api.progress.models import LessonProgress, PracticeLog
from api.questionnaires.models import CheckIn, Measurement, Questionnaire

TITLE_LENGTH = 200
SUBTITLE_LENGTH = 300
OUTCOME_LENGTH = 300
MAX_OUTCOMES = 20
MARKDOWN_LENGTH = 50_000  # as `Markdown` in the package schema
# Stripe refuses euro payments below 50 cents, so a lower price could never be paid.
MIN_PAID_CENTS = 50
# "/studio/courses/new" is the new-course form, so no course may take that address.
RESERVED_SLUGS = frozenset({"new"})

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # keeps tab and newline
# Whole euros, optionally grouped by thousands (1.250 / 1,250 / 1 250), then 1–2 decimals.
_PRICE = re.compile(r"^(\d+|\d{1,3}(?:[., ]\d{3})+)(?:[.,](\d{1,2}))?$")
_CURRENCY = re.compile(r"€|\beur(?:o|os)?\b", re.IGNORECASE)


class CourseForm(BaseModel):
    """The course form as typed: every field a string, checked when saved."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str = ""
    subtitle: str = ""
    slug: str = ""
    description: str = ""
    price: str = ""
    language: str = "nl"
    schedule: str = Schedule.all_at_once.value
    outcomes: str = ""
    inactive_after_days: str = str(DEFAULT_INACTIVE_DAYS)
    # The payment plan: N monthly instalments (empty: none) and, optionally, each one's amount.
    plan_instalments: str = ""
    plan_instalment: str = ""

    @classmethod
    def of(cls, course: Course) -> "CourseForm":
        """The form filled in with the course as it is stored."""
        return cls(
            title=course.title,
            subtitle=course.subtitle,
            slug=course.slug,
            description=course.description,
            price=price_input(course.price_cents),
            language=course.language,
            schedule=course.schedule,
            outcomes="\n".join(course.outcomes),
            inactive_after_days=str(course.inactive_after_days),
            plan_instalments=str(course.plan_instalments) if course.plan_instalments else "",
            plan_instalment=(
                price_input(course.plan_instalment_cents) if course.plan_instalment_cents else ""
            ),
        )

    def values(self) -> dict[str, str]:
        """The typed values, to show again in the form."""
        return self.model_dump()


@dataclass(frozen=True)
class CourseRow:
    """A course in the studio's list."""

    course: Course
    instructor: User
    learners: int


@dataclass(frozen=True)
class Overview:
    """What the studio's course page shows besides the form."""

    course: Course
    modules: list[catalog.ModuleOutline]
    learners: int

    @property
    def lesson_count(self) -> int:
        return sum(len(part.lessons) for part in self.modules)


# --- reading the form -----------------------------------------------------------------------


def clean_line(text: str) -> str:
    """One line of text: control characters (which PostgreSQL may refuse) removed."""
    return " ".join(_CONTROL.sub("", text).split())


def clean_text(text: str) -> str:
    """A multi-line text with Unix line ends and without control characters."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def price_input(cents: int) -> str:
    """A price as the form shows it: "49,95", "49" or "0"."""
    euros, rest = divmod(cents, 100)
    return f"{euros},{rest:02d}" if rest else str(euros)


def parse_price(text: str) -> int:
    """Euro cents for a price as people type it: 49, 49,95, 49.95, € 49,- or 1.250,00."""
    cleaned = _CURRENCY.sub("", text.replace("\u00a0", " ")).strip()
    cleaned = re.sub(r"[.,]\s*[-–—]+$", "", cleaned).strip()  # "49,-" means whole euros
    if not cleaned:
        return 0
    if cleaned[0] in "-−–":
        raise FormError({"price": _("A price cannot be negative. Enter 0 for a free course.")})
    match = _PRICE.match(cleaned)
    if match is None:
        raise FormError({"price": _("Enter the price in euros, for example 49 or 49,95.")})
    euros = re.sub(r"\D", "", match.group(1))
    cents = int(euros[-9:]) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if len(euros) > 9 or cents > MAX_PRICE_CENTS:
        raise FormError(
            {"price": _("The price can be at most %(max)s.", max=format_price(MAX_PRICE_CENTS))}
        )
    if 0 < cents < MIN_PAID_CENTS:
        minimum = format_price(MIN_PAID_CENTS)
        raise FormError({"price": _("A paid course costs at least %(min)s.", min=minimum)})
    return cents


def parse_inactive_days(text: str) -> int:
    """The days without activity after which a learner needs attention: a whole number 1–365."""
    cleaned = text.strip()
    if not cleaned:
        return DEFAULT_INACTIVE_DAYS
    if (
        not cleaned.isascii()
        or not cleaned.isdigit()
        or not (INACTIVE_DAYS[0] <= int(cleaned) <= INACTIVE_DAYS[1])
    ):
        raise FormError(
            {
                "inactive_after_days": _(
                    "Enter a whole number of days from %(min)s to %(max)s, for example 7.",
                    min=INACTIVE_DAYS[0],
                    max=INACTIVE_DAYS[1],
                )
            }
        )
    return int(cleaned)


def first_free(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3` … whichever is not taken, within the slug length."""
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = base[: SLUG_LENGTH[1] - len(suffix)].rstrip("-") + suffix
    return candidate


def slug_from(title: str) -> str:
    """A course web address from its title: "Sterke basis, week 1" → "sterke-basis-week-1"."""
    slug = slugify(title, max_length=SLUG_LENGTH[1])
    return slug if len(slug) >= SLUG_LENGTH[0] else f"cursus-{slug}".strip("-")


def _slug_taken(session: Session, slug: str, course: Course | None) -> bool:
    other = session.exec(select(Course.id).where(Course.slug == slug)).first()
    return slug in RESERVED_SLUGS or (other is not None and (course is None or other != course.id))


def _free_slug(session: Session, base: str, course: Course | None) -> str:
    """`base`, or `base-2`, `base-3` … when another course has it (one query)."""
    taken = set(session.exec(select(Course.slug).where(col(Course.slug).startswith(base))).all())
    if course is not None:
        taken.discard(course.slug)
    return first_free(base, taken | RESERVED_SLUGS)


def _choose_slug(session: Session, typed: str, title: str, course: Course | None) -> str:
    """The typed slug when it is valid and free, else FormError; from the title when empty."""
    slug = typed.strip().lower()
    if not slug:
        return _free_slug(session, slug_from(title), course)
    if not is_slug(slug):
        raise FormError(
            {
                "slug": _(
                    "Use only lowercase letters a–z, digits and single hyphens, 3 to 80 "
                    "characters, for example sterke-basis."
                )
            }
        )
    if _slug_taken(session, slug, course):
        raise FormError(
            {
                "slug": _(
                    "Another course already uses this web address. Choose another one, or leave "
                    "the field empty to make one from the title."
                )
            }
        )
    return slug


def _outcomes(text: str, errors: dict[str, str]) -> list[str]:
    outcomes = [line for line in (clean_line(row) for row in text.splitlines()) if line]
    if len(outcomes) > MAX_OUTCOMES:
        errors["outcomes"] = _("Keep it to at most %(max)s points.", max=MAX_OUTCOMES)
    elif any(len(line) > OUTCOME_LENGTH for line in outcomes):
        errors["outcomes"] = _("Each point can be at most %(max)s characters.", max=OUTCOME_LENGTH)
    return outcomes


def _plan(form: CourseForm, price_cents: int, errors: dict[str, str]) -> dict[str, object]:
    """The payment plan's values (api/payments/plans.py), or its fields' errors."""
    try:
        each = parse_price(form.plan_instalment) if form.plan_instalment.strip() else None
    except FormError as exc:
        errors["plan_instalment"] = next(iter(exc.fields.values()))
        return {}
    try:
        n, amount = plans.parse_plan(price_cents, form.plan_instalments, each)
    except FormError as exc:
        errors.update(exc.fields)
        return {}
    return {"plan_instalments": n, "plan_instalment_cents": amount}


def _checked(form: CourseForm, session: Session, course: Course | None) -> dict[str, object]:
    """The course's new values; FormError naming every field that is not right."""
    errors: dict[str, str] = {}
    title, subtitle = clean_line(form.title), clean_line(form.subtitle)
    description = clean_text(form.description)
    if not title:
        errors["title"] = _("Give the course a title.")
    elif len(title) > TITLE_LENGTH:
        errors["title"] = _("The title can be at most %(max)s characters.", max=TITLE_LENGTH)
    if len(subtitle) > SUBTITLE_LENGTH:
        errors["subtitle"] = _(
            "The subtitle can be at most %(max)s characters.", max=SUBTITLE_LENGTH
        )
    if len(description) > MARKDOWN_LENGTH:
        errors["description"] = _(
            "The text can be at most %(max)s characters.", max=MARKDOWN_LENGTH
        )
    if form.language not in LANGUAGE_NAMES:
        errors["language"] = _("Choose a language from the list.")
    if form.schedule not in {item.value for item in Schedule}:
        errors["schedule"] = _("Choose how the modules open.")
    outcomes = _outcomes(form.outcomes, errors)
    values: dict[str, object] = {}
    for name, read in (
        ("price_cents", lambda: parse_price(form.price)),
        ("inactive_after_days", lambda: parse_inactive_days(form.inactive_after_days)),
        ("slug", lambda: _choose_slug(session, form.slug, title or "cursus", course)),
    ):
        try:
            values[name] = read()
        except FormError as exc:
            errors.update(exc.fields)
    if "price_cents" in values:
        values |= _plan(form, int(str(values["price_cents"])), errors)
    if errors:
        raise FormError(errors)
    return values | {
        "title": title,
        "subtitle": subtitle,
        "description": description,
        "language": form.language,
        "schedule": form.schedule,
        "outcomes": outcomes,
    }


# --- courses --------------------------------------------------------------------------------


def list_courses(session: Session, *, viewer: User) -> list[CourseRow]:
    """The viewer's courses (an admin's: all), newest change first, with active learners."""
    learners = (
        select(func.count())
        .where(Enrolment.course_id == Course.id, Enrolment.status == EnrolmentStatus.active)
        .correlate(Course)
        .scalar_subquery()
    )
    query = select(Course, User, learners).join(User, col(User.id) == Course.instructor_id)
    if viewer.role != Role.admin:
        query = query.where(Course.instructor_id == viewer.id)
    rows = session.exec(query.order_by(col(Course.updated_at).desc(), col(Course.id).desc()))
    return [CourseRow(course, instructor, count) for course, instructor, count in rows.all()]


def _active_learners(session: Session, course: Course) -> int:
    return session.exec(
        select(func.count()).where(
            Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.active
        )
    ).one()


def overview(session: Session, *, course: Course) -> Overview:
    """The course with its modules and lessons in order, and its number of active learners."""
    return Overview(course, catalog.modules_of(session, course), _active_learners(session, course))


def touch(session: Session, *, course: Course, lesson: Lesson | None = None) -> None:
    """Record a content change: the course's version (and the lesson's) go up by one, so cached
    renderings are not reused and an open lesson form knows it is out of date."""
    # Increments in SQL, so two changes at the same moment both count.
    if lesson is not None:
        session.execute(
            update(Lesson)
            .where(col(Lesson.id) == lesson.id)
            .values(version=col(Lesson.version) + 1)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(Course)
        .where(col(Course.id) == course.id)
        .values(version=col(Course.version) + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(course)
    if lesson is not None:
        session.refresh(lesson)


def _save(session: Session, course: Course, values: dict[str, object]) -> None:
    """Write the values; a slug taken meanwhile by another request is a form error, not a 500."""
    try:
        # Rolling back the savepoint also reloads the course as it was before this save.
        with session.begin_nested():
            if course.id is not None:
                touch(session, course=course)
            for name, value in values.items():
                setattr(course, name, value)
            session.add(course)
            session.flush()
    except IntegrityError:
        raise FormError({"slug": _("Another course already uses this web address.")}) from None


def create_course(session: Session, *, owner: User, form: CourseForm) -> Course:
    """A new draft course owned by `owner`; FormError when a field is not right."""
    values = _checked(form, session, None)
    if owner.id is None:
        raise ValueError("a course needs a stored owner")
    course = Course(instructor_id=owner.id, status=CourseStatus.draft.value, title="", slug="")
    _save(session, course, values)
    return course


def update_course(session: Session, *, course: Course, form: CourseForm) -> bool:
    """Save the form; False when nothing changed. FormError when a field is not right."""
    values = _checked(form, session, course)
    changed = {name: value for name, value in values.items() if getattr(course, name) != value}
    if not changed:
        return False
    _save(session, course, changed)
    return True


def set_status(session: Session, *, course: Course, status: str) -> None:
    """Publish, take back to draft, or archive; Conflict when that would hurt someone."""
    if status not in {item.value for item in CourseStatus}:
        raise FormError({"status": _("Choose publish, draft or archive.")})
    if status == course.status:
        return
    if status == CourseStatus.published and not _has_lessons(session, course):
        raise Conflict(_("Add at least one lesson before you publish the course."))
    if status == CourseStatus.draft and (count := _active_learners(session, course)):
        raise Conflict(
            ngettext(
                "%(num)s learner follows this course; as a draft it would close for her. "
                "Archive it instead: it leaves the catalog and stays open to her.",
                "%(num)s learners follow this course; as a draft it would close for them. "
                "Archive it instead: it leaves the catalog and stays open to them.",
                count,
            )
        )
    course.status = status
    course.updated_at = utcnow()
    if status == CourseStatus.published and course.published_at is None:
        course.published_at = course.updated_at
    session.add(course)
    session.flush()


def _has_lessons(session: Session, course: Course) -> bool:
    return session.exec(select(Lesson.id).where(Lesson.course_id == course.id)).first() is not None


def _count(session: Session, column: Any, course: Course) -> int:
    """How many rows point at the course through `column` (a course_id column)."""
    return session.exec(select(func.count()).where(col(column) == course.id)).one()


def deletion_blockers(session: Session, *, course: Course) -> list[str]:
    """Why the course must be archived rather than deleted; empty when it may go."""
    reasons = []
    if _count(session, Order.course_id, course):
        reasons.append(_("It has been ordered; orders are kept for the accounts."))
    if enrolled := _count(session, Enrolment.course_id, course):
        reasons.append(
            ngettext(
                "%(num)s person is or was enrolled.",
                "%(num)s people are or were enrolled.",
                enrolled,
            )
        )
    if _count(session, LessonProgress.course_id, course) or _count(
        session, PracticeLog.course_id, course
    ):
        reasons.append(_("Learners have progress or practice in it."))
    if _measured(session, course):
        reasons.append(_("Its questionnaires have been filled in; those answers are kept."))
    return reasons


def _measured(session: Session, course: Course) -> bool:
    """Whether anyone filled in a questionnaire of the course, or a check-in of it."""
    ours = select(Questionnaire.id).where(Questionnaire.course_id == course.id)
    found = session.exec(
        select(Measurement.id)
        .where(
            or_(
                col(Measurement.course_id) == course.id,
                col(Measurement.questionnaire_id).in_(ours),
            )
        )
        .limit(1)
    ).first()
    return found is not None


def delete_course(session: Session, *, course: Course, confirmed: bool) -> None:
    """Delete the course with its modules, lessons and steps; refused once anyone used it."""
    if deletion_blockers(session, course=course):
        raise Conflict(_("This course cannot be deleted. Archive it instead."))
    if not confirmed:
        raise FormError({"confirm": _("Tick the box to confirm that the course may go.")})
    # Check-ins hold on to their questionnaires (ON DELETE RESTRICT), and a cascade does not
    # say which of the two goes first: they go here, in that order.
    session.execute(delete(CheckIn).where(col(CheckIn.course_id) == course.id))
    session.execute(delete(Questionnaire).where(col(Questionnaire.course_id) == course.id))
    # The database removes its modules, lessons and steps with it (ON DELETE CASCADE).
    session.delete(course)
    session.flush()
