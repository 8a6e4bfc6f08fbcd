"""an exercise step may show a picture or a short silent loop of its position

`lesson_step.media_file` names the file in MEDIA_DIR (an image or a video of at most ten
seconds without sound); `media_alt` holds the words the instructor wrote to describe it.
Plain ADD COLUMN, so SQLite keeps the table and the triggers on it (migration d2a9e4c1b7f3).

Revision ID: b7c4e2a91f05
Revises: ed18d7fb1e5a
Created: 2026-12-05 13:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c4e2a91f05"
down_revision: str | None = "ed18d7fb1e5a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("lesson_step", sa.Column("media_file", sa.String(length=300), nullable=True))
    op.add_column("lesson_step", sa.Column("media_alt", sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.drop_column("lesson_step", "media_alt")
    op.drop_column("lesson_step", "media_file")
