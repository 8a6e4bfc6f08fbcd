"""conversations with the instructor, the journal, the attention list's handled marks

A thread per learner and course holds the messages both ways, with read marks and since when
her latest message waits for an answer (what the inbox and the attention list sort by). Journal
entries are private unless she shares one with a course's instructor. A course says after how
many inactive days a learner needs attention; a lesson may offer a journal prompt; mail
preferences gain the message notice and the weekly attention summary.

Revision ID: 9299420cb3c7
Revises: 75fead4f8b7b
Created: 2026-12-05 11:18:10.786132+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9299420cb3c7"
down_revision: str | None = "75fead4f8b7b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attention_handled",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("reason_key", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_attention_handled_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["user_account.id"],
            name=op.f("fk_attention_handled_handled_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["user_account.id"],
            name=op.f("fk_attention_handled_learner_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attention_handled")),
        sa.UniqueConstraint(
            "course_id", "learner_id", "reason_key", name="uq_attention_handled_reason"
        ),
    )
    with op.batch_alter_table("attention_handled", schema=None) as batch_op:
        batch_op.create_index("ix_attention_handled_learner_id", ["learner_id"], unique=False)

    op.create_table(
        "thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("awaiting_reply_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("learner_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("instructor_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_thread_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["user_account.id"],
            name=op.f("fk_thread_learner_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread")),
        sa.UniqueConstraint("learner_id", "course_id", name="uq_thread_learner_id_course_id"),
    )
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.create_index(
            "ix_thread_course_id_awaiting_reply_since",
            ["course_id", "awaiting_reply_since"],
            unique=False,
        )

    op.create_table(
        "journal_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tension", sa.Integer(), nullable=True),
        sa.Column("pain", sa.Integer(), nullable=True),
        sa.Column("prompt", sa.String(length=300), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=True),
        sa.Column("shared_course_id", sa.Integer(), nullable=True),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(text) BETWEEN 1 AND 5000", name=op.f("ck_journal_entry_text")),
        sa.CheckConstraint(
            "pain IS NULL OR pain BETWEEN 0 AND 10", name=op.f("ck_journal_entry_pain")
        ),
        sa.CheckConstraint(
            "tension IS NULL OR tension BETWEEN 0 AND 10", name=op.f("ck_journal_entry_tension")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lesson.id"],
            name=op.f("fk_journal_entry_lesson_id_lesson"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shared_course_id"],
            ["course.id"],
            name=op.f("fk_journal_entry_shared_course_id_course"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_journal_entry_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entry")),
    )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journal_entry_shared_course_id", ["shared_course_id"], unique=False
        )
        batch_op.create_index("ix_journal_entry_user_id_day", ["user_id", "day"], unique=False)

    op.create_table(
        "lesson_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lesson.id"],
            name=op.f("fk_lesson_question_lesson_id_lesson"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_question")),
    )
    with op.batch_alter_table("lesson_question", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lesson_question_lesson_id_position", ["lesson_id", "position"], unique=False
        )

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("from_learner", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(body) BETWEEN 1 AND 4000", name=op.f("ck_message_body")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_message_author_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lesson.id"],
            name=op.f("fk_message_lesson_id_lesson"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["thread.id"],
            name=op.f("fk_message_thread_id_thread"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_thread_id_created_at", ["thread_id", "created_at"], unique=False
        )

    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("inactive_after_days", sa.Integer(), server_default="7", nullable=False)
        )

    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.add_column(sa.Column("journal_prompt", sa.String(length=300), nullable=True))

    with op.batch_alter_table("mail_preference", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("new_message", sa.Boolean(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("attention_summary", sa.Boolean(), server_default="1", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("mail_preference", schema=None) as batch_op:
        batch_op.drop_column("attention_summary")
        batch_op.drop_column("new_message")

    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.drop_column("journal_prompt")

    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("inactive_after_days")

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_thread_id_created_at")

    op.drop_table("message")
    with op.batch_alter_table("lesson_question", schema=None) as batch_op:
        batch_op.drop_index("ix_lesson_question_lesson_id_position")

    op.drop_table("lesson_question")
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entry_user_id_day")
        batch_op.drop_index("ix_journal_entry_shared_course_id")

    op.drop_table("journal_entry")
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.drop_index("ix_thread_course_id_awaiting_reply_since")

    op.drop_table("thread")
    with op.batch_alter_table("attention_handled", schema=None) as batch_op:
        batch_op.drop_index("ix_attention_handled_learner_id")

    op.drop_table("attention_handled")
