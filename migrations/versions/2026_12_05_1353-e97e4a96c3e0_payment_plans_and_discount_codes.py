"""payment plans and discount codes

A course may be paid in monthly instalments (course.plan_instalments, plan_instalment_cents;
each plan a Stripe subscription in payment_plan); an enrolment pauses while an instalment is
overdue (status 'paused'). Instructors make discount codes (discount_code); order_discount
notes which code an order used.

Revision ID: e97e4a96c3e0
Revises: b7c4e2a91f05
Created: 2026-12-05 13:53:28.265118+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e97e4a96c3e0"
down_revision: str | None = "b7c4e2a91f05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discount_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("amount_off_cents", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("stripe_coupon_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_promotion_code_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(percent_off IS NULL) != (amount_off_cents IS NULL) AND (percent_off IS NULL OR percent_off BETWEEN 1 AND 100) AND (amount_off_cents IS NULL OR amount_off_cents > 0) AND (max_uses IS NULL OR max_uses > 0)",
            name=op.f("ck_discount_code_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_discount_code_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["user_account.id"],
            name=op.f("fk_discount_code_instructor_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_code")),
        sa.UniqueConstraint("code", name=op.f("uq_discount_code_code")),
    )
    with op.batch_alter_table("discount_code", schema=None) as batch_op:
        batch_op.create_index("ix_discount_code_instructor_id", ["instructor_id"], unique=False)

    op.create_table(
        "order_discount",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("discount_code_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["discount_code_id"],
            ["discount_code.id"],
            name=op.f("fk_order_discount_discount_code_id_discount_code"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_order.id"],
            name=op.f("fk_order_discount_order_id_purchase_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_discount")),
    )
    with op.batch_alter_table("order_discount", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_discount_discount_code_id", ["discount_code_id"], unique=False
        )

    op.create_table(
        "payment_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        sa.Column("instalments", sa.Integer(), nullable=False),
        sa.Column("paid_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("past_due_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pay_url", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'past_due', 'paused', 'completed', 'cancelled', 'ended')",
            name=op.f("ck_payment_plan_status"),
        ),
        sa.CheckConstraint(
            "instalments BETWEEN 2 AND 24 AND paid_count >= 0", name=op.f("ck_payment_plan_counts")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_payment_plan_course_id_course"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_order.id"],
            name=op.f("fk_payment_plan_order_id_purchase_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_payment_plan_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_plan")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payment_plan_order_id")),
        sa.UniqueConstraint(
            "stripe_subscription_id", name=op.f("uq_payment_plan_stripe_subscription_id")
        ),
    )
    with op.batch_alter_table("payment_plan", schema=None) as batch_op:
        batch_op.create_index("ix_payment_plan_status", ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payment_plan_stripe_customer_id"), ["stripe_customer_id"], unique=False
        )
        batch_op.create_index("ix_payment_plan_user_id", ["user_id"], unique=False)

    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plan_instalments", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("plan_instalment_cents", sa.Integer(), nullable=True))

    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_enrolment_status"), type_="check")
        batch_op.create_check_constraint(
            "status", "status IN ('active', 'refunded', 'disputed', 'revoked', 'paused')"
        )


def downgrade() -> None:
    op.execute("UPDATE enrolment SET status = 'active' WHERE status = 'paused'")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_enrolment_status"), type_="check")
        batch_op.create_check_constraint(
            "status", "status IN ('active', 'refunded', 'disputed', 'revoked')"
        )

    # Not in batch mode: SQLite would copy the course table and lose its triggers.
    op.drop_column("course", "plan_instalment_cents")
    op.drop_column("course", "plan_instalments")

    with op.batch_alter_table("payment_plan", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_plan_user_id")
        batch_op.drop_index(batch_op.f("ix_payment_plan_stripe_customer_id"))
        batch_op.drop_index("ix_payment_plan_status")

    op.drop_table("payment_plan")
    with op.batch_alter_table("order_discount", schema=None) as batch_op:
        batch_op.drop_index("ix_order_discount_discount_code_id")

    op.drop_table("order_discount")
    with op.batch_alter_table("discount_code", schema=None) as batch_op:
        batch_op.drop_index("ix_discount_code_instructor_id")

    op.drop_table("discount_code")
