"""The HTML part of a message, made from its plain text.

Every Kern message is written once, as a plain-text template; the HTML alternative is that
text, escaped as a whole and laid out in `templates/layout.html`. Two templates per message would
drift apart (a link fixed in one and not the other), and a name or course title can never turn
into markup because nothing of the text is trusted. Markdown would read the same, but then
every value put into a message would need Markdown escaping as well; the few rules here
(paragraphs, line breaks, links, a button) are all a message needs.
"""

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

# The same stopping characters the text uses around links: whitespace, quotes and brackets.
_URL = re.compile(r"""https?://[^\s<>"'()\[\]]+""")
_TRAILING_PUNCTUATION = ".,;:!?"


@dataclass(frozen=True)
class Block:
    """One paragraph of the message: lines of text, or a link standing on its own."""

    lines: tuple[Markup, ...] = ()
    link: str | None = None
    button: bool = False


def _linked(line: str) -> Markup:
    """A line of text, escaped, with its URLs as links."""
    parts: list[Markup] = []
    position = 0
    for match in _URL.finditer(line):
        url = match.group().rstrip(_TRAILING_PUNCTUATION)
        end = match.start() + len(url)
        parts.append(escape(line[position : match.start()]))
        parts.append(Markup('<a href="{0}" style="color:#1f5c4a;">{0}</a>').format(url))
        position = end
    parts.append(escape(line[position:]))
    return Markup("").join(parts)


def blocks(text: str) -> list[Block]:
    """The paragraphs of a plain-text message; the first link on a line of its own is the
    message's button (its main action), later ones stay links."""
    result: list[Block] = []
    has_button = False
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if len(lines) == 1 and _URL.fullmatch(lines[0]):
            result.append(Block(link=lines[0], button=not has_button))
            has_button = True
        elif lines:
            result.append(Block(lines=tuple(_linked(line) for line in lines)))
    return result
