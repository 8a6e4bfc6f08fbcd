"""Articles as files: `articles/<slug>.md`, YAML front matter and the Markdown body.

    ---
    title: Adem in op 4, uit op 6
    slug: adem-in-4-uit-6
    language: nl
    author: instructeur@kern.test
    status: published
    published_at: '2026-11-20T08:00:00+00:00'
    tags: [ademhaling, ontspanning]
    ...
    ---
    The body in Markdown.

Export writes every field in a fixed order, so importing a file and exporting it again gives the
same text (lossless). A cover or uploaded video travels along in `media/` next to the file.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from api.accounts import service as accounts
from api.accounts.models import Role, User
from api.articles import service
from api.articles.models import Article, ArticleStatus, CallToAction
from api.catalog.models import VideoProvider
from api.catalog.video import embed_for
from api.db import utcnow
from api.errors import AppError, FormError
from api.media import files as media_files
from api.media import images, owners, videos
from api.media.files import UploadRefused
from api.media.models import MediaKind
from api.media.storage import MediaStorage

FENCE = "---"
MEDIA_FOLDER = "media"
# What a video's name may end in, by the format its content has.
VIDEO_EXTENSIONS = {"mp4": {"mp4", "m4v", "mov"}, "webm": {"webm"}}
KEYS = (
    "title",
    "slug",
    "summary",
    "language",
    "author",
    "status",
    "published_at",
    "tags",
    "comments_open",
    "cta",
    "cover",
    "video",
)


class ArticleFileError(AppError):
    """A file that cannot be imported; the message names the file and what is wrong."""

    status_code = 422
    code = "invalid_article_file"


@dataclass(frozen=True)
class ArticleFile:
    """An article file as read: its front matter and its body."""

    meta: dict[str, Any]
    body: str


def parse(text: str, *, where: str = "") -> ArticleFile:
    """Front matter and body; ArticleFileError when the file has no valid front matter."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != FENCE or FENCE not in (line.strip() for line in lines[1:]):
        raise ArticleFileError(f"{where}: the file must start with front matter between --- lines")
    end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == FENCE)
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise ArticleFileError(f"{where}: the front matter is not valid YAML ({exc})") from None
    if not isinstance(meta, dict):
        raise ArticleFileError(f"{where}: the front matter must be a mapping of fields")
    unknown = sorted(set(meta) - set(KEYS))
    if unknown:
        raise ArticleFileError(f"{where}: unknown fields: {', '.join(map(str, unknown))}")
    body = "\n".join(lines[end + 1 :]).strip("\n")
    return ArticleFile(meta, body)


def render(meta: dict[str, Any], body: str) -> str:
    """The file's text: front matter in KEYS order, then the body."""
    ordered = {key: meta[key] for key in KEYS if key in meta}
    front = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)
    return f"{FENCE}\n{front}{FENCE}\n\n{body}\n"


def _text(meta: dict[str, Any], key: str, where: str) -> str:
    value = meta.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise ArticleFileError(f"{where}: {key}: must be text")
    return str(value)


