"""mail preferences remember that she declined Vandaag's reminder offer

Vandaag offers a learner once to set a practice reminder; "Nee, dank je" is kept on her mail
preferences row, so the offer does not come back.

Revision ID: 20232a2cd085
Revises: 9299420cb3c7
Created: 2026-12-05 12:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20232a2cd085"
down_revision: str | None = "9299420cb3c7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_preference", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminder_offer_closed", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("mail_preference", schema=None) as batch_op:
        batch_op.drop_column("reminder_offer_closed")
