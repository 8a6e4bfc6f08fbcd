"""Issuing invoices and credit notes with gap-free numbers, in the transaction of the payment.

The number comes from a counter row per year that the transaction increments and keeps locked
until it commits (`UPDATE … RETURNING`: a row lock on PostgreSQL, the database's write lock on
SQLite). A payment whose transaction rolls back gives its number back before anyone else can
take the next one, so the numbers of a year have no gaps and no repeats, however many payments
arrive at once. Fulfilment locks the order first and the counter second, always in that order.
"""

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Table, update
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course
from api.clock import local_day
from api.config import Settings
from api.db import upsert, utcnow
from api.errors import NotFound
from api.i18n import gettext as _
from api.invoices.facts import InvoiceFacts
from api.invoices.models import Invoice, InvoiceCounter, InvoiceKind
from api.invoices.vat import VatLine, kern_lines
from api.payments.models import Order
from api.practice_identity import service as identity_service

COUNTER: Table = InvoiceCounter.__table__  # type: ignore[attr-defined]


def next_number(session: Session, *, moment: datetime) -> str:
    """The next number of the year the moment falls in (Amsterdam time), e.g. 2026-000123."""
    series = str(local_day(moment).year)
    upsert(session, COUNTER, {"series": series, "last_number": 0}, keys=["series"])
    number = session.execute(
        update(InvoiceCounter)
        .where(col(InvoiceCounter.series) == series)
        .values(last_number=col(InvoiceCounter.last_number) + 1)
        .returning(col(InvoiceCounter.last_number))
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return f"{series}-{number:06d}"


def documents_of(session: Session, *, order_id: int) -> list[Invoice]:
    """An order's invoices and credit notes, oldest first."""
    return list(
        session.exec(
            select(Invoice).where(Invoice.order_id == order_id).order_by(col(Invoice.id))
        ).all()
    )


def latest(session: Session, *, order: Order, kind: InvoiceKind) -> Invoice | None:
    """The order's newest document of a kind (for the receipt or the refund mail)."""
    if order.id is None:
        return None
    found = [doc for doc in documents_of(session, order_id=order.id) if doc.kind == kind]
    return found[-1] if found else None


def _seller(session: Session) -> tuple[dict[str, str], str]:
    identity = identity_service.read(session)
    if identity is None:
        return {}, "NL"
    seller = {key: str(value) for key, value in asdict(identity).items()}
    country = "NL" if identity.in_netherlands else identity.country.strip().upper()[:2]
    return seller, country


def issue(
    session: Session,
    settings: Settings,
    *,
    order: Order,
    facts: InvoiceFacts | None,
    now: datetime | None = None,
    part: tuple[int, int] | None = None,
) -> Invoice | None:
    """The invoice of a paid order, made once (None when the order has a document already).

    `part`: (1, N) for a payment plan, whose checkout paid the first of N instalments: the
    invoice is for that amount and says so in its description ("Title (1/N)")."""
    if order.id is None or documents_of(session, order_id=order.id):
        return None
    moment = now or utcnow()
    seller, home = _seller(session)
    facts = facts or InvoiceFacts()
    user = session.get(User, order.user_id) if order.user_id is not None else None
    course = session.get(Course, order.course_id) if order.course_id is not None else None
    if settings.stripe_tax and facts.stripe_vat is not None:
        lines, source = list(facts.stripe_vat), "stripe"
        country = facts.country or (lines[0].country if lines else home)
    else:
        country, source = home, "kern"
        lines = kern_lines(order.amount_cents, rate_percent=settings.vat_rate_percent, country=home)
    vat = sum(line.vat_cents for line in lines)
    invoice = Invoice(
        number=next_number(session, moment=moment),
        kind=InvoiceKind.invoice.value,
        order_id=order.id,
        user_id=order.user_id,
        instructor_id=course.instructor_id if course else None,
        issued_at=moment,
        seller=seller,
        buyer_name=facts.buyer_name or (user.name if user else ""),
        buyer_email=user.email if user else "",
        country=country,
        description=_description(order.course_title, part),
        currency=order.currency,
        total_cents=order.amount_cents,
        net_cents=order.amount_cents - vat,
        vat_cents=vat,
        vat_lines=[line.as_dict() for line in lines],
        vat_source=source,
        payment_method=facts.payment_method or _demo_method(order),
    )
    session.add(invoice)
    session.flush()
    return invoice


def _description(title: str, part: tuple[int, int] | None) -> str:
    if part is None:
        return title[:200]
    suffix = f" ({part[0]}/{part[1]})"
    return title[: 200 - len(suffix)] + suffix


def _demo_method(order: Order) -> str:
    return "Demo" if order.stripe_checkout_session_id.startswith("demo_cs_") else ""


def _copy(
    session: Session, source: Invoice, *, kind: InvoiceKind, sign: int, moment: datetime
) -> Invoice:
    document = Invoice(
        **{
            key: value
            for key, value in source.model_dump().items()
            if key not in {"id", "number", "kind", "issued_at", "credits_invoice_id"}
        }
    )
    document.number = next_number(session, moment=moment)
    document.kind = kind.value
    document.issued_at = moment
    document.total_cents = sign * abs(source.total_cents)
    document.net_cents = sign * abs(source.net_cents)
    document.vat_cents = sign * abs(source.vat_cents)
    document.vat_lines = [
        {**line, "net_cents": sign * abs(_int(line["net_cents"])),
         "vat_cents": sign * abs(_int(line["vat_cents"]))}
        for line in source.vat_lines
    ]  # fmt: skip
    if kind == InvoiceKind.credit_note:
        document.credits_invoice_id = source.id
    session.add(document)
    session.flush()
    return document


def _int(value: object) -> int:
    return int(str(value))


def follow(session: Session, *, order: Order, refunded: bool, now: datetime | None = None) -> None:
    """Keep the documents in step with the payment: a refund credits the invoice; a refund that
    failed afterwards (the order is paid again) invoices it anew."""
    if order.id is None:
        return
    documents = documents_of(session, order_id=order.id)
    if not documents:
        return  # paid before invoices existed, or not yet invoiced: nothing to credit
    last = documents[-1]
    moment = now or utcnow()
    if refunded and last.kind == InvoiceKind.invoice:
        _copy(session, last, kind=InvoiceKind.credit_note, sign=-1, moment=moment)
    elif not refunded and last.kind == InvoiceKind.credit_note:
        original = session.get(Invoice, last.credits_invoice_id)
        if original is not None:
            _copy(session, original, kind=InvoiceKind.invoice, sign=1, moment=moment)


def credited(session: Session, invoice: Invoice) -> Invoice | None:
    """The invoice a credit note cancels."""
    if invoice.credits_invoice_id is None:
        return None
    return session.get(Invoice, invoice.credits_invoice_id)


def of_user(session: Session, *, user: User) -> dict[int, list[Invoice]]:
    """Her documents by order id, for the account page (one statement)."""
    found: dict[int, list[Invoice]] = {}
    for document in session.exec(
        select(Invoice).where(Invoice.user_id == user.id).order_by(col(Invoice.id))
    ).all():
        if document.order_id is not None:
            found.setdefault(document.order_id, []).append(document)
    return found


def own(session: Session, *, user: User, number: str) -> Invoice:
    """Her own document by number; NotFound for anyone else's (and for unknown numbers)."""
    document = session.exec(
        select(Invoice).where(Invoice.number == number[:20], Invoice.user_id == user.id)
    ).first()
    if document is None:
        raise NotFound(_("We could not find this invoice."))
    return document


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her invoices and credit notes, for her data export."""
    return [
        {
            "number": doc.number,
            "kind": doc.kind,
            "issued_at": doc.issued_at.isoformat(),
            "description": doc.description,
            "buyer_name": doc.buyer_name,
            "buyer_email": doc.buyer_email,
            "total_cents": doc.total_cents,
            "vat_cents": doc.vat_cents,
            "payment_method": doc.payment_method,
        }
        for documents in of_user(session, user=user).values()
        for doc in documents
    ]


def erase(session: Session, *, user: User) -> None:
    """Detach her documents from her account. The documents themselves stay as issued, her
    name on them included: tax law requires keeping invoices for seven years."""
    session.execute(
        update(Invoice)
        .where(col(Invoice.user_id) == user.id)
        .values(user_id=None)
        .execution_options(synchronize_session=False)
    )


def vat_lines(document: Invoice) -> list[VatLine]:
    return [
        VatLine(
            country=str(line.get("country") or ""),
            rate=str(line.get("rate") or ""),
            net_cents=_int(line.get("net_cents") or 0),
            vat_cents=_int(line.get("vat_cents") or 0),
        )
        for line in document.vat_lines
    ]
