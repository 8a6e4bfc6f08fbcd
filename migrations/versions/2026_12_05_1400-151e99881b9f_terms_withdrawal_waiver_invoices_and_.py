"""terms, withdrawal waiver, invoices and mail attachments

The practice's terms of sale in versions; an order records the terms she accepted and her
request for access to start at once (which ends the right of withdrawal). Invoices and credit
notes with a gap-free number per year from a counter row; mails may carry one attachment.

Revision ID: 151e99881b9f
Revises: 779cb6837de6
Created: 2026-12-05 13:51:02.778286+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "151e99881b9f"
down_revision: str | None = "779cb6837de6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_counter",
        sa.Column("series", sa.String(length=10), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_invoice_counter")),
    )
    op.create_table(
        "terms_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_nl", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_terms_version_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms_version")),
    )
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("instructor_id", sa.Integer(), nullable=True),
        sa.Column("credits_invoice_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("buyer_name", sa.String(length=200), nullable=False),
        sa.Column("buyer_email", sa.String(length=254), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("net_cents", sa.Integer(), nullable=False),
        sa.Column("vat_cents", sa.Integer(), nullable=False),
        sa.Column("vat_lines", sa.JSON(), nullable=False),
        sa.Column("vat_source", sa.String(length=10), nullable=False),
        sa.Column("payment_method", sa.String(length=120), nullable=False),
        sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name=op.f("ck_invoice_kind")),
        sa.CheckConstraint("total_cents = net_cents + vat_cents", name=op.f("ck_invoice_sums")),
        sa.ForeignKeyConstraint(
            ["credits_invoice_id"],
            ["invoice.id"],
            name=op.f("fk_invoice_credits_invoice_id_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["user_account.id"],
            name=op.f("fk_invoice_instructor_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_order.id"],
            name=op.f("fk_invoice_order_id_purchase_order"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_invoice_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("number", name=op.f("uq_invoice_number")),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_credits_invoice_id", ["credits_invoice_id"], unique=True)
        batch_op.create_index("ix_invoice_issued_at", ["issued_at"], unique=False)
        batch_op.create_index("ix_invoice_order_id", ["order_id"], unique=False)
        batch_op.create_index("ix_invoice_user_id", ["user_id"], unique=False)

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("attachment", sa.LargeBinary(), nullable=True))

    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("terms_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("withdrawal_waiver_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("withdrawal_waiver_version", sa.String(length=40), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.drop_column("withdrawal_waiver_version")
        batch_op.drop_column("withdrawal_waiver_at")
        batch_op.drop_column("terms_version")

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("attachment")
        batch_op.drop_column("attachment_name")

    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_user_id")
        batch_op.drop_index("ix_invoice_order_id")
        batch_op.drop_index("ix_invoice_issued_at")
        batch_op.drop_index("ix_invoice_credits_invoice_id")

    op.drop_table("invoice")
    op.drop_table("terms_version")
    op.drop_table("invoice_counter")
