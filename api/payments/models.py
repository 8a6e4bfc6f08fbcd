"""Orders for paid courses and the Stripe events that changed them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class OrderStatus(StrEnum):
    pending = "pending"  # checkout started, not paid (yet)
    paid = "paid"
    failed = "failed"  # an asynchronous payment (e.g. iDEAL, SEPA) did not go through
    expired = "expired"  # the checkout session expired unpaid
    refunded = "refunded"
    disputed = "disputed"  # a dispute is open: access suspended
    dispute_lost = "dispute_lost"


class Order(SQLModel, table=True):
    """One checkout for one course. Kept for the accounts when the buyer deletes her account."""

    __tablename__ = "purchase_order"

    id: int | None = Field(default=None, primary_key=True)
    # Detached (NULL) when the buyer deletes her account: the law requires the payment record.
    user_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
        ),
    )
    course_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("course.id", ondelete="SET NULL"), nullable=True),
    )
    course_title: str = Field(max_length=200)
    status: str = Field(default=OrderStatus.pending.value, max_length=20)
    currency: str = Field(default="eur", max_length=3)
    subtotal_cents: int = Field(default=0)
    discount_cents: int = Field(default=0)
    amount_cents: int = Field(default=0)
    stripe_checkout_session_id: str = Field(max_length=255, unique=True)
    stripe_payment_intent_id: str | None = Field(default=None, max_length=255)
    stripe_charge_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    paid_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    refunded_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    # When the receipt was queued in the outbox (the worker delivers it).
    receipt_sent_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    # What she agreed to at checkout: the terms' version (api/terms), and her request for
    # access to start at once, which ends the right of withdrawal (api/terms/waiver.py).
    terms_version: int | None = Field(default=None)
    withdrawal_waiver_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    withdrawal_waiver_version: str | None = Field(default=None, max_length=40)

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'paid', 'failed', 'expired', 'refunded', 'disputed', "
            "'dispute_lost')",
            name="status",
        ),
        CheckConstraint(
            "amount_cents >= 0 AND subtotal_cents >= 0 AND discount_cents >= 0", name="amounts"
        ),
        Index("ix_purchase_order_user_id", "user_id"),
        Index("ix_purchase_order_stripe_payment_intent_id", "stripe_payment_intent_id"),
        Index("ix_purchase_order_stripe_charge_id", "stripe_charge_id"),
    )

    @property
    def number(self) -> str:
        """The order number on receipts, e.g. K-000123."""
        return f"K-{self.id:06d}"


class StripeEvent(SQLModel, table=True):
    """Every webhook event, stored once: its id is the key, so a repeat changes nothing."""

    __tablename__ = "stripe_event"

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    received_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    # What Kern did with it ("fulfilled", "no order", "ignored"), for the admin and debugging.
    outcome: str = Field(default="", max_length=200)
