"""Invoices and credit notes as issued: every figure and name on them is kept as it was, so the
PDF of a document looks the same in seven years, whatever changed since."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class InvoiceKind(StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"


class InvoiceCounter(SQLModel, table=True):
    """The last number given in a series (a calendar year): invoices and credit notes share it,
    so the numbers of a year run 1, 2, 3… without a gap."""

    __tablename__ = "invoice_counter"

    series: str = Field(primary_key=True, max_length=10)
    last_number: int = Field(default=0)


class Invoice(SQLModel, table=True):
    """One invoice or credit note. A credit note carries negative amounts and names the invoice
    it credits (in full, or in part for a partial refund: an invoice may have several)."""

    __tablename__ = "invoice"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)  # 2026-000123
    kind: str = Field(max_length=12)
    order_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("purchase_order.id", ondelete="SET NULL"), nullable=True
        ),
    )
    # Whose it is (she downloads it from her account) and whose course it sold (the
    # instructor's revenue page). Detached when an account is deleted; the document stays, as
    # tax law requires.
    user_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
        ),
    )
    instructor_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
        ),
    )
    credits_invoice_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("invoice.id"), nullable=True),
    )
    issued_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    # The seller as the practice's details stood when the document was made.
    seller: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    buyer_name: str = Field(default="", max_length=200)
    buyer_email: str = Field(default="", max_length=254)
    # Where the VAT is due (ISO 3166 alpha-2): the practice's country, or hers with Stripe Tax.
    country: str = Field(default="NL", max_length=2)
    description: str = Field(max_length=200)
    currency: str = Field(default="eur", max_length=3)
    total_cents: int  # including VAT; negative on a credit note
    net_cents: int
    vat_cents: int
    # Per rate: [{"country": "NL", "rate": "21", "net_cents": …, "vat_cents": …}]
    vat_lines: list[dict[str, object]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # "stripe" when Stripe Tax computed the VAT, "kern" when Kern split it from the price.
    vat_source: str = Field(default="kern", max_length=10)
    payment_method: str = Field(default="", max_length=120)
    # For a payment plan: the Stripe invoice of the instalment this document bills (or, on a
    # credit note or a new invoice after a failed refund, corrects). Each instalment gets one
    # invoice; a refund of that payment is credited against it. None for a single payment.
    stripe_invoice_id: str | None = Field(default=None, max_length=255)

    __table_args__ = (
        CheckConstraint("kind IN ('invoice', 'credit_note')", name="kind"),
        CheckConstraint("total_cents = net_cents + vat_cents", name="sums"),
        Index("ix_invoice_order_id", "order_id"),
        Index("ix_invoice_user_id", "user_id"),
        Index("ix_invoice_issued_at", "issued_at"),
        Index("ix_invoice_credits_invoice_id", "credits_invoice_id"),
    )

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.credit_note
