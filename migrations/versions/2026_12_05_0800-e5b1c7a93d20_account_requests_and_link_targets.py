"""account requests answered by the mail worker, and where a mailed link continues to

Registration, password-reset and sign-in-link requests are stored as one row whatever the
address, so the request path does the same work for known and unknown addresses; the mail worker
answers them. A link that signs her in remembers the page she was on its way to.

Revision ID: e5b1c7a93d20
Revises: e5b1c8d2a4f6
Created: 2026-12-05 08:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5b1c7a93d20"
down_revision: str | None = "e5b1c8d2a4f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("next_path", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_request")),
    )
    with op.batch_alter_table("account_request", schema=None) as batch_op:
        batch_op.create_index("ix_account_request_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_path", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.drop_column("next_path")
    with op.batch_alter_table("account_request", schema=None) as batch_op:
        batch_op.drop_index("ix_account_request_created_at")
    op.drop_table("account_request")
