"""video_stream: the adaptive (HLS) stream of each uploaded video

The worker's transcoding job and what it made: state, progress, a failure's reason code,
the duration, whether a poster is there and the renditions' heights. Every video lessons show
already is queued, so the worker makes its stream too.

Revision ID: b5002290881f
Revises: c0h0a7e5d1a1
Created: 2026-12-05 16:14:25.645098+00:00
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "b5002290881f"
down_revision: str | None = "c0h0a7e5d1a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    stream = op.create_table(
        "video_stream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("has_poster", sa.Boolean(), nullable=False),
        sa.Column("renditions", sa.String(length=60), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('queued', 'processing', 'ready', 'failed')",
            name=op.f("ck_video_stream_state"),
        ),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name=op.f("ck_video_stream_progress")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_stream")),
    )
    with op.batch_alter_table("video_stream", schema=None) as batch_op:
        batch_op.create_index("ix_video_stream_state", ["state"], unique=False)
        batch_op.create_index("uq_video_stream_name", ["name"], unique=True)
        batch_op.create_index("uq_video_stream_prefix", ["prefix"], unique=True)
    names = op.get_bind().execute(
        sa.text("SELECT DISTINCT video_ref FROM lesson WHERE video_provider = 'file'")
    )
    now = datetime.now(UTC)
    rows = [
        {"name": name, "prefix": secrets.token_hex(16), "state": "queued", "progress": 0,
         "has_poster": False, "renditions": "", "attempts": 0, "created_at": now, "updated_at": now}
        for (name,) in names
        if name
    ]  # fmt: skip
    if rows:
        op.bulk_insert(stream, rows)


def downgrade() -> None:
    with op.batch_alter_table("video_stream", schema=None) as batch_op:
        batch_op.drop_index("uq_video_stream_prefix")
        batch_op.drop_index("uq_video_stream_name")
        batch_op.drop_index("ix_video_stream_state")

    op.drop_table("video_stream")
