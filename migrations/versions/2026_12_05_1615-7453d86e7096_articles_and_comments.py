"""articles and comments

The practice's articles (draft, published, or scheduled: public once `published_at` has come)
and the comments under them, held for the author's approval; a signed-in reader's comment
goes with her account.

Revision ID: 7453d86e7096
Revises: b5002290881f
Created: 2026-12-05 16:15:41.766245+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7453d86e7096"
down_revision: str | None = "b5002290881f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("cover_image", sa.String(length=300), nullable=True),
        sa.Column("cover_alt", sa.String(length=300), nullable=False),
        sa.Column("video_provider", sa.String(length=20), nullable=True),
        sa.Column("video_ref", sa.String(length=300), nullable=True),
        sa.Column("video_title", sa.String(length=200), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comments_open", sa.Boolean(), nullable=False),
        sa.Column("cta_kind", sa.String(length=20), nullable=False),
        sa.Column("cta_ref", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "cta_kind IN ('none', 'course', 'selftest', 'intake')", name=op.f("ck_article_cta_kind")
        ),
        sa.CheckConstraint("language IN ('nl', 'en', 'nb')", name=op.f("ck_article_language")),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'scheduled')", name=op.f("ck_article_status")
        ),
        sa.CheckConstraint(
            "video_provider IS NULL OR video_provider IN ('youtube', 'vimeo', 'file')",
            name=op.f("ck_article_video_provider"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_article_author_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
        sa.UniqueConstraint("slug", name=op.f("uq_article_slug")),
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index("ix_article_author_id", ["author_id"], unique=False)
        batch_op.create_index(
            "ix_article_status_published_at", ["status", "published_at"], unique=False
        )

    op.create_table(
        "article_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'hidden')", name=op.f("ck_article_comment_status")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_article_comment_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_article_comment_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_comment")),
    )
    with op.batch_alter_table("article_comment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_article_comment_article_id_created_at", ["article_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_article_comment_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("article_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_article_comment_user_id")
        batch_op.drop_index("ix_article_comment_article_id_created_at")

    op.drop_table("article_comment")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_status_published_at")
        batch_op.drop_index("ix_article_author_id")

    op.drop_table("article")
