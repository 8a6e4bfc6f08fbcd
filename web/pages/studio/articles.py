"""Articles in the studio: writing, publishing or scheduling, the cover and video, and the
comments under them (approve, answer, hide, delete)."""

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.articles import comments
from api.articles import media as article_media
from api.articles import service as articles
from api.articles.models import Article, ArticleStatus, CallToAction
from api.catalog.markdown import render_markdown
from api.clock import Now
from api.db import SessionDep
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import PathId, id_of
from api.media import images
from api.media.files import UploadRefused
from web.forms import Checkbox, Form, Posted, invalid, posted
from web.pages.common import ConfirmForm, settings_of, storage_of
from web.pages.studio.uploads import ONE_FILE, UploadRoute, refused, upload_limit, video_limit
from web.templating import render

router = APIRouter(include_in_schema=False)
# The cover and video uploads, whose size is checked before the body is read.
upload_router = APIRouter(include_in_schema=False, route_class=UploadRoute)

NOTICES = frozenset(
    {
        "created",
        "saved",
        "cover-saved",
        "video-saved",
        "comment-approved",
        "comment-hidden",
        "comment-deleted",
        "comment-answered",
    }
)


class ArticleForm(articles.ArticleInput, Form):
    # Named apart from the `slug` in the page's address.
    slug: str = Field(default="", alias="article_slug")
    comments_open: Checkbox = False
    remove_video: Checkbox = False
    # "preview" shows the text instead of saving.
    action: str = ""


class ModerateForm(Form):
    action: str = ""


class ReplyForm(Form):
    reply: str = ""


ArticlePost = Annotated[Posted[ArticleForm], posted(ArticleForm)]


def _url(article: Article, query: str = "", anchor: str = "") -> str:
    url = f"/studio/articles/{article.slug}"
    return url + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


def _form_context(session: SessionDep, user: User) -> dict[str, Any]:
    return {
        "choices": articles.call_to_action_choices(session, viewer=user),
        "statuses": [status.value for status in ArticleStatus],
        "cta_kinds": [kind.value for kind in CallToAction],
    }


def _edit_page(
    request: Request,
    session: SessionDep,
    user: User,
    article: Article | None,
    *,
    status_code: int = 200,
    **shown: Any,
) -> HTMLResponse:
    notice = request.query_params.get("notice")
    context: dict[str, Any] = {
        "article": article,
        "values": articles.form_values(article) if article else {"language": user.language},
        "errors": {},
        "preview": None,
        "notice": notice if notice in NOTICES else None,
        "comment_list": comments.of_article(session, article=article) if article else [],
        "problem": None,
        **_form_context(session, user),
        **shown,
    }
    return render(request, "studio/article.html", context, status_code=status_code)


@router.get("/studio/articles", response_class=HTMLResponse)
def list_articles(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now
) -> HTMLResponse:
    """Her articles, with their state and the comments waiting for her."""
    mine = articles.of_author(session, viewer=user)
    context = {
        "articles": mine,
        "waiting": comments.waiting_counts(session, article_ids=[id_of(a) for a in mine]),
        "now": now,
        "shows_publicly": articles.shows_publicly,
    }
    return render(request, "studio/articles.html", context)


@router.get("/studio/articles/new", response_class=HTMLResponse)
def new_article(request: Request, session: SessionDep, user: RequireInstructor) -> HTMLResponse:
    """An empty article form."""
    return _edit_page(request, session, user, None)


@router.post("/studio/articles/new", response_class=HTMLResponse)
def create_article(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now, form: ArticlePost
) -> Response:
    """Save the new article (or show a preview of its text)."""
    try:
        data = form.valid()
        if data.action == "preview":
            preview = render_markdown(data.body)
            return _edit_page(request, session, user, None, values=form.values, preview=preview)
        article = articles.create(session, data=data, author=user, now=now)
    except FormError as exc:
        return invalid(exc, _edit_page(request, session, user, None, **form.shown(exc)))
    return RedirectResponse(_url(article, "notice=created"), status_code=303)


@router.get("/studio/articles/{slug}", response_class=HTMLResponse)
def show_article(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str
) -> HTMLResponse:
    """The article's form, its cover and video, and its comments."""
    article = articles.owned(session, viewer=user, slug=slug)
    return _edit_page(request, session, user, article)


