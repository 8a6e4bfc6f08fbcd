"""Articles as readers find them, and as their author writes them in the studio.

An article is public when it is published, or scheduled and its time has come: every public
query compares `published_at` with the request's moment, so no job publishes anything.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.articles.models import (
    ARTICLE_LANGUAGES,
    Article,
    ArticleStatus,
    CallToAction,
)
from api.catalog.models import Course, CourseStatus, VideoProvider
from api.catalog.packages.schema import SLUG_LENGTH, is_slug
from api.errors import Forbidden, FormError, NotFound
from api.i18n import TIMEZONE
from api.i18n import gettext as _
from api.kit.slugs import slugify
from api.media import owners
from api.questionnaires import selftest
from api.studio import lesson_video
from api.studio.courses import MARKDOWN_LENGTH, TITLE_LENGTH, clean_line, clean_text, first_free

PER_PAGE = 10
SUMMARY_LENGTH = 300
MAX_TAGS = 8
TAG_LENGTH = 40
RELATED = 3
WORDS_PER_MINUTE = 200
_WORD = re.compile(r"\w+")
_LOCAL_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")


def is_public(now: datetime) -> ColumnElement[bool]:
    """Published or scheduled, and its time has come."""
    return and_(
        col(Article.status).in_([ArticleStatus.published.value, ArticleStatus.scheduled.value]),
        col(Article.published_at).is_not(None),
        col(Article.published_at) <= now,
    )


def shows_publicly(article: Article, now: datetime) -> bool:
    """The same rule as `is_public`, for an article already read."""
    return (
        article.status != ArticleStatus.draft
        and article.published_at is not None
        and article.published_at <= now
    )


def may_edit(viewer: User | None, article: Article) -> bool:
    """Its author and admins (with the second factor their role needs)."""
    if viewer is None or (viewer.needs_totp and not viewer.has_totp):
        return False
    return viewer.role == Role.admin or viewer.id == article.author_id


def reading_minutes(body: str) -> int:
    """Minutes to read the text: its words divided by 200, rounded up (at least one)."""
    return max(1, math.ceil(len(_WORD.findall(body)) / WORDS_PER_MINUTE))


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """One page of the public list."""

    articles: list[Article]
    authors: dict[int, str]
    page: int
    pages: int
    tags: list[str]


def authors_of(session: Session, articles: Sequence[Article]) -> dict[int, str]:
    """The names of the articles' authors, by id (one statement)."""
    ids = sorted({article.author_id for article in articles})
    if not ids:
        return {}
    rows = session.exec(select(User.id, User.name).where(col(User.id).in_(ids))).all()
    return {user_id: name for user_id, name in rows if user_id is not None}


def public_articles(session: Session, *, now: datetime) -> list[Article]:
    """Every public article, newest first (one statement)."""
    return list(
        session.exec(
            select(Article)
            .where(is_public(now))
            .order_by(col(Article.published_at).desc(), col(Article.id).desc())
        )
    )


def listing(session: Session, *, now: datetime, tag: str = "", page: int = 1) -> Listing:
    """A page of ~10 public articles, newest first, perhaps only those with `tag`."""
    everything = public_articles(session, now=now)
    tags = sorted({name for article in everything for name in article.tags})
    chosen = [article for article in everything if not tag or tag in article.tags]
    pages = max(1, math.ceil(len(chosen) / PER_PAGE))
    page = min(max(page, 1), pages)
    shown = chosen[(page - 1) * PER_PAGE : page * PER_PAGE]
    return Listing(shown, authors_of(session, shown), page, pages, tags)


def by_slug(session: Session, *, slug: str) -> Article | None:
    if not is_slug(slug):
        return None
    return session.exec(select(Article).where(Article.slug == slug)).first()


def readable(session: Session, *, slug: str, viewer: User | None, now: datetime) -> Article:
    """The article for its public page: public, or a draft its author previews; NotFound."""
    article = by_slug(session, slug=slug)
    if article is None or not (shows_publicly(article, now) or may_edit(viewer, article)):
        raise NotFound(_("We could not find this article."))
    return article


def author_name(session: Session, article: Article) -> str:
    author = session.get(User, article.author_id)
    return author.name if author is not None else ""


