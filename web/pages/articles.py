"""The practice's articles as readers find them: the list, an article, and its comments."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2.utils import htmlsafe_json_dumps

from api.accounts.access import CurrentUser, RequireUser
from api.accounts.models import User
from api.articles import comments
from api.articles import service as articles
from api.articles.models import Article
from api.catalog import video
from api.catalog.markdown import render_markdown
from api.catalog.models import VideoProvider
from api.clock import Now
from api.db import SessionDep
from api.errors import AppError, FormError
from api.i18n import gettext as _
from api.kit.ids import PathId
from api.media import streams
from web.forms import Form, Posted, invalid, posted
from web.pages.catalog import FALLBACK_SHARE_IMAGE
from web.pages.common import client_ip, settings_of
from web.templating import practice_identity_of, render

router = APIRouter(include_in_schema=False)

NOTICES = frozenset({"comment-held", "comment-deleted"})
# Open Graph's names for the articles' languages.
OG_LOCALES = {"nl": "nl_NL", "en": "en_GB", "nb": "nb_NO"}


class CommentForm(Form):
    name: str = ""
    text: str = ""
    # The honeypot: hidden from people, filled in by robots that fill in every field.
    website: str = ""


CommentPost = Annotated[Posted[CommentForm], posted(CommentForm)]


def _page_number(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 6 else 1


@router.get("/artikelen", response_class=HTMLResponse)
def list_articles(
    request: Request, session: SessionDep, _user: CurrentUser, now: Now
) -> HTMLResponse:
    """The public articles, newest first, ten to a page, perhaps those with one tag."""
    tag = request.query_params.get("tag", "")[:40]
    page = _page_number(request.query_params.get("page", "1"))
    found = articles.listing(session, now=now, tag=tag, page=page)
    base = settings_of(request).base_url.rstrip("/")
    context = {
        "listing": found,
        "tag": tag if tag in found.tags else "",
        "reading_minutes": articles.reading_minutes,
        "canonical": f"{base}/artikelen" + (f"?page={found.page}" if found.page > 1 else ""),
    }
    return render(request, "articles/index.html", context)


def _atom_moment(moment: datetime | None) -> datetime:
    return (moment or datetime(2026, 1, 1, tzinfo=UTC)).astimezone(UTC)


@router.get("/artikelen/feed.xml")
def feed(request: Request, session: SessionDep, now: Now) -> Response:
    """An Atom feed of the public articles, the newest twenty."""
    base = settings_of(request).base_url.rstrip("/")
    identity = practice_identity_of(request)
    name = identity.trading_name if identity is not None and identity.trading_name else "Kern"
    public = articles.public_articles(session, now=now)[:20]
    authors = articles.authors_of(session, public)
    # Imported here: feedgen brings lxml (~5 MiB per worker) for a page asked now and then.
    from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]  # noqa: PLC0415

    generator = FeedGenerator()
    generator.id(f"{base}/artikelen")
    generator.title(_("Articles of %(name)s", name=name))
    generator.link(href=f"{base}/artikelen", rel="alternate")
    generator.link(href=f"{base}/artikelen/feed.xml", rel="self")
    generator.updated(_atom_moment(max((a.updated_at for a in public), default=None)))
    for article in reversed(public):  # feedgen puts each new entry first
        entry = generator.add_entry()
        url = f"{base}/artikelen/{article.slug}"
        entry.id(url)
        entry.title(article.title)
        entry.link(href=url)
        entry.summary(article.summary or article.title)
        entry.published(_atom_moment(article.published_at))
        entry.updated(_atom_moment(article.updated_at))
        author = authors.get(article.author_id)
        if author:
            entry.author({"name": author})
        for tag in article.tags:
            entry.category(term=tag)
    body: bytes = generator.atom_str(pretty=True)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


def share_context(request: Request, article: Article, author: str) -> dict[str, Any]:
    """Open Graph values and schema.org `Article` data (as HTML-safe JSON)."""
    base = settings_of(request).base_url.rstrip("/")
    url = f"{base}/artikelen/{article.slug}"
    image = base + (
        f"/media/{article.cover_image}" if article.cover_image else FALLBACK_SHARE_IMAGE
    )
    identity = practice_identity_of(request)
    publisher = identity.trading_name if identity is not None and identity.trading_name else "Kern"
    description = article.summary or article.title
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title,
        "description": description,
        "url": url,
        "mainEntityOfPage": url,
        "inLanguage": article.language,
        "image": [image],
        "author": {"@type": "Person", "name": author},
        "publisher": {"@type": "Organization", "name": publisher, "url": base},
        "dateModified": article.updated_at.isoformat(),
        "keywords": ", ".join(article.tags),
    }
    if article.published_at is not None:
        data["datePublished"] = article.published_at.isoformat()
    return {
        "share": {
            "title": article.title,
            "description": description,
            "image": image,
            "image_alt": article.cover_alt if article.cover_image else "",
            "url": url,
            "locale": OG_LOCALES.get(article.language, "nl_NL"),
            "published": data.get("datePublished", ""),
        },
        # htmlsafe_json_dumps writes <, >, & and ' as \u escapes: no text can end the script.
        "article_json_ld": htmlsafe_json_dumps(data),
    }


def _article_page(
    request: Request,
    session: SessionDep,
    article: Article,
    *,
    viewer: User | None,
    now: datetime,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    author = articles.author_name(session, article)
    notice = request.query_params.get("notice")
    context: dict[str, Any] = {
        "article": article,
        "author": author,
        "body_html": render_markdown(article.body),
        "embed": video.embed_for(
            article.video_provider, article.video_ref, article.video_title or article.title
        ),
        "stream": (
            streams.view_of(session, name=article.video_ref)
            if article.video_provider == VideoProvider.file and article.video_ref
            else None
        ),
        "minutes": articles.reading_minutes(article.body),
        "invitation": articles.invitation(session, article=article),
        "related": articles.related(session, article=article, now=now),
        "comments": comments.shown(session, article=article),
        "own_waiting": comments.mine(session, article=article, user=viewer),
        "viewer": viewer,
        "is_draft": not articles.shows_publicly(article, now),
        "notice": notice if notice in NOTICES else None,
        # Her first name, as the form's hint suggests: a comment is public.
        "values": values
        if values is not None
        else ({"name": _first_name(viewer)} if viewer else {}),
        "errors": errors or {},
        "problem": problem,
        "max_name": comments.NAME_LENGTH,
        "max_text": comments.TEXT_LENGTH,
        **share_context(request, article, author),
    }
    status = 200 if errors is None and problem is None else 422
    return render(request, "articles/show.html", context, status_code=status)


@router.get("/artikelen/{slug}", response_class=HTMLResponse)
def show_article(
    request: Request, session: SessionDep, viewer: CurrentUser, now: Now, slug: str
) -> HTMLResponse:
    """One article with its cover, video, call to action, related articles and comments."""
    article = articles.readable(session, slug=slug, viewer=viewer, now=now)
    return _article_page(request, session, article, viewer=viewer, now=now)


@router.post("/artikelen/{slug}/comments", response_class=HTMLResponse)
def post_comment(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    now: Now,
    slug: str,
    form: CommentPost,
) -> Response:
    """Keep her comment for the author's approval."""
    article = articles.readable(session, slug=slug, viewer=viewer, now=now)
    try:
        data = form.valid()
        comments.post(
            session,
            article=article,
            name=data.name,
            text=data.text,
            honeypot=data.website,
            user=viewer,
            ip=client_ip(request),
            now=now,
        )
    except FormError as exc:
        page = _article_page(request, session, article, viewer=viewer, now=now, **form.shown(exc))
        return invalid(exc, page)
    except AppError as exc:
        # Too many comments from here, or comments closed: said above the form she filled in.
        page = _article_page(
            request, session, article, viewer=viewer, now=now, values=form.values,
            problem=exc.message,
        )  # fmt: skip
        return invalid(exc, page)
    url = f"/artikelen/{article.slug}?notice=comment-held#comments"
    return RedirectResponse(url, status_code=303)


@router.post("/artikelen/comments/{comment_id}/delete")
def delete_own_comment(
    session: SessionDep, user: RequireUser, comment_id: PathId
) -> RedirectResponse:
    """She deletes a comment of her own."""
    article = comments.delete_own(session, comment_id=comment_id, user=user)
    url = f"/artikelen/{article.slug}?notice=comment-deleted#comments"
    return RedirectResponse(url, status_code=303)


def _first_name(viewer: User) -> str:
    return viewer.name.split()[0] if viewer.name.split() else ""
