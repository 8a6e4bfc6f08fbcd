"""Slugs made from titles, the one way every part of Kern makes them: lower case a–z, 0–9 and
single hyphens, with the accented letters of Dutch and Norwegian titles kept as their plain
letters ("één" → "een", "Øvelser på gulvet" → "ovelser-pa-gulvet")."""

import re
import unicodedata

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Letters that are not a plain letter with a mark, so decomposing them leaves nothing behind;
# each becomes what a Dutch or Norwegian reader writes without the special letter.
_OWN_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ð": "d", "þ": "th", "ł": "l", "đ": "d"}
)


def slugify(text: str, *, max_length: int | None = None) -> str:
    """`text` as a slug, cut to `max_length` characters at most; "" when nothing is left."""
    # Decomposed, é is e plus an accent and å is a plus a ring: the marks are then dropped.
    folded = unicodedata.normalize("NFKD", text.lower().translate(_OWN_LETTERS))
    plain = folded.encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", plain).strip("-")[:max_length].strip("-")
