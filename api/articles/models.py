"""The practice's articles and the comments under them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class ArticleStatus(StrEnum):
    draft = "draft"
    published = "published"
    # Published by itself once `published_at` has come: the public query compares with now.
    scheduled = "scheduled"


class CallToAction(StrEnum):
    """What the author invites the reader to do at the end of the article."""

    none = "none"
    course = "course"  # `cta_ref`: the course's slug
    selftest = "selftest"  # `cta_ref`: the self-test's slug
    intake = "intake"  # an intake appointment with the author


class CommentStatus(StrEnum):
    pending = "pending"  # waiting for the author's approval
    approved = "approved"
    hidden = "hidden"


ARTICLE_LANGUAGES = ("nl", "en", "nb")


class Article(SQLModel, table=True):
    """An article an instructor writes: Markdown with a cover, perhaps a video, and tags."""

    __tablename__ = "article"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    title: str = Field(max_length=200)
    summary: str = Field(default="", max_length=300)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    language: str = Field(default="nl", max_length=8)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # A file in MEDIA_DIR (served to everyone once the article is public) and its words.
    cover_image: str | None = Field(default=None, max_length=300)
    cover_alt: str = Field(default="", max_length=300)
    # As a lesson's video: a provider and an id, never raw HTML (api/catalog/video.py).
    video_provider: str | None = Field(default=None, max_length=20)
    video_ref: str | None = Field(default=None, max_length=300)
    video_title: str = Field(default="", max_length=200)
    # The author's articles go with her account.
    author_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    status: str = Field(default=ArticleStatus.draft.value, max_length=20)
    # When it was (or will be) published; the date the article shows.
    published_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))
    comments_open: bool = Field(default=False)
    cta_kind: str = Field(default=CallToAction.none.value, max_length=20)
    cta_ref: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'scheduled')", name="status"),
        CheckConstraint("language IN ('nl', 'en', 'nb')", name="language"),
        CheckConstraint("cta_kind IN ('none', 'course', 'selftest', 'intake')", name="cta_kind"),
        CheckConstraint(
            "video_provider IS NULL OR video_provider IN ('youtube', 'vimeo', 'file')",
            name="video_provider",
        ),
        Index("ix_article_status_published_at", "status", "published_at"),
        Index("ix_article_author_id", "author_id"),
    )


class ArticleComment(SQLModel, table=True):
    """A reader's comment, shown once the author approved it, with the author's answer."""

    __tablename__ = "article_comment"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(
        sa_column=Column(Integer, ForeignKey("article.id", ondelete="CASCADE"), nullable=False)
    )
    # A signed-in reader's own comment: in her export, and deleted with her account.
    user_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=True),
    )
    name: str = Field(max_length=80)
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=CommentStatus.pending.value, max_length=20)
    reply: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    replied_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'hidden')", name="status"),
        Index("ix_article_comment_article_id_created_at", "article_id", "created_at"),
        Index("ix_article_comment_user_id", "user_id"),
    )