def related(session: Session, *, article: Article, now: datetime) -> list[Article]:
    """Up to three other public articles sharing the most tags with it, newest first."""
    if not article.tags:
        return []
    mine = set(article.tags)
    scored = [
        (len(mine & set(other.tags)), other)
        for other in public_articles(session, now=now)
        if other.id != article.id and mine & set(other.tags)
    ]
    # sorted() is stable: within a score the newest (the query's order) comes first.
    return [other for _score, other in sorted(scored, key=lambda pair: -pair[0])][:RELATED]


@dataclass(frozen=True)
class Invitation:
    """The call to action at the end of an article: where it leads and what it says."""

    kind: str
    url: str
    title: str


def invitation(session: Session, *, article: Article) -> Invitation | None:
    """The call to action the author chose, when what it points at is (still) there."""
    if article.cta_kind == CallToAction.course:
        course = session.exec(
            select(Course).where(
                Course.slug == article.cta_ref, Course.status == CourseStatus.published
            )
        ).first()
        if course is None:
            return None
        return Invitation("course", f"/courses/{course.slug}", course.title)
    if article.cta_kind == CallToAction.selftest:
        for link in selftest.published_links(session, language=article.language):
            if link.slug == article.cta_ref:
                return Invitation("selftest", f"/test/{link.slug}", link.title)
        return None
    if article.cta_kind == CallToAction.intake:
        return Invitation("intake", f"/intake/{article.author_id}", "")
    return None


@dataclass(frozen=True)
class SitemapEntry:
    path: str
    modified: datetime | None


def sitemap_entries(session: Session, *, now: datetime) -> list[SitemapEntry]:
    """The public pages search engines may list: home, catalog, articles and courses."""
    entries = [SitemapEntry("/", None), SitemapEntry("/courses", None)]
    entries.append(SitemapEntry("/artikelen", None))
    for slug, updated in session.exec(
        select(Article.slug, Article.updated_at)
        .where(is_public(now))
        .order_by(col(Article.published_at).desc())
    ):
        entries.append(SitemapEntry(f"/artikelen/{slug}", updated))
    for slug, updated in session.exec(
        select(Course.slug, Course.updated_at)
        .where(Course.status == CourseStatus.published)
        .order_by(col(Course.id))
    ):
        entries.append(SitemapEntry(f"/courses/{slug}", updated))
    return entries


# --- the studio ---------------------------------------------------------------------------------


class ArticleInput(BaseModel):
    """The article form as typed: plain strings and checkboxes, checked when saved."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    title: str = ""
    slug: str = ""
    summary: str = ""
    body: str = ""
    language: str = "nl"
    tags: str = ""
    status: str = ArticleStatus.draft.value
    publish_at: str = ""
    comments_open: bool = False
    cta_kind: str = CallToAction.none.value
    cta_ref: str = ""
    video_url: str = ""
    video_title: str = ""
    remove_video: bool = False
    cover_alt: str = ""


def owned(session: Session, *, viewer: User, slug: str) -> Article:
    """The article, when the viewer wrote it (or is an admin); NotFound or Forbidden."""
    article = by_slug(session, slug=slug)
    if article is None:
        raise NotFound(_("We could not find this article."))
    if not may_edit(viewer, article):
        raise Forbidden(_("This article belongs to another instructor."))
    return article


def of_author(session: Session, *, viewer: User) -> list[Article]:
    """Her articles (every article for an admin), the latest changed first."""
    query = select(Article).order_by(col(Article.updated_at).desc(), col(Article.id).desc())
    if viewer.role != Role.admin:
        query = query.where(Article.author_id == viewer.id)
    return list(session.exec(query))


def parse_tags(text: str) -> list[str]:
    """Tags as typed, separated by commas: lower case words (letters of any language kept),
    without repeats, in her order."""
    tags: list[str] = []
    for part in text.split(","):
        tag = clean_line(part).lower()[:TAG_LENGTH].strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def local_input(moment: datetime | None) -> str:
    """A moment as a datetime-local input shows it, in Amsterdam time."""
    return moment.astimezone(TIMEZONE).strftime("%Y-%m-%dT%H:%M") if moment else ""


def form_values(article: Article) -> dict[str, str]:
    """The article as the edit form shows it."""
    return {
        "title": article.title,
        "article_slug": article.slug,
        "summary": article.summary,
        "body": article.body,
        "language": article.language,
        "tags": ", ".join(article.tags),
        "status": article.status,
        "publish_at": local_input(article.published_at),
        "comments_open": "on" if article.comments_open else "",
        "cta_kind": article.cta_kind,
        "cta_ref": article.cta_ref,
        "video_url": lesson_video.video_url(article),
        "video_title": article.video_title,
        "cover_alt": article.cover_alt,
    }


def _slug(
    session: Session, typed: str, title: str, article: Article | None
) -> tuple[str, str | None]:
    typed = typed.strip().lower()
    taken = set(
        session.exec(
            select(Article.slug).where(col(Article.id) != (article.id if article else None))
        )
    )
    if not typed:
        base = slugify(title, max_length=SLUG_LENGTH[1])
        if len(base) < SLUG_LENGTH[0]:
            base = f"artikel-{base}" if base else "artikel"
        return first_free(base, taken), None
    if not is_slug(typed):
        return typed, _(
            "Use only a–z, 0–9 and hyphens, 3 to 80 characters, for example %(example)s.",
            example="adem-rustig",
        )
    if typed in taken:
        return typed, _(
            "Another article already uses this web address. Choose another one, or leave the "
            "field empty to make one from the title."
        )
    return typed, None


def _moment(typed: str, errors: dict[str, str]) -> datetime | None:
    text = typed.strip()
    if not text:
        return None
    if _LOCAL_MOMENT.match(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=TIMEZONE)
        except ValueError:
            pass
    errors["publish_at"] = _("Fill in a date and time, e.g. 2026-12-24T09:00.")
    return None


def _video_owned(session: Session, *, author_id: int, name: str) -> bool:
    """A video file she may show: one of her courses or her articles has it."""
    if owners.owned(session, names={name}, instructor_id=author_id):
        return True
    found = session.exec(
        select(func.count())
        .select_from(Article)
        .where(Article.author_id == author_id, Article.video_ref == name)
    ).one()
    return bool(found)


def _check_text(
    session: Session, data: ArticleInput, article: Article | None, errors: dict[str, str]
) -> dict[str, Any]:
    title = clean_line(data.title)
    if not title:
        errors["title"] = _("Give the article a title.")
    elif len(title) > TITLE_LENGTH:
        errors["title"] = _("Keep the title under %(num)s characters.", num=TITLE_LENGTH)
    slug, slug_error = _slug(session, data.slug, title, article)
    if slug_error:
        errors["slug"] = slug_error
    summary = clean_line(data.summary)
    if len(summary) > SUMMARY_LENGTH:
        errors["summary"] = _("Keep the summary under %(num)s characters.", num=SUMMARY_LENGTH)
    body = clean_text(data.body)
    if len(body) > MARKDOWN_LENGTH:
        errors["body"] = _("Keep the text under %(num)s characters.", num=MARKDOWN_LENGTH)
    if data.language not in ARTICLE_LANGUAGES:
        errors["language"] = _("Choose one of the options in the list.")
    tags = parse_tags(data.tags)
    if len(tags) > MAX_TAGS:
        errors["tags"] = _("Use at most %(num)s tags.", num=MAX_TAGS)
    cover_alt = clean_line(data.cover_alt)
    if len(cover_alt) > SUMMARY_LENGTH:
        errors["cover_alt"] = _(
            "Keep the description under %(num)s characters.", num=SUMMARY_LENGTH
        )
    return {
        "title": title,
        "slug": slug,
        "summary": summary,
        "body": body,
        "language": data.language,
        "tags": tags,
        "cover_alt": cover_alt,
    }


def _check_publication(
    data: ArticleInput, article: Article | None, now: datetime, errors: dict[str, str]
) -> dict[str, Any]:
    """Draft, published (now, or at the date she typed) or scheduled (at the time she typed)."""
    if data.status not in [status.value for status in ArticleStatus]:
        errors["status"] = _("Choose one of the options in the list.")
    moment = _moment(data.publish_at, errors)
    published_at = article.published_at if article else None
    if data.status == ArticleStatus.scheduled:
        if moment is None and "publish_at" not in errors:
            errors["publish_at"] = _("Choose when the article is published.")
        published_at = moment
    elif data.status == ArticleStatus.published:
        published_at = moment or published_at or now
    elif moment is not None:
        published_at = moment
    return {"status": data.status, "published_at": published_at}


def _check_invitation(data: ArticleInput, errors: dict[str, str]) -> dict[str, Any]:
    cta_ref = data.cta_ref.strip().lower()
    if data.cta_kind not in [kind.value for kind in CallToAction]:
        errors["cta_kind"] = _("Choose one of the options in the list.")
    elif data.cta_kind in (CallToAction.course, CallToAction.selftest):
        if not is_slug(cta_ref):
            errors["cta_ref"] = _("Choose the course or self-test the article invites to.")
    else:
        cta_ref = ""
    return {"cta_kind": data.cta_kind, "cta_ref": cta_ref}


def _check_video(
    session: Session,
    data: ArticleInput,
    article: Article | None,
    author_id: int,
    errors: dict[str, str],
) -> dict[str, Any]:
    """A YouTube or Vimeo link, or an uploaded file of hers, as a lesson's video is checked."""
    provider, ref = lesson_video.chosen(data.video_url, data.remove_video, article, errors)
    kept = article.video_ref if article and article.video_provider == VideoProvider.file else None
    new_file = provider == VideoProvider.file and ref and ref != kept
    if new_file and not _video_owned(session, author_id=author_id, name=ref or ""):
        errors["video_url"] = _(
            "This video is not one of your uploads in Kern, so it cannot be used here. "
            "Upload the file below, or paste a YouTube or Vimeo link."
        )
    video_title = clean_line(data.video_title)
    if len(video_title) > TITLE_LENGTH:
        errors["video_title"] = _("Keep the title under %(num)s characters.", num=TITLE_LENGTH)
    return {"video_provider": provider, "video_ref": ref, "video_title": video_title}


