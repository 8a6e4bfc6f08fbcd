"""Videos are a provider and an id; players load from the privacy-friendly hosts."""

import pytest

from api.catalog.video import embed_for, parse_video_url


def test_youtube_plays_from_the_no_cookie_host() -> None:
    embed = embed_for("youtube", "aBcDeFgHiJk", "Uitleg")
    assert embed is not None
    assert embed.player_url.startswith("https://www.youtube-nocookie.com/embed/aBcDeFgHiJk?")


def test_vimeo_plays_with_do_not_track() -> None:
    embed = embed_for("vimeo", "76979871", "Uitleg")
    assert embed is not None
    assert embed.player_url.startswith("https://player.vimeo.com/video/76979871?")
    assert "dnt=1" in embed.player_url


def test_uploaded_files_play_from_media() -> None:
    embed = embed_for("file", "oefening.mp4", "Uitleg")
    assert embed is not None
    assert embed.player_url == "/media/oefening.mp4"


@pytest.mark.parametrize(
    ("provider", "ref"),
    [
        ("youtube", "short"),
        ("youtube", 'aBcDeFgHi"J'),
        ("youtube", None),
        ("vimeo", "abc"),
        ("vimeo", "123/456"),
        ("file", "../kern.db"),
        ("file", "map/video.mp4"),
        ("file", ""),
        ("dailymotion", "x7"),
        (None, None),
    ],
)
def test_invalid_videos_are_left_out(provider: str | None, ref: str | None) -> None:
    assert embed_for(provider, ref, "Uitleg") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.youtube.com/watch?v=aBcDeFgHiJk", ("youtube", "aBcDeFgHiJk")),
        ("https://youtu.be/aBcDeFgHiJk", ("youtube", "aBcDeFgHiJk")),
        ("https://www.youtube.com/shorts/aBcDeFgHiJk", ("youtube", "aBcDeFgHiJk")),
        ("https://www.youtube-nocookie.com/embed/aBcDeFgHiJk", ("youtube", "aBcDeFgHiJk")),
        ("https://m.youtube.com/watch?v=aBcDeFgHiJk&t=10", ("youtube", "aBcDeFgHiJk")),
        ("https://vimeo.com/76979871", ("vimeo", "76979871")),
        ("https://player.vimeo.com/video/76979871", ("vimeo", "76979871")),
        ("https://evil.example/watch?v=aBcDeFgHiJk", None),
        ("https://www.youtube.com/watch?v=kort", None),
        ("not a url", None),
    ],
)
def test_video_urls_are_recognised(url: str, expected: tuple[str, str] | None) -> None:
    assert parse_video_url(url) == expected
