"""Everything Kern keeps about a person, in one list: her data export reads it, the deletion of
her account erases it, and a test checks that every table is in it or excused below.

A domain that keeps personal data offers one export and one erase function and gets one line
in HOLDINGS, naming the columns that hold her id or her address. A new table that points at an
account fails tests/accounts/test_personal_data.py until it is listed here or excused.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import MetaData
from sqlmodel import Session, select

from api.accounts import requests as account_requests
from api.accounts import service as accounts_service
from api.accounts import sessions
from api.accounts.models import User
from api.articles import comments as article_comments
from api.attention import service as attention_service
from api.catalog import profile as instructor_profile
from api.catalog.models import Course
from api.certificates import service as certificates_service
from api.cohorts import service as cohort_service
from api.consent import service as consent_service
from api.enrolment import service as enrolment_service
from api.errors import FormError
from api.i18n import gettext as _
from api.intake import service as intake_service
from api.invoices import service as invoices_service
from api.journal import service as journal_service
from api.kit.ids import id_of
from api.mail import history as mail_history
from api.media import usage as media_usage
from api.media.storage import MediaStorage
from api.messages import service as messages_service
from api.payments import plans
from api.payments import service as payments_service
from api.progress import export as progress_export
from api.push import service as push_service
from api.questionnaires import service as questionnaires_service
from api.ratelimit import service as ratelimit
from api.reminders import service as reminders_service

ACCOUNT_TABLE = "user_account"


class Exporter(Protocol):
    def __call__(self, session: Session, *, user: User) -> Any: ...


class Eraser(Protocol):
    def __call__(self, session: Session, *, user: User) -> None: ...


@dataclass(frozen=True)
class Holding:
    """One kind of personal data: where it sits in the export, the "table.column"s that hold
    her id or address, and the functions that export and erase it."""

    key: str
    columns: tuple[str, ...]
    export: Exporter
    erase: Eraser


# Exported in this order; erased in the reverse order, so the account itself goes last.
HOLDINGS: tuple[Holding, ...] = (
    Holding(
        "account",
        (
            "user_account.id",
            "user_account.email",
            "account_token.user_id",
            "account_token.new_email",
            "recovery_code.user_id",
        ),
        accounts_service.export_account,
        accounts_service.erase_account,
    ),
    # Devices she is signed in on, and those that receive her push notifications.
    Holding("devices.sessions", ("auth_session.user_id",), sessions.export, sessions.erase),
    Holding(
        "devices.push", ("push_subscription.user_id",), push_service.export, push_service.erase
    ),
    Holding(
        "enrolments", ("enrolment.user_id",), enrolment_service.export, enrolment_service.erase
    ),
    Holding(
        "orders",
        ("purchase_order.user_id",),
        payments_service.export_orders,
        payments_service.erase_orders,
    ),
    # Her invoices and credit notes: exported; erasing detaches them from her account, while the
    # documents keep her name as issued (tax law: kept seven years).
    Holding(
        "invoices",
        ("invoice.user_id",),
        invoices_service.export,
        invoices_service.erase,
    ),
    Holding("cohort_places", ("cohort_seat.user_id",), cohort_service.export, cohort_service.erase),
    Holding("payment_plans", ("payment_plan.user_id",), plans.export, plans.erase),
    Holding(
        "progress",
        ("lesson_progress.user_id",),
        progress_export.export_progress,
        progress_export.erase_progress,
    ),
    Holding(
        "certificates",
        ("certificate.user_id",),
        certificates_service.export,
        certificates_service.erase,
    ),
    Holding(
        "instructor_profile",
        ("instructor_profile.user_id",),
        instructor_profile.export,
        instructor_profile.erase,
    ),
    Holding(
        "practice",
        ("practice_log.user_id",),
        progress_export.export_practice,
        progress_export.erase_practice,
    ),
    Holding(
        "measurements",
        ("measurement.user_id",),
        questionnaires_service.export,
        questionnaires_service.erase,
    ),
    Holding(
        "conversations",
        ("thread.learner_id",),
        messages_service.export,
        messages_service.erase,
    ),
    # Comments she wrote under articles while signed in.
    Holding(
        "article_comments",
        ("article_comment.user_id",),
        article_comments.export,
        article_comments.erase,
    ),
    Holding("journal", ("journal_entry.user_id",), journal_service.export, journal_service.erase),
    # Her intake bookings (by her account or her address) and, for an instructor, her hours.
    Holding(
        "intake",
        (
            "intake_booking.user_id",
            "intake_booking.email",
            "intake_setting.instructor_id",
            "intake_hours.instructor_id",
            "intake_exception.instructor_id",
        ),
        intake_service.export,
        intake_service.erase,
    ),
    Holding(
        "attention_notes",
        ("attention_handled.learner_id",),
        attention_service.export,
        attention_service.erase,
    ),
    Holding(
        "consents",
        ("consent.user_id",),
        consent_service.export_consents,
        consent_service.erase_consents,
    ),
    Holding(
        "mail_preferences",
        ("mail_preference.user_id",),
        reminders_service.export,
        reminders_service.erase,
    ),
    Holding(
        "mails",
        ("outbox_message.user_id", "outbox_message.recipient"),
        mail_history.export,
        mail_history.erase,
    ),
    Holding(
        "account_requests",
        ("account_request.email",),
        account_requests.export_for,
        account_requests.erase_for,
    ),
    Holding("counted_attempts", ("rate_limit_hit.key",), ratelimit.export_for, ratelimit.erase_for),
)

# Columns that point at an account but are not that person's data to export or erase.
NOT_HERS: dict[str, str] = {
    "course.instructor_id": (
        "An instructor's authoring: the course stays with its author, and an account that "
        "still runs courses cannot be deleted (courses are handed over or deleted first)."
    ),
    "article.author_id": (
        "An instructor's articles: her published writing, not personal data about her; they go "
        "with her account (ON DELETE CASCADE)."
    ),
    "message.author_id": (
        "Who wrote a message: in a learner's conversation, exported and erased with her (her "
        "own messages by the thread's learner); an instructor's replies stay in the learner's "
        "conversation when the instructor's account goes (ON DELETE SET NULL)."
    ),
    "attention_handled.handled_by_id": (
        "Which instructor marked a learner's reason handled: part of that learner's record; "
        "cleared when the instructor's account goes (ON DELETE SET NULL)."
    ),
    "invoice.instructor_id": (
        "Whose course an invoice sold, for her revenue page: the instructor's business, not "
        "her personal data; cleared when her account goes (ON DELETE SET NULL)."
    ),
    "terms_version.created_by_id": (
        "Which admin saved a version of the terms; cleared when that account goes (ON DELETE "
        "SET NULL)."
    ),
    "discount_code.instructor_id": (
        "An instructor's own discount codes: part of her teaching, not anyone's personal data; "
        "they go with her account (ON DELETE CASCADE)."
    ),
    "intake_booking.instructor_id": (
        "Whom an intake was booked with: the booking is the booker's data (exported and erased "
        "with her); it goes with the instructor's account too (ON DELETE CASCADE)."
    ),
    "enrolment.changed_by_id": (
        "Who granted or ended another learner's access: part of that learner's record. "
        "Erasing the enrolments also clears it, as the foreign key does (ON DELETE SET NULL)."
    ),
}

# Tables without anyone's personal data, and why.
NO_PERSONAL_DATA: dict[str, str] = {
    "stripe_event": "Stripe's event ids, types and what Kern did with them; no person.",
    "discount_code": "A code, its discount and limits; its instructor_id is in NOT_HERS.",
    "order_discount": "Which code an order used; the order is hers (orders), not this link.",
    "course": "Course content; its instructor_id is in NOT_HERS.",
    "course_module": "Course content.",
    "article": "The practice's articles; its author_id is in NOT_HERS.",
    "lesson": "Course content.",
    "lesson_step": "Course content.",
    "media_file": "Which course owns an uploaded file; no person.",
    "video_stream": "The adaptive stream the worker made of an uploaded video; no person.",
    "practice_identity": "The practice's own trading name, address and registration numbers.",
    "invoice_counter": "The last invoice number of each year; no person.",
    "questionnaire": "Course content: the questions, their scoring and bands.",
    "lesson_question": "A public question and answer, rewritten without anything that "
    "identifies the learner who asked.",
    "check_in": "Course content: when a course asks for a questionnaire.",
    "self_test_tally": "Counts of self-test results per band and week; nothing about who.",
    "cohort": "A course's run: its start day, places and enrolment window; her place in it "
    "is in cohort_seat (cohort_places) and her enrolment (enrolments).",
}


def export(session: Session, *, user: User) -> dict[str, Any]:
    """Everything Kern holds about her, as JSON-ready data (the download and the API)."""
    data: dict[str, Any] = {}
    for holding in HOLDINGS:
        *path, last = holding.key.split(".")
        place = data
        for part in path:
            place = place.setdefault(part, {})
        place[last] = holding.export(session, user=user)
    return data


def erase(session: Session, *, user: User) -> None:
    """Erase everything Kern holds about her, the account last."""
    for holding in reversed(HOLDINGS):
        holding.erase(session, user=user)
    session.flush()


def delete_account(
    session: Session, *, user: User, password: str, confirmation: str, storage: MediaStorage
) -> None:
    """Delete her account and everything of hers after her password and the typed word; her
    photo as an instructor leaves the storage once the deletion commits."""
    accounts_service.confirm_deletion(
        session, user=user, password=password, confirmation=confirmation
    )
    if session.exec(select(Course.id).where(Course.instructor_id == user.id)).first():
        # Learners follow these courses: they are handed over or deleted first, on purpose.
        raise FormError(
            {"confirmation": _("You still run courses. Hand them over or delete them first.")}
        )
    profile = instructor_profile.of(session, user_id=id_of(user))
    photo = profile.photo if profile else None
    erase(session, user=user)
    if photo:
        media_usage.discard_if_unused(session, name=photo, storage=storage)


def _account_columns(metadata: MetaData) -> set[str]:
    """Every "table.column" with a foreign key to an account."""
    return {
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.columns
        if any(key.column.table.name == ACCOUNT_TABLE for key in column.foreign_keys)
    }


def unaccounted(metadata: MetaData, holdings: Iterable[Holding] = HOLDINGS) -> list[str]:
    """What the lists above miss or name wrongly, one line each (empty: complete)."""
    listed = {column for holding in holdings for column in holding.columns}
    problems = [
        f"{column}: points at an account but is neither in HOLDINGS nor in NOT_HERS"
        for column in sorted(_account_columns(metadata) - listed - NOT_HERS.keys())
    ]
    tables = {column.partition(".")[0] for column in listed | NOT_HERS.keys()}
    problems += [
        f"{name}: a table that is in no holding and not in NO_PERSONAL_DATA"
        for name in sorted(metadata.tables.keys() - tables - NO_PERSONAL_DATA.keys())
    ]
    known = {f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns}
    problems += [
        f"{column}: listed, but there is no such column"
        for column in sorted((listed | NOT_HERS.keys()) - known)
    ]
    problems += [
        f"{name}: in NO_PERSONAL_DATA, but there is no such table"
        for name in sorted(NO_PERSONAL_DATA.keys() - metadata.tables.keys())
    ]
    return problems
