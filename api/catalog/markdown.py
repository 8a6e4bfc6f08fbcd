"""Markdown from instructors, turned into safe HTML."""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# CommonMark with tables and strikethrough; raw HTML in the source is escaped, not passed on,
# and nh3 cleans what markdown-it produces as a second line of defence.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True}).enable(
    ["table", "strikethrough"]
)
_ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "s", "blockquote", "code", "pre",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "img",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
_URL_SCHEMES = {"http", "https", "mailto"}


# The same texts (a course's description and questions) are rendered on every request for the
# page; kept per process, by their source (docs/performance.md#markdown).
@lru_cache(maxsize=4096)
def render_markdown(source: str) -> Markup:
    """Safe HTML for a Markdown text; links carry rel="noopener noreferrer"."""
    html = _markdown.render(source)
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 (sanitised by nh3 just above)
