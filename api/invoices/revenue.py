"""The quarter's revenue for the bookkeeper: invoices, credit notes, VAT per rate and country."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.clock import local_day, midnight
from api.errors import FormError
from api.i18n import gettext as _
from api.invoices.models import Invoice, InvoiceKind
from api.invoices.service import vat_lines

QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        """`2026-Q4` (or `2026q4`); FormError for anything else."""
        match = QUARTER.match(text.strip())
        if match is None or not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
            raise FormError(
                {"quarter": _("Choose a quarter such as %(example)s.", example="2026-Q4")}
            )
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, moment: datetime) -> "Quarter":
        day = local_day(moment)
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def next(self) -> "Quarter":
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    @property
    def previous(self) -> "Quarter":
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def bounds(self) -> tuple[datetime, datetime]:
        """From the first moment of the quarter to the first of the next, in Amsterdam."""
        return midnight(self.first_day), midnight(self.next.first_day)


@dataclass
class VatTotal:
    country: str
    rate: str
    net_cents: int = 0
    vat_cents: int = 0


@dataclass
class Report:
    quarter: Quarter
    documents: list[Invoice]
    invoices: int = 0
    credit_notes: int = 0
    sales_cents: int = 0  # invoiced, including VAT
    refunds_cents: int = 0  # credited, including VAT (negative)
    vat: list[VatTotal] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return self.sales_cents + self.refunds_cents

    @property
    def vat_cents(self) -> int:
        return sum(line.vat_cents for line in self.vat)


def report(session: Session, *, viewer: User, quarter: Quarter) -> Report:
    """Every document of the quarter: all of them for an admin, an instructor's own courses'
    for her."""
    start, end = quarter.bounds()
    query = (
        select(Invoice)
        .where(col(Invoice.issued_at) >= start, col(Invoice.issued_at) < end)
        .order_by(col(Invoice.issued_at), col(Invoice.id))
    )
    if viewer.role != Role.admin:
        query = query.where(Invoice.instructor_id == viewer.id)
    documents = list(session.exec(query).all())
    result = Report(quarter=quarter, documents=documents)
    totals: dict[tuple[str, str], VatTotal] = {}
    for document in documents:
        if document.kind == InvoiceKind.credit_note:
            result.credit_notes += 1
            result.refunds_cents += document.total_cents
        else:
            result.invoices += 1
            result.sales_cents += document.total_cents
        for line in vat_lines(document):
            total = totals.setdefault((line.country, line.rate), VatTotal(line.country, line.rate))
            total.net_cents += line.net_cents
            total.vat_cents += line.vat_cents
    result.vat = sorted(totals.values(), key=lambda t: (t.country, t.rate))
    return result


def _euros(cents: int) -> str:
    return f"{cents / 100:.2f}"


CSV_HEADER = [
    "number",
    "kind",
    "date",
    "credits",
    "course",
    "buyer",
    "country",
    "vat_rate",
    "net",
    "vat",
    "total",
    "currency",
    "payment_method",
]


def as_csv(result: Report, *, credited: dict[int, str]) -> str:
    """One row per document and VAT rate (a document of one rate is one row), amounts in euros
    with a point; credit notes negative."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for document in result.documents:
        for line in vat_lines(document) or []:
            writer.writerow(
                [
                    document.number,
                    document.kind,
                    local_day(document.issued_at).isoformat(),
                    credited.get(document.credits_invoice_id or 0, ""),
                    _safe(document.description),
                    _safe(document.buyer_name),
                    line.country,
                    line.rate,
                    _euros(line.net_cents),
                    _euros(line.vat_cents),
                    _euros(line.net_cents + line.vat_cents),
                    document.currency.upper(),
                    _safe(document.payment_method),
                ]
            )
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def credited_numbers(session: Session, documents: list[Invoice]) -> dict[int, str]:
    """The numbers of the invoices the credit notes cancel (one statement)."""
    ids = {doc.credits_invoice_id for doc in documents if doc.credits_invoice_id is not None}
    if not ids:
        return {}
    rows = session.exec(select(Invoice.id, Invoice.number).where(col(Invoice.id).in_(ids))).all()
    return {int(row[0]): row[1] for row in rows if row[0] is not None}
