"""outbox: an attachment made when the mail is sent

A receipt's invoice PDF is no longer made (and stored as bytes) in the payment's transaction:
the outbox keeps a reference ("invoice:42:nl") and the worker makes the file when it sends the
mail (api/mail/attachments.py). A plain ADD COLUMN, empty for every queued message.

Revision ID: e1a7c3d9b2f4
Revises: d4e8b2a6c913
Created: 2026-12-05 17:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1a7c3d9b2f4"
down_revision: str | None = "d4e8b2a6c913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_message", sa.Column("attachment_ref", sa.String(length=120)))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.drop_column("attachment_ref")
