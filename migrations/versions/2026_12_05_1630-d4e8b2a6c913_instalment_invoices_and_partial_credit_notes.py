"""instalment invoices, partial credit notes, discount codes switched off

Each paid instalment of a payment plan gets its own invoice, which names the Stripe invoice it
bills (`invoice.stripe_invoice_id`); a refund of that payment is credited against it. A partial
refund credits part of an invoice, and a later one more, so an invoice may have several credit
notes: the index on `credits_invoice_id` is no longer unique. An instructor can switch a
discount code off (`discount_code.active`, a plain ADD COLUMN, true for every existing code).

Revision ID: d4e8b2a6c913
Revises: 7453d86e7096
Created: 2026-12-05 16:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4e8b2a6c913"
down_revision: str | None = "7453d86e7096"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.add_column(sa.Column("stripe_invoice_id", sa.String(length=255), nullable=True))
        batch_op.drop_index("ix_invoice_credits_invoice_id")
        batch_op.create_index("ix_invoice_credits_invoice_id", ["credits_invoice_id"], unique=False)
    op.add_column(
        "discount_code",
        sa.Column("active", sa.Boolean(), nullable=False, server_default="1"),
    )


def downgrade() -> None:
    with op.batch_alter_table("discount_code") as batch_op:
        batch_op.drop_column("active")
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.drop_index("ix_invoice_credits_invoice_id")
        batch_op.create_index("ix_invoice_credits_invoice_id", ["credits_invoice_id"], unique=True)
        batch_op.drop_column("stripe_invoice_id")
