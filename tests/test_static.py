"""Static files are addressed by their content, so a phone keeps them until they change."""

import hashlib
import re

from fastapi.testclient import TestClient

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
    gzip = {"Accept-Encoding": "gzip"}
    style = client.get("/static/css/kern.css", headers=gzip)
    assert style.headers["content-encoding"] == "gzip"  # by the mount, not again by the app
    assert style.content == (STATIC_DIR / "css/kern.css").read_bytes()  # httpx unpacked it
