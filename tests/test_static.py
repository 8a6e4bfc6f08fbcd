"""Static files are addressed by their content, so a phone keeps them until they change."""

import gzip
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

from api import server, static_files
from api.config import Settings
from api.main import create_app
from web.templating import STATIC_DIR


def test_pages_link_static_files_by_content_hash_and_browsers_may_keep_them(
    client: TestClient,
) -> None:
    html = client.get("/courses").text
    links = re.findall(r'(?:href|src)="/static/([^"?]+)\?v=(\w+)"', html)
    assert (
        "css/kern.css",
        hashlib.sha256((STATIC_DIR / "css/kern.css").read_bytes()).hexdigest()[:12],
    ) in links
    for path, version in links:
        content = (STATIC_DIR / path).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:12], path
        response = client.get(f"/static/{path}?v={version}")
        assert response.status_code == 200
        assert response.content == content
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_static_file_without_its_version_is_not_kept_for_a_year(client: TestClient) -> None:
    response = client.get("/static/css/kern.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("cache-control", "")


def test_css_and_javascript_go_compressed_once(client: TestClient) -> None:
    accepts = {"Accept-Encoding": "gzip"}
    style = client.get("/static/css/kern.css", headers=accepts)
    assert style.headers["content-encoding"] == "gzip"  # by the mount, not again by the app
    assert style.content == (STATIC_DIR / "css/kern.css").read_bytes()  # httpx unpacked it


def test_css_and_javascript_are_gzipped_once_per_process_and_kept(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Gzipping them for each request left each worker 1.5 MiB larger for good
    # (docs/performance.md#static-files-compressed-once).
    calls = []
    real = gzip.compress

    def counted(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        calls.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(gzip, "compress", counted)
    script = (STATIC_DIR / "js/player.js").read_bytes()
    for _ in range(3):
        response = client.get("/static/js/player.js", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.content == script  # httpx unpacked it
    assert calls == [len(script)]


def test_a_kept_copy_answers_as_the_file_would(client: TestClient) -> None:
    gzip_ok = {"Accept-Encoding": "gzip, deflate, br"}
    style = (STATIC_DIR / "css/kern.css").read_bytes()
    version = hashlib.sha256(style).hexdigest()[:12]
    kept = client.get(f"/static/css/kern.css?v={version}", headers=gzip_ok)
    assert kept.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "last-modified" in kept.headers
    # Not the same entity tag as the file sent as it is: the bytes differ.
    plain = client.get("/static/css/kern.css", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == style
    assert kept.headers["etag"] != plain.headers["etag"]

    # A browser that has the copy asks whether it changed, as it does for an address without
    # the file's version.
    again = client.get(
        "/static/css/kern.css", headers={**gzip_ok, "If-None-Match": kept.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == kept.headers["etag"]
    head = client.head("/static/css/kern.css", headers=gzip_ok)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == kept.headers["content-length"]

    # A byte range, a picture and a file that is not there go to the static files as before.
    part = client.get("/static/css/kern.css", headers={**gzip_ok, "Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == style[:10]
    icon = next(path for path in sorted(STATIC_DIR.rglob("*.png")))
    picture = client.get(f"/static/{icon.relative_to(STATIC_DIR).as_posix()}", headers=gzip_ok)
    assert picture.status_code == 200
    assert picture.content == icon.read_bytes()
    assert client.get("/static/css/nowhere.css", headers=gzip_ok).status_code == 404
    assert client.get("/static/../api/main.py", headers=gzip_ok).status_code == 404


def test_the_zygote_gzips_the_static_files_before_the_fork(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the packing is looked at here: without the requests of the rehearsal, which need an
    # event loop of their own (a browser test's may be running in this process).
    monkeypatch.setattr(server, "rehearse", lambda _app: None)
    app = create_app(settings)
    try:
        server.warm(app)
        kept = set(app.state.static_files._packed)
        assert {"css/kern.css", "js/player.js", "vendor/hls.js/hls.light.min.js"} <= kept
        assert not any(name.endswith(".png") for name in kept)
    finally:
        app.state.engine.dispose()


def test_while_developing_an_edited_file_is_sent_as_it_now_is(tmp_path: Path) -> None:
    (tmp_path / "site.css").write_text("body { color: green; }\n" * 40)
    files = static_files.CompressedStatic(StaticFiles(directory=tmp_path), tmp_path, keep=False)
    client = TestClient(files)
    assert client.get("/site.css").text.startswith("body { color: green; }")
    (tmp_path / "site.css").write_text("body { color: red; }\n" * 40)
    assert client.get("/site.css").text.startswith("body { color: red; }")
