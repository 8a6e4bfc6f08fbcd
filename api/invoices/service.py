"""Issuing invoices and credit notes with gap-free numbers, in the transaction of the payment.

The number comes from a counter row per year that the transaction increments and keeps locked
until it commits (`UPDATE … RETURNING`: a row lock on PostgreSQL, the database's write lock on
SQLite). A payment whose transaction rolls back gives its number back before anyone else can
take the next one, so the numbers of a year have no gaps and no repeats, however many payments
arrive at once. Fulfilment locks the order first and the counter second, always in that order.
"""

from dataclasses import asdict, dataclass
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
from api.invoices.vat import VatLine, kern_lines, portion
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


@dataclass(frozen=True)
class Instalment:
    """A paid instalment of a payment plan as Stripe reports it: the k-th of N."""

    number: int
    of: int
    stripe_invoice_id: str
    amount_cents: int
    payment_method: str = ""


def issue(
    session: Session,
    settings: Settings,
    *,
    order: Order,
    facts: InvoiceFacts | None,
    now: datetime | None = None,
    part: tuple[int, int] | None = None,
    stripe_invoice_id: str | None = None,
) -> Invoice | None:
    """The invoice of a paid order, made once (None when the order has a document already).

    `part`: (1, N) for a payment plan, whose checkout paid the first of N instalments (the
    Stripe invoice `stripe_invoice_id`): the invoice is for that amount and says so in its
    description ("Title (1/N)"). The later instalments are invoiced by `issue_instalment`."""
    if order.id is None or documents_of(session, order_id=order.id):
        return None
    seller, home = _seller(session)
    facts = facts or InvoiceFacts()
    user = session.get(User, order.user_id) if order.user_id is not None else None
    if settings.stripe_tax and facts.stripe_vat is not None:
        lines, source = list(facts.stripe_vat), "stripe"
        country = facts.country or (lines[0].country if lines else home)
    else:
        country, source = home, "kern"
        lines = kern_lines(order.amount_cents, rate_percent=settings.vat_rate_percent, country=home)
    invoice = _draft(
        session,
        order,
        seller,
        buyer_name=facts.buyer_name or (user.name if user else ""),
        buyer_email=user.email if user else "",
        country=country,
        description=_description(order.course_title, part),
        vat_source=source,
        payment_method=facts.payment_method or _demo_method(order),
        stripe_invoice_id=stripe_invoice_id,
    )
    return _store(session, invoice, lines, total_cents=order.amount_cents, moment=now or utcnow())


def _draft(session: Session, order: Order, seller: dict[str, Any], **fields: Any) -> Invoice:
    """An invoice of `order` before `_store` gives it its number and amounts."""
    return Invoice(
        number="",  # given by _store
        total_cents=0,
        net_cents=0,
        vat_cents=0,
        kind=InvoiceKind.invoice.value,
        order_id=order.id,
        user_id=order.user_id,
        instructor_id=_instructor_of(session, order),
        seller=seller,
        currency=order.currency,
        **fields,
    )


def issue_instalment(
    session: Session,
    settings: Settings,
    *,
    order: Order,
    instalment: Instalment,
    now: datetime | None = None,
) -> Invoice | None:
    """The invoice of a later instalment of a plan, made once per Stripe invoice (None when it
    exists, or when the plan's first invoice does not exist yet). The VAT is split as on the
    first instalment's invoice (her country and rate, as Stripe Tax computed it then)."""
    if order.id is None:
        return None
    documents = documents_of(session, order_id=order.id)
    first = next((doc for doc in documents if doc.kind == InvoiceKind.invoice), None)
    if first is None or any(
        doc.stripe_invoice_id == instalment.stripe_invoice_id for doc in documents
    ):
        return None
    seller, home = _seller(session)
    lines = portion(vat_lines(first), instalment.amount_cents) or kern_lines(
        instalment.amount_cents, rate_percent=settings.vat_rate_percent, country=home
    )
    user = session.get(User, order.user_id) if order.user_id is not None else None
    invoice = _draft(
        session,
        order,
        seller,
        buyer_name=first.buyer_name or (user.name if user else ""),
        buyer_email=user.email if user else first.buyer_email,
        country=first.country,
        description=_description(order.course_title, (instalment.number, instalment.of)),
        vat_source=first.vat_source,
        payment_method=instalment.payment_method or first.payment_method,
        stripe_invoice_id=instalment.stripe_invoice_id,
    )
    return _store(
        session, invoice, lines, total_cents=instalment.amount_cents, moment=now or utcnow()
    )


def _instructor_of(session: Session, order: Order) -> int | None:
    course = session.get(Course, order.course_id) if order.course_id is not None else None
    return course.instructor_id if course else None


def _store(
    session: Session, document: Invoice, lines: list[VatLine], *, total_cents: int, moment: datetime
) -> Invoice:
    """Number the document (from the year's one sequence), give it its amount (VAT included)
    and VAT lines, and store it."""
    document.number = next_number(session, moment=moment)
    document.issued_at = moment
    document.vat_lines = [line.as_dict() for line in lines]
    document.vat_cents = sum(line.vat_cents for line in lines)
    document.total_cents = total_cents
    document.net_cents = total_cents - document.vat_cents
    session.add(document)
    session.flush()
    return document


def _description(title: str, part: tuple[int, int] | None) -> str:
    if part is None:
        return title[:200]
    suffix = f" ({part[0]}/{part[1]})"
    return title[: 200 - len(suffix)] + suffix


def _demo_method(order: Order) -> str:
    return "Demo" if order.stripe_checkout_session_id.startswith("demo_cs_") else ""


def _correction(
    session: Session,
    source: Invoice,
    *,
    kind: InvoiceKind,
    total_cents: int,
    lines: list[VatLine],
    moment: datetime,
) -> Invoice:
    """A credit note (negative lines) against `source`, or a new invoice like it."""
    document = Invoice(
        **{
            key: value
            for key, value in source.model_dump().items()
            if key not in {"id", "number", "kind", "issued_at", "credits_invoice_id"}
        }
    )
    document.kind = kind.value
    if kind == InvoiceKind.credit_note:
        document.credits_invoice_id = source.id
    return _store(session, document, lines, total_cents=total_cents, moment=moment)


def settle(
    session: Session,
    *,
    order: Order,
    kept_cents: int,
    stripe_invoice_id: str | None = None,
    now: datetime | None = None,
) -> Invoice | None:
    """Bring the documents of one payment in line with what she still has paid (`kept_cents`:
    the charge less its refunds, 0 after a lost dispute): a refund, or another part of one, is
    credited against the payment's invoice (its VAT in proportion, and the last credit note of
    a payment exactly what is left of it); a refund that failed afterwards is invoiced anew.
    The payment is the order's (a single payment) or a plan's instalment (`stripe_invoice_id`).
    Reading the state rather than the event, it makes each document once, in any event order.
    Returns the new document, if any."""
    if order.id is None:
        return None
    documents = [
        doc
        for doc in documents_of(session, order_id=order.id)
        if doc.stripe_invoice_id == stripe_invoice_id
    ]
    billed = [doc for doc in documents if doc.kind == InvoiceKind.invoice]
    if not billed:
        return None  # not invoiced yet: the invoice is made for what she has paid
    net = sum(doc.total_cents for doc in documents)
    kept = max(kept_cents, 0)
    if net == kept:
        return None
    moment = now or utcnow()
    if net > kept:
        if kept == 0:
            # All that is left: to the cent per rate, so the payment's documents add up to 0.
            lines = [line.negated() for line in _left(documents)]
        else:
            lines = portion(vat_lines(billed[-1]), kept - net)
        return _correction(
            session, billed[-1], kind=InvoiceKind.credit_note, total_cents=kept - net,
            lines=lines, moment=moment,
        )  # fmt: skip
    original = billed[0]
    again = (
        vat_lines(original)
        if kept - net == original.total_cents
        else portion(vat_lines(original), kept - net)
    )
    return _correction(
        session, original, kind=InvoiceKind.invoice, total_cents=kept - net, lines=again,
        moment=moment,
    )  # fmt: skip


def refunded_cents(session: Session, *, order: Order) -> int | None:
    """What the order's credit notes gave back, less what was invoiced anew after a refund
    failed (every payment of a plan counted); None when the order has no documents."""
    if order.id is None:
        return None
    payments: dict[str | None, list[Invoice]] = {}
    for document in documents_of(session, order_id=order.id):
        payments.setdefault(document.stripe_invoice_id, []).append(document)
    if not payments:
        return None
    return sum(
        documents[0].total_cents - sum(doc.total_cents for doc in documents)
        for documents in payments.values()
    )


def _left(documents: list[Invoice]) -> list[VatLine]:
    """What a payment's documents add up to, per country and rate."""
    totals: dict[tuple[str, str], list[int]] = {}
    for document in documents:
        for line in vat_lines(document):
            entry = totals.setdefault((line.country, line.rate), [0, 0])
            entry[0] += line.net_cents
            entry[1] += line.vat_cents
    return [
        VatLine(country, rate, net, vat)
        for (country, rate), (net, vat) in totals.items()
        if net or vat
    ]


def _int(value: object) -> int:
    return int(str(value))


def follow(session: Session, *, order: Order, refunded: bool, now: datetime | None = None) -> None:
    """A single payment refunded in full (or no longer): `settle` with all or nothing kept."""
    settle(session, order=order, kept_cents=0 if refunded else order.amount_cents, now=now)


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
