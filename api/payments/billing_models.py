"""Payment plans (a course paid in instalments) and discount codes."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class PlanStatus(StrEnum):
    active = "active"  # instalments paid as they fall due
    past_due = "past_due"  # an instalment failed: she can still open the course (grace period)
    paused = "paused"  # the grace period passed unpaid: access paused until she pays
    completed = "completed"  # every instalment paid: the course is hers as if paid at once
    cancelled = "cancelled"  # the subscription ended before it was paid in full
    ended = "ended"  # refunded or a dispute lost: access ended, as for a single payment


class PaymentPlan(SQLModel, table=True):
    """The Stripe subscription that pays one order in instalments."""

    __tablename__ = "payment_plan"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("purchase_order.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        )
    )
    # Detached (NULL) with her order when she deletes her account.
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
    stripe_subscription_id: str = Field(max_length=255, unique=True)
    stripe_customer_id: str = Field(max_length=255, index=True)
    instalments: int
    paid_count: int = Field(default=0)
    status: str = Field(default=PlanStatus.active.value, max_length=20)
    # Since when an instalment is overdue (the grace period counts from here).
    past_due_since: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    # Stripe's page where she pays the overdue instalment.
    pay_url: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'past_due', 'paused', 'completed', 'cancelled', 'ended')",
            name="status",
        ),
        CheckConstraint("instalments BETWEEN 2 AND 24 AND paid_count >= 0", name="counts"),
        Index("ix_payment_plan_user_id", "user_id"),
        Index("ix_payment_plan_status", "status"),
    )


class DiscountCode(SQLModel, table=True):
    """A code an instructor hands out: percent or amount off one of her courses or all."""

    __tablename__ = "discount_code"

    id: int | None = Field(default=None, primary_key=True)
    instructor_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    # None: every course of hers.
    course_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("course.id", ondelete="CASCADE"), nullable=True),
    )
    # As typed, in capitals; unique, as Stripe's active promotion codes are.
    code: str = Field(max_length=40, unique=True)
    percent_off: int | None = Field(default=None)
    amount_off_cents: int | None = Field(default=None)
    # The last moment it can be used (the end of the day she chose), or None.
    valid_until: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    max_uses: int | None = Field(default=None)
    stripe_coupon_id: str = Field(max_length=255)
    stripe_promotion_code_id: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    # Switched off by the instructor (and its promotion code at Stripe): refused at checkout.
    active: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})

    __table_args__ = (
        CheckConstraint(
            "(percent_off IS NULL) != (amount_off_cents IS NULL) "
            "AND (percent_off IS NULL OR percent_off BETWEEN 1 AND 100) "
            "AND (amount_off_cents IS NULL OR amount_off_cents > 0) "
            "AND (max_uses IS NULL OR max_uses > 0)",
            name="amounts",
        ),
        Index("ix_discount_code_instructor_id", "instructor_id"),
    )


class OrderDiscount(SQLModel, table=True):
    """Which code an order used: counted as a use once the order is paid."""

    __tablename__ = "order_discount"

    order_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("purchase_order.id", ondelete="CASCADE"), primary_key=True
        )
    )
    discount_code_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("discount_code.id", ondelete="CASCADE"), nullable=False
        )
    )

    __table_args__ = (Index("ix_order_discount_discount_code_id", "discount_code_id"),)
