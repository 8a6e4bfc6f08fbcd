"""a course page that earns trust, and certificates of completion

`course.cover_alt` describes the cover; `course.testimonials` holds the words of earlier
participants (JSON, like the FAQ); `instructor_profile` is the photo, biography and
credentials a course page shows of its instructor; `certificate` is a learner's certificate
of completion with the public code that verifies it. Plain ADD COLUMN on `course`, so SQLite
keeps the table and the triggers on it (migration d2a9e4c1b7f3).

Revision ID: c3f1a7d2e9b4
Revises: 151e99881b9f
Created: 2026-12-05 14:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3f1a7d2e9b4"
down_revision: str | None = "151e99881b9f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("course", sa.Column("cover_alt", sa.String(length=300), nullable=True))
    op.add_column("course", sa.Column("testimonials", sa.JSON(), nullable=True))
    op.create_table(
        "instructor_profile",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("photo", sa.String(length=300), nullable=True),
        sa.Column("photo_alt", sa.String(length=300), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("credentials", sa.String(length=300), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_instructor_profile_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_instructor_profile")),
    )
    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("course_title", sa.String(length=200), nullable=False),
        sa.Column("instructor_name", sa.String(length=200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_certificate_course_id_course"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_certificate_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index("uq_certificate_code", ["code"], unique=True)
        batch_op.create_index(
            "uq_certificate_user_id_course_id", ["user_id", "course_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index("uq_certificate_user_id_course_id")
        batch_op.drop_index("uq_certificate_code")
    op.drop_table("certificate")
    op.drop_table("instructor_profile")
    op.drop_column("course", "testimonials")
    op.drop_column("course", "cover_alt")
