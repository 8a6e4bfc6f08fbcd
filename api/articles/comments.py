"""Comments under an article: a name and a text, held until the author approves them.

No address is asked or shown. Spam meets a hidden field that people leave empty (the honeypot)
and a limit per address and per account; a signed-in reader's comment is hers (in her export,
gone with her account, and hers to delete).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.articles.models import Article, ArticleComment, CommentStatus
from api.errors import Forbidden, FormError, NotFound
from api.i18n import gettext as _
from api.ratelimit import service as ratelimit
from api.ratelimit.service import Limit
from api.studio.courses import clean_line, clean_text

NAME_LENGTH = 80
TEXT_LENGTH = 2000
REPLY_LENGTH = 2000
PER_IP = Limit(5, timedelta(hours=1))
PER_ACCOUNT = Limit(10, timedelta(hours=1))


@dataclass(frozen=True)
class Posted:
    """What became of a comment: held for approval, or (the honeypot) silently dropped."""

    comment: ArticleComment | None


def _limits(ip: str, user: User | None) -> list[tuple[str, Limit]]:
    limits = [(f"article-comment:ip:{ip}", PER_IP)]
    if user is not None:
        limits.append((f"article-comment{ratelimit.ACCOUNT_MARK}{user.id}", PER_ACCOUNT))
    return limits


def post(
    session: Session,
    *,
    article: Article,
    name: str,
    text: str,
    honeypot: str,
    user: User | None,
    ip: str,
    now: datetime,
) -> Posted:
    """Keep a comment for the author's approval; FormError for bad input, TooManyAttempts
    when this address or account commented too often. Nothing is written on a refusal."""
    if not article.comments_open:
        raise Forbidden(_("Comments are closed for this article."))
    limits = _limits(ip, user)
    ratelimit.guard(session, limits)
    errors: dict[str, str] = {}
    clean_name = clean_line(name)
    clean_body = clean_text(text)
    if not clean_name:
        errors["name"] = _("Fill in a name, your first name is enough.")
    elif len(clean_name) > NAME_LENGTH:
        errors["name"] = _("Use at most %(n)s characters.", n=NAME_LENGTH)
    if not clean_body:
        errors["text"] = _("Write your comment.")
    elif len(clean_body) > TEXT_LENGTH:
        errors["text"] = _("Use at most %(n)s characters.", n=TEXT_LENGTH)
    if errors:
        raise FormError(errors)
    # Counted in real time, as the limits are checked (ratelimit.guard).
    ratelimit.record(session, *(key for key, _limit in limits))
    if honeypot.strip():
        # Filled in by a robot: it is told what a person is told, and nothing is kept.
        return Posted(None)
    comment = ArticleComment(
        article_id=article.id or 0,
        user_id=user.id if user is not None else None,
        name=clean_name,
        body=clean_body,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    return Posted(comment)


def shown(session: Session, *, article: Article) -> list[ArticleComment]:
    """The approved comments, oldest first."""
    return list(
        session.exec(
            select(ArticleComment)
            .where(
                ArticleComment.article_id == article.id,
                ArticleComment.status == CommentStatus.approved,
            )
            .order_by(col(ArticleComment.created_at), col(ArticleComment.id))
        )
    )


def mine(session: Session, *, article: Article, user: User | None) -> list[ArticleComment]:
    """Her own comments on the article that are not shown (waiting or hidden)."""
    if user is None:
        return []
    return list(
        session.exec(
            select(ArticleComment)
            .where(
                ArticleComment.article_id == article.id,
                ArticleComment.user_id == user.id,
                ArticleComment.status != CommentStatus.approved,
            )
            .order_by(col(ArticleComment.id))
        )
    )


def of_article(session: Session, *, article: Article) -> list[ArticleComment]:
    """Every comment, for the author: waiting ones first, then the newest."""
    rows = session.exec(
        select(ArticleComment)
        .where(ArticleComment.article_id == article.id)
        .order_by(col(ArticleComment.created_at).desc(), col(ArticleComment.id).desc())
    )
    return sorted(rows, key=lambda comment: comment.status != CommentStatus.pending)


def waiting_counts(session: Session, *, article_ids: list[int]) -> dict[int, int]:
    """Comments waiting for approval per article (one statement)."""
    if not article_ids:
        return {}
    rows = session.exec(
        select(ArticleComment.article_id, func.count())
        .where(
            col(ArticleComment.article_id).in_(article_ids),
            ArticleComment.status == CommentStatus.pending,
        )
        .group_by(col(ArticleComment.article_id))
    ).all()
    return dict(rows)


def comment_of(session: Session, *, article: Article, comment_id: int) -> ArticleComment:
    comment = session.get(ArticleComment, comment_id)
    if comment is None or comment.article_id != article.id:
        raise NotFound(_("We could not find this comment."))
    return comment


def moderate(session: Session, *, comment: ArticleComment, action: str) -> None:
    """The author approves, hides or deletes a comment."""
    if action == "approve":
        comment.status = CommentStatus.approved.value
    elif action == "hide":
        comment.status = CommentStatus.hidden.value
    elif action == "delete":
        session.delete(comment)
        session.flush()
        return
    else:
        raise FormError({"action": _("Choose one of the options in the list.")})
    session.add(comment)
    session.flush()


def answer(session: Session, *, comment: ArticleComment, text: str, now: datetime) -> None:
    """The author's answer, shown under the comment (empty: no answer)."""
    reply = clean_text(text)
    if len(reply) > REPLY_LENGTH:
        raise FormError({"reply": _("Use at most %(n)s characters.", n=REPLY_LENGTH)})
    comment.reply = reply
    comment.replied_at = now if reply else None
    session.add(comment)
    session.flush()


def delete_own(session: Session, *, comment_id: int, user: User) -> Article:
    """She deletes a comment of her own; NotFound for anyone else's. The article it was on."""
    comment = session.get(ArticleComment, comment_id)
    if comment is None or comment.user_id is None or comment.user_id != user.id:
        raise NotFound(_("We could not find this comment."))
    article = session.get(Article, comment.article_id)
    session.delete(comment)
    session.flush()
    if article is None:
        raise NotFound(_("We could not find this article."))
    return article


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her comments, with the article they are on, for her data export."""
    rows = session.exec(
        select(ArticleComment, Article.slug)
        .join(Article, col(Article.id) == ArticleComment.article_id)
        .where(ArticleComment.user_id == user.id)
        .order_by(col(ArticleComment.id))
    ).all()
    return [
        {
            "article": slug,
            "name": comment.name,
            "text": comment.body,
            "status": comment.status,
            "reply": comment.reply,
            "created_at": comment.created_at.isoformat(),
        }
        for comment, slug in rows
    ]


def erase(session: Session, *, user: User) -> None:
    """Delete her comments."""
    session.execute(sql_delete(ArticleComment).where(col(ArticleComment.user_id) == user.id))
