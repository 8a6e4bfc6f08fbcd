"""The installable app: the manifest, the service worker's script and the offline page, and the
Kern-Viewer header by which the service worker keeps one person's pages away from the next.
That a kept lesson opens and its practice arrives without a connection is checked in the browser
(tests/e2e/test_offline_journey.py); the worker itself is web/static/js/sw.js."""

import re
import struct

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import log_in, make_course, make_user, post_form


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def test_the_manifest_makes_kern_installable_in_her_language(client: TestClient) -> None:
    page = client.get("/").text
    link = re.search(r'<link rel="manifest" href="([^"]+)">', page)
    assert link is not None
    assert link.group(1) == "/manifest.webmanifest?lang=nl"
    assert '<meta name="theme-color" content="#1f5c4a">' in page
    response = client.get(link.group(1))
    assert response.headers["content-type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == "Kern"
    assert manifest["lang"] == "nl"
    assert manifest["description"].startswith("Begeleide")
    assert (manifest["start_url"], manifest["display"]) == ("/today", "standalone")
    assert manifest["theme_color"] == "#1f5c4a"
    for icon in manifest["icons"]:
        size = int(icon["sizes"].split("x")[0])
        assert png_size(client.get(icon["src"]).content) == (size, size)
    assert {icon["purpose"] for icon in manifest["icons"]} == {"any", "maskable"}
    assert client.get("/manifest.webmanifest?lang=en").json()["lang"] == "en"
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', page)
    assert touch is not None
    assert png_size(client.get(touch.group(1)).content) == (180, 180)


def test_the_service_worker_is_asked_for_anew_and_keeps_files_that_exist(
    client: TestClient,
) -> None:
    response = client.get("/sw.js")
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    shell = re.search(r"var SHELL = (\[.*?\]);", response.text)
    assert shell is not None
    for url in [*re.findall(r'"([^"]+)"', shell.group(1)), "/offline"]:
        assert client.get(url).status_code == 200, url
    assert 'self.addEventListener("push"' in response.text


def test_pages_name_whom_they_were_made_for_and_the_offline_page_too(
    client: TestClient, session: Session
) -> None:
    course = make_course(session)
    lesson = f"/courses/{course.slug}/lessons/les-1-1"
    assert client.get(lesson).headers["kern-viewer"] == "-"
    alice, bob = make_user(session, name="Alice"), make_user(session, name="Bob")
    log_in(client, alice)
    tag = client.get("/today").headers["kern-viewer"]
    assert client.get(lesson).headers["kern-viewer"] == tag
    assert tag not in ("-", str(alice.id))
    # Her offline page has her tab bar and is hers (the worker keeps it with her pages); the one
    # the worker keeps at install is asked for without cookies: nobody's, with no tab bar.
    offline = client.get("/offline")
    assert offline.headers["kern-viewer"] == tag
    assert 'class="tab-bar"' in offline.text
    assert "Alice" not in offline.text
    logout = post_form(client, "/logout")
    assert logout.headers["clear-site-data"] == '"cache"'
    nobodys = client.get("/offline")
    assert nobodys.headers["kern-viewer"] == "-"
    assert 'class="tab-bar"' not in nobodys.text
    log_in(client, bob)
    assert client.get("/today").headers["kern-viewer"] not in (tag, "-")