def _moment(meta: dict[str, Any], where: str) -> datetime | None:
    value = meta.get("published_at")
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ArticleFileError(f"{where}: published_at: not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _author(session: Session, meta: dict[str, Any], fallback: User | None, where: str) -> User:
    email = _text(meta, "author", where)
    author = accounts.find_by_email(session, email) if email else None
    author = author or fallback
    if author is None:
        raise ArticleFileError(f"{where}: author: there is no account with the email {email!r}")
    if author.role not in (Role.instructor, Role.admin):
        raise ArticleFileError(f"{where}: author: {author.email} is not an instructor")
    return author


def _bring_media(
    session: Session, folder: Path, name: str, storage: MediaStorage, where: str
) -> None:
    """Store `media/<name>` next to the file in the media storage, unless it is there already.
    An image is stored as an upload is (re-encoded, without metadata) and a video only when its
    content is MP4 or WebM, so a file cannot pass for what it is not."""
    kind = owners.kind_of(name)
    if not media_files.is_safe_name(name) or kind is None:
        raise ArticleFileError(f"{where}: {name}: not a usable file name")
    if storage.exists(name):
        return
    source = folder / MEDIA_FOLDER / name
    if not source.is_file():
        raise ArticleFileError(f"{where}: {MEDIA_FOLDER}/{name}: the file is missing")
    data = source.read_bytes()
    try:
        if kind == MediaKind.image:
            encoded = images.reencode(data)
            if name.rsplit(".", 1)[-1].lower() != encoded.extension:
                raise ArticleFileError(f"{where}: {name}: its extension does not match its format")
            data = encoded.data
        elif name.rsplit(".", 1)[-1].lower() not in VIDEO_EXTENSIONS[videos.format_of(data[:64])]:
            raise ArticleFileError(f"{where}: {name}: its extension does not match its format")
    except UploadRefused as exc:
        raise ArticleFileError(f"{where}: {MEDIA_FOLDER}/{name}: {exc.message}") from None
    storage.put_bytes(name, data)
    # Should the import's transaction roll back, the file goes again.
    media_files.after_rollback(session, partial(media_files.discard, storage, name))


def import_file(
    session: Session,
    path: Path,
    *,
    storage: MediaStorage,
    author: User | None = None,
    now: datetime | None = None,
) -> Article:
    """Create or update (by slug) the article in the file; ArticleFileError for a bad file,
    and nothing is written then."""
    where = str(path)
    now = now or utcnow()
    found = parse(path.read_text(encoding="utf-8"), where=where)
    meta = found.meta
    owner = _author(session, meta, author, where)
    tags = meta.get("tags") or []
    if not isinstance(tags, list):
        raise ArticleFileError(f"{where}: tags: must be a list")
    cta = meta.get("cta") or {}
    cover = meta.get("cover") or {}
    video = meta.get("video") or {}
    if not all(isinstance(part, dict) for part in (cta, cover, video)):
        raise ArticleFileError(f"{where}: cta, cover and video are mappings of fields")
    status = _text(meta, "status", where) or ArticleStatus.draft.value
    data = service.ArticleInput(
        title=_text(meta, "title", where),
        slug=_text(meta, "slug", where),
        summary=_text(meta, "summary", where),
        body=found.body,
        language=_text(meta, "language", where) or "nl",
        tags=", ".join(str(tag) for tag in tags),
        comments_open=bool(meta.get("comments_open", False)),
        cta_kind=str(cta.get("kind", CallToAction.none.value)),
        cta_ref=str(cta.get("ref", "")),
        cover_alt=str(cover.get("alt", "")),
    )
    existing = session.exec(select(Article).where(Article.slug == data.slug.strip())).first()
    try:
        values = service.check(
            session, data=data, author_id=owner.id or 0, now=now, article=existing
        )
    except FormError as exc:
        problems = "; ".join(f"{field}: {message}" for field, message in exc.fields.items())
        raise ArticleFileError(f"{where}: {problems}") from None
    if status not in [choice.value for choice in ArticleStatus]:
        raise ArticleFileError(f"{where}: status: draft, published or scheduled")
    values["status"] = status
    values["published_at"] = _moment(meta, where)
    if status != ArticleStatus.draft and values["published_at"] is None:
        raise ArticleFileError(f"{where}: published_at: needed for a {status} article")
    provider, ref = video.get("provider"), video.get("ref")
    if provider or ref:
        if embed_for(str(provider), str(ref), "") is None:
            raise ArticleFileError(f"{where}: video: not a YouTube, Vimeo or uploaded video")
        if provider == VideoProvider.file:
            _bring_media(session, path.parent, str(ref), storage, where)
        values.update(video_provider=str(provider), video_ref=str(ref))
    else:
        values.update(video_provider=None, video_ref=None)
    values["video_title"] = str(video.get("title", "") or "")
    cover_file = cover.get("file")
    if cover_file:
        _bring_media(session, path.parent, str(cover_file), storage, where)
    values["cover_image"] = str(cover_file) if cover_file else None
    article = existing or Article(
        author_id=owner.id or 0, slug=values["slug"], title=values["title"], created_at=now
    )
    article.author_id = owner.id or 0
    for name, value in values.items():
        setattr(article, name, value)
    article.updated_at = now
    session.add(article)
    session.flush()
    return article


def to_text(session: Session, article: Article) -> str:
    """The article as its file's text."""
    author = session.get(User, article.author_id)
    meta: dict[str, Any] = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "language": article.language,
        "author": author.email if author else "",
        "status": article.status,
        "published_at": (
            article.published_at.astimezone(UTC).isoformat() if article.published_at else None
        ),
        "tags": list(article.tags),
        "comments_open": article.comments_open,
        "cta": {"kind": article.cta_kind, "ref": article.cta_ref},
        "cover": {"file": article.cover_image, "alt": article.cover_alt},
        "video": {
            "provider": article.video_provider,
            "ref": article.video_ref,
            "title": article.video_title,
        },
    }
    return render(meta, article.body)


def export(session: Session, *, slug: str, target: Path, storage: MediaStorage) -> Path:
    """Write `target/<slug>.md`, and its cover and uploaded video to `target/media/`."""
    article = service.by_slug(session, slug=slug)
    if article is None:
        raise ArticleFileError(f"there is no article with the slug {slug!r}")
    target.mkdir(parents=True, exist_ok=True)
    names = [article.cover_image]
    if article.video_provider == VideoProvider.file:
        names.append(article.video_ref)
    for name in names:
        if name and storage.exists(name):
            (target / MEDIA_FOLDER).mkdir(exist_ok=True)
            storage.fetch_to(name, target / MEDIA_FOLDER / name)
    path = target / f"{article.slug}.md"
    path.write_text(to_text(session, article), encoding="utf-8")
    return path


def article_files(folder: Path) -> list[Path]:
    """The article files in a folder, in name order."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob("*.md") if not path.name.startswith("."))
