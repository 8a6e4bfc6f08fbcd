"""Uploaded media: served from MEDIA_DIR with range requests, and nothing else."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.config import Settings

VIDEO = bytes(range(256)) * 8  # 2 KiB of recognisable bytes


@pytest.fixture
def media_dir(settings: Settings) -> Path:
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / "oefening.mp4").write_bytes(VIDEO)
    return settings.media_dir


def test_a_video_is_served_whole_with_its_type(client: TestClient, media_dir: Path) -> None:
    response = client.get("/media/oefening.mp4")

    assert response.status_code == 200
    assert response.content == VIDEO
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_range_request_gets_just_those_bytes(client: TestClient, media_dir: Path) -> None:
    response = client.get("/media/oefening.mp4", headers={"Range": "bytes=0-9"})

    assert response.status_code == 206
    assert response.content == VIDEO[:10]
    assert len(response.content) == 10
    assert response.headers["content-range"] == f"bytes 0-9/{len(VIDEO)}"
    assert response.headers["content-length"] == "10"


def test_seeking_to_the_middle_works(client: TestClient, media_dir: Path) -> None:
    response = client.get("/media/oefening.mp4", headers={"Range": "bytes=1000-"})

    assert response.status_code == 206
    assert response.content == VIDEO[1000:]
    assert response.headers["content-range"] == f"bytes 1000-{len(VIDEO) - 1}/{len(VIDEO)}"


def test_an_unsatisfiable_range_is_refused(client: TestClient, media_dir: Path) -> None:
    response = client.get("/media/oefening.mp4", headers={"Range": "bytes=99999-"})
    assert response.status_code == 416


@pytest.mark.parametrize(
    "name",
    [
        "bestaat-niet.mp4",
        "%2E%2E",
        "..%2Fkern.db",
        "%2E%2E%2Fkern.db",
        "..oefening.mp4",
        "oefening..mp4",
        ".verborgen.mp4",
        "map%2Foefening.mp4",
        "map%5Coefening.mp4",
        "oefening.mp4%00.html",
    ],
)
def test_names_outside_the_media_folder_are_not_found(
    name: str, client: TestClient, media_dir: Path
) -> None:
    (media_dir.parent / "kern.db").write_bytes(b"secret")
    (media_dir / "map").mkdir(exist_ok=True)
    (media_dir / "map" / "oefening.mp4").write_bytes(VIDEO)
    (media_dir / ".verborgen.mp4").write_bytes(VIDEO)

    response = client.get(f"/media/{name}")

    assert response.status_code == 404
    assert b"secret" not in response.content
    assert response.content != VIDEO


def test_a_symlink_out_of_the_folder_is_not_followed(
    client: TestClient, media_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elders.mp4"
    outside.write_bytes(b"secret")
    (media_dir / "link.mp4").symlink_to(outside)

    assert client.get("/media/link.mp4").status_code == 404


@pytest.mark.parametrize("name", ["pagina.html", "plaatje.svg", "script.js", "geen-extensie"])
def test_only_media_types_are_served(name: str, client: TestClient, media_dir: Path) -> None:
    # An uploaded page or SVG would run with Kern's own origin.
    (media_dir / name).write_text("<script>alert(1)</script>")
    assert client.get(f"/media/{name}").status_code == 404


@pytest.mark.parametrize("path", ["/media", "/media/", "/media/map", "/media/map/"])
def test_there_is_no_directory_listing(path: str, client: TestClient, media_dir: Path) -> None:
    (media_dir / "map").mkdir(exist_ok=True)
    response = client.get(path)
    assert response.status_code == 404
    assert "oefening.mp4" not in response.text


def test_a_missing_media_folder_is_not_an_error(client: TestClient) -> None:
    assert client.get("/media/oefening.mp4").status_code == 404


def test_head_requests_give_the_size_without_the_body(client: TestClient, media_dir: Path) -> None:
    response = client.head("/media/oefening.mp4")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(VIDEO))
    assert response.content == b""