def check(
    session: Session,
    *,
    data: ArticleInput,
    author_id: int,
    now: datetime,
    article: Article | None = None,
) -> dict[str, Any]:
    """The article's new column values; FormError listing every field that is wrong."""
    errors: dict[str, str] = {}
    values = {
        **_check_text(session, data, article, errors),
        **_check_publication(data, article, now, errors),
        **_check_invitation(data, errors),
        **_check_video(session, data, article, author_id, errors),
        "comments_open": data.comments_open,
    }
    if errors:
        raise FormError(errors)
    return values


def _saved(session: Session, article: Article) -> Article:
    try:
        with session.begin_nested():
            session.add(article)
            session.flush()
    except IntegrityError:
        raise FormError({"slug": _("Another article already uses this web address.")}) from None
    return article


def create(session: Session, *, data: ArticleInput, author: User, now: datetime) -> Article:
    """A new article by `author`; FormError for bad input, nothing written then."""
    author_id = author.id or 0
    values = check(session, data=data, author_id=author_id, now=now)
    article = Article(author_id=author_id, created_at=now, updated_at=now, **values)
    return _saved(session, article)


def save(session: Session, *, article: Article, data: ArticleInput, now: datetime) -> Article:
    """Save the form; FormError for bad input, nothing changed then."""
    values = check(session, data=data, author_id=article.author_id, now=now, article=article)
    for name, value in values.items():
        setattr(article, name, value)
    article.updated_at = now
    return _saved(session, article)


def delete(session: Session, *, article: Article) -> None:
    """Delete the article and its comments."""
    session.delete(article)
    session.flush()


def call_to_action_choices(session: Session, *, viewer: User) -> dict[str, list[tuple[str, str]]]:
    """The published courses and self-tests an article may invite to, as (slug, title)."""
    courses = session.exec(
        select(Course.slug, Course.title)
        .where(Course.status == CourseStatus.published)
        .order_by(col(Course.title))
    ).all()
    tests = selftest.published_links(session, language=viewer.language)
    return {
        "course": [(slug, title) for slug, title in courses],
        "selftest": [(link.slug, link.title) for link in tests],
    }
