"""studio: archived courses and lesson versions

Revision ID: b7fd6c0a75c7
Revises: 7d7bf61a76e8
Created: 2026-11-22 00:59:43.177615+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7fd6c0a75c7"
down_revision: str | None = "7d7bf61a76e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing lessons start at version 1; the default is only there to fill them.
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None)
    # Alembic does not see changed CHECK constraints: replaced by hand.
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_course_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('draft', 'published', 'archived')")


def downgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_course_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('draft', 'published')")
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.drop_column("version")
