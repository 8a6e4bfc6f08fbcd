"""questionnaires, the check-ins a course asks for, her measurements, and the self-test's tally

A questionnaire's items, scoring and bands are one JSON definition (api/questionnaires/
definition.py), read whole on every use. A measurement keeps her answers with what they came to
(score, sub-scores, band) and is unique per learner and occasion, so a double submit stores once.
The self-test's tally counts results per band and week and holds nothing about who.

Revision ID: 75fead4f8b7b
Revises: e5b1c7a93d20
Created: 2026-12-05 10:33:08.834304+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "75fead4f8b7b"
down_revision: str | None = "e5b1c7a93d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "questionnaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("self_test", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'published')", name=op.f("ck_questionnaire_status")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_questionnaire_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire")),
        sa.UniqueConstraint("slug", name=op.f("uq_questionnaire_slug")),
    )
    with op.batch_alter_table("questionnaire", schema=None) as batch_op:
        batch_op.create_index("ix_questionnaire_course_id", ["course_id"], unique=False)

    op.create_table(
        "check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("moment", sa.String(length=20), nullable=False),
        sa.Column("module_position", sa.Integer(), nullable=True),
        sa.Column("every_days", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(moment = 'every') = (every_days BETWEEN 1 AND 365)",
            name=op.f("ck_check_in_every_days"),
        ),
        sa.CheckConstraint(
            "(moment = 'module') = (module_position IS NOT NULL)",
            name=op.f("ck_check_in_module_position"),
        ),
        sa.CheckConstraint(
            "moment IN ('enrolment', 'module', 'end', 'every')", name=op.f("ck_check_in_moment")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_check_in_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_check_in_questionnaire_id_questionnaire"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in")),
    )
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.create_index(
            "ix_check_in_course_id_position", ["course_id", "position"], unique=False
        )
        batch_op.create_index("ix_check_in_questionnaire_id", ["questionnaire_id"], unique=False)

    op.create_table(
        "measurement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("occasion", sa.String(length=100), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Numeric(precision=8, scale=1, asdecimal=False), nullable=False),
        sa.Column("subscores", sa.JSON(), nullable=False),
        sa.Column("band_index", sa.Integer(), nullable=True),
        sa.Column("band_title", sa.String(length=200), nullable=False),
        sa.Column("warning", sa.Boolean(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_measurement_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_measurement_questionnaire_id_questionnaire"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_measurement_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement")),
        sa.UniqueConstraint("user_id", "occasion", name="uq_measurement_user_id_occasion"),
    )
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.create_index("ix_measurement_course_id", ["course_id"], unique=False)
        batch_op.create_index("ix_measurement_questionnaire_id", ["questionnaire_id"], unique=False)
        batch_op.create_index(
            "ix_measurement_user_id_questionnaire_id", ["user_id", "questionnaire_id"], unique=False
        )

    op.create_table(
        "self_test_tally",
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("band_index", sa.Integer(), nullable=False),
        sa.Column("warning", sa.Boolean(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_self_test_tally_questionnaire_id_questionnaire"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "questionnaire_id", "week", "band_index", "warning", name=op.f("pk_self_test_tally")
        ),
    )


def downgrade() -> None:
    op.drop_table("self_test_tally")
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.drop_index("ix_measurement_user_id_questionnaire_id")
        batch_op.drop_index("ix_measurement_questionnaire_id")
        batch_op.drop_index("ix_measurement_course_id")

    op.drop_table("measurement")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_index("ix_check_in_questionnaire_id")
        batch_op.drop_index("ix_check_in_course_id_position")

    op.drop_table("check_in")
    with op.batch_alter_table("questionnaire", schema=None) as batch_op:
        batch_op.drop_index("ix_questionnaire_course_id")

    op.drop_table("questionnaire")
