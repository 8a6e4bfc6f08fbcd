"""The lesson page's transfer size: its HTML and every stylesheet and script it links, gzipped."""

from __future__ import annotations

import gzip
import urllib.request
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from bench.wrk import Request

# What the bench uses when the server sends a file uncompressed: a proxy's usual level.
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Item:
    path: str
    kind: str
    bytes: int
    transferred: int
    compressed_by: str  # "server", or "bench" when the server sent it uncompressed


class _Assets(HTMLParser):
    """The stylesheets and scripts a page links, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "link" and "stylesheet" in values.get("rel", "").split() and values.get("href"):
            self.found.append(("css", values["href"]))
        elif tag == "script" and values.get("src"):
            self.found.append(("js", values["src"]))


def linked_assets(html: str) -> list[tuple[str, str]]:
    parser = _Assets()
    parser.feed(html)
    unique: dict[str, str] = {}
    for kind, url in parser.found:
        unique.setdefault(url, kind)
    return [(kind, url) for url, kind in unique.items()]


def _fetch(url: str, headers: dict[str, str], kind: str) -> tuple[Item, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our own URL)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        raw = response.read()
        encoding = response.headers.get("Content-Encoding", "")
    if encoding == "gzip":
        body = gzip.decompress(raw)
        item = Item(urlsplit(url).path, kind, len(body), len(raw), "server")
    else:
        compressed = gzip.compress(raw, compresslevel=GZIP_LEVEL)
        item = Item(urlsplit(url).path, kind, len(raw), len(compressed), "bench")
    return item, body if encoding == "gzip" else raw


def measure(base_url: str, page: Request) -> dict[str, Any]:
    """Fetch the page as the learner, then what it links; sizes are of the bodies."""
    headers = {**page.headers, "Accept-Encoding": "gzip"}
    html_item, html = _fetch(base_url + page.path, headers, "html")
    items = [html_item]
    asset_headers = {"Accept-Encoding": "gzip", "User-Agent": headers.get("User-Agent", "")}
    for kind, url in linked_assets(html.decode(errors="replace")):
        absolute = urljoin(base_url + page.path, url)
        if urlsplit(absolute).netloc != urlsplit(base_url).netloc:
            continue  # nothing in Kern comes from elsewhere; a CDN would be counted separately
        items.append(_fetch(absolute, asset_headers, kind)[0])
    return {
        "page": page.path,
        "html_bytes": html_item.bytes,
        "items": [asdict(item) for item in items],
        "bytes": sum(item.bytes for item in items),
        "transferred": sum(item.transferred for item in items),
    }
