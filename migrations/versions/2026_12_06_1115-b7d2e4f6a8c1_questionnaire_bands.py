"""questionnaire: its bands as a column the database generates from the definition

The course page lists the self-tests whose bands suggest its course. It read the bands out of
each self-test's definition (JSON, several KB), which PostgreSQL parsed whole for every self-test
on every view of the page. The database now keeps them beside the definition
(docs/performance.md#self-tests-without-parsing-their-definitions). PostgreSQL stores the
column (it supports only STORED generated columns and computes it for the rows there are);
SQLite cannot add a STORED column to a table that exists, so there it is VIRTUAL, computed when
read.

Revision ID: b7d2e4f6a8c1
Revises: e1a7c3d9b2f4
Created: 2026-12-06 11:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d2e4f6a8c1"
down_revision: str | None = "e1a7c3d9b2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    stored = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "questionnaire",
        sa.Column("bands", sa.JSON(), sa.Computed("definition -> 'bands'", persisted=stored)),
    )


def downgrade() -> None:
    with op.batch_alter_table("questionnaire") as batch_op:
        batch_op.drop_column("bands")
