"""push subscriptions and push choices

Her browsers that receive push notifications (push_subscription), her choice per kind of
message between mail, push, both or neither (mail_preference), and pushes queued in the outbox
beside the mails (outbox_message.push_subscription_id; a removed device takes its pushes along).

Revision ID: ed18d7fb1e5a
Revises: 20232a2cd085
Created: 2026-12-05 13:22:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ed18d7fb1e5a"
down_revision: str | None = "20232a2cd085"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=40), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_push_subscription_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscription")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscription_endpoint")),
    )
    with op.batch_alter_table("push_subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_push_subscription_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("mail_preference", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminder_mail", sa.Boolean(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reminder_push", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("module_opened_push", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("new_message_push", sa.Boolean(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("push_subscription_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_message_push_subscription_id"),
            ["push_subscription_id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_message_push_subscription_id_push_subscription"),
            "push_subscription",
            ["push_subscription_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_message_push_subscription_id_push_subscription"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_outbox_message_push_subscription_id"))
        batch_op.drop_column("push_subscription_id")

    with op.batch_alter_table("mail_preference", schema=None) as batch_op:
        batch_op.drop_column("new_message_push")
        batch_op.drop_column("module_opened_push")
        batch_op.drop_column("reminder_push")
        batch_op.drop_column("reminder_mail")

    with op.batch_alter_table("push_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_subscription_user_id"))

    op.drop_table("push_subscription")
