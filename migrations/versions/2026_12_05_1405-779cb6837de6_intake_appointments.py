"""intake appointments: an instructor's availability and the bookings of her intake

`intake_booking` holds one row per booked time; the unique (instructor_id, starts_at) pair is
what stops two people booking the same time. `outbox_message.calendar` carries an .ics to
attach. Plain ADD COLUMN there, so SQLite keeps the table and the triggers on it.

Revision ID: 779cb6837de6
Revises: e97e4a96c3e0
Created: 2026-12-05 14:05:19.502824+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "779cb6837de6"
down_revision: str | None = "e97e4a96c3e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("starts", sa.String(length=5), nullable=False),
        sa.Column("ends", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["user_account.id"],
            name=op.f("fk_intake_exception_instructor_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_exception")),
    )
    with op.batch_alter_table("intake_exception", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_exception_instructor_id"), ["instructor_id"], unique=False
        )

    op.create_table(
        "intake_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.String(length=5), nullable=False),
        sa.Column("ends", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["user_account.id"],
            name=op.f("fk_intake_hours_instructor_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_hours")),
    )
    with op.batch_alter_table("intake_hours", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_hours_instructor_id"), ["instructor_id"], unique=False
        )

    op.create_table(
        "intake_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("manage_key", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["user_account.id"],
            name=op.f("fk_intake_booking_instructor_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_intake_booking_questionnaire_id_questionnaire"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_intake_booking_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_booking")),
        sa.UniqueConstraint(
            "instructor_id", "starts_at", name=op.f("uq_intake_booking_instructor_id_starts_at")
        ),
    )
    with op.batch_alter_table("intake_booking", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_booking_instructor_id"), ["instructor_id"], unique=False
        )
        batch_op.create_index("ix_intake_booking_starts_at", ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_booking_user_id"), ["user_id"], unique=False)

    op.create_table(
        "intake_setting",
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("video_link", sa.String(length=500), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["user_account.id"],
            name=op.f("fk_intake_setting_instructor_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_intake_setting_questionnaire_id_questionnaire"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("instructor_id", name=op.f("pk_intake_setting")),
    )
    op.add_column("outbox_message", sa.Column("calendar", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox_message", "calendar")

    op.drop_table("intake_setting")
    with op.batch_alter_table("intake_booking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_booking_user_id"))
        batch_op.drop_index("ix_intake_booking_starts_at")
        batch_op.drop_index(batch_op.f("ix_intake_booking_instructor_id"))

    op.drop_table("intake_booking")
    with op.batch_alter_table("intake_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_hours_instructor_id"))

    op.drop_table("intake_hours")
    with op.batch_alter_table("intake_exception", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_exception_instructor_id"))

    op.drop_table("intake_exception")
