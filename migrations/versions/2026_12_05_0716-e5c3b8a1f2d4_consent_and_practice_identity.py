"""consents with their history, the learner's current health-data consent, the practice's identity

A learner's consent to keeping health data is recorded in `consent` (one row each time she
agrees, closed when she withdraws); her current state also sits on her account row, which the
session lookup reads anyway, so storing a practice needs no extra statement to check it. The
practice's identity is a table of one row (id = 1).

Revision ID: e5c3b8a1f2d4
Revises: d2a9e4c1b7f3
Created: 2026-12-05 07:16:04.705245+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5c3b8a1f2d4"
down_revision: str | None = "d2a9e4c1b7f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "practice_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trading_name", sa.String(length=100), nullable=False),
        sa.Column("street_address", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=12), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=60), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("kvk_number", sa.String(length=8), nullable=False),
        sa.Column("vat_number", sa.String(length=14), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_practice_identity_singleton")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_identity")),
    )
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("text_version", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_consent_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index("ix_consent_user_id_kind", ["user_id", "kind"], unique=False)

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("health_consent_version", sa.String(length=20), nullable=True)
        )
        batch_op.add_column(
            sa.Column("health_consent_withdrawn_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("health_consent_withdrawn_at")
        batch_op.drop_column("health_consent_version")

    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_user_id_kind")

    op.drop_table("consent")
    op.drop_table("practice_identity")
