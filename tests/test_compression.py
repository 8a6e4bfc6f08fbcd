"""Pages and JSON go gzipped to a browser that accepts it; files (media, static) are left to
their own handling, so a video's byte ranges still count its stored bytes. (Static files are
gzipped once, by their mount: tests/test_static.py.)"""

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from api.catalog.models import VideoProvider
from api.compression import CompressionMiddleware, accepts_gzip
from api.config import Settings
from tests.factories import VIDEO_REFS, make_course

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
PLAIN = {"Accept-Encoding": "identity"}
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 40


def test_a_page_goes_gzipped_to_a_browser_that_accepts_it_and_plain_otherwise(
    client: TestClient,
) -> None:
    zipped = client.get("/login", headers=GZIP)
    plain = client.get("/login", headers=PLAIN)
    refused = client.get("/login", headers={"Accept-Encoding": "gzip;q=0, identity"})

    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert int(zipped.headers["content-length"]) < len(zipped.content) / 2
    assert "<form" in zipped.text
    for response in (plain, refused):
        assert "content-encoding" not in response.headers
        assert int(response.headers["content-length"]) == len(response.content)
        assert "<form" in response.text


def test_json_goes_gzipped(client: TestClient) -> None:
    response = client.get("/api/openapi.json", headers=GZIP)

    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["info"]["title"] == "Kern"


def test_a_video_and_its_ranges_go_as_they_are_stored(
    client: TestClient, session: Session, settings: Settings
) -> None:
    # A course whose free preview shows the stored video: anyone may fetch it.
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    name = VIDEO_REFS[VideoProvider.file]
    (settings.media_dir / name).write_bytes(MP4)
    make_course(session, video_provider=VideoProvider.file)

    part = client.get(f"/media/{name}", headers={**GZIP, "Range": "bytes=100-"})
    whole = client.get(f"/media/{name}", headers=GZIP)

    assert (part.status_code, part.content) == (206, MP4[100:])
    assert (whole.status_code, whole.content) == (200, MP4)
    for response in (part, whole):
        assert "content-encoding" not in response.headers
        assert int(response.headers["content-length"]) == len(response.content)


@pytest.fixture
def small_app(tmp_path: Path) -> TestClient:
    """An application of its own: a text file (compressible, but offered in byte ranges) and a
    page streamed in parts."""
    notes = tmp_path / "notes.txt"
    notes.write_text("a line of notes\n" * 200)

    def file(_request: Request) -> Response:
        return FileResponse(notes, media_type="text/plain")

    async def parts() -> AsyncIterator[bytes]:
        for number in range(3):
            yield f"<p>part {number}</p>".encode() * 100

    def streamed(_request: Request) -> Response:
        return StreamingResponse(parts(), media_type="text/html")

    def varied(_request: Request) -> Response:
        return Response("<p>yours</p>" * 100, media_type="text/html", headers={"Vary": "Cookie"})

    app = Starlette(
        routes=[
            Route("/notes.txt", file), Route("/streamed", streamed), Route("/varied", varied)
        ]
    )  # fmt: skip
    return TestClient(CompressionMiddleware(app))


def test_a_gzipped_answer_keeps_its_own_vary_and_says_its_new_length(
    small_app: TestClient,
) -> None:
    with small_app.stream("GET", "/varied", headers=GZIP) as response:
        raw = b"".join(response.iter_raw())

    assert response.headers["content-encoding"] == "gzip"
    assert response.headers.get_list("vary") == ["Cookie, Accept-Encoding"]
    assert response.headers.get_list("content-length") == [str(len(raw))]
    assert gzip.decompress(raw) == b"<p>yours</p>" * 100


def test_a_file_offered_in_byte_ranges_goes_as_it_is(small_app: TestClient) -> None:
    whole = small_app.get("/notes.txt", headers=GZIP)
    part = small_app.get("/notes.txt", headers={**GZIP, "Range": "bytes=0-9"})

    assert "content-encoding" not in whole.headers
    assert whole.text == "a line of notes\n" * 200
    assert "content-encoding" not in part.headers
    assert part.text == "a line of "


def test_a_streamed_page_is_gzipped_part_by_part(small_app: TestClient) -> None:
    with small_app.stream("GET", "/streamed", headers=GZIP) as response:
        raw = b"".join(response.iter_raw())

    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    expected = b"".join(f"<p>part {n}</p>".encode() * 100 for n in range(3))
    assert gzip.decompress(raw) == expected


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("deflate, br", False),
        ("x-gzip-not", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted
