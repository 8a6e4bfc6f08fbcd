"""Videos are a provider and an id, never raw HTML; embeds load only after a click."""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from api.catalog.models import VideoProvider

YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
VIMEO_ID = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True)
class Embed:
    """What a page needs to show a click-to-load video."""

    provider: str
    ref: str
    title: str

    @property
    def player_url(self) -> str:
        """The third-party player, requested only when the learner presses play."""
        if self.provider == VideoProvider.youtube:
            query = urlencode({"autoplay": 1, "rel": 0, "modestbranding": 1})
            return f"https://www.youtube-nocookie.com/embed/{self.ref}?{query}"
        if self.provider == VideoProvider.vimeo:
            return (
                f"https://player.vimeo.com/video/{self.ref}?{urlencode({'dnt': 1, 'autoplay': 1})}"
            )
        return f"/media/{self.ref}"


def embed_for(provider: str | None, ref: str | None, title: str) -> Embed | None:
    """An Embed when the lesson has a valid video, else None (the page stays sound)."""
    if provider == VideoProvider.youtube and ref and YOUTUBE_ID.match(ref):
        return Embed(provider, ref, title)
    if provider == VideoProvider.vimeo and ref and VIMEO_ID.match(ref):
        return Embed(provider, ref, title)
    if provider == VideoProvider.file and ref and "/" not in ref and ".." not in ref:
        return Embed(provider, ref, title)
    return None


def parse_video_url(url: str) -> tuple[str, str] | None:
    """Provider and id from the usual YouTube and Vimeo URL forms, or None."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    path = parts.path.strip("/")
    candidate = ""
    if host in {"youtube.com", "youtube-nocookie.com", "music.youtube.com"}:
        if path == "watch":
            candidate = parse_qs(parts.query).get("v", [""])[0]
        elif path.split("/")[0] in {"embed", "shorts", "live", "v"}:
            candidate = path.split("/")[1] if "/" in path else ""
        if YOUTUBE_ID.match(candidate):
            return VideoProvider.youtube.value, candidate
    if host == "youtu.be" and YOUTUBE_ID.match(path.split("/")[0]):
        return VideoProvider.youtube.value, path.split("/")[0]
    if host in {"vimeo.com", "player.vimeo.com"}:
        numbers = [part for part in path.split("/") if VIMEO_ID.match(part)]
        if numbers:
            return VideoProvider.vimeo.value, numbers[0]
    return None
