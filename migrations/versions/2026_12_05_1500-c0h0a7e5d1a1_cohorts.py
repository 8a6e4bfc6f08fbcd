"""cohorts: a course run with a start day, a capacity and an enrolment window

`cohort.taken` counts the places held for a checkout or taken, raised only by a conditional
UPDATE (api/cohorts/seats.py); `cohort_seat` is each place. An enrolment in a cohort carries its
cohort and the start its drip counts from. The course's two columns are plain ADD COLUMNs, so
SQLite keeps the course table and its triggers.

Revision ID: c0h0a7e5d1a1
Revises: c3f1a7d2e9b4
Created: 2026-12-05 15:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0h0a7e5d1a1"
down_revision: str | None = "c3f1a7d2e9b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=True),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity BETWEEN 1 AND 10000", name=op.f("ck_cohort_capacity")
        ),
        sa.CheckConstraint(
            "taken >= 0 AND (capacity IS NULL OR taken <= capacity)", name=op.f("ck_cohort_taken")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_cohort_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort")),
    )
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cohort_course_id_starts_on", ["course_id", "starts_on"], unique=False
        )
    op.create_table(
        "cohort_seat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('held', 'taken', 'released')", name=op.f("ck_cohort_seat_status")
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohort.id"],
            name=op.f("fk_cohort_seat_cohort_id_cohort"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_cohort_seat_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_seat")),
        sa.UniqueConstraint("checkout_session_id", name="uq_cohort_seat_checkout_session_id"),
    )
    with op.batch_alter_table("cohort_seat", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cohort_seat_cohort_id_status", ["cohort_id", "status"], unique=False
        )
        batch_op.create_index("ix_cohort_seat_user_id", ["user_id"], unique=False)
    op.add_column(
        "course", sa.Column("in_cohorts", sa.Boolean(), server_default="0", nullable=False)
    )
    op.add_column(
        "course",
        sa.Column("cohort_preparation", sa.Text(), server_default=sa.text("''"), nullable=False),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cohort_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("drip_from", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_enrolment_cohort_id_cohort"), "cohort", ["cohort_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
        batch_op.create_index("ix_enrolment_drip_from", ["drip_from"], unique=False)
        batch_op.create_index("ix_enrolment_cohort_id", ["cohort_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolment_cohort_id")
        batch_op.drop_index("ix_enrolment_drip_from")
        batch_op.drop_constraint(batch_op.f("fk_enrolment_cohort_id_cohort"), type_="foreignkey")
        batch_op.drop_column("drip_from")
        batch_op.drop_column("cohort_id")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("cohort_preparation")
        batch_op.drop_column("in_cohorts")
    op.drop_table("cohort_seat")
    op.drop_table("cohort")