@router.post("/studio/articles/{slug}", response_class=HTMLResponse)
def save_article(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    form: ArticlePost,
) -> Response:
    """Save the article; every wrong field is shown and nothing is half-saved."""
    article = articles.owned(session, viewer=user, slug=slug)
    try:
        data = form.valid()
        if data.action == "preview":
            preview = render_markdown(data.body)
            return _edit_page(request, session, user, article, values=form.values, preview=preview)
        articles.save(session, article=article, data=data, now=now)
    except FormError as exc:
        session.refresh(article)
        return invalid(exc, _edit_page(request, session, user, article, **form.shown(exc)))
    return RedirectResponse(_url(article, "notice=saved"), status_code=303)


@router.post("/studio/articles/{slug}/delete", response_class=HTMLResponse)
def delete_article(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    form: Annotated[Posted[ConfirmForm], posted(ConfirmForm)],
) -> Response:
    """Delete the article and its comments, after the confirmation button."""
    article = articles.owned(session, viewer=user, slug=slug)
    if not form.valid().confirmed:
        problem = _("Nothing was deleted: confirm with the button “Yes, delete”.")
        return _edit_page(request, session, user, article, problem=problem, status_code=422)
    articles.delete(session, article=article)
    return RedirectResponse("/studio/articles?notice=deleted", status_code=303)


# --- comments -----------------------------------------------------------------------------------


@router.post("/studio/articles/{slug}/comments/{comment_id}", response_class=HTMLResponse)
def moderate_comment(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    comment_id: PathId,
    form: Annotated[Posted[ModerateForm], posted(ModerateForm)],
) -> Response:
    """Approve, hide or delete a comment."""
    article = articles.owned(session, viewer=user, slug=slug)
    comment = comments.comment_of(session, article=article, comment_id=comment_id)
    action = form.valid().action
    try:
        comments.moderate(session, comment=comment, action=action)
    except FormError as exc:
        page = _edit_page(request, session, user, article, problem=exc.message)
        return invalid(exc, page)
    done = {"approve": "approved", "hide": "hidden", "delete": "deleted"}[action]
    return RedirectResponse(_url(article, f"notice=comment-{done}", "comments"), 303)


@router.post("/studio/articles/{slug}/comments/{comment_id}/reply", response_class=HTMLResponse)
def answer_comment(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    comment_id: PathId,
    form: Annotated[Posted[ReplyForm], posted(ReplyForm)],
) -> Response:
    """Her answer, shown under the comment."""
    article = articles.owned(session, viewer=user, slug=slug)
    comment = comments.comment_of(session, article=article, comment_id=comment_id)
    try:
        comments.answer(session, comment=comment, text=form.valid().reply, now=now)
    except FormError as exc:
        shown = form.shown(exc, prefix=f"comment-{comment_id}-")
        values = {**articles.form_values(article), **shown["values"]}
        page = _edit_page(request, session, user, article, values=values, errors=shown["errors"])
        return invalid(exc, page)
    return RedirectResponse(_url(article, "notice=comment-answered", "comments"), 303)


# --- uploads ------------------------------------------------------------------------------------

Upload = Annotated[UploadFile | None, File()]


@upload_router.post(
    "/studio/articles/{slug}/cover", response_class=HTMLResponse, form_limits=ONE_FILE
)
@upload_limit(lambda _settings: images.MAX_BYTES)
def save_cover(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    image: Upload = None,
) -> Response:
    """Store the uploaded image as the article's cover (its file name is never used)."""
    article = articles.owned(session, viewer=user, slug=slug)
    try:
        article_media.set_cover(
            session,
            article=article,
            source=image.file if image is not None and image.filename else None,
            storage=storage_of(request),
        )
    except UploadRefused as exc:
        return refused(request, exc)
    return RedirectResponse(_url(article, "notice=cover-saved"), status_code=303)


@upload_router.post(
    "/studio/articles/{slug}/video", response_class=HTMLResponse, form_limits=ONE_FILE
)
@upload_limit(video_limit)
def save_video(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    video: Upload = None,
) -> Response:
    """Store the uploaded MP4 or WebM file as the article's video."""
    article = articles.owned(session, viewer=user, slug=slug)
    try:
        article_media.set_video(
            session,
            article=article,
            source=video.file if video is not None and video.filename else None,
            storage=storage_of(request),
            max_bytes=video_limit(settings_of(request)),
        )
    except UploadRefused as exc:
        return refused(request, exc)
    return RedirectResponse(_url(article, "notice=video-saved"), status_code=303)
